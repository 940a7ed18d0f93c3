"""TrendCounter: buckets cut in the configured zone, DST-safe keys, zero-filled series,
top values, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.clock import ManualClock
from yuqing.errors import UsageError
from yuqing.events.trends import DIMENSIONS, TrendCounter
from yuqing.models import Document

SHANGHAI = ZoneInfo("Asia/Shanghai")


def doc(
    when: datetime | None,
    *,
    source: str = "weibo",
    event: str | None = None,
    sentiment: str | None = None,
    emotion: str | None = None,
    regions: tuple[str, ...] = (),
    keywords: tuple[str, ...] = (),
    ident: str = "x",
) -> Document:
    analysis: dict[str, object] = {
        "event_id": event,
        "sentiment": sentiment,
        "emotion": emotion,
        "regions": [{"name": r, "code": "0", "level": "city"} for r in regions],
    }
    return Document(
        id=ident,
        source=source,
        text="t",
        published_at=when,
        keywords=[(k, 0.5) for k in keywords],
        analysis=analysis,
    )


T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai


def test_every_dimension_counted_and_series_zero_filled() -> None:
    counter = TrendCounter()
    counter.add(
        doc(
            T0,
            event="e1",
            sentiment="negative",
            emotion="anger",
            regions=("宁波市",),
            keywords=("食堂", "食堂", "过期"),
        )
    )
    counter.add(doc(T0 + timedelta(minutes=20), source="news", event="e1", sentiment="neutral"))
    counter.add(
        doc(T0 + timedelta(hours=3), event="e2", sentiment="negative", regions=("宁波市", "杭州市"))
    )
    hours = counter.series("total")
    assert [n for _, n in hours] == [2, 0, 0, 1]
    assert hours[0][0] == datetime(2024, 3, 1, 16, 0, tzinfo=SHANGHAI)
    assert all(start.tzinfo is not None for start, _ in hours)
    assert [n for _, n in counter.series("event", "e1")] == [2, 0, 0, 0]
    assert [n for _, n in counter.series("sentiment", "negative")] == [1, 0, 0, 1]
    assert [n for _, n in counter.series("keyword", "食堂")] == [1, 0, 0, 0]  # once per post
    assert [n for _, n in counter.series("region", "宁波市", bucket="day")] == [2]
    assert counter.top("region", k=1) == [("宁波市", 2)]
    assert counter.top("source") == [("weibo", 2), ("news", 1)]
    assert counter.top("emotion") == [("anger", 1)]
    assert counter.top("event", start=T0 + timedelta(hours=1)) == [("e2", 1)]
    assert set(DIMENSIONS) == {
        "total",
        "event",
        "keyword",
        "region",
        "source",
        "sentiment",
        "emotion",
    }


def test_explicit_range_pads_both_ends() -> None:
    counter = TrendCounter()
    counter.add(doc(T0))
    out = counter.series(
        "total", start=T0 - timedelta(hours=2), end=T0 + timedelta(hours=1, minutes=5)
    )
    assert [n for _, n in out] == [0, 0, 1, 0]
    assert TrendCounter().series("total") == []
    empty = TrendCounter().series("total", start=T0, end=T0 + timedelta(hours=1))
    assert [n for _, n in empty] == [0, 0]


def test_days_are_cut_in_the_configured_zone() -> None:
    late_utc = datetime(2024, 1, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 January in Shanghai
    shanghai, utc = TrendCounter(), TrendCounter(zone=ZoneInfo("UTC"))
    for counter in (shanghai, utc):
        counter.add(doc(late_utc))
    assert shanghai.series("total", bucket="day")[0][0].date().isoformat() == "2024-01-02"
    assert utc.series("total", bucket="day")[0][0].date().isoformat() == "2024-01-01"


def test_fall_back_night_keeps_two_distinct_hours() -> None:
    zone = ZoneInfo("America/New_York")
    counter = TrendCounter(zone=zone)
    first = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)  # 01:30 EST, the same wall time
    counter.add(doc(first))
    counter.add(doc(second))
    hours = counter.series("total")
    assert [n for _, n in hours] == [1, 1]
    assert hours[0][0].hour == hours[1][0].hour == 1
    # Same-zone comparison ignores fold in Python: compare instants in UTC.
    assert hours[1][0].astimezone(UTC) - hours[0][0].astimezone(UTC) == timedelta(hours=1)
    assert hours[0][0].utcoffset() != hours[1][0].utcoffset()
    day = counter.series(
        "total",
        bucket="day",
        start=datetime(2024, 11, 3, 4, tzinfo=UTC),
        end=datetime(2024, 11, 4, 4, 59, tzinfo=UTC),
    )
    assert [n for _, n in day] == [2]
    whole_day = counter.series(
        "total",
        start=datetime(2024, 11, 3, 4, tzinfo=UTC),
        end=datetime(2024, 11, 4, 4, 59, tzinfo=UTC),
    )
    assert len(whole_day) == 25  # the local day has 25 hours


def test_half_hour_zone_cuts_at_its_own_hour() -> None:
    counter = TrendCounter(zone=ZoneInfo("Asia/Kolkata"))
    counter.add(doc(datetime(2024, 3, 1, 8, 45, tzinfo=UTC)))  # 14:15 IST
    counter.add(doc(datetime(2024, 3, 1, 9, 15, tzinfo=UTC)))  # 14:45 IST: same local hour
    hours = counter.series("total")
    assert [n for _, n in hours] == [2]
    assert hours[0][0].astimezone(UTC) == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)


def test_retention_drops_old_buckets_and_late_posts() -> None:
    clock = ManualClock(T0)
    counter = TrendCounter(retention_days=2, clock=clock)
    counter.add(doc(T0 - timedelta(hours=1)))
    assert counter.add(doc(T0 - timedelta(days=3))) is False
    assert counter.expired == 1
    clock.advance(timedelta(days=3))
    counter.add(doc(clock.now()))
    assert counter.buckets_held[0] == 1
    assert sum(n for _, n in counter.series("total")) == 1


def test_retention_without_clock_follows_newest_post() -> None:
    counter = TrendCounter(retention_days=1)
    for hour in range(0, 24 * 5, 2):
        counter.add(doc(T0 + timedelta(hours=hour)))
    hours_held, days_held = counter.buckets_held
    assert hours_held <= 13 and days_held <= 2


def test_ingested_at_is_the_fallback_and_untimed_posts_are_counted_apart() -> None:
    counter = TrendCounter()
    fallback = doc(None)
    fallback.ingested_at = T0
    assert counter.add(fallback) is True
    assert counter.add(doc(None)) is False
    assert counter.untimed == 1 and counter.added == 1


def test_misuse_raises_usage_errors() -> None:
    counter = TrendCounter()
    counter.add(doc(T0))
    with pytest.raises(UsageError, match="unknown dimension"):
        counter.series("city", "x")
    with pytest.raises(UsageError, match="needs a value"):
        counter.series("event")
    with pytest.raises(UsageError, match="bucket"):
        counter.series("total", bucket="week")
    with pytest.raises(UsageError, match="time zone"):
        counter.series("total", start=datetime(2024, 1, 1))  # noqa: DTZ001 - on purpose
    with pytest.raises(UsageError, match="retention_days"):
        TrendCounter(retention_days=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10 * 24 * 60), min_size=1, max_size=60))
def test_hour_and_day_series_both_sum_to_the_posts(minutes: list[int]) -> None:
    counter = TrendCounter()
    for i, m in enumerate(minutes):
        counter.add(doc(T0 + timedelta(minutes=m), ident=str(i)))
    hours = counter.series("total")
    days = counter.series("total", bucket="day")
    assert sum(n for _, n in hours) == sum(n for _, n in days) == len(minutes)
    steps = {b[0].astimezone(UTC) - a[0].astimezone(UTC) for a, b in pairwise(hours)}
    assert steps <= {timedelta(hours=1)}
