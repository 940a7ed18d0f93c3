"""Merging and splitting events: posts move (the clusterer's id kept), events are rebuilt
from their posts and saved, the log holds the change; bad requests change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from yuqing.corrections import CorrectionError, CorrectionNotFoundError, merge_events, split_event
from yuqing.store.base import Store

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _event_of(store: Store, doc_id: str) -> str:
    doc = store.get_document("weibo", doc_id)
    assert doc is not None
    return str(doc.analysis["event_id"])


def test_merge_moves_every_post_and_closes_the_merged_event(store: Store) -> None:
    change = merge_events(store, "ev-a", ["ev-b"], by="li", at=AT, note="同一事件")
    assert change.moved == 2
    assert store.label_counts("event") == {"ev-a": 6}
    doc = store.get_document("weibo", "p5")
    assert doc is not None and doc.analysis["corrected"]["event_id"]["model"] == "ev-b"
    survivor, closed = change.events
    assert (survivor.id, survivor.size, survivor.status) == ("ev-a", 6, "open")
    assert survivor.sentiment == {"neutral": 3, "negative": 2, "positive": 1}
    assert survivor.first_post == ("weibo", "p1") and survivor.regions == {"宁波市": 6}
    assert (closed.id, closed.status) == ("ev-b", "closed")
    (rollup,) = store.event_rollups(ids=["ev-a"])
    assert rollup.posts == 6 and rollup.stored is not None and rollup.stored["size"] == 6
    assert store.event_rollups(ids=["ev-b"]) == []  # its posts count under ev-a now
    (logged,) = store.corrections(kind="event_merge")
    assert logged.target == "ev-a" and logged.old == {"events": ["ev-b"], "posts": {"ev-b": 2}}
    assert logged.note == "同一事件"


def test_split_moves_posts_into_a_new_event(store: Store) -> None:
    change = split_event(
        store, "ev-a", [("weibo", "p3"), ("weibo", "p4")], by="li", at=AT, title="僵尸肉传言"
    )
    new, rest = change.events
    assert new.id.startswith("ev-") and len(new.id) == 19 and new.id != "ev-a"
    assert (new.title, new.size, new.first_post) == ("僵尸肉传言", 2, ("weibo", "p3"))
    assert (rest.id, rest.size) == ("ev-a", 2)
    assert _event_of(store, "p3") == new.id == _event_of(store, "p4")
    assert _event_of(store, "p1") == "ev-a"
    assert store.label_counts("event") == {"ev-a": 2, "ev-b": 2, new.id: 2}
    (logged,) = store.corrections(kind="event_split")
    assert logged.new == {"event": new.id, "posts": ["weibo/p3", "weibo/p4"]}
    # merging it back restores the partition, and the clusterer's id stays the first one
    merge_events(store, "ev-a", [new.id], by="wang", at=AT)
    assert store.label_counts("event") == {"ev-a": 4, "ev-b": 2}
    doc = store.get_document("weibo", "p3")
    assert doc is not None and doc.analysis["corrected"]["event_id"]["model"] == "ev-a"


def test_bad_merges_and_splits_change_nothing(store: Store) -> None:
    before = store.label_counts("event")
    with pytest.raises(CorrectionError, match="itself"):
        merge_events(store, "ev-a", ["ev-a"], by="li", at=AT)
    with pytest.raises(CorrectionNotFoundError, match="ev-zz"):
        merge_events(store, "ev-a", ["ev-zz"], by="li", at=AT)
    with pytest.raises(CorrectionError, match="not in event"):
        split_event(store, "ev-a", [("weibo", "p5")], by="li", at=AT)
    with pytest.raises(CorrectionError, match="empty"):
        split_event(store, "ev-b", [("weibo", "p5"), ("weibo", "p6")], by="li", at=AT)
    assert store.label_counts("event") == before
    assert store.corrections() == []
