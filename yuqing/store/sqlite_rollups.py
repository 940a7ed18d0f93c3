"""The SQLite side of the pre-aggregated counts (:mod:`yuqing.store.rollups` describes the
tables and how windows are answered): migration 11, the upkeep, the reader, and the
dashboard section (:mod:`yuqing.store.sql_dashboard`) over it, a mixin of
:class:`yuqing.store.sqlite.SQLiteStore`.

Upkeep, in the transaction that changes the posts:

* ``add_documents`` adds the rows it stored with :func:`add_stored`: the batch's labels
  counted in Python from its documents (:mod:`yuqing.store.rollup_batch`), one
  ``executemany`` of upserts per table (a label that is not a plain string goes through
  the triggers' SQL instead). When every post of the batch was new, their times come from
  the rows just built; otherwise the new rows are read back (``pk`` above the largest
  before the insert: SQLite gives a new row the largest rowid plus one);
* a row trigger on ``UPDATE OF`` the counted columns subtracts the old row's labels and adds the new row's, only
  when a label, the time, the source, the region or a count changed (``update_analysis``,
  corrections, claims and reanalysis change labels; retention removes text and keeps them,
  so it costs nothing here);
* a row trigger on ``DELETE`` subtracts the row (the deletion of an author's posts).

Migration 11 also fills the tables from the stored posts, and adds the ``(source,
published_at)`` index (the newest posts of one source) and the indexes that make
``stats()`` cheap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson

from yuqing.errors import StoreError
from yuqing.models import Document
from yuqing.store import rollup_batch
from yuqing.store.dialect import SQLITE, SQLiteSection
from yuqing.store.rollups import EVENT_LABEL_DIMS, SLOT_US
from yuqing.store.rows import to_micros
from yuqing.store.sql_dashboard import DashboardSection
from yuqing.store.sql_rollups import SQLRollupReader, count_stats
from yuqing.store.sqlite_queries import QUERIES

_ROW_COLUMNS = (
    "published_at",
    "source",
    "analysis",
    "region",
    "reposts",
    "comments",
    "likes",
    "duplicate_of",
    "repost_of",
)
_EVENT = "json_extract(d.analysis, '$.event_id')"
_LABELS: tuple[tuple[str, str], ...] = (
    ("total", "''"),
    ("sentiment", "json_extract(d.analysis, '$.sentiment')"),
    ("emotion", "json_extract(d.analysis, '$.emotion')"),
    ("risk", "json_extract(d.analysis, '$.risk.type')"),
    ("source", "d.source"),
    ("duplicate", "CASE WHEN d.duplicate_of IS NOT NULL THEN '' END"),
    ("repost", "CASE WHEN d.repost_of IS NOT NULL THEN '' END"),
)


def _labels(rows: str) -> str:
    """(slot, ev, dim, value) for every counted label of the posts in ``rows`` (a relation
    with the columns of ``_ROW_COLUMNS``), as sqlite_queries counts them."""
    head = f"SELECT d.published_at / {SLOT_US} AS slot, {_EVENT} AS ev"
    branches = [
        f"{head}, '{dim}' AS dim, {value} AS value FROM {rows} d "
        f"WHERE d.published_at IS NOT NULL AND {value} IS NOT NULL"
        for dim, value in _LABELS
    ]
    # json_extract of a region that is not an object would raise "malformed JSON" and fail
    # the write: it has no name (PostgreSQL's ->> gives NULL too)
    name = "CASE WHEN r.type = 'object' THEN json_extract(r.value, '$.name') END"
    branches.append(
        f"{head}, 'region', {name} FROM {rows} d, json_each(d.analysis, '$.regions') r "
        f"WHERE d.published_at IS NOT NULL AND {name} IS NOT NULL"
    )
    branches.append(
        f"{head}, 'region', d.region FROM {rows} d WHERE d.published_at IS NOT NULL "
        "AND d.region IS NOT NULL AND COALESCE(json_array_length(d.analysis, '$.regions'), 0) = 0"
    )
    return " UNION ALL ".join(branches)


def upkeep_statements(rows: str, sign: int) -> tuple[str, ...]:
    """Statements that add (``sign`` 1) or subtract (-1) the posts of ``rows``."""
    labels = _labels(rows)
    dims = ", ".join(f"'{d}'" for d in EVENT_LABEL_DIMS)
    return (
        "INSERT INTO rollups (dim, slot, value, posts) "
        f"SELECT dim, slot, value, {sign} * COUNT(*) FROM ({labels}) WHERE true "
        "GROUP BY dim, slot, value "
        "ON CONFLICT (dim, slot, value) DO UPDATE SET posts = posts + excluded.posts",
        "INSERT INTO rollup_event_labels (event_id, dim, slot, value, posts) "
        f"SELECT ev, dim, slot, value, {sign} * COUNT(*) FROM ({labels}) "
        f"WHERE ev IS NOT NULL AND dim IN ({dims}) GROUP BY ev, dim, slot, value "
        "ON CONFLICT (event_id, dim, slot, value) DO UPDATE SET posts = posts + excluded.posts",
        "INSERT INTO rollup_events (slot, event_id, posts, reposts, comments, likes) "
        f"SELECT d.published_at / {SLOT_US}, {_EVENT}, {sign} * COUNT(*), "
        f"{sign} * SUM(d.reposts), {sign} * SUM(d.comments), {sign} * SUM(d.likes) "
        f"FROM {rows} d WHERE d.published_at IS NOT NULL AND {_EVENT} IS NOT NULL "
        "GROUP BY 1, 2 ON CONFLICT (slot, event_id) DO UPDATE SET "
        "posts = posts + excluded.posts, reposts = reposts + excluded.reposts, "
        "comments = comments + excluded.comments, likes = likes + excluded.likes",
    )


def _row_of(which: str) -> str:
    """The OLD or NEW row of a trigger as a one-row relation."""
    return "(SELECT " + ", ".join(f"{which}.{c} AS {c}" for c in _ROW_COLUMNS) + ")"


def _changed() -> str:
    """A trigger's WHEN: did anything the rollups count change?"""
    paths = ("$.sentiment", "$.emotion", "$.risk.type", "$.event_id", "$.regions")
    terms = [
        f"json_extract(old.analysis, '{p}') IS NOT json_extract(new.analysis, '{p}')" for p in paths
    ]
    terms += [f"old.{c} IS NOT new.{c}" for c in _ROW_COLUMNS if c != "analysis"]
    return " OR ".join(terms)


def _trigger(name: str, event: str, when: str, body: tuple[str, ...]) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON documents{when} BEGIN {'; '.join(body)}; END"


_DOCUMENTS = "(SELECT " + ", ".join(_ROW_COLUMNS) + " FROM documents)"
_LISTED = (
    "(SELECT " + ", ".join(_ROW_COLUMNS) + " FROM documents "
    "WHERE pk IN (SELECT value FROM json_each(:pks)))"
)
_ADD_LISTED = upkeep_statements(_LISTED, 1)

MIGRATION_NAME = "rollups: posts per quarter-hour, label and event"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE rollups (
        dim TEXT NOT NULL,             -- total | sentiment | ... | duplicate | repost
        slot INTEGER NOT NULL,         -- published_at / 900 s (UTC quarter-hours)
        value TEXT NOT NULL,
        posts INTEGER NOT NULL,
        PRIMARY KEY (dim, slot, value)
    ) WITHOUT ROWID""",
    """CREATE TABLE rollup_events (
        slot INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        posts INTEGER NOT NULL,
        reposts INTEGER NOT NULL,
        comments INTEGER NOT NULL,
        likes INTEGER NOT NULL,
        PRIMARY KEY (slot, event_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX rollup_events_event ON rollup_events (event_id, slot)",
    """CREATE TABLE rollup_event_labels (
        event_id TEXT NOT NULL,
        dim TEXT NOT NULL,             -- source | sentiment | emotion | risk | region
        slot INTEGER NOT NULL,
        value TEXT NOT NULL,
        posts INTEGER NOT NULL,
        PRIMARY KEY (event_id, dim, slot, value)
    ) WITHOUT ROWID""",
    *upkeep_statements(_DOCUMENTS, 1),
    _trigger(
        "documents_rollups_update",
        # not on the `indexed` and `duplicates` updates of indexing and ingest
        f"UPDATE OF {', '.join(_ROW_COLUMNS)}",
        f" WHEN {_changed()}",
        (*upkeep_statements(_row_of("old"), -1), *upkeep_statements(_row_of("new"), 1)),
    ),
    _trigger("documents_rollups_delete", "DELETE", "", upkeep_statements(_row_of("old"), -1)),
    # The newest posts of one source (ingest health) without sorting all of its posts.
    "CREATE INDEX documents_source_time ON documents (source, published_at)",
    # stats(): posts without a time are counted from the posts, the rest from the rollups.
    "CREATE INDEX documents_untimed ON documents (source) WHERE published_at IS NULL",
)


def last_pk(conn: sqlite3.Connection) -> int | None:
    """The largest stored ``pk`` (0 when none): rows stored after this are new. None when
    the schema has no rollups yet (a store before migration 11: nothing to keep up)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollups'"
    ).fetchone()
    if exists is None:
        return None
    return int(conn.execute("SELECT COALESCE(MAX(pk), 0) FROM documents").fetchone()[0])


def add_stored(
    conn: sqlite3.Connection,
    after: int,
    docs: Mapping[tuple[str, str], Document],
    published: Sequence[int | None] | None = None,
) -> None:
    """Count the posts stored with ``pk`` above ``after`` (in the caller's transaction).

    ``published``: the stored ``published_at`` of each of ``docs`` in order, when every one
    of them was stored now (nothing is read back then). The labels are read from the
    batch's documents in Python (:mod:`yuqing.store.rollup_batch`; parsing each stored
    analysis again in SQL, once per label, halved the write rate), and the batch's totals
    are upserted with one ``executemany`` per table. A post with a label
    that is not a plain string (SQLite would render a number or an object its own way) is
    counted by the same SQL as the triggers, so both sides always agree."""
    stored: list[tuple[int | tuple[str, str], Document | None, int]]
    if published is not None:
        stored = [
            (key, doc, micros)
            for (key, doc), micros in zip(docs.items(), published, strict=True)
            if micros is not None  # no time: not counted
        ]
    else:
        stored = [
            (pk, docs.get((source, id_)), micros)
            for pk, source, id_, micros in conn.execute(
                "SELECT pk, source, id, published_at FROM documents "
                "WHERE pk > ? AND published_at IS NOT NULL",
                (after,),
            )
        ]
    found = [doc for _, doc, _ in stored]
    times = [micros for _, _, micros in stored]
    counts = None if None in found else rollup_batch.count(found, times)  # type: ignore[arg-type]
    odd: list[int | tuple[str, str]] = []
    if counts is None:
        plain: list[Document] = []
        times = []
        for ident, doc, micros in stored:
            if doc is not None and rollup_batch.is_plain(doc, micros):
                plain.append(doc)
                times.append(micros)
            else:
                odd.append(ident)
        counts = rollup_batch.count(plain, times)
        if counts is None:
            raise StoreError("rollups: a post that is_plain() accepts could not be counted")
    conn.executemany(
        "INSERT INTO rollups (dim, slot, value, posts) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (dim, slot, value) DO UPDATE SET posts = posts + excluded.posts",
        counts.posts,
    )
    conn.executemany(
        "INSERT INTO rollup_event_labels (event_id, dim, slot, value, posts) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id, dim, slot, value) DO UPDATE SET "
        "posts = posts + excluded.posts",
        counts.labels,
    )
    conn.executemany(
        "INSERT INTO rollup_events (slot, event_id, posts, reposts, comments, likes) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slot, event_id) DO UPDATE SET "
        "posts = posts + excluded.posts, reposts = reposts + excluded.reposts, "
        "comments = comments + excluded.comments, likes = likes + excluded.likes",
        counts.events,
    )
    pks = [_pk_of(conn, ident) for ident in odd]
    for start in range(0, len(pks), 500):
        chunk = orjson.dumps(pks[start : start + 500]).decode()
        for statement in _ADD_LISTED:
            conn.execute(statement, {"pks": chunk})


def _pk_of(conn: sqlite3.Connection, ident: int | tuple[str, str]) -> int:
    if isinstance(ident, int):
        return ident
    return int(
        conn.execute("SELECT pk FROM documents WHERE source = ? AND id = ?", ident).fetchone()[0]
    )


def stats_counts(conn: sqlite3.Connection) -> tuple[dict[str, int], int, int]:
    """(posts per source, duplicates, reposts) of all stored posts."""
    return count_stats(SQLITE, conn, "documents INDEXED BY documents_untimed")


class SQLiteRollupReader(SQLRollupReader):
    """:class:`yuqing.store.rollups.RollupReader` over one SQLite connection."""

    queries = QUERIES
    events_by_event = " INDEXED BY rollup_events_event"

    def event_bounds(
        self, since: datetime | None, until: datetime | None, ids: Sequence[str]
    ) -> dict[str, tuple[int | None, int | None]]:
        cond, params = "", []
        if since is not None:
            cond += " AND published_at >= ?"
            params.append(to_micros(since, "since"))
        if until is not None:
            cond += " AND published_at < ?"
            params.append(to_micros(until, "until"))
        out: dict[str, tuple[int | None, int | None]] = {}
        for eid in ids:
            first = self.db.execute(
                "SELECT MIN(published_at) FROM documents WHERE event_id = ? "
                f"AND published_at IS NOT NULL{cond}",
                [eid, *params],
            ).fetchone()
            last = self.db.execute(
                f"SELECT MAX(published_at) FROM documents WHERE event_id = ?{cond}",
                [eid, *params],
            ).fetchone()
            out[eid] = (first[0] if first else None, last[0] if last else None)
        return out


class SQLiteDashboard(SQLiteSection, DashboardSection):
    """The dashboard and API reads of the Store contract, and ``upsert_events``."""

    rollup_reader = SQLiteRollupReader
