"""Counts per hour and per day, by dimension: the in-memory engine behind live alerts,
event trends and ``yuqing analyze`` (DESIGN.md: 追踪舆情走势).

A :class:`TrendCounter` reads each document once (``add``) and keeps, for every hour and
every day cut in the configured zone, a counter of ``(dimension, value)`` pairs:

========== =====================================================================
dimension  value read from the document
========== =====================================================================
total      ``""`` (every post)
event      ``analysis["event_id"]``
keyword    the words of ``doc.keywords`` (first ``max_keywords``)
region     ``analysis["regions"][*]["name"]``, else the input ``region``
source     ``doc.source``
sentiment  ``analysis["sentiment"]``
emotion    ``analysis["emotion"]``
========== =====================================================================

Bucket keys are DST-safe: an hour bucket is keyed by the UTC instant at which its local
hour starts (so the repeated local hour of a fall-back night is two buckets, and a zone
with a half-hour offset cuts at its own :30), a day bucket by its local calendar date.
Memory is bounded by ``retention_days``: buckets that end before ``now - retention`` are
dropped, where "now" is the injected clock's time or, without a clock, the newest post
seen (so a replay of old data keeps its history).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from yuqing.clock import Clock
from yuqing.errors import UsageError
from yuqing.models import Document

Dimension = Literal["total", "event", "keyword", "region", "source", "sentiment", "emotion"]
Bucket = Literal["hour", "day"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
BUCKETS: tuple[str, ...] = get_args(Bucket)
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
_HOUR = timedelta(hours=1)

Key = tuple[str, str]


def hour_start(when: datetime, zone: ZoneInfo) -> datetime:
    """The start of the local hour that contains ``when``, as an aware UTC datetime."""
    local = when.astimezone(zone)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def day_of(when: datetime, zone: ZoneInfo) -> date:
    """The local calendar date of ``when`` in ``zone``."""
    return when.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of ``day`` as an aware datetime in ``zone`` (normalized through UTC,
    so a midnight that a DST jump skips becomes the first real instant after it)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).astimezone(zone)


def hour_starts(first: datetime, last: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """Every local hour start from the hour of ``first`` to the hour of ``last`` (UTC)."""
    current = hour_start(first, zone)
    stop = hour_start(last, zone)
    while current <= stop:
        yield current
        step = hour_start(current + _HOUR, zone)
        # A 30-minute DST shift (Lord Howe) can map +1 h back onto this hour.
        current = step if step > current else hour_start(current + _HOUR * 1.5, zone)


def _require_aware(when: datetime | None, name: str) -> None:
    if when is not None and when.tzinfo is None:
        raise UsageError(f"TrendCounter: {name}={when!r} has no time zone; pass an aware datetime")


class TrendCounter:
    """Counts of posts per hour and per day by dimension, with zero-filled series.

    ``zone`` cuts hours and days; ``retention_days`` bounds memory; ``clock``, when
    given, defines "now" for retention (otherwise the newest post time does).
    """

    def __init__(
        self,
        *,
        zone: ZoneInfo = DEFAULT_ZONE,
        retention_days: float = 30.0,
        max_keywords: int = 10,
        clock: Clock | None = None,
    ) -> None:
        if retention_days <= 0:
            raise UsageError(f"TrendCounter: retention_days must be > 0, got {retention_days}")
        self.zone = zone
        self.retention = timedelta(days=retention_days)
        self.max_keywords = max_keywords
        self.clock = clock
        self._hours: dict[datetime, Counter[Key]] = {}
        self._days: dict[date, Counter[Key]] = {}
        self._watermark: datetime | None = None
        self._last_prune: datetime | None = None
        self.added = 0
        self.untimed = 0  # documents with neither published_at nor ingested_at
        self.expired = 0  # documents older than the retention window when they arrived

    # -- writing -----------------------------------------------------------------------

    def keys_of(self, doc: Document) -> list[Key]:
        """The ``(dimension, value)`` pairs one document counts towards (each once)."""
        analysis = doc.analysis
        keys: list[Key] = [("total", ""), ("source", doc.source)]
        event_id = analysis.get("event_id")
        if event_id is not None and event_id != "":
            keys.append(("event", str(event_id)))
        for name in ("sentiment", "emotion"):
            label = analysis.get(name)
            if label:
                keys.append((name, str(label)))
        regions: set[str] = set()
        for region in analysis.get("regions") or []:
            region_name = region.get("name") if isinstance(region, dict) else region
            if region_name:
                regions.add(str(region_name))
        if not regions and doc.region:
            regions.add(doc.region)
        keys.extend(("region", name) for name in sorted(regions))
        words = dict.fromkeys(word for word, _ in doc.keywords[: self.max_keywords])
        keys.extend(("keyword", word) for word in words)
        return keys

    def add(self, doc: Document) -> bool:
        """Count one document; False when it has no time or is older than the retention."""
        when = doc.published_at or doc.ingested_at
        if when is None:
            self.untimed += 1
            return False
        _require_aware(when, "published_at")
        if self._watermark is None or when > self._watermark:
            self._watermark = when
        cutoff = self._now() - self.retention
        if when < cutoff:
            self.expired += 1
            return False
        keys = self.keys_of(doc)
        hour = hour_start(when, self.zone)
        day = day_of(when, self.zone)
        self._hours.setdefault(hour, Counter()).update(keys)
        self._days.setdefault(day, Counter()).update(keys)
        self.added += 1
        self._maybe_prune()
        return True

    def add_many(self, docs: Iterable[Document]) -> int:
        """Count many documents; returns how many were counted."""
        return sum(self.add(doc) for doc in docs)

    def _now(self) -> datetime:
        if self.clock is not None:
            return self.clock.now()
        return self._watermark or datetime.min.replace(tzinfo=UTC)

    def _maybe_prune(self) -> None:
        now = self._now()
        if self._last_prune is None or now - self._last_prune >= _HOUR:
            self.prune(now)

    def prune(self, now: datetime | None = None) -> None:
        """Drop buckets that ended before ``now - retention`` (default: the counter's now)."""
        _require_aware(now, "now")
        now = now or self._now()
        cutoff = now - self.retention
        for hour in [h for h in self._hours if h + _HOUR <= cutoff]:
            del self._hours[hour]
        cutoff_day = day_of(cutoff, self.zone)
        for day in [d for d in self._days if d < cutoff_day]:
            del self._days[day]
        self._last_prune = now

    # -- reading -----------------------------------------------------------------------

    @property
    def buckets_held(self) -> tuple[int, int]:
        """How many (hour, day) buckets are in memory."""
        return len(self._hours), len(self._days)

    def span(self) -> tuple[datetime, datetime] | None:
        """First and last hour start held (UTC), or None when empty."""
        if not self._hours:
            return None
        return min(self._hours), max(self._hours)

    def series(
        self,
        dimension: str,
        value: str | None = None,
        bucket: str = "hour",
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[tuple[datetime, int]]:
        """Counts of ``dimension == value`` per bucket from ``start`` to ``end`` inclusive
        (the buckets that contain them), gaps filled with 0.

        Bucket starts are aware datetimes in the counter's zone. ``start``/``end`` default
        to the first/last bucket held. ``value`` is ignored for ``total``.
        """
        key = self._key(dimension, value)
        _check_bucket(bucket)
        _require_aware(start, "start")
        _require_aware(end, "end")
        if start is None or end is None:
            span = self.span()
            if span is None:
                return []
            start, end = start or span[0], end or span[1]
        first, last = start, end
        if bucket == "hour":
            return [
                (h.astimezone(self.zone), self._hours[h][key] if h in self._hours else 0)
                for h in hour_starts(first, last, self.zone)
            ]
        day = day_of(first, self.zone)
        stop = day_of(last, self.zone)
        out: list[tuple[datetime, int]] = []
        while day <= stop:
            counts = self._days.get(day)
            out.append((day_start(day, self.zone), counts[key] if counts else 0))
            day += timedelta(days=1)
        return out

    def top(
        self,
        dimension: str,
        start: datetime | None = None,
        end: datetime | None = None,
        k: int = 10,
        bucket: str = "hour",
    ) -> list[tuple[str, int]]:
        """The ``k`` most frequent values of ``dimension`` between ``start`` and ``end``
        (the buckets that contain them; hour buckets unless ``bucket="day"``), ties by value."""
        if dimension not in DIMENSIONS:
            raise UsageError(
                f"TrendCounter.top: unknown dimension {dimension!r}; use one of {DIMENSIONS}"
            )
        _check_bucket(bucket)
        _require_aware(start, "start")
        _require_aware(end, "end")
        totals: Counter[str] = Counter()
        for counts in self._bucket_counters(bucket, start, end):
            for (dim, value), n in counts.items():
                if dim == dimension:
                    totals[value] += n
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:k]

    def _bucket_counters(
        self, bucket: str, start: datetime | None, end: datetime | None
    ) -> Iterator[Counter[Key]]:
        if bucket == "hour":
            lo = hour_start(start, self.zone) if start else None
            hi = hour_start(end, self.zone) if end else None
            for hour, counts in self._hours.items():
                if (lo is None or hour >= lo) and (hi is None or hour <= hi):
                    yield counts
            return
        lo_day = day_of(start, self.zone) if start else None
        hi_day = day_of(end, self.zone) if end else None
        for day, counts in self._days.items():
            if (lo_day is None or day >= lo_day) and (hi_day is None or day <= hi_day):
                yield counts

    @staticmethod
    def _key(dimension: str, value: str | None) -> Key:
        if dimension not in DIMENSIONS:
            raise UsageError(
                f"TrendCounter.series: unknown dimension {dimension!r}; use one of {DIMENSIONS}"
            )
        if dimension == "total":
            return ("total", "")
        if value is None:
            raise UsageError(f"TrendCounter.series: dimension {dimension!r} needs a value")
        return (dimension, value)


def _check_bucket(bucket: str) -> None:
    if bucket not in BUCKETS:
        raise UsageError(f"TrendCounter: unknown bucket {bucket!r}; use 'hour' or 'day'")
