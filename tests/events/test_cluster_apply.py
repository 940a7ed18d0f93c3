"""Replaying stored assignments (``EventClusterer.apply``) and features computed ahead
(``features_of``) leave the clusterer exactly as assigning the posts itself would."""

from __future__ import annotations

from datetime import datetime

from yuqing.demo.scenario import generate
from yuqing.events import EventClusterer
from yuqing.events.cluster import Features
from yuqing.models import Document
from yuqing.pipeline.dedup import Deduplicator
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter
from yuqing.settings import load_settings

from .test_cluster import FOOD, event_of, make

SETTINGS = {"max_open_events": 12, "soft_weight": 0.7, "close_after_hours": 30.0}


def demo_docs(n: int) -> list[Document]:
    """``n`` demo posts (hashtags, repeated texts, several days) with dedup links."""
    docs = [
        Document(
            id=str(r["id"]),
            source=str(r["source"]),
            text=str(r["text"]),
            published_at=datetime.fromisoformat(str(r["published_at"])),
        )
        for r in generate(n)
    ]
    docs.sort(key=lambda d: (d.published_at, d.id))
    for stage in (Normalizer(), Segmenter(), Deduplicator(load_settings(environ={}).dedup)):
        docs = stage.process(docs)
    for i, doc in enumerate(docs):  # a few hashtags, some shared by later posts
        if i % 7 == 0:
            doc.hashtags = [f"话题{i % 5}"]
    return docs


def state_of(clusterer: EventClusterer) -> object:
    """Everything that decides later assignments and the saved events."""
    opened = {
        eid: (s.seq, s.last_ts, s.centroid, s.length, s.reps) for eid, s in clusterer._open.items()
    }
    return (
        list(clusterer._open),
        opened,
        clusterer._index,
        clusterer._tags,
        clusterer._posts,
        clusterer._now,
        clusterer.open_events(),
        clusterer.drain_closed(),
    )


def test_apply_replays_another_replica_exactly() -> None:
    docs = demo_docs(600)
    first, rest = docs[:450], docs[450:]
    live = EventClusterer(**SETTINGS)  # type: ignore[arg-type]
    live.process(first)
    replica = EventClusterer(**SETTINGS)  # type: ignore[arg-type]
    for doc in first:
        stored = doc.analysis["event_id"]
        assert replica.apply(doc, stored if isinstance(stored, str) else None) == stored
    assert state_of(replica) == state_of(live)
    # both go on assigning the same way
    live.process(rest)
    expected = [d.analysis["event_id"] for d in rest]
    replica.process(rest)
    assert [d.analysis["event_id"] for d in rest] == expected
    assert state_of(replica) == state_of(live)


def test_features_computed_ahead_give_the_same_assignments() -> None:
    docs = demo_docs(300)
    plain = EventClusterer()
    plain.process(docs)
    expected = [d.analysis["event_id"] for d in docs]
    ahead = EventClusterer()
    features: dict[tuple[str, str], Features] = {d.key: ahead.features_of(d) for d in docs}
    ahead.process(docs[:100], features)
    ahead.process(docs[100:], {k: v for k, v in features.items() if k[1] != docs[150].id})
    assert [d.analysis["event_id"] for d in docs] == expected
    assert state_of(ahead) == state_of(plain)


def test_a_diverged_assignment_is_reported_by_the_returned_id() -> None:
    live = EventClusterer()
    docs = [make(str(i), text, i) for i, text in enumerate(FOOD)]
    live.process(docs[:2])
    replica = EventClusterer()
    replica.apply(docs[0], event_of(docs[0]))
    # a stored id this replica does not hold: it searches as assign does
    assert replica.apply(docs[1], "elsewhere") == docs[1].analysis["event_id"]
    assert state_of(replica) == state_of(live)
