"""Contract tests of the store reads behind the dashboard and the API (every backend)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import UsageError
from yuqing.events.event import Event
from yuqing.models import Document
from yuqing.store.base import Store

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def post(
    id: str,
    minutes: int,
    *,
    sentiment: str | None = "negative",
    emotion: str = "anger",
    event: str | None = "ev-1",
    regions: list[str] | None = None,
    source: str = "weibo",
    region: str | None = None,
    rumor: float = 0.1,
    reposts: int = 0,
) -> Document:
    doc = Document(id=id, source=source, text=f"食堂 {id}", region=region, reposts=reposts)
    doc.published_at = T0 + timedelta(minutes=minutes)
    doc.norm_text = doc.text
    doc.analysis = {
        "emotion": emotion,
        "event_id": event,
        "regions": [{"name": r, "code": "", "level": "city"} for r in regions or []],
        "risk": {"type": "rumor" if rumor >= 0.6 else "ordinary", "rumor": rumor},
    }
    if sentiment is not None:
        doc.analysis["sentiment"] = sentiment
    return doc


@pytest.fixture
def filled(store: Store) -> Store:
    store.add_documents(
        [
            post("a", 0, regions=["宁波市"], reposts=5),
            post("b", 10, sentiment="positive", emotion="joy", regions=["宁波市", "鄞州区"]),
            post("c", 20, rumor=0.9, source="news"),
            post("d", 70, event="ev-2", region="浙江省", sentiment=None),
            post("e", 130, event=None, sentiment="neutral", emotion="neutral"),
        ]
    )
    return store


def test_trend_counts_by_sentiment_in_quarter_hours(filled: Store) -> None:
    rows = filled.trend_counts("sentiment")
    got = Counter({(r.start, r.value): r.count for r in rows})
    assert got[(T0, "negative")] == 1
    assert got[(T0, "positive")] == 1  # minute 10 is in the first quarter-hour
    assert got[(T0 + timedelta(minutes=15), "negative")] == 1
    assert sum(r.count for r in rows) == 4  # the post without a sentiment is left out
    assert all(r.start.tzinfo is not None for r in rows)


def test_trend_counts_window_and_event(filled: Store) -> None:
    rows = filled.trend_counts(
        "total", since=T0 + timedelta(minutes=10), until=T0 + timedelta(hours=2)
    )
    assert sum(r.count for r in rows) == 3  # b, c, d
    assert sum(r.count for r in filled.trend_counts("total", event_id="ev-1")) == 3


def test_region_counts_fall_back_to_the_input_region(filled: Store) -> None:
    assert filled.label_counts("region") == {"宁波市": 2, "浙江省": 1, "鄞州区": 1}
    assert sum(r.count for r in filled.trend_counts("region")) == 4


def test_label_counts(filled: Store) -> None:
    assert filled.label_counts("risk") == {"ordinary": 4, "rumor": 1}
    assert filled.label_counts("source", limit=1) == {"weibo": 4}
    assert filled.label_counts("event") == {"ev-1": 3, "ev-2": 1}
    with pytest.raises(UsageError, match="unknown dimension"):
        filled.label_counts("colour")  # type: ignore[arg-type]


def test_event_rollups_and_stored_events(filled: Store) -> None:
    event = Event(
        id="ev-1",
        first_post=("weibo", "a"),
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=20),
        title="食堂事件",
        size=3,
    )
    assert filled.upsert_events([event]) == 1
    event.size = 4
    filled.upsert_events([event])  # an update, not a second row
    rollups = filled.event_rollups()
    assert [r.id for r in rollups] == ["ev-1", "ev-2"]
    one = rollups[0]
    assert (one.posts, one.reposts, one.first_seen, one.last_seen) == (
        3,
        5,
        T0,
        T0 + timedelta(minutes=20),
    )
    assert one.sentiment == {"negative": 2, "positive": 1}
    assert one.sources == {"weibo": 2, "news": 1}
    assert one.risk == {"ordinary": 2, "rumor": 1}
    assert one.hourly == [(T0, 3)]
    assert one.title == "食堂事件" and one.stored is not None and one.stored["size"] == 4
    assert rollups[1].title == "" and rollups[1].stored is None
    assert [r.id for r in filled.event_rollups(ids=["ev-2"])] == ["ev-2"]
    assert filled.event_rollups(since=T0 + timedelta(hours=1))[0].id == "ev-2"
    assert filled.event_rollups(ids=[]) == []


def test_event_documents_orders(filled: Store) -> None:
    assert [d.id for d in filled.event_documents("ev-1", order="time", limit=5)] == ["a", "b", "c"]
    assert filled.event_documents("ev-1", order="engagement", limit=1)[0].id == "a"
    assert filled.event_documents("ev-1", order="risk", limit=1)[0].id == "c"
    assert filled.event_documents("ev-9", order="time", limit=5) == []


def test_latest_documents(filled: Store) -> None:
    assert [d.id for d in filled.latest_documents(limit=2)] == ["e", "d"]
    assert [d.id for d in filled.latest_documents(sources=["news"])] == ["c"]
    assert [d.id for d in filled.latest_documents(until=T0 + timedelta(minutes=15))] == ["b", "a"]
