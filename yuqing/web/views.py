"""What the pages and the API show, computed from store reads: trend series cut in the
configured zone, events ranked by heat with their lifecycle stage, one event in detail,
documents as JSON. Pages and API share these, so both say the same thing.

"Now" for heat and lifecycle is the time of the newest stored post (capped at the wall
clock): a demo or replayed store is shown as of its own last data, and a live store's
newest post is seconds old. Pages print it as 数据截至.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from yuqing.events.heat import EventStats, HeatResult, heat
from yuqing.events.lifecycle import LifecycleResult, stage
from yuqing.events.trends import day_of, day_start, hour_start, hour_starts
from yuqing.models import Document
from yuqing.privacy.masking import masked_handle
from yuqing.store.base import Dimension, EventRollup, Store

Bucket = Literal["hour", "day"]
_HOUR = timedelta(hours=1)
MAX_BUCKETS = 24 * 92  # an hourly series longer than this is refused (use days)


def as_of(store: Store) -> datetime:
    """The dashboard's "now": the newest post's time, never later than the wall clock."""
    wall = datetime.now(UTC)
    newest = store.latest_documents(limit=1)  # one step down the published_at index
    last = newest[0].published_at if newest else None
    return min(last, wall) if last is not None else wall


@dataclass(slots=True)
class Series:
    """Counts per bucket (local hour or day starts, as aware datetimes) and value."""

    dimension: str
    bucket: Bucket
    starts: list[datetime]
    values: dict[str, list[int]]

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "bucket": self.bucket,
            "zone": str(zone),
            "buckets": [s.astimezone(zone).isoformat() for s in self.starts],
            "series": [
                {"value": value, "counts": counts, "total": sum(counts)}
                for value, counts in self.values.items()
            ],
        }


def _bucket_of(when: datetime, bucket: Bucket, zone: ZoneInfo) -> datetime:
    if bucket == "hour":
        return hour_start(when, zone)
    return day_start(day_of(when, zone), zone).astimezone(UTC)


def _axis(first: datetime, last: datetime, bucket: Bucket, zone: ZoneInfo) -> list[datetime]:
    if bucket == "hour":
        return list(hour_starts(first, last, zone))
    days: list[datetime] = []
    day: date = day_of(first, zone)
    while day <= day_of(last, zone):
        days.append(day_start(day, zone).astimezone(UTC))
        day += timedelta(days=1)
    return days


def series(
    store: Store,
    dimension: Dimension,
    bucket: Bucket,
    zone: ZoneInfo,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    event_id: str | None = None,
    top: int | None = None,
) -> Series:
    """Posts per local hour or day and value of ``dimension``, zero-filled from ``since``
    (else the first post) to ``until`` (else the last post). With ``top``, the values past
    the ``top`` largest are summed under ``"other"``."""
    rows = store.trend_counts(dimension, since=since, until=until, event_id=event_id)
    if not rows and (since is None or until is None):
        return Series(dimension, bucket, [], {})
    first = since if since is not None else rows[0].start
    last = until - timedelta(microseconds=1) if until is not None else rows[-1].start
    if bucket == "hour" and (last - first) > MAX_BUCKETS * _HOUR:
        bucket = "day"
    axis = _axis(first, last, bucket, zone)
    position = {start: i for i, start in enumerate(axis)}
    totals: dict[str, int] = {}
    for row in rows:
        totals[row.value] = totals.get(row.value, 0) + row.count
    keep = sorted(totals, key=lambda v: (-totals[v], v))
    kept = set(keep[:top] if top is not None else keep)
    names = [v for v in keep if v in kept] + (["other"] if len(kept) < len(keep) else [])
    values = {name: [0] * len(axis) for name in names}
    for row in rows:
        i = position.get(_bucket_of(row.start, bucket, zone))
        if i is not None:
            values[row.value if row.value in kept else "other"][i] += row.count
    return Series(dimension, bucket, axis, values)


@dataclass(slots=True)
class EventView:
    """One event as the pages and the API show it."""

    rollup: EventRollup
    title: str
    heat: HeatResult
    lifecycle: LifecycleResult
    first_post: Document | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.rollup.id

    @property
    def negative_share(self) -> float:
        with_sentiment = sum(self.rollup.sentiment.values())
        return self.rollup.sentiment.get("negative", 0) / with_sentiment if with_sentiment else 0.0

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        r = self.rollup

        def local(when: datetime | None) -> str | None:
            return when.astimezone(zone).isoformat() if when else None

        return {
            "id": r.id,
            "title": self.title,
            "posts": r.posts,
            "first_seen": local(r.first_seen),
            "last_seen": local(r.last_seen),
            "reposts": r.reposts,
            "comments": r.comments,
            "likes": r.likes,
            "heat": self.heat.score,
            "heat_components": self.heat.components,
            "stage": self.lifecycle.stage,
            "stage_label": self.lifecycle.label,
            "stage_reasons": self.lifecycle.reasons,
            "negative_share": round(self.negative_share, 4),
            "sources": r.sources,
            "sentiment": r.sentiment,
            "emotion": r.emotion,
            "risk": r.risk,
            "keywords": (r.stored or {}).get("keywords", []),
            "hashtags": (r.stored or {}).get("hashtags", {}),
        }


def _hourly(rollup: EventRollup, now: datetime) -> list[tuple[datetime, int]]:
    """The event's hourly counts, zero-filled from its first hour to the hour of ``now``."""
    if not rollup.hourly:
        return []
    counts = dict(rollup.hourly)
    start = rollup.hourly[0][0]
    end = max(now, rollup.hourly[-1][0])
    out: list[tuple[datetime, int]] = []
    while start <= end:
        out.append((start, counts.get(start, 0)))
        start += _HOUR
    return out[-24 * 30 :]


def event_stats(rollup: EventRollup, now: datetime) -> EventStats:
    """What the heat index reads about the event, its hourly series ending at ``now``."""
    hourly = _hourly(rollup, now)
    return EventStats(
        posts=rollup.posts,
        reposts=rollup.reposts,
        comments=rollup.comments,
        likes=rollup.likes,
        sources=rollup.sources,
        hourly=[n for _, n in hourly],
        negative=rollup.sentiment.get("negative", 0),
        with_sentiment=sum(rollup.sentiment.values()),
        first_seen=rollup.first_seen,
        last_seen=rollup.last_seen,
    )


def event_view(store: Store, rollup: EventRollup, now: datetime) -> EventView:
    hourly = _hourly(rollup, now)
    stats = event_stats(rollup, now)
    first = store.event_documents(rollup.id, order="time", limit=1)
    fallback = (first[0].norm_text or first[0].text)[:80] if first else ""
    title = rollup.title or fallback
    return EventView(
        rollup=rollup,
        title=title or rollup.id,
        heat=heat(stats),
        lifecycle=stage(hourly, now),
        first_post=first[0] if first else None,
    )


def hot_events(
    store: Store,
    now: datetime,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[EventView]:
    """Events active in the window ranked by heat (the largest ``4 * limit`` by posts are
    scored; heat grows with posts, so the hottest are among them)."""
    rollups = store.event_rollups(since=since, until=until, limit=max(limit * 4, limit))
    views = [event_view(store, r, now) for r in rollups]
    views.sort(key=lambda v: (-v.heat.score, -v.rollup.posts, v.id))
    return views[:limit]


def one_event(store: Store, event_id: str, now: datetime) -> EventView | None:
    rollups = store.event_rollups(ids=[event_id], limit=1)
    return event_view(store, rollups[0], now) if rollups else None


def document_dict(doc: Document, zone: ZoneInfo) -> dict[str, Any]:
    """A post as the API returns it: the input fields and the analysis labels."""
    a = doc.analysis
    risk = a.get("risk") or {}
    return {
        "source": doc.source,
        "id": doc.id,
        "text": doc.text,
        "title": doc.title,
        "url": doc.url,
        "author": masked_handle(doc.author),  # hidden from viewers (yuqing.privacy)
        "published_at": doc.published_at.astimezone(zone).isoformat() if doc.published_at else None,
        "region": doc.region,
        "reposts": doc.reposts,
        "comments": doc.comments,
        "likes": doc.likes,
        "sentiment": a.get("sentiment"),
        "sentiment_score": a.get("sentiment_score"),
        "emotion": a.get("emotion"),
        "regions": [r.get("name") for r in a.get("regions") or []],
        "risk": {
            "type": risk.get("type"),
            "rumor": risk.get("rumor"),
            "group_incident": risk.get("group_incident"),
            "reasons": risk.get("reasons", []),
        },
        "event_id": a.get("event_id"),
        "duplicate_of": doc.duplicate_of,
        "repost_of": doc.repost_of,
        "keywords": [w for w, _ in doc.keywords[:8]],
    }
