"""Rising terms for the overview's word cloud (上升词云).

A term *rises* when the share of posts carrying it grew from the window before to the
recent window of the same length. Terms are the posts' stored ``keywords`` (the
pipeline's TF-IDF keywords; a post without keywords falls back to its ``tokens``), counted
once per post (document frequency), so one long post cannot lift a term alone.

For each term: ``recent_share = posts with the term / posts sampled in the recent window``
and the same for the window before; ``rise = recent_share - before_share`` (in share
points, so a term going from 0 to 1 post does not outrank one going from 2 % to 9 %).
Terms in fewer than ``min_posts`` recent posts are left out; the ``top`` terms with a
positive rise are shown, each sized by its rise relative to the largest.

Documents are read through the Store protocol (``latest_documents``), at most ``sample``
per window, spread evenly over the window (``slices`` equal parts, the newest posts of
each), so that a busy window costs the same as a quiet one. A result is cached per store
and window for ``CACHE_SECONDS``: the overview answers from memory while the cloud is at
most that old.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.store.base import Store

SAMPLE = 600  # posts read per window at most
SLICES = 6  # equal parts of a window, each giving its newest SAMPLE / SLICES posts
MIN_POSTS = 3  # a term must be in at least this many recent posts
TOP = 40
CACHE_SECONDS = 60.0
MIN_EM, MAX_EM = 0.9, 2.6  # font sizes of the smallest and the largest rise
_CACHE_SIZE = 32


@dataclass(slots=True, frozen=True)
class TermRise:
    """One term of the cloud: posts carrying it in each window, shares, rise and size."""

    term: str
    recent: int
    before: int
    recent_share: float
    before_share: float
    rise: float
    size: float  # font size in em

    def as_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "recent": self.recent,
            "before": self.before,
            "recent_share": round(self.recent_share, 4),
            "before_share": round(self.before_share, 4),
            "rise": round(self.rise, 4),
            "size": round(self.size, 2),
        }


@dataclass(slots=True)
class RisingTerms:
    """The cloud and the windows it compares (``recent`` = [start, end), ``before`` = the
    window of the same length just before it), with the posts sampled in each."""

    start: datetime
    end: datetime
    before_start: datetime
    recent_posts: int
    before_posts: int
    terms: list[TermRise] = field(default_factory=list)

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "recent": {
                "since": self.start.astimezone(zone).isoformat(),
                "until": self.end.astimezone(zone).isoformat(),
                "posts_sampled": self.recent_posts,
            },
            "before": {
                "since": self.before_start.astimezone(zone).isoformat(),
                "until": self.start.astimezone(zone).isoformat(),
                "posts_sampled": self.before_posts,
            },
            "count": len(self.terms),
            "terms": [t.as_dict() for t in self.terms],
        }


def is_term(word: str) -> bool:
    """A word worth showing: two characters or more, not only digits or punctuation."""
    word = word.strip()
    if len(word) < 2 or len(word) > 20:
        return False
    return any(ch.isalpha() for ch in word)


def post_terms(doc: Document) -> set[str]:
    """The terms of one post: its keywords, else its tokens (each once)."""
    words: Iterable[str] = [w for w, _ in doc.keywords] if doc.keywords else doc.tokens
    return {w.strip() for w in words if is_term(w)}


def document_frequency(docs: Iterable[Document]) -> tuple[Counter[str], int]:
    """Posts per term and the number of posts read."""
    counts: Counter[str] = Counter()
    n = 0
    for doc in docs:
        n += 1
        counts.update(post_terms(doc))
    return counts, n


def rank(
    recent: Counter[str],
    recent_n: int,
    before: Counter[str],
    before_n: int,
    *,
    min_posts: int = MIN_POSTS,
    top: int = TOP,
) -> list[TermRise]:
    """The ``top`` terms by rise of their share, largest first (ties: more recent posts,
    then the term), sized from MIN_EM to MAX_EM by rise relative to the largest."""
    if recent_n <= 0:
        return []
    rows: list[tuple[str, int, int, float, float, float]] = []
    for term, n in recent.items():
        if n < min_posts:
            continue
        share = n / recent_n
        old = before.get(term, 0)
        old_share = old / before_n if before_n else 0.0
        rise = share - old_share
        if rise > 0:
            rows.append((term, n, old, share, old_share, rise))
    rows.sort(key=lambda r: (-r[5], -r[1], r[0]))
    rows = rows[:top]
    if not rows:
        return []
    largest = rows[0][5]
    return [
        TermRise(term, n, old, share, old_share, rise, _size(rise, largest))
        for term, n, old, share, old_share, rise in rows
    ]


def _size(rise: float, largest: float) -> float:
    # square root: a cloud reads areas, and a few large terms should not dwarf the rest
    return MIN_EM + (MAX_EM - MIN_EM) * math.sqrt(rise / largest) if largest > 0 else MIN_EM


def sample_window(
    store: Store, since: datetime, until: datetime, n: int = SAMPLE, slices: int = SLICES
) -> list[Document]:
    """Up to ``n`` posts published in [since, until): the newest ``n / slices`` of each of
    ``slices`` equal parts of the window (a spread sample, not just the last minutes)."""
    if until <= since or n <= 0:
        return []
    slices = max(1, min(slices, n))
    step = (until - since) / slices
    per = math.ceil(n / slices)
    docs: list[Document] = []
    for i in range(slices):
        lo = since + step * i
        hi = until if i == slices - 1 else since + step * (i + 1)
        docs.extend(store.latest_documents(since=lo, until=hi, limit=per))
    return docs


def rising_terms(
    store: Store,
    end: datetime,
    window: timedelta,
    *,
    sample: int = SAMPLE,
    min_posts: int = MIN_POSTS,
    top: int = TOP,
) -> RisingTerms:
    """Terms rising in [end - window, end) against the window before it."""
    if window <= timedelta(0):
        raise UsageError(f"rising terms: the window must be positive, not {window}")
    start = end - window
    before_start = start - window
    recent, recent_n = document_frequency(sample_window(store, start, end, sample))
    before, before_n = document_frequency(sample_window(store, before_start, start, sample))
    terms = rank(recent, recent_n, before, before_n, min_posts=min_posts, top=top)
    return RisingTerms(start, end, before_start, recent_n, before_n, terms)


class _Cache:
    """Results per (store URL, arguments), each kept for ``seconds``; thread-safe."""

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._items: dict[tuple[Any, ...], tuple[float, RisingTerms]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> RisingTerms | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def put(self, key: tuple[Any, ...], value: RisingTerms) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                now = time.monotonic()
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
                while len(self._items) >= self.size:
                    self._items.pop(next(iter(self._items)))
            self._items[key] = (time.monotonic() + self.seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = _Cache(CACHE_SECONDS, _CACHE_SIZE)


def cached_rising_terms(
    store: Store,
    end: datetime,
    window: timedelta,
    *,
    sample: int = SAMPLE,
    min_posts: int = MIN_POSTS,
    top: int = TOP,
) -> RisingTerms:
    """:func:`rising_terms`, reused for CACHE_SECONDS per store and arguments (``end`` is
    taken from the first computation: a cached cloud may miss the last minute of posts)."""
    key = (store.url, window, sample, min_posts, top)
    found = cache.get(key)
    if found is not None and found.end <= end:
        return found
    result = rising_terms(store, end, window, sample=sample, min_posts=min_posts, top=top)
    cache.put(key, result)
    return result


def window_for(days: int) -> timedelta:
    """The recent window of the overview's ``days``: its second half, compared with its
    first half (both inside the period shown), at most seven days (this week against the
    one before, not months)."""
    return min(timedelta(days=max(days, 1)) / 2, timedelta(days=7))


__all__ = [
    "RisingTerms",
    "TermRise",
    "cached_rising_terms",
    "document_frequency",
    "is_term",
    "post_terms",
    "rank",
    "rising_terms",
    "sample_window",
    "window_for",
]
