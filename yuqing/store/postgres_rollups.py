"""The PostgreSQL side of the pre-aggregated counts (:mod:`yuqing.store.rollups` describes the
tables and how windows are answered; :mod:`yuqing.store.sqlite_rollups` is the SQLite side):
migration 11, the reader, and the dashboard section (:mod:`yuqing.store.sql_dashboard`) over
it, a mixin of :class:`yuqing.store.postgres.PostgresStore`.

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

import psycopg
from psycopg.rows import TupleRow

from yuqing.store.dialect import POSTGRES, PostgresSection
from yuqing.store.postgres_queries import QUERIES
from yuqing.store.rollups import EVENT_LABEL_DIMS, SLOT_US
from yuqing.store.rows import to_micros
from yuqing.store.sql_dashboard import DashboardSection
from yuqing.store.sql_rollups import SQLRollupReader, count_stats

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
    """(posts per source, duplicates, reposts) of all stored posts."""
    return count_stats(POSTGRES, conn, "documents")


class PostgresRollupReader(SQLRollupReader):
    """:class:`yuqing.store.rollups.RollupReader` over one PostgreSQL connection."""

    queries = QUERIES

    def event_bounds(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str]
    ) -> dict[str, tuple[int | None, int | None]]:
        cond, params = "", []
        if since is not None:
            cond += " AND d.published_at >= ?"
            params.append(to_micros(since, "since"))
        if until is not None:
            cond += " AND d.published_at < ?"
            params.append(to_micros(until, "until"))
        inner = f"FROM documents d WHERE d.event_id = e.id AND d.published_at IS NOT NULL{cond}"
        rows = self.db.execute(
            f"SELECT e.id, (SELECT MIN(d.published_at) {inner}), "
            f"(SELECT MAX(d.published_at) {inner}) FROM unnest(?::text[]) AS e(id)",
            [*params, *params, list(ids)],
        )
        return {str(e): (first, last) for e, first, last in rows}


class PostgresDashboard(PostgresSection, DashboardSection):
    """The dashboard and API reads of the Store contract, and ``upsert_events``."""

    rollup_reader = PostgresRollupReader
