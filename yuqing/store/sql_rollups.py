"""Reading the pre-aggregated counts (:mod:`yuqing.store.rollups` describes the tables and
how windows are answered), in SQL shared by both backends (:mod:`yuqing.store.dialect`).
The tables and their upkeep differ between the backends: :mod:`yuqing.store.sqlite_rollups`,
:mod:`yuqing.store.postgres_rollups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import orjson

from yuqing.store.base import EventRollup, TrendCount
from yuqing.store.dialect import Connection, Dialect, DriverConnection
from yuqing.store.rollups import MIX_DIMS, slot_range
from yuqing.store.sql_queries import DashboardQueries


def count_stats(
    dialect: Dialect, connection: DriverConnection, untimed: str
) -> tuple[dict[str, int], int, int]:
    """(posts per source, duplicates, reposts) of all stored posts, from the rollups and the
    posts without a time (``untimed``: ``documents``, with an index hint where one helps)."""
    conn = dialect.adapt(connection)
    sources: dict[str, int] = {}
    dups = reposts = 0
    for dim, value, n in conn.execute(
        "SELECT dim, value, SUM(posts) FROM rollups WHERE dim IN ('source', 'duplicate', "
        "'repost') GROUP BY dim, value"
    ):
        if dim == "source":
            sources[str(value)] = int(n)
        elif dim == "duplicate":
            dups = int(n)
        else:
            reposts = int(n)
    for source, n, d, r in conn.execute(
        "SELECT source, COUNT(*), COUNT(duplicate_of), COUNT(repost_of) FROM "
        f"{untimed} WHERE published_at IS NULL GROUP BY source"
    ):
        sources[str(source)] = sources.get(str(source), 0) + int(n)
        dups += int(d)
        reposts += int(r)
    return {s: n for s, n in sorted(sources.items()) if n > 0}, dups, reposts


class SQLRollupReader:
    """:class:`yuqing.store.rollups.RollupReader` over one connection. A backend gives its
    dashboard queries, the index hint of ``rollup_events`` read by event, and
    :meth:`event_bounds`."""

    queries: ClassVar[DashboardQueries]
    #: after ``rollup_events`` when it is read by event id
    events_by_event: ClassVar[str] = ""

    def __init__(self, db: Connection) -> None:
        self.db = db
        self.dialect = self.queries.dialect

    # -- from the posts (partial slots at a window's ends) ---------------------------------

    def posts_trend(
        self, dim: str, since: datetime | None, until: datetime | None, event_id: str | None
    ) -> list[TrendCount]:
        return self.queries.trend_counts(self.db, dim, since, until, event_id)  # type: ignore[arg-type]

    def posts_labels(
        self, dim: str, since: datetime | None, until: datetime | None, event_id: str | None
    ) -> dict[str, int]:
        return self.queries.label_counts(self.db, dim, since, until, event_id, -1)  # type: ignore[arg-type]

    def posts_events(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str] | None, limit: int
    ) -> list[EventRollup]:
        return self.queries.event_rollups(self.db, since, until, ids, limit)

    # -- from the rollups (whole slots) ----------------------------------------------------

    @staticmethod
    def _source(dim: str, event_id: str | None) -> tuple[str, str, list[object]]:
        """(value expression, ``FROM ... WHERE ...``, parameters) of one dimension's rows."""
        if event_id is None and dim == "event":
            return "event_id", "FROM rollup_events WHERE true", []
        if event_id is None:
            return "value", "FROM rollups WHERE dim = ?", [dim]
        if dim in ("total", "event"):
            value = "''" if dim == "total" else "event_id"
            return value, "FROM rollup_events WHERE event_id = ?", [event_id]
        return "value", "FROM rollup_event_labels WHERE event_id = ? AND dim = ?", [event_id, dim]

    def slot_counts(
        self, dim: str, lo: int | None, hi: int | None, event_id: str | None
    ) -> list[tuple[int, str, int]]:
        value, source, params = self._source(dim, event_id)
        cond, bounds = slot_range(lo, hi, lambda: "?")
        rows = self.db.execute(
            f"SELECT slot, {value}, posts {source}{cond} AND posts <> 0", [*params, *bounds]
        )
        return [(int(s), str(v), int(n)) for s, v, n in rows]

    def value_counts(
        self, dim: str, lo: int | None, hi: int | None, event_id: str | None
    ) -> dict[str, int]:
        value, source, params = self._source(dim, event_id)
        cond, bounds = slot_range(lo, hi, lambda: "?")
        rows = self.db.execute(
            f"SELECT {value} AS v, SUM(posts) {source}{cond} GROUP BY v", [*params, *bounds]
        )
        return {str(v): int(n) for v, n in rows}

    def event_totals(
        self, lo: int | None, hi: int | None, ids: Sequence[str] | None
    ) -> dict[str, tuple[int, int, int, int]]:
        cond, bounds = slot_range(lo, hi, lambda: "?")
        params: list[object] = [*bounds]
        if ids is not None:
            among, among_params = self.dialect.text_in("event_id", ids)
            cond += f" AND {among}"
            params.extend(among_params)
        rows = self.db.execute(
            "SELECT event_id, SUM(posts), SUM(reposts), SUM(comments), SUM(likes) "
            f"FROM rollup_events WHERE true{cond} GROUP BY event_id",
            params,
        )
        return {str(e): (int(p), int(r), int(c), int(lk)) for e, p, r, c, lk in rows}

    def event_slots(
        self, lo: int | None, hi: int | None, ids: Sequence[str]
    ) -> list[tuple[str, int, int]]:
        cond, bounds = slot_range(lo, hi, lambda: "?")
        among, among_params = self.dialect.text_in("event_id", ids)
        rows = self.db.execute(
            f"SELECT event_id, slot, posts FROM rollup_events{self.events_by_event} "
            f"WHERE {among}{cond} AND posts <> 0",
            [*among_params, *bounds],
        )
        return [(str(e), int(s), int(n)) for e, s, n in rows]

    def event_mixes(
        self, lo: int | None, hi: int | None, ids: Sequence[str]
    ) -> list[tuple[str, str, str, int]]:
        cond, bounds = slot_range(lo, hi, lambda: "?")
        dims = ", ".join(f"'{d}'" for d in MIX_DIMS)
        among, among_params = self.dialect.text_in("event_id", ids)
        rows = self.db.execute(
            "SELECT event_id, dim, value, SUM(posts) FROM rollup_event_labels "
            f"WHERE {among} AND dim IN ({dims}){cond} GROUP BY event_id, dim, value",
            [*among_params, *bounds],
        )
        return [(str(e), str(d), str(v), int(n)) for e, d, v, n in rows]

    def event_bounds(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str]
    ) -> dict[str, tuple[int | None, int | None]]:
        raise NotImplementedError

    def event_data(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        among, among_params = self.dialect.text_in("id", ids)
        rows = self.db.execute(f"SELECT id, data FROM events WHERE {among}", among_params)
        return {str(eid): orjson.loads(data) for eid, data in rows}
