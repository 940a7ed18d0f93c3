"""Briefings built from a real SQLite store that the real pipeline filled with the demo
scenario: daily, weekly and special kinds, verification against the store, bad input."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.web.conftest import fill_demo_store
from yuqing.errors import UsageError
from yuqing.reports import (
    Briefing,
    CitationError,
    build_briefing,
    check,
    period_for,
    report_command,
    verify,
)
from yuqing.reports.model import QUOTE_CHARS
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.url import open_store

ZONE = ZoneInfo("Asia/Shanghai")
PUBLIC = "https://yq.example.org"
DAY = datetime(2026, 11, 21, tzinfo=ZONE)  # the demo scenario runs 2026-11-20 .. 11-23


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = fill_demo_store(tmp_path_factory.mktemp("reports-demo"))
    return Settings.model_validate({"store": url, "public_url": PUBLIC + "/"})


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.store)
    yield s
    s.close()


def biggest_event(store: Store) -> str:
    return store.event_rollups(limit=1)[0].id


def test_daily_briefing_counts_come_from_the_store(store: Store, settings: Settings) -> None:
    b = build_briefing(store, settings, kind="daily", since=DAY, until=None)
    assert b.title == "舆情日报"
    assert (b.since, b.until) == (DAY, DAY + timedelta(days=1))
    figures = {f.key: f for f in b.figures}
    assert set(figures) == {"posts", "negative_share", "events", "risk_posts"}
    posts = sum(store.label_counts("total", since=b.since, until=b.until).values())
    assert figures["posts"].value == posts > 0
    sentiment = store.label_counts("sentiment", since=b.since, until=b.until)
    assert figures["negative_share"].value == sentiment["negative"] / sum(sentiment.values())
    assert figures["posts"].link.startswith(f"{PUBLIC}/api/v1/trends?")
    assert b.events and all(e.link == f"{PUBLIC}/events/{e.id}" for e in b.events)
    assert [e.heat for e in b.events] == sorted((e.heat for e in b.events), reverse=True)
    assert all(e.stage_label and e.sentiment for e in b.events)
    assert 2 <= len(b.events[0].quotes) <= 3
    assert b.charts and b.charts[0].png.startswith(b"\x89PNG")
    assert b.alerts_note == "本期无预警" and b.cases_note == "本期无案件"
    assert verify(store, b).ok


def test_every_quote_is_the_stored_text_prefix(store: Store, settings: Settings) -> None:
    b = build_briefing(store, settings, kind="weekly", since=None, until=None)
    assert b.until is not None and b.since == b.until - timedelta(days=7)
    assert b.citations()
    for c in b.citations():
        doc = store.get_document(c.source, c.id)
        assert doc is not None and c.quote == doc.text[:QUOTE_CHARS]
        assert c.link == f"{PUBLIC}/posts/{c.source}/{c.id}"
    for r in b.risks:
        assert r.risk_type in ("group_incident", "rumor") and r.reasons
    result = check(store, b)
    assert result.citations == len(b.citations()) and result.figures == 4


def test_special_report_on_one_event(store: Store, settings: Settings) -> None:
    event = biggest_event(store)
    b = build_briefing(store, settings, kind="special", since=None, until=None, event_id=event)
    assert b.title.startswith("舆情专报：") and b.event is not None and b.event.id == event
    assert b.period == "事件全程"
    assert b.first_post is not None
    first = store.event_documents(event, order="time", limit=1)[0]
    assert (b.first_post.source, b.first_post.id) == first.key
    assert b.key_posts and b.risks
    assert sum(n for _, n in b.timeline) == b.event.posts
    assert {c.key for c in b.charts} == {"timeline", "sentiment"}
    assert {f.key for f in b.figures} == {"posts", "negative_share", "risk_posts"}
    assert verify(store, b).ok


def _tamper_quote(b: Briefing) -> Briefing:
    event = b.events[0]
    bad = dataclasses.replace(event.quotes[0], quote=event.quotes[0].quote + "（编）")
    event.quotes[0] = bad
    return b


def test_verify_names_a_changed_quote(store: Store, settings: Settings) -> None:
    b = _tamper_quote(build_briefing(store, settings, kind="daily", since=DAY, until=None))
    c = b.events[0].quotes[0]
    result = verify(store, b)
    assert not result.ok
    assert any(f"post {c.source}/{c.id}: quote" in p for p in result.problems)
    with pytest.raises(CitationError, match=f"{c.source}/{c.id}"):
        check(store, b)


def test_verify_names_an_unknown_post_event_and_number(store: Store, settings: Settings) -> None:
    b = build_briefing(store, settings, kind="daily", since=DAY, until=None)
    b.events[0].quotes[0] = dataclasses.replace(b.events[0].quotes[0], id="no-such-post")
    b.events[1].id = "ev-invented"
    b.figures[0] = dataclasses.replace(b.figures[0], value=b.figures[0].value + 1)
    problems = verify(store, b).problems
    assert any("no-such-post is cited but not in the store" in p for p in problems)
    assert any("event ev-invented" in p for p in problems)
    assert any("figure 帖文总量 (posts)" in p for p in problems)


def test_unknown_event_is_a_usage_error(store: Store, settings: Settings) -> None:
    with pytest.raises(UsageError, match="ev-nope"):
        build_briefing(store, settings, kind="special", since=None, until=None, event_id="ev-nope")
    with pytest.raises(UsageError, match="--event"):
        build_briefing(store, settings, kind="special", since=None, until=None)
    with pytest.raises(UsageError, match="only applies to special"):
        build_briefing(store, settings, kind="daily", since=None, until=None, event_id="ev-x")
    with pytest.raises(UsageError, match="kind"):
        build_briefing(store, settings, kind="monthly", since=None, until=None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="after"):
        build_briefing(store, settings, kind="weekly", since=DAY, until=DAY)


def test_empty_period_says_there_was_no_data(store: Store, settings: Settings) -> None:
    day = datetime(2020, 1, 1, tzinfo=ZONE)
    b = build_briefing(store, settings, kind="daily", since=day, until=None)
    assert b.empty and not b.events and not b.charts and not b.risks and not b.citations()
    assert {f.key: f.value for f in b.figures}["posts"] == 0
    assert {f.key: f.display for f in b.figures}["negative_share"] == "暂无数据"
    assert verify(store, b).ok
    event = biggest_event(store)
    s = build_briefing(
        store, settings, kind="special", since=day, until=day + timedelta(days=1), event_id=event
    )
    assert s.empty and s.event is None and s.first_post is None and verify(store, s).ok


def test_period_for_cuts_local_days() -> None:
    now = datetime(2026, 11, 21, 23, 30, tzinfo=ZONE)
    since, until = period_for("daily", ZONE, None, None, now)
    assert (since, until) == (DAY, DAY + timedelta(days=1))
    since, until = period_for("weekly", ZONE, None, DAY, now)
    assert since == DAY - timedelta(days=7)
    assert period_for("special", ZONE, None, None, now) == (None, None)
    with pytest.raises(UsageError, match="time zone"):
        period_for("daily", ZONE, datetime(2026, 11, 21), None, now)  # noqa: DTZ001


def test_report_command_checks_and_writes(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "日报.html"
    assert report_command(settings, "daily", "html", out, DAY, None, None) == 0
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    captured = capsys.readouterr()
    assert str(out) in captured.out and "checked" in captured.err
    with pytest.raises(UsageError, match="odt"):
        report_command(settings, "daily", "odt", out, DAY, None, None)
