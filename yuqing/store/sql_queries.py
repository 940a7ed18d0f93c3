"""The queries behind the dashboard and the REST API, in SQL shared by both backends
(:mod:`yuqing.store.dialect`): trends, distributions, event roll-ups and event posts, plus
the ``events`` table that the clusterer's events are saved to.

Functions over one connection (:class:`yuqing.store.dialect.Connection`), for the section
:class:`yuqing.store.sql_dashboard.DashboardSection` and the rollup readers. They read
the label columns of migration 3 (``sentiment``, ``emotion``, ``risk_type``, ``event_id``:
computed from the analysis JSON and indexed). Trend counts come per UTC quarter-hour so that
callers can cut hours and days in any zone (every zone offset is a multiple of 15 minutes).
What reads the analysis JSON itself (regions, risk scores) is written in each backend's
dialect: :mod:`yuqing.store.sqlite_queries`, :mod:`yuqing.store.postgres_queries`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.store.base import (
    DIMENSIONS,
    SLOT_SECONDS,
    Dimension,
    EventOrder,
    EventRollup,
    TrendCount,
)
from yuqing.store.dialect import Connection, Dialect
from yuqing.store.rows import COLUMNS, from_micros, row_to_document, to_micros

if TYPE_CHECKING:
    from yuqing.events.event import Event

_SLOT_US = SLOT_SECONDS * 1_000_000
_HOUR_US = 3_600_000_000
_SELECT_DOCS = f"SELECT {', '.join('d.' + c for c in COLUMNS)} FROM documents d"
# dimension -> SQL expression of its value over `documents d`; region is special (a list)
VALUE: dict[str, str] = {
    "total": "''",
    "sentiment": "d.sentiment",
    "emotion": "d.emotion",
    "risk": "d.risk_type",
    "source": "d.source",
    "event": "d.event_id",
}


def _check_dimension(dimension: str) -> None:
    if dimension not in DIMENSIONS:
        raise UsageError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")


def _window(
    since: datetime | None, until: datetime | None, event_id: str | None
) -> tuple[list[str], list[object]]:
    where = ["d.published_at IS NOT NULL"]
    params: list[object] = []
    if since is not None:
        where.append("d.published_at >= ?")
        params.append(to_micros(since, "since"))
    if until is not None:
        where.append("d.published_at < ?")
        params.append(to_micros(until, "until"))
    if event_id is not None:
        where.append("d.event_id = ?")
        params.append(event_id)
    return where, params


def _bump(counter: dict[str, int], key: Any, n: int) -> None:
    if key is not None:
        counter[str(key)] = counter.get(str(key), 0) + n


def _hour(index: int) -> datetime:
    start = from_micros(index * _HOUR_US)
    assert start is not None
    return start


class DashboardQueries:
    """The queries of one dialect; each takes a qmark connection first. A backend
    gives the parts that read the analysis JSON: :attr:`order` and :meth:`grouped_sql`."""

    dialect: ClassVar[Dialect]
    #: event post order -> ORDER BY over `documents d`
    order: ClassVar[Mapping[str, str]]

    def grouped_sql(
        self, dimension: str, where: list[str], select: str, group: str, event_id: str | None
    ) -> str:
        """``SELECT {select}v, COUNT(*) ... GROUP BY {group}v`` for one dimension."""
        raise NotImplementedError

    def _grouped(
        self,
        dimension: str,
        since: datetime | None,
        until: datetime | None,
        event_id: str | None,
        select: str,
        group: str,
    ) -> tuple[str, list[object]]:
        """:meth:`grouped_sql` over the window, with its parameters."""
        _check_dimension(dimension)
        where, params = _window(since, until, event_id)
        sql = self.grouped_sql(dimension, where, select, group, event_id)
        # the region query reads the window twice (a UNION ALL)
        return sql, params * 2 if dimension == "region" else params

    def trend_counts(
        self,
        conn: Connection,
        dimension: Dimension,
        since: datetime | None,
        until: datetime | None,
        event_id: str | None,
    ) -> list[TrendCount]:
        select = f"d.published_at / {_SLOT_US} AS slot, "
        sql, params = self._grouped(dimension, since, until, event_id, select, "slot, ")
        rows = conn.execute(sql + " ORDER BY slot, v", params).fetchall()
        out: list[TrendCount] = []
        for slot, value, count in rows:
            start = from_micros(int(slot) * _SLOT_US)
            assert start is not None
            out.append(TrendCount(start, str(value), int(count)))
        return out

    def label_counts(
        self,
        conn: Connection,
        dimension: Dimension,
        since: datetime | None,
        until: datetime | None,
        event_id: str | None,
        limit: int,
    ) -> dict[str, int]:
        sql, params = self._grouped(dimension, since, until, event_id, "", "")
        rows = conn.execute(
            f"{sql} ORDER BY COUNT(*) DESC, v LIMIT ?", [*params, self.dialect.limit(limit)]
        ).fetchall()
        return {str(value): int(count) for value, count in rows}

    def upsert_events(self, conn: Connection, events: Sequence[Event]) -> int:
        now = time.time_ns() // 1000
        rows = [
            (
                e.id,
                e.title,
                e.first_post[0],
                e.first_post[1],
                to_micros(e.first_seen, f"event {e.id} first_seen"),
                to_micros(e.last_seen, f"event {e.id} last_seen"),
                e.size,
                e.status,
                orjson.dumps(e.as_dict()).decode(),
                now,
            )
            for e in sorted(events, key=lambda e: e.id)  # one lock order for concurrent writers
        ]
        conn.executemany(
            "INSERT INTO events (id, title, first_source, first_id, first_seen, last_seen, size, "
            "status, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO "
            "UPDATE SET title = excluded.title, last_seen = excluded.last_seen, "
            "size = excluded.size, status = excluded.status, data = excluded.data, "
            "updated_at = excluded.updated_at",
            rows,
        )
        return len(rows)

    def event_rollups(
        self,
        conn: Connection,
        since: datetime | None,
        until: datetime | None,
        ids: Sequence[str] | None,
        limit: int,
    ) -> list[EventRollup]:
        """Two passes: the top events by posts in the window (or ``ids``), then one grouped
        query over their posts for the hourly series and the label mixes."""
        d = self.dialect
        where, params = _window(since, until, None)
        cond = " AND ".join([*where, "d.event_id IS NOT NULL"])
        if ids is not None:
            chosen = list(dict.fromkeys(ids))[:limit]
            if not chosen:
                return []
            among, among_params = d.text_in("d.event_id", chosen)
            cond += f" AND {among}"
            params = [*params, *among_params]
        rows = conn.execute(
            "SELECT d.event_id, COUNT(*), MIN(d.published_at), MAX(d.published_at), "
            f"SUM(d.reposts), SUM(d.comments), SUM(d.likes) FROM documents d WHERE {cond} "
            "GROUP BY d.event_id ORDER BY COUNT(*) DESC, d.event_id LIMIT ?",
            [*params, d.limit(limit)],
        ).fetchall()
        if not rows:
            return []
        rollups = {
            eid: EventRollup(
                id=eid,
                posts=int(n),
                first_seen=from_micros(first),
                last_seen=from_micros(last),
                reposts=int(reposts or 0),
                comments=int(comments or 0),
                likes=int(likes or 0),
            )
            for eid, n, first, last, reposts, comments, likes in rows
        }
        among, among_params = d.text_in("d.event_id", list(rollups))
        where_ids = " AND ".join([*where, among])
        mix_params = [*_window(since, until, None)[1], *among_params]
        hours: dict[str, dict[int, int]] = defaultdict(dict)
        for eid, hour, source, sentiment, emotion, risk, n in conn.execute(
            f"SELECT d.event_id, d.published_at / {_HOUR_US}, d.source, d.sentiment, d.emotion, "
            f"d.risk_type, COUNT(*) FROM documents d WHERE {where_ids} "
            "GROUP BY 1, 2, 3, 4, 5, 6",
            mix_params,
        ):
            r = rollups[eid]
            n = int(n)
            hours[eid][int(hour)] = hours[eid].get(int(hour), 0) + n
            _bump(r.sources, source, n)
            _bump(r.sentiment, sentiment, n)
            _bump(r.emotion, emotion, n)
            _bump(r.risk, risk, n)
        among, among_params = d.text_in("id", list(rollups))
        for eid, data in conn.execute(f"SELECT id, data FROM events WHERE {among}", among_params):
            rollups[eid].stored = orjson.loads(data)
        for eid, r in rollups.items():
            r.hourly = [(_hour(h), n) for h, n in sorted(hours[eid].items())]
            for counter in (r.sources, r.sentiment, r.emotion, r.risk):
                ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
                counter.clear()
                counter.update(ordered)
        return list(rollups.values())

    def event_documents(
        self, conn: Connection, event_id: str, order: EventOrder, limit: int
    ) -> list[Document]:
        if order not in self.order:
            raise UsageError(f"unknown order {order!r}; use one of {', '.join(self.order)}")
        rows = conn.execute(
            f"{_SELECT_DOCS} WHERE d.event_id = ? ORDER BY {self.order[order]} LIMIT ?",
            (event_id, self.dialect.limit(limit)),
        ).fetchall()
        return [row_to_document(row) for row in rows]

    def latest_documents(
        self,
        conn: Connection,
        since: datetime | None,
        until: datetime | None,
        sources: Sequence[str],
        limit: int,
    ) -> list[Document]:
        where, params = _window(since, until, None)
        if sources:
            among, among_params = self.dialect.text_in("d.source", sources)
            where.append(among)
            params.extend(among_params)
        rows = conn.execute(
            f"{_SELECT_DOCS} WHERE {' AND '.join(where)} "
            "ORDER BY d.published_at DESC, d.pk DESC LIMIT ?",
            [*params, self.dialect.limit(limit)],
        ).fetchall()
        return [row_to_document(row) for row in rows]
