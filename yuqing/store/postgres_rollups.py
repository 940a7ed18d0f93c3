"""The PostgreSQL side of the pre-aggregated counts (:mod:`yuqing.store.rollups` describes the
tables and how windows are answered; :mod:`yuqing.store.sqlite_rollups` is the SQLite side):
migration 11 and the reader.

Upkeep is three statement-level triggers on ``documents`` with transition tables, so every
write keeps the counts in its own transaction, whatever wrote it (``add_documents``' COPY,
``update_analysis``, corrections, the deletion of an author's posts, a restore):

* ``AFTER INSERT``: the inserted rows, grouped, added in one upsert per table;
* ``AFTER UPDATE``: only the rows whose counted labels, time, source, region or counts
  changed are subtracted (old) and added (new): the ``duplicates`` updates of ingest and
  retention's text removal cost a join of the batch and nothing else;
* ``AFTER DELETE``: the deleted rows are subtracted.

The upserts go in (dim, slot, value) order, so concurrent writers lock the counter rows in
the same order (and ``add_documents`` retries a deadlock anyway). The functions run with the
``search_path`` of the migration (``SET search_path FROM CURRENT``), so a trigger finds the
schema's tables whatever the writer's path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import psycopg
from psycopg.rows import TupleRow

from yuqing.store import postgres_queries as queries
from yuqing.store.base import EventRollup, TrendCount
from yuqing.store.rollups import EVENT_LABEL_DIMS, MIX_DIMS, SLOT_US, slot_range
from yuqing.store.rows import to_micros

Conn = psycopg.Connection[TupleRow]

_REGIONS = (
    "CASE WHEN jsonb_typeof(d.analysis -> 'regions') = 'array' "
    "THEN d.analysis -> 'regions' ELSE '[]'::jsonb END"
)
_LABELS: tuple[tuple[str, str], ...] = (
    ("total", "''"),
    ("sentiment", "d.sentiment"),
    ("emotion", "d.emotion"),
    ("risk", "d.risk_type"),
    ("source", "d.source"),
    ("duplicate", "CASE WHEN d.duplicate_of IS NOT NULL THEN '' END"),
    ("repost", "CASE WHEN d.repost_of IS NOT NULL THEN '' END"),
)
# What the counts depend on: a row whose values of these did not change is skipped.
_COUNTED = (
    "published_at",
    "source",
    "region",
    "sentiment",
    "emotion",
    "risk_type",
    "event_id",
    "reposts",
    "comments",
    "likes",
    "duplicate_of",
    "repost_of",
)


def _labels(rows: str) -> str:
    """(slot, ev, dim, value) for every counted label of the posts in ``rows``, as
    postgres_queries counts them: one pass for the plain labels, two for regions."""
    head = f"SELECT d.published_at / {SLOT_US} AS slot, d.event_id AS ev"
    pairs = ", ".join(f"('{dim}', ({value})::text)" for dim, value in _LABELS)
    return (
        f"{head}, v.dim, v.value FROM {rows} d CROSS JOIN LATERAL (VALUES {pairs}) "
        "AS v(dim, value) WHERE d.published_at IS NOT NULL AND v.value IS NOT NULL "
        f"UNION ALL {head}, 'region', r.value ->> 'name' FROM {rows} d "
        f"CROSS JOIN LATERAL jsonb_array_elements({_REGIONS}) r "
        "WHERE d.published_at IS NOT NULL AND r.value ->> 'name' IS NOT NULL "
        f"UNION ALL {head}, 'region', d.region FROM {rows} d WHERE d.published_at IS NOT NULL "
        f"AND d.region IS NOT NULL AND jsonb_array_length({_REGIONS}) = 0"
    )


def upkeep_statements(rows: str, sign: int) -> tuple[str, ...]:
    """One statement that adds (``sign`` 1) or subtracts (-1) the posts of ``rows``: the
    labels are computed once (a CTE read twice is materialized) for both label tables."""
    dims = ", ".join(f"'{d}'" for d in EVENT_LABEL_DIMS)
    return (
        f"WITH l AS ({_labels(rows)}), "
        "a AS (INSERT INTO rollups AS t (dim, slot, value, posts) "
        f"SELECT dim, slot, value, {sign} * COUNT(*) FROM l "
        "GROUP BY dim, slot, value ORDER BY dim, slot, value "
        "ON CONFLICT (dim, slot, value) DO UPDATE SET posts = t.posts + excluded.posts), "
        "b AS (INSERT INTO rollup_event_labels AS t (event_id, dim, slot, value, posts) "
        f"SELECT ev, dim, slot, value, {sign} * COUNT(*) FROM l "
        f"WHERE ev IS NOT NULL AND dim IN ({dims}) GROUP BY ev, dim, slot, value "
        "ORDER BY ev, dim, slot, value ON CONFLICT (event_id, dim, slot, value) "
        "DO UPDATE SET posts = t.posts + excluded.posts) "
        "INSERT INTO rollup_events AS t (slot, event_id, posts, reposts, comments, likes) "
        f"SELECT d.published_at / {SLOT_US}, d.event_id, {sign} * COUNT(*), "
        f"{sign} * SUM(d.reposts), {sign} * SUM(d.comments), {sign} * SUM(d.likes) "
        f"FROM {rows} d WHERE d.published_at IS NOT NULL AND d.event_id IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (slot, event_id) DO UPDATE SET "
        "posts = t.posts + excluded.posts, reposts = t.reposts + excluded.reposts, "
        "comments = t.comments + excluded.comments, likes = t.likes + excluded.likes",
    )


def _function(name: str, body: Sequence[str]) -> str:
    statements = "".join(f"{s};\n" for s in body)
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
        f"SET search_path FROM CURRENT AS $$\nBEGIN\n{statements}RETURN NULL;\nEND\n$$"
    )


def _changed(side: str) -> str:
    """The rows of one side (``o`` old, ``n`` new) of an UPDATE whose counts changed."""
    before = ", ".join(f"o.{c}" for c in _COUNTED) + ", o.analysis -> 'regions'"
    after = ", ".join(f"n.{c}" for c in _COUNTED) + ", n.analysis -> 'regions'"
    return (
        f"(SELECT {side}.* FROM old_rows o JOIN new_rows n ON n.pk = o.pk "
        f"WHERE ({before}) IS DISTINCT FROM ({after}))"
    )


MIGRATION_NAME = "rollups: posts per quarter-hour, label and event"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE rollups (
        dim TEXT COLLATE "C" NOT NULL,
        slot BIGINT NOT NULL,          -- published_at / 900 s (UTC quarter-hours)
        value TEXT COLLATE "C" NOT NULL,
        posts BIGINT NOT NULL,
        PRIMARY KEY (dim, slot, value)
    )""",
    """CREATE TABLE rollup_events (
        slot BIGINT NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL,
        posts BIGINT NOT NULL,
        reposts BIGINT NOT NULL,
        comments BIGINT NOT NULL,
        likes BIGINT NOT NULL,
        PRIMARY KEY (slot, event_id)
    )""",
    "CREATE INDEX rollup_events_event ON rollup_events (event_id, slot)",
    """CREATE TABLE rollup_event_labels (
        event_id TEXT COLLATE "C" NOT NULL,
        dim TEXT COLLATE "C" NOT NULL,
        slot BIGINT NOT NULL,
        value TEXT COLLATE "C" NOT NULL,
        posts BIGINT NOT NULL,
        PRIMARY KEY (event_id, dim, slot, value)
    )""",
    *upkeep_statements("documents", 1),
    _function("rollups_insert", upkeep_statements("new_rows", 1)),
    _function(
        "rollups_update",
        (*upkeep_statements(_changed("o"), -1), *upkeep_statements(_changed("n"), 1)),
    ),
    _function("rollups_delete", upkeep_statements("old_rows", -1)),
    "CREATE TRIGGER documents_rollups_insert AFTER INSERT ON documents "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rollups_insert()",
    "CREATE TRIGGER documents_rollups_update AFTER UPDATE ON documents "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION rollups_update()",
    "CREATE TRIGGER documents_rollups_delete AFTER DELETE ON documents "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rollups_delete()",
    # The newest posts of one source (ingest health) without sorting all of its posts.
    "CREATE INDEX documents_source_time ON documents (source, published_at, pk)",
    "CREATE INDEX documents_untimed ON documents (source) WHERE published_at IS NULL",
)


def stats_counts(conn: Conn) -> tuple[dict[str, int], int, int]:
    """(posts per source, duplicates, reposts) of all stored posts, from the rollups and the
    posts without a time."""
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
        "SELECT source, COUNT(*), COUNT(duplicate_of), COUNT(repost_of) FROM documents "
        "WHERE published_at IS NULL GROUP BY source"
    ):
        sources[str(source)] = sources.get(str(source), 0) + int(n)
        dups += int(d)
        reposts += int(r)
    return {s: n for s, n in sorted(sources.items()) if n > 0}, dups, reposts


class PostgresRollupReader:
    """:class:`yuqing.store.rollups.RollupReader` over one PostgreSQL connection."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    # -- from the posts (partial slots at a window's ends) ---------------------------------

    def posts_trend(
        self, dim: str, since: datetime | None, until: datetime | None, event_id: str | None
    ) -> list[TrendCount]:
        return queries.trend_counts(self.conn, dim, since, until, event_id)  # type: ignore[arg-type]

    def posts_labels(
        self, dim: str, since: datetime | None, until: datetime | None, event_id: str | None
    ) -> dict[str, int]:
        return queries.label_counts(self.conn, dim, since, until, event_id, -1)  # type: ignore[arg-type]

    def posts_events(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str] | None, limit: int
    ) -> list[EventRollup]:
        return queries.event_rollups(self.conn, since, until, ids, limit)

    # -- from the rollups (whole slots) ----------------------------------------------------

    @staticmethod
    def _source(dim: str, event_id: str | None) -> tuple[str, str, list[object]]:
        """(value expression, ``FROM ... WHERE ...``, parameters) of one dimension's rows."""
        if event_id is None and dim == "event":
            return "event_id", "FROM rollup_events WHERE true", []
        if event_id is None:
            return "value", "FROM rollups WHERE dim = %s", [dim]
        if dim in ("total", "event"):
            value = "''" if dim == "total" else "event_id"
            return value, "FROM rollup_events WHERE event_id = %s", [event_id]
        return (
            "value",
            "FROM rollup_event_labels WHERE event_id = %s AND dim = %s",
            [
                event_id,
                dim,
            ],
        )

    def slot_counts(
        self, dim: str, lo: int | None, hi: int | None, event_id: str | None
    ) -> list[tuple[int, str, int]]:
        value, source, params = self._source(dim, event_id)
        cond, bounds = slot_range(lo, hi, lambda: "%s")
        rows = self.conn.execute(
            f"SELECT slot, {value}, posts {source}{cond} AND posts <> 0", [*params, *bounds]
        )
        return [(int(s), str(v), int(n)) for s, v, n in rows]

    def value_counts(
        self, dim: str, lo: int | None, hi: int | None, event_id: str | None
    ) -> dict[str, int]:
        value, source, params = self._source(dim, event_id)
        cond, bounds = slot_range(lo, hi, lambda: "%s")
        rows = self.conn.execute(
            f"SELECT {value} AS v, SUM(posts) {source}{cond} GROUP BY v", [*params, *bounds]
        )
        return {str(v): int(n) for v, n in rows}

    def event_totals(
        self, lo: int | None, hi: int | None, ids: Sequence[str] | None
    ) -> dict[str, tuple[int, int, int, int]]:
        cond, bounds = slot_range(lo, hi, lambda: "%s")
        params: list[object] = [*bounds]
        if ids is not None:
            cond += " AND event_id = ANY(%s)"
            params.append(list(ids))
        rows = self.conn.execute(
            "SELECT event_id, SUM(posts), SUM(reposts), SUM(comments), SUM(likes) "
            f"FROM rollup_events WHERE true{cond} GROUP BY event_id",
            params,
        )
        return {str(e): (int(p), int(r), int(c), int(lk)) for e, p, r, c, lk in rows}

    def event_slots(
        self, lo: int | None, hi: int | None, ids: Sequence[str]
    ) -> list[tuple[str, int, int]]:
        cond, bounds = slot_range(lo, hi, lambda: "%s")
        rows = self.conn.execute(
            f"SELECT event_id, slot, posts FROM rollup_events WHERE event_id = ANY(%s){cond} "
            "AND posts <> 0",
            [list(ids), *bounds],
        )
        return [(str(e), int(s), int(n)) for e, s, n in rows]

    def event_mixes(
        self, lo: int | None, hi: int | None, ids: Sequence[str]
    ) -> list[tuple[str, str, str, int]]:
        cond, bounds = slot_range(lo, hi, lambda: "%s")
        dims = ", ".join(f"'{d}'" for d in MIX_DIMS)
        rows = self.conn.execute(
            "SELECT event_id, dim, value, SUM(posts) FROM rollup_event_labels "
            f"WHERE event_id = ANY(%s) AND dim IN ({dims}){cond} GROUP BY event_id, dim, value",
            [list(ids), *bounds],
        )
        return [(str(e), str(d), str(v), int(n)) for e, d, v, n in rows]

    def event_bounds(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str]
    ) -> dict[str, tuple[int | None, int | None]]:
        cond, params = "", []
        if since is not None:
            cond += " AND d.published_at >= %s"
            params.append(to_micros(since, "since"))
        if until is not None:
            cond += " AND d.published_at < %s"
            params.append(to_micros(until, "until"))
        inner = f"FROM documents d WHERE d.event_id = e.id AND d.published_at IS NOT NULL{cond}"
        rows = self.conn.execute(
            f"SELECT e.id, (SELECT MIN(d.published_at) {inner}), "
            f"(SELECT MAX(d.published_at) {inner}) FROM unnest(%s::text[]) AS e(id)",
            [*params, *params, list(ids)],
        )
        return {str(e): (first, last) for e, first, last in rows}

    def event_data(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute("SELECT id, data FROM events WHERE id = ANY(%s)", (list(ids),))
        return {str(eid): orjson.loads(data) for eid, data in rows}
