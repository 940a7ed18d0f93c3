"""The posts and derived panels of the event page, read and computed once per request.

The page shows the event's key posts (most engaged), its riskiest posts, its posts that
repeat a false claim, the three judgement aids and its spreaders and repost tree. Each of
these used to read the event's posts on its own (the oldest 5,000 twice, the most engaged
and the riskiest twice each). Here the event's posts are read once per order, each panel
takes the prefix it used to read (the orders are total, so a shorter read is a prefix of a
longer one), and when the oldest posts are all of the event's posts the engagement and
risk orders are sorted from them in Python instead of read again.

The panels computed from the posts (the question/demand digest, the coordination signals,
the aggregate risk scores, the spreaders and the repost tree) are kept in a small LRU per
app, keyed by the event and its roll-up (post count, first and last times, counter sums,
label counts: a new, removed or re-labelled post changes it) and kept at most
:data:`TTL_S` seconds (an edit the roll-up does not see, such as a new risk score with the
same risk type, shows within that time). What depends on the clock or on other records
(the event's state for the advice, its cases and claims, key and risky posts, claim
repeats) is computed on every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.cases.levels import aggregate_risk
from yuqing.gc_tuning import paused_gc
from yuqing.judgement.coordination import CoordinationReport
from yuqing.judgement.demands import Digest
from yuqing.models import Document
from yuqing.store.base import EventRollup, Store
from yuqing.web import claims_view, judgement_view, repost_tree, spreaders

KEY_POSTS = 40  # most engaged posts read for the page's key posts
RISKY_POSTS = 40  # riskiest posts read for the page's risky posts
OLDEST = max(judgement_view.MAX_POSTS, repost_tree.EVENT_POSTS)
CACHE_SIZE = 64  # events whose derived panels are kept
TTL_S = 60.0


@dataclass(slots=True)
class EventPosts:
    """One event's posts in the three orders the page reads (each at most its limit)."""

    oldest: list[Document]  # time order, at most OLDEST
    engaged: list[Document]  # engagement order, at most spreaders.ENGAGED_POSTS
    risky: list[Document]  # risk order, at most claims_view.EVENT_POSTS


@dataclass(slots=True)
class Panels:
    """What the page derives from the event's posts (no clock, no cases)."""

    posts: int  # the posts the judgement aids read
    digest: Digest
    coordination: CoordinationReport
    risk: dict[str, float]  # aggregate_risk of those posts
    network: spreaders.EventNetwork


def _score(value: object) -> float | None:
    """A risk score as the store's risk order reads it (None: not a plain number)."""
    if value is None:
        return 0.0
    kind = type(value)
    return float(value) if kind is float or kind is int else None  # type: ignore[arg-type]


def _risk_order(docs: Sequence[Document]) -> list[Document] | None:
    """``docs`` (in time order) in the store's risk order, None where a score is not a
    plain number (the two backends order those differently: read them instead)."""
    keyed: list[tuple[float, Document]] = []
    for doc in docs:
        risk = doc.analysis.get("risk")
        if isinstance(risk, dict):
            rumor, group = _score(risk.get("rumor")), _score(risk.get("group_incident"))
            if rumor is None or group is None:
                return None
            keyed.append((max(rumor, group), doc))
        elif risk is None:
            keyed.append((0.0, doc))
        else:
            return None
    keyed.sort(key=lambda pair: -pair[0])  # stable: ties stay in time order
    return [doc for _, doc in keyed]


def read_posts(store: Store, event_id: str) -> EventPosts:
    """The event's oldest, most engaged and riskiest posts, in as few reads as it takes."""
    engaged_n, risky_n = spreaders.ENGAGED_POSTS, claims_view.EVENT_POSTS
    oldest = store.event_documents(event_id, order="time", limit=OLDEST)
    if len(oldest) < OLDEST:  # all of the event's posts: sort them here
        engaged = sorted(oldest, key=lambda d: -(d.reposts + d.comments + d.likes))
        risky = _risk_order(oldest)
        if risky is None:
            risky = store.event_documents(event_id, order="risk", limit=risky_n)
        return EventPosts(oldest, engaged[:engaged_n], risky[:risky_n])
    return EventPosts(
        oldest,
        store.event_documents(event_id, order="engagement", limit=engaged_n),
        store.event_documents(event_id, order="risk", limit=risky_n),
    )


def compute_panels(store: Store, posts: EventPosts, zone: ZoneInfo) -> Panels:
    """The derived panels from one read of the posts (as judge() and event_network())."""
    docs = posts.oldest[: judgement_view.MAX_POSTS]
    tree_docs = posts.oldest[: repost_tree.EVENT_POSTS]
    return Panels(
        posts=len(docs),
        digest=judgement_view.event_digest(docs, zone),
        coordination=judgement_view.event_coordination(docs),
        risk=aggregate_risk(docs),
        network=spreaders.network_of(store, tree_docs, posts.engaged),
    )


def rollup_key(rollup: EventRollup) -> Hashable:
    """What changes when a post of the event is added, removed or re-labelled."""
    return (
        rollup.id,
        rollup.posts,
        rollup.first_seen,
        rollup.last_seen,
        rollup.reposts,
        rollup.comments,
        rollup.likes,
        tuple(sorted(rollup.sources.items())),
        tuple(sorted(rollup.sentiment.items())),
        tuple(sorted(rollup.emotion.items())),
        tuple(sorted(rollup.risk.items())),
    )


class PanelCache:
    """A small LRU of :class:`Panels` by roll-up key, entries kept at most ``ttl`` s."""

    def __init__(self, size: int = CACHE_SIZE, ttl: float = TTL_S) -> None:
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict[Hashable, tuple[float, Panels]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Panels | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if time.monotonic() - item[0] > self.ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, panels: Panels) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), panels)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def cache_of(app_state: Any) -> PanelCache:
    """The app's panel cache (one per app: apps over different stores never share)."""
    cache = getattr(app_state, "event_panels", None)
    if not isinstance(cache, PanelCache):
        cache = PanelCache()
        app_state.event_panels = cache
    return cache


@dataclass(slots=True)
class PageData:
    """What the event page shows from the event's posts."""

    engaged: list[Document]  # engagement order, at most KEY_POSTS
    risky: list[Document]  # risk order, at most RISKY_POSTS
    claims: claims_view.EventClaims
    panels: Panels


def page_data(store: Store, rollup: EventRollup, zone: ZoneInfo, cache: PanelCache) -> PageData:
    """The event's posts and panels for the page, the panels from ``cache`` when the event
    has not changed since they were computed."""
    key = rollup_key(rollup)
    panels = cache.get(key)
    if panels is None:
        with paused_gc():
            posts = read_posts(store, rollup.id)
            panels = compute_panels(store, posts, zone)
        cache.put(key, panels)
        engaged, risky = posts.engaged, posts.risky
    else:
        engaged = store.event_documents(rollup.id, order="engagement", limit=KEY_POSTS)
        risky = store.event_documents(rollup.id, order="risk", limit=claims_view.EVENT_POSTS)
    return PageData(
        engaged=engaged[:KEY_POSTS],
        risky=risky[:RISKY_POSTS],
        claims=claims_view.claims_of(store, rollup.id, risky),
        panels=panels,
    )


__all__ = [
    "CACHE_SIZE",
    "EventPosts",
    "PageData",
    "PanelCache",
    "Panels",
    "cache_of",
    "compute_panels",
    "page_data",
    "read_posts",
    "rollup_key",
]
