"""The demo's story: the drill generator's posts of a built-in scenario, thinned evenly,
cut into a start and a live part, and moved on for each round of a loop."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from yuqing.demo.story import DEFAULT_SCENARIO, load_story, thin
from yuqing.errors import ConfigError, UsageError


def _at(record: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(record["published_at"]))


def test_thin_keeps_an_even_sample_in_order() -> None:
    records = [{"n": i} for i in range(10)]
    assert thin(records, 0) == records and thin(records, 12) == records
    assert [r["n"] for r in thin(records, 5)] == [0, 2, 4, 6, 8]


def test_story_is_the_school_canteen_drill_cut_at_its_twelfth_hour() -> None:
    story = load_story()
    assert story.scenario.name == DEFAULT_SCENARIO and "食堂" in story.scenario.title
    assert story.split_at == story.scenario.start + timedelta(hours=12)
    assert len(story.head) + len(story.tail) == len(story.records) > 1000
    assert all(_at(r) < story.split_at for r in story.head)
    assert all(_at(r) >= story.split_at for r in story.tail)
    assert story.records == load_story().records  # deterministic for a seed


def test_posts_sample_the_whole_story() -> None:
    story = load_story(posts=200)
    assert len(story.records) == 200
    assert story.tail and _at(story.tail[-1]) > story.scenario.end - timedelta(hours=24)


def test_rounds_move_the_story_on_with_new_ids() -> None:
    story = load_story(posts=100)
    scenario, records = story.round(0)
    assert scenario == story.scenario and records == story.records
    moved, again = story.round(2)
    assert moved.start == story.scenario.start + 2 * story.scenario.duration
    assert len(again) == 100
    assert all(_at(r) >= moved.start for r in again)
    assert not {r["id"] for r in again} & {r["id"] for r in story.records}


def test_bad_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--posts"):
        load_story(posts=-1)
    with pytest.raises(UsageError, match="--head-hours"):
        load_story(head=timedelta(hours=-1))
    with pytest.raises(ConfigError):
        load_story("no-such-scenario")
    assert load_story(head=timedelta(days=9)).tail == []  # the whole story up front
