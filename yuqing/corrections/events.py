"""Event corrections: merging events that are one story, splitting posts out into a new one.

Both rewrite ``analysis["event_id"]`` of the stored posts (keeping the clusterer's own id
under ``analysis["corrected"]["event_id"]["model"]``) and log the correction in one store
transaction, then save the events rebuilt from their posts with
:meth:`~yuqing.store.base.Store.upsert_events`: sizes, first/last seen, the source,
sentiment, emotion, region and hashtag mixes. A merged-away event is kept, closed, with its
last figures, so links to it still open; its posts now count under the surviving event.

Limits: an event of more than :data:`MAX_POSTS` posts is refused (the posts are read into
memory). A running ``yuqing run`` keeps its clusterer's state in memory, so a new post that
resembles a merged-away event may still join it until the next restart; merge again then.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from yuqing.corrections.errors import CorrectionError, CorrectionNotFoundError
from yuqing.corrections.labels import CORRECTED
from yuqing.events.event import Event
from yuqing.models import Document
from yuqing.store.base import Correction, Store

MAX_POSTS = 200_000
TITLE_CHARS = 30


@dataclass(slots=True, frozen=True)
class EventChange:
    """What a merge or split did: the logged correction, the posts moved and the events
    saved (the surviving or new event first)."""

    correction: Correction
    moved: int
    events: list[Event]


def _posts(store: Store, event_id: str) -> list[Document]:
    docs = store.event_documents(event_id, order="time", limit=MAX_POSTS + 1)
    if len(docs) > MAX_POSTS:
        raise CorrectionError(
            f"event {event_id} has more than {MAX_POSTS} posts: too large to correct here"
        )
    return docs


def _stored(store: Store, ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
    """Each id that has stored posts -> its stored ``Event.as_dict()`` (None: never saved)."""
    return {r.id: r.stored for r in store.event_rollups(ids=list(ids), limit=len(ids))}


def _moved(doc: Document, event_id: str, by: str, at: datetime, note: str) -> dict[str, Any]:
    analysis = copy.deepcopy(doc.analysis)
    done = analysis.get(CORRECTED)
    done = dict(done) if isinstance(done, dict) else {}
    before = done.get("event_id")
    model = before.get("model") if isinstance(before, dict) else doc.analysis.get("event_id")
    done["event_id"] = {
        "model": model,
        "value": event_id,
        "by": by,
        "at": at.isoformat(),
        "note": note,
    }
    analysis[CORRECTED] = done
    analysis["event_id"] = event_id
    return analysis


def _when(doc: Document) -> datetime:
    return doc.published_at or doc.ingested_at or datetime(1970, 1, 1, tzinfo=UTC)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def event_from_posts(
    event_id: str,
    docs: Sequence[Document],
    *,
    stored: dict[str, Any] | None = None,
    title: str | None = None,
    status: str = "open",
) -> Event:
    """An :class:`Event` summing up ``docs`` (at least one), keeping the title and keywords
    of its ``stored`` dict when given (else ``title``, else the first post's text)."""
    ordered = sorted(docs, key=lambda d: (_when(d), d.source, d.id))
    first = ordered[0]
    event = Event(
        id=event_id,
        first_post=(first.source, first.id),
        first_seen=_when(first),
        last_seen=max(_when(d) for d in ordered),
        title=title or str((stored or {}).get("title") or "") or _short(first.text),
        keywords=[(str(w), float(s)) for w, s in (stored or {}).get("keywords", [])],
        size=len(ordered),
        status="closed" if status == "closed" else "open",
    )
    for doc in ordered:
        event.sources[doc.source] += 1
        for tag in doc.hashtags:
            event.hashtags[tag] += 1
        a = doc.analysis
        if isinstance(a.get("sentiment"), str):
            event.sentiment[a["sentiment"]] += 1
        if isinstance(a.get("emotion"), str):
            event.emotion[a["emotion"]] += 1
        for region in a.get("regions") or []:
            name = region.get("name") if isinstance(region, dict) else region
            if isinstance(name, str):
                event.regions[name] += 1
    if not event.keywords:
        event.keywords = _keywords(ordered)
    return event


def _keywords(docs: Sequence[Document], k: int = 10) -> list[tuple[str, float]]:
    total: dict[str, float] = {}
    for doc in docs:
        for word, weight in doc.keywords:
            total[word] = total.get(word, 0.0) + float(weight)
    top = sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    mass = sum(w for _, w in top) or 1.0
    return [(word, round(w / mass, 4)) for word, w in top]


def _closed(event_id: str, stored: dict[str, Any] | None, docs: Sequence[Document]) -> Event:
    return event_from_posts(event_id, docs, stored=stored, status="closed")


def merge_events(
    store: Store,
    into: str,
    others: Sequence[str],
    *,
    by: str,
    at: datetime,
    note: str = "",
) -> EventChange:
    """Move every post of ``others`` into the event ``into``; close the others."""
    merged = list(dict.fromkeys(o for o in others if o))
    if not merged:
        raise CorrectionError("name at least one event to merge into another")
    if into in merged:
        raise CorrectionError(f"event {into} cannot be merged into itself")
    found = _stored(store, [into, *merged])
    missing = [e for e in [into, *merged] if e not in found]
    if missing:
        raise CorrectionNotFoundError(f"no posts of event(s) {', '.join(missing)} in the store")
    moving = {e: _posts(store, e) for e in merged}
    updates = [
        (doc.source, doc.id, _moved(doc, into, by, at, note))
        for docs in moving.values()
        for doc in docs
    ]
    correction = Correction(
        kind="event_merge",
        target=into,
        old={"events": merged, "posts": {e: len(d) for e, d in moving.items()}},
        new=into,
        by=by,
        at=at,
        note=note,
    )
    logged = store.add_correction(correction, updates)
    survivor = event_from_posts(into, _posts(store, into), stored=found[into])
    events = [survivor] + [_closed(e, found[e], docs) for e, docs in moving.items()]
    store.upsert_events(events)
    return EventChange(logged, len(updates), events)


def split_event_id(event_id: str, first: tuple[str, str]) -> str:
    """The id of an event split out of ``event_id`` whose earliest post is ``first``:
    ``ev-`` + 16 hex, like the clusterer's, but never equal to that post's own event id."""
    key = f"split\x00{event_id}\x00{first[0]}\x00{first[1]}"
    return "ev-" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def split_event(
    store: Store,
    event_id: str,
    posts: Sequence[tuple[str, str]],
    *,
    by: str,
    at: datetime,
    note: str = "",
    title: str | None = None,
) -> EventChange:
    """Move ``posts`` (source, id) of ``event_id`` into a new event; return it first."""
    chosen = list(dict.fromkeys(posts))
    if not chosen:
        raise CorrectionError("name at least one post to split out of the event")
    found = _stored(store, [event_id])
    if event_id not in found:
        raise CorrectionNotFoundError(f"no posts of event {event_id} in the store")
    docs = _posts(store, event_id)
    by_key = {d.key: d for d in docs}
    outside = [f"{s}/{i}" for s, i in chosen if (s, i) not in by_key]
    if outside:
        raise CorrectionError(f"post(s) {', '.join(outside[:10])} are not in event {event_id}")
    keep = [d for d in docs if d.key not in set(chosen)]
    if not keep:
        raise CorrectionError(
            f"splitting every post out of event {event_id} would leave it empty; "
            "split some of them, or merge events instead"
        )
    moving = sorted((by_key[k] for k in chosen), key=lambda d: (_when(d), d.source, d.id))
    new_id = split_event_id(event_id, moving[0].key)
    updates = [(d.source, d.id, _moved(d, new_id, by, at, note)) for d in moving]
    correction = Correction(
        kind="event_split",
        target=event_id,
        old=event_id,
        new={"event": new_id, "posts": [f"{s}/{i}" for s, i in chosen]},
        by=by,
        at=at,
        note=note,
    )
    logged = store.add_correction(correction, updates)
    moved_docs = [store.get_document(s, i) for s, i in chosen]
    new_event = event_from_posts(new_id, [d for d in moved_docs if d is not None], title=title)
    rest = event_from_posts(event_id, keep, stored=found[event_id])
    store.upsert_events([new_event, rest])
    return EventChange(logged, len(updates), [new_event, rest])
