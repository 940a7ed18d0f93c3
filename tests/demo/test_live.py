"""The demo's feed: the story's start at once, the rest replayed live in a thread into the
same store (real pipeline, real SQLite, the demo's alert rules on scenario time)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import cast

from tests.demo.conftest import documents, started_feed, wait_for
from yuqing.demo.live import DemoClock, DemoFeed
from yuqing.demo.story import load_story
from yuqing.store.url import open_store


def _created(feed: DemoFeed) -> list[tuple[str, datetime]]:
    store = open_store(feed.settings.store)
    try:
        return [(s.alert.rule_id, s.alert.created_at) for s in store.alerts(limit=1000)]
    finally:
        store.close()


def _largest_event_size(url: str) -> int:
    store = open_store(url)
    try:
        rollups = store.event_rollups(limit=1)
        stored = rollups[0].stored if rollups else None
        return int(cast(int, stored["size"])) if stored else 0
    finally:
        store.close()


def test_the_start_is_ingested_at_once_with_events_and_alerts(feed: DemoFeed) -> None:
    story = feed.story
    url = feed.settings.store
    assert 0 < len(story.head) < len(story.records)
    assert documents(url) == len(story.head) == feed.summary.posts
    assert feed.summary.events > 0 and feed.summary.alerts > 0
    alerts = _created(feed)
    assert len(alerts) == feed.summary.alerts
    # stamped on scenario time, within the ingested start (not the wall clock)
    assert all(story.scenario.start <= at <= story.split_at for _, at in alerts)
    assert feed.clock.now() == story.split_at and feed.clock.speed == 0


def test_the_rest_replays_live_into_the_same_store(feed: DemoFeed) -> None:
    story = feed.story
    url = feed.settings.store
    head, total = len(story.head), len(story.records)
    before = _largest_event_size(url)
    seen: set[int] = set()

    def grown() -> bool:
        seen.add(documents(url))
        return feed.finished.is_set()

    feed.start_live(36_000)  # the 60 hours after the start in at least 6 wall seconds
    wait_for(grown, "the live replay to finish")
    assert feed.error is None and not feed.stopped and feed.rounds == 1
    assert any(head < n < total for n in seen), f"no growth seen between {head} and {total}"
    assert documents(url) == total and feed.live_posts == len(story.tail)
    assert feed.summary.posts == total
    assert _largest_event_size(url) > before
    alerts = _created(feed)
    live = [(rule, at) for rule, at in alerts if at > story.split_at]
    assert len(live) == feed.live_alerts > 0
    assert {rule for rule, _ in live} >= {"demo-rumour"}  # the rumour starts at hour 14
    assert all(at <= story.scenario.end for _, at in live)
    out = cast(io.StringIO, feed.out).getvalue()
    assert "谣言注入" in out and "官方通报" in out and "预警 [" in out
    assert "演示场景播放完毕" in out and "看板继续运行" in out
    assert feed.clock.speed == 1.0  # the story is over: time runs at its own pace
    assert feed.clock.now() >= story.scenario.end - story.scenario.phases[-1].duration


def test_open_events_are_saved_while_the_replay_runs(feed: DemoFeed) -> None:
    url = feed.settings.store
    before = _largest_event_size(url)
    feed.start_live(3_600)  # a minute of wall time at least: stopped long before its end
    wait_for(lambda: _largest_event_size(url) > before, "the largest event to grow")
    assert not feed.finished.is_set()
    feed.stop()
    assert feed.finished.is_set() and feed.stopped and feed.error is None
    assert documents(url) < len(feed.story.records)
    assert feed.clock.speed == 3_600  # stopped mid-story: no change of pace


def test_loop_starts_the_story_over_with_new_posts(tmp_path: Path) -> None:
    feed = started_feed(tmp_path, posts=120)
    try:
        total = len(feed.story.records)
        feed.start_live(0, loop=True)
        wait_for(lambda: documents(feed.settings.store) > total, "a second round")
        feed.stop()
    finally:
        feed.stop()
    assert feed.rounds >= 1 and feed.error is None
    out = cast(io.StringIO, feed.out).getvalue()
    assert "第 2 轮" in out
    store = open_store(feed.settings.store)
    try:
        ids = [d.id for d in store.latest_documents(limit=5)]
    finally:
        store.close()
    assert any(i.startswith(f"school-food-safety-{feed.story.seed + 1}-") for i in ids), ids


def test_demo_clock_keeps_time_across_changes_of_pace() -> None:
    story = load_story(posts=10)
    clock = DemoClock(story.split_at)
    assert clock.now() == story.split_at and clock.speed == 0
    replay = clock.run_at(0)
    replay.advance_to(story.scenario.end)
    assert clock.now() == story.scenario.end
    clock.run_at(1_000)
    assert clock.now() >= story.scenario.end and clock.speed == 1_000
    later = clock.now()
    clock.run_at(1.0)
    assert clock.now() >= later  # never backwards
