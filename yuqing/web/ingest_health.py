"""Ingest health (采集健康): posts per source per hour over the last days, collection gaps
flagged, and each source's last post.

Collection breaks quietly: a feed changes its markup, a token expires, a crawler stalls,
and nobody notices until weeks later (Media Cloud's users did). This page makes a hole in
a source's hourly series visible.

**The gap rule.** Hours are local hours (the configured zone) of the window
``[hour of (end - days), end)``. For source *s* and hour *h* with no post, the expected
count is the mean of *s*'s counts at the same local hour of day on the window's other days
from *s*'s first post in the window on (leave-one-out: the hour itself does not lower its
own expectation; with no other day, the mean of *s*'s other hours instead). The hour is a
**gap** when

- the expected count is at least ``min_expected`` (default 3: a Poisson source with that
  mean is silent for an hour by chance about 5 % of the time, at 5 about 0.7 %);
- the hour is not the current one (still being filled), and
- the hour is not before *s*'s first post in the window (a source added mid-window has no
  gaps before it began, and its empty hours before then do not lower the expectation).

Consecutive gap hours of a source are one :class:`Gap`. A source with stored posts but none
in the window is *silent* (shown with its last post time; it has no hours to flag). ``end`` is the dashboard's "now"
(the newest stored post): if every source stopped, no hour after the last post is
counted, so the page also shows how far the newest post lags the wall clock.

Everything is read through the Store protocol: ``trend_counts(dimension="source")`` for the
hourly counts, ``stats().sources`` for the sources ever seen and ``latest_documents`` for
each source's last post (see :func:`last_post`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.errors import UsageError
from yuqing.events.trends import hour_start
from yuqing.store.base import SLOT_SECONDS, Store
from yuqing.web import views

DAYS = 7
MAX_DAYS = 31
MIN_EXPECTED = 3.0
LAST_SCAN = 500  # posts of a quarter-hour read to find a source's newest post
_HOUR = timedelta(hours=1)


@dataclass(slots=True, frozen=True)
class Gap:
    """Consecutive hours [start, end) of one source with no post where posts were expected."""

    source: str
    start: datetime
    end: datetime
    expected: float  # posts expected over these hours, summed

    @property
    def hours(self) -> int:
        return round((self.end - self.start) / _HOUR)

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "source": self.source,
            "start": self.start.astimezone(zone).isoformat(),
            "end": self.end.astimezone(zone).isoformat(),
            "hours": self.hours,
            "expected": round(self.expected, 1),
        }


@dataclass(slots=True)
class SourceHealth:
    """One source over the window: hourly counts on the common axis, gaps, last post."""

    source: str
    counts: list[int]
    gaps: list[Gap] = field(default_factory=list)
    gap_hours: list[int] = field(default_factory=list)  # indexes into the axis
    last_post: datetime | None = None
    total_posts: int = 0  # stored in the whole store

    @property
    def posts(self) -> int:
        return sum(self.counts)

    @property
    def silent(self) -> bool:
        """Posts stored before, none in the window."""
        return self.total_posts > 0 and self.posts == 0

    @property
    def per_hour(self) -> float:
        return self.posts / len(self.counts) if self.counts else 0.0

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "source": self.source,
            "posts": self.posts,
            "total_posts": self.total_posts,
            "per_hour": round(self.per_hour, 2),
            "last_post": self.last_post.astimezone(zone).isoformat() if self.last_post else None,
            "silent": self.silent,
            "gap_hours": len(self.gap_hours),
            "gaps": [g.as_dict(zone) for g in self.gaps],
            "counts": self.counts,
        }


@dataclass(slots=True)
class IngestHealth:
    """All sources over the same hourly axis (local hour starts, as UTC datetimes)."""

    end: datetime
    days: int
    min_expected: float
    hours: list[datetime]
    sources: list[SourceHealth]

    @property
    def gaps(self) -> list[Gap]:
        return sorted((g for s in self.sources for g in s.gaps), key=lambda g: (g.start, g.source))

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "end": self.end.astimezone(zone).isoformat(),
            "days": self.days,
            "min_expected": self.min_expected,
            "zone": str(zone),
            "hours": [h.astimezone(zone).isoformat() for h in self.hours],
            "gap_count": len(self.gaps),
            "sources": [s.as_dict(zone) for s in self.sources],
        }


def expected_counts(counts: list[int], hours: list[datetime], zone: ZoneInfo) -> list[float]:
    """The leave-one-out expectation of each hour (see the module docstring)."""
    by_clock: dict[int, list[int]] = {}
    for i, start in enumerate(hours):
        by_clock.setdefault(start.astimezone(zone).hour, []).append(i)
    total = sum(counts)
    out: list[float] = []
    for i, start in enumerate(hours):
        same = by_clock[start.astimezone(zone).hour]
        if len(same) >= 2:
            out.append((sum(counts[j] for j in same) - counts[i]) / (len(same) - 1))
        elif len(hours) >= 2:
            out.append((total - counts[i]) / (len(hours) - 1))
        else:
            out.append(0.0)
    return out


def find_gaps(
    source: str,
    counts: list[int],
    hours: list[datetime],
    zone: ZoneInfo,
    *,
    min_expected: float = MIN_EXPECTED,
    current: int | None = None,
) -> tuple[list[int], list[Gap]]:
    """The gap hours (axis indexes) of one source and the gaps they form. ``current`` is
    the index of the hour still being filled (never a gap)."""
    first = next((i for i, n in enumerate(counts) if n > 0), len(counts))
    # the source's own history: hours before its first post neither count nor lower the mean
    expected = [0.0] * first + expected_counts(counts[first:], hours[first:], zone)
    flagged = [
        i
        for i, n in enumerate(counts)
        if n == 0 and i > first and i != current and expected[i] >= min_expected
    ]
    gaps: list[Gap] = []
    run: list[int] = []
    for i in [*flagged, -2]:
        if run and i != run[-1] + 1:
            end = hours[run[-1] + 1] if run[-1] + 1 < len(hours) else hours[run[-1]] + _HOUR
            gaps.append(Gap(source, hours[run[0]], end, sum(expected[j] for j in run)))
            run = []
        if i >= 0:
            run.append(i)
    return flagged, gaps


def last_post(
    store: Store, source: str, counts: list[int], hours: list[datetime]
) -> datetime | None:
    """The time of the source's newest post. Found from its last hour with posts in the
    window: the last quarter-hour of that hour with its posts (``trend_counts``), then the
    newest post of the source among that quarter-hour's posts, all read by time (a read
    filtered by source alone walks the whole source on SQLite). A source without posts in the
    window is looked up directly."""
    last = next((i for i in range(len(counts) - 1, -1, -1) if counts[i] > 0), None)
    if last is None:
        found = store.latest_documents(sources=[source], limit=1)
        return found[0].published_at if found else None
    slots = [
        c.start
        for c in store.trend_counts("source", since=hours[last], until=hours[last] + _HOUR)
        if c.value == source
    ]
    if slots:
        start = max(slots)
        end = start + timedelta(seconds=SLOT_SECONDS)
        for doc in store.latest_documents(since=start, until=end, limit=LAST_SCAN):
            if doc.source == source:
                return doc.published_at
        found = store.latest_documents(since=start, until=end, sources=[source], limit=1)
        if found:
            return found[0].published_at
    return hours[last]


def ingest_health(
    store: Store,
    zone: ZoneInfo,
    end: datetime,
    *,
    days: int = DAYS,
    min_expected: float = MIN_EXPECTED,
) -> IngestHealth:
    """Hourly posts per source over the ``days`` before ``end``, with gaps flagged."""
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"ingest health: days must be 1 to {MAX_DAYS}, not {days}")
    if min_expected <= 0:
        raise UsageError(f"ingest health: min_expected must be positive, not {min_expected}")
    since = hour_start(end - timedelta(days=days), zone)
    series = views.series(store, "source", "hour", zone, since=since, until=end)
    hours = series.starts
    current = len(hours) - 1 if hours and hours[-1] <= end < hours[-1] + _HOUR else None
    totals = store.stats().sources
    names = sorted(set(series.values) | set(totals), key=lambda s: (-totals.get(s, 0), s))
    sources: list[SourceHealth] = []
    for name in names:
        counts = series.values.get(name, [0] * len(hours))
        flagged, gaps = find_gaps(
            name, counts, hours, zone, min_expected=min_expected, current=current
        )
        sources.append(
            SourceHealth(
                source=name,
                counts=counts,
                gaps=gaps,
                gap_hours=flagged,
                last_post=last_post(store, name, counts, hours),
                total_posts=totals.get(name, 0),
            )
        )
    return IngestHealth(end, days, min_expected, hours, sources)


__all__ = [
    "DAYS",
    "MAX_DAYS",
    "MIN_EXPECTED",
    "Gap",
    "IngestHealth",
    "SourceHealth",
    "expected_counts",
    "find_gaps",
    "ingest_health",
    "last_post",
]
