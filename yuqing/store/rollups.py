"""Pre-aggregated post counts (migration 11 on both backends), and how a window is answered
from them: the backend-neutral half of :mod:`yuqing.store.sqlite_rollups` and
:mod:`yuqing.store.postgres_rollups`.

Three tables hold posts per UTC quarter-hour slot (``published_at / SLOT_US``, the very
slot ``trend_counts`` reports), kept up to date in the transaction that changes the posts:

* ``rollups (dim, slot, value, posts)``: ``total`` (value ``''``), ``sentiment``,
  ``emotion``, ``risk``, ``source``, ``region``, plus ``duplicate`` and ``repost`` (value
  ``''``: posts with ``duplicate_of`` / ``repost_of``, for a cheap ``stats()``);
* ``rollup_events (slot, event_id, posts, reposts, comments, likes)``: per event;
* ``rollup_event_labels (event_id, dim, slot, value, posts)``: the label mix of each event
  (``source``, ``sentiment``, ``emotion``, ``risk``, ``region``).

Rows whose count fell to zero stay (readers skip them). A window ``[since, until)`` is cut
into whole slots (read from the rollups) and at most two partial slots at its ends (read
from the posts, as before, through the ``published_at`` index: a few minutes of posts), and
the two are added up, so every answer is exactly what counting the posts gives. Windows
before 1970 are read from the posts (SQL truncates negative slots toward zero).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from yuqing.errors import UsageError
from yuqing.store.base import DIMENSIONS, SLOT_SECONDS, EventRollup, TrendCount
from yuqing.store.rows import from_micros, to_micros

SLOT_US = SLOT_SECONDS * 1_000_000
HOUR_US = 3_600_000_000
SLOTS_PER_HOUR = HOUR_US // SLOT_US
MIX_DIMS = ("source", "sentiment", "emotion", "risk")
EVENT_LABEL_DIMS = (*MIX_DIMS, "region")
Window = tuple[datetime | None, datetime | None]


@dataclass(frozen=True, slots=True)
class Split:
    """Whole slots ``[lo, hi)`` (None: unbounded) read from the rollups, and the partial
    slots at the window's ends (``edges``) read from the posts."""

    lo: int | None
    hi: int | None
    edges: tuple[Window, ...]


def split_window(since: datetime | None, until: datetime | None) -> Split | None:
    """How to answer ``[since, until)`` from the rollups; None: read it all from the posts
    (less than one whole slot, or a bound before 1970)."""
    start = to_micros(since, "since")
    end = to_micros(until, "until")
    if (start is not None and start < 0) or (end is not None and end < SLOT_US):
        return None
    lo = None if start is None else -(-start // SLOT_US)
    hi = None if end is None else end // SLOT_US
    if lo is not None and hi is not None and lo >= hi:
        return None
    edges: list[Window] = []
    if start is not None and lo is not None and start < lo * SLOT_US:
        edges.append((since, from_micros(lo * SLOT_US)))
    if end is not None and hi is not None and hi * SLOT_US < end:
        edges.append((from_micros(hi * SLOT_US), until))
    return Split(lo, hi, tuple(edges))


def check_dimension(dimension: str) -> None:
    if dimension not in DIMENSIONS:
        raise UsageError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")


def slot_start(slot: int) -> datetime:
    start = from_micros(slot * SLOT_US)
    assert start is not None
    return start


def hour_of_slot(slot: int) -> int:
    """The hour index SQL gives (``published_at / HOUR_US``, truncated) for a slot's posts."""
    return int(slot / SLOTS_PER_HOUR)


class RollupReader(Protocol):
    """What one backend answers: from the posts (the original queries) and from rollups."""

    def posts_trend(
        self, dim: str, since: datetime | None, until: datetime | None, event_id: str | None
    ) -> list[TrendCount]: ...

    def posts_labels(
        self, dim: str, since: datetime | None, until: datetime | None, event_id: str | None
    ) -> dict[str, int]: ...

    def posts_events(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str] | None, limit: int
    ) -> list[EventRollup]: ...

    def slot_counts(
        self, dim: str, lo: int | None, hi: int | None, event_id: str | None
    ) -> list[tuple[int, str, int]]: ...

    def value_counts(
        self, dim: str, lo: int | None, hi: int | None, event_id: str | None
    ) -> dict[str, int]: ...

    def event_totals(
        self, lo: int | None, hi: int | None, ids: Sequence[str] | None
    ) -> dict[str, tuple[int, int, int, int]]: ...

    def event_slots(
        self, lo: int | None, hi: int | None, ids: Sequence[str]
    ) -> list[tuple[str, int, int]]: ...

    def event_mixes(
        self, lo: int | None, hi: int | None, ids: Sequence[str]
    ) -> list[tuple[str, str, str, int]]: ...

    def event_bounds(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str]
    ) -> dict[str, tuple[int | None, int | None]]: ...

    def event_data(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...


def trend_counts(
    reader: RollupReader,
    dim: str,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None,
) -> list[TrendCount]:
    check_dimension(dim)
    split = split_window(since, until)
    if split is None:
        return reader.posts_trend(dim, since, until, event_id)
    counts: dict[tuple[int, str], int] = {}
    for slot, value, n in reader.slot_counts(dim, split.lo, split.hi, event_id):
        counts[(slot, value)] = counts.get((slot, value), 0) + n
    out = [TrendCount(slot_start(slot), value, n) for (slot, value), n in counts.items() if n]
    for lo, hi in split.edges:
        out += reader.posts_trend(dim, lo, hi, event_id)
    out.sort(key=lambda c: (c.start, c.value))
    return out


def label_counts(
    reader: RollupReader,
    dim: str,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None,
    limit: int,
) -> dict[str, int]:
    check_dimension(dim)
    split = split_window(since, until)
    parts: list[dict[str, int]]
    if split is None:
        parts = [reader.posts_labels(dim, since, until, event_id)]
    else:
        parts = [reader.value_counts(dim, split.lo, split.hi, event_id)]
        parts += [reader.posts_labels(dim, lo, hi, event_id) for lo, hi in split.edges]
    total: dict[str, int] = defaultdict(int)
    for part in parts:
        for value, n in part.items():
            total[value] += n
    ranked = sorted(((v, n) for v, n in total.items() if n > 0), key=lambda kv: (-kv[1], kv[0]))
    return dict(ranked if limit < 0 else ranked[:limit])


def event_rollups(
    reader: RollupReader,
    since: datetime | None,
    until: datetime | None,
    ids: Sequence[str] | None,
    limit: int,
) -> list[EventRollup]:
    """The largest events in the window (or exactly ``ids``), as the posts add them up."""
    split = split_window(since, until)
    if split is None:
        return reader.posts_events(since, until, ids, limit)
    chosen: list[str] | None = None
    if ids is not None:
        chosen = list(dict.fromkeys(ids))[:limit]
        if not chosen:
            return []
    edges: list[EventRollup] = []
    for lo, hi in split.edges:
        edges += reader.posts_events(lo, hi, chosen, len(chosen) if chosen else -1)
    totals = {eid: list(t) for eid, t in reader.event_totals(split.lo, split.hi, chosen).items()}
    for e in edges:
        t = totals.setdefault(e.id, [0, 0, 0, 0])
        for i, n in enumerate((e.posts, e.reposts, e.comments, e.likes)):
            t[i] += n
    ranked = sorted(
        (kv for kv in totals.items() if kv[1][0] > 0), key=lambda kv: (-kv[1][0], kv[0])
    )
    top = ranked if limit < 0 else ranked[:limit]
    if not top:
        return []
    rollups = {
        eid: EventRollup(eid, t[0], None, None, reposts=t[1], comments=t[2], likes=t[3])
        for eid, t in top
    }
    wanted = list(rollups)
    hours: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    mixes: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for eid, slot, n in reader.event_slots(split.lo, split.hi, wanted):
        hours[eid][hour_of_slot(slot)] += n
    for eid, dim, value, n in reader.event_mixes(split.lo, split.hi, wanted):
        mixes[(eid, dim)][value] += n
    for e in edges:
        if e.id not in rollups:
            continue
        for start, n in e.hourly:
            micros = to_micros(start, "hour")
            assert micros is not None
            hours[e.id][micros // HOUR_US] += n
        for dim, mix in zip(MIX_DIMS, (e.sources, e.sentiment, e.emotion, e.risk), strict=True):
            for value, n in mix.items():
                mixes[(e.id, dim)][value] += n
    bounds = reader.event_bounds(since, until, wanted)
    stored = reader.event_data(wanted)
    for eid, r in rollups.items():
        first, last = bounds.get(eid, (None, None))
        r.first_seen, r.last_seen = from_micros(first), from_micros(last)
        r.stored = stored.get(eid)
        r.hourly = [(_hour(h), n) for h, n in sorted(hours[eid].items()) if n]
        targets = (r.sources, r.sentiment, r.emotion, r.risk)
        for dim, counter in zip(MIX_DIMS, targets, strict=True):
            counter.update(_ranked(mixes[(eid, dim)]))
    return list(rollups.values())


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(((v, n) for v, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0])))


def _hour(index: int) -> datetime:
    start = from_micros(index * HOUR_US)
    assert start is not None
    return start


def slot_range(lo: int | None, hi: int | None, mark: Callable[[], str]) -> tuple[str, list[int]]:
    """``AND slot >= lo AND slot < hi`` and its parameters. Both bounds are always given
    (an unbounded side as the smallest or largest slot possible): with one bound only,
    SQLite's planner may scan all of ``rollup_events`` in event order to skip a sort."""
    return f" AND slot >= {mark()} AND slot < {mark()}", [
        -_NO_SLOT if lo is None else lo,
        _NO_SLOT if hi is None else hi,
    ]


_NO_SLOT = 2**62
