"""Ingest health: the gap rule on hand-made hourly counts, and a store with a steady
source that stops for three hours, a sparse one and one that starts late."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.web.insights_data import T0, new_store, post
from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.web import ingest_health
from yuqing.web.ingest_health import expected_counts, find_gaps

ZONE = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)


def _hours(n: int) -> list[datetime]:
    return [T0 + HOUR * i for i in range(n)]


def test_expectation_is_the_same_clock_hour_on_other_days() -> None:
    hours = _hours(72)  # three days
    counts = [4] * 72
    counts[30] = 0
    expected = expected_counts(counts, hours, ZONE)
    assert expected[30] == 4.0  # its own zero does not count
    assert expected[6] == pytest.approx(2.0)  # same hour as 30 on day 1: (0 + 4) / 2
    one_day = expected_counts([2, 0, 4], _hours(3), ZONE)
    assert one_day == [2.0, 3.0, 1.0]  # a short window: the source's other hours


def test_gaps_are_merged_and_the_current_hour_is_not_one() -> None:
    hours = _hours(72)
    counts = [5] * 72
    for i in (30, 31, 32, 71):
        counts[i] = 0
    flagged, gaps = find_gaps("weibo", counts, hours, ZONE, current=71)
    assert flagged == [30, 31, 32]
    assert len(gaps) == 1 and gaps[0].hours == 3
    assert gaps[0].start == hours[30] and gaps[0].end == hours[33]
    assert gaps[0].expected == pytest.approx(15.0)
    quiet = [1 if i % 3 == 0 else 0 for i in range(72)]  # a slow source is never a gap
    assert find_gaps("forum", quiet, hours, ZONE)[0] == []
    late = [0] * 40 + [6] * 32  # started mid-window: nothing before its first post
    assert find_gaps("new", late, hours, ZONE)[0] == []
    late[60] = 0  # ... but a hole after it starts is one (its empty days do not count)
    assert find_gaps("new", late, hours, ZONE)[0] == [60]


def _store_docs() -> list[Document]:
    docs: list[Document] = []
    for h in range(72):
        if h not in (30, 31, 32):  # the crawler stalled for three hours on day two
            docs += [post(f"w{h}-{k}", T0 + HOUR * h + timedelta(minutes=10 * k)) for k in range(5)]
        if h % 3 == 0:
            docs.append(post(f"f{h}", T0 + HOUR * h, source="forum"))
        if h >= 48:
            docs += [post(f"n{h}-{k}", T0 + HOUR * h, source="news") for k in range(4)]
    docs.append(post("old", T0 - timedelta(days=20), source="rss"))  # stopped long ago
    return docs


def test_ingest_health_of_a_store(tmp_path: Path) -> None:
    store = new_store(tmp_path, _store_docs())
    end = T0 + HOUR * 71 + timedelta(minutes=50)  # the newest post's time
    try:
        health = ingest_health.ingest_health(store, ZONE, end, days=3)
        with pytest.raises(UsageError, match="days"):
            ingest_health.ingest_health(store, ZONE, end, days=0)
        with pytest.raises(UsageError, match="min_expected"):
            ingest_health.ingest_health(store, ZONE, end, min_expected=0)
    finally:
        store.close()
    by_name = {s.source: s for s in health.sources}
    assert list(by_name) == ["weibo", "news", "forum", "rss"]  # by stored posts
    assert len(health.hours) == 73  # 08:00 three days back through the current hour
    weibo = by_name["weibo"]
    assert [(g.source, g.hours) for g in health.gaps] == [("weibo", 3)]
    assert health.gaps[0].start == T0 + HOUR * 30
    assert weibo.last_post == T0 + HOUR * 71 + timedelta(minutes=40)
    assert weibo.posts == 69 * 5
    assert by_name["forum"].gap_hours == [] and by_name["news"].gap_hours == []
    rss = by_name["rss"]
    assert rss.posts == 0 and rss.total_posts == 1 and rss.last_post == T0 - timedelta(days=20)
    assert rss.silent and not weibo.silent
    body = health.as_dict(ZONE)
    assert body["gap_count"] == 1
    assert body["sources"][0]["gaps"][0]["start"] == "2026-03-03T14:00:00+08:00"
    stricter = ingest_health.find_gaps("weibo", weibo.counts, health.hours, ZONE, min_expected=6.0)
    assert stricter[0] == []  # five posts an hour are not enough for a rule of six
