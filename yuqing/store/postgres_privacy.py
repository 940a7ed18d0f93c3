"""The PostgreSQL side of privacy: the audit log of migration 10 and the shared section
:mod:`yuqing.store.sql_privacy` (a mixin of :class:`yuqing.store.postgres.PostgresStore`),
and how posts are changed.

Posts are changed by storage position, naming the partition key (``published_at``) so that
only the partitions that hold them are touched (:mod:`yuqing.store.postgres_rows`); their
``search_index`` rows and any ``search_queue`` entry go in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yuqing.store.dialect import Connection, PostgresSection
from yuqing.store.postgres_rows import Position
from yuqing.store.sql_privacy import REMOVE_TEXT_SET, PrivacySection

MIGRATION_NAME = "audit log (privacy)"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE audit_log (
        pk BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        action TEXT NOT NULL,          -- login | login_failed | export | ...
        actor TEXT COLLATE "C" NOT NULL,
        at BIGINT NOT NULL,            -- microseconds since the epoch, UTC
        client TEXT NOT NULL DEFAULT '',
        target TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}'   -- JSON object
    )""",
    "CREATE INDEX audit_log_at ON audit_log (at, pk)",
    "CREATE INDEX audit_log_actor ON audit_log (actor, pk)",
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
)


# Migration 14: authors whose posts ingest drops (yuqing.privacy.blocking); source '' = all.
SUPPRESSION_MIGRATION_NAME = "suppressed authors (privacy)"
SUPPRESSION_MIGRATION_STATEMENTS: tuple[str, ...] = (
    # seq: never reused, so (count, max seq) changes with every insert or delete: the
    # cheap change check of suppression_mark.
    """CREATE TABLE suppressed_authors (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        author TEXT COLLATE "C" NOT NULL,      -- the handle, as delete-author compares it
        source TEXT COLLATE "C" NOT NULL DEFAULT '',  -- '' = every source
        actor TEXT NOT NULL,                   -- who asked
        at BIGINT NOT NULL,                    -- microseconds since the epoch, UTC
        reason TEXT NOT NULL DEFAULT '',
        UNIQUE (author, source)
    )""",
)


def _by_position(positions: Sequence[Position], action: str) -> list[tuple[str, list[object]]]:
    """``action`` (``UPDATE documents SET ...`` / ``DELETE FROM search_index``) statements
    with their parameters for these positions, dated and undated apart."""
    dated = [(pk, at) for pk, at in positions if at is not None]
    undated = [pk for pk, at in positions if at is None]
    out: list[tuple[str, list[object]]] = []
    if dated:
        out.append(
            (
                f"{action} WHERE pk = ANY(?) AND published_at = ANY(?)",
                [[pk for pk, _ in dated], sorted({at for _, at in dated})],
            )
        )
    if undated:
        out.append((f"{action} WHERE pk = ANY(?) AND published_at IS NULL", [undated]))
    return out


def _positions(conn: Connection, select: str, params: list[Any]) -> list[Position]:
    return [(int(pk), at) for pk, at in conn.execute(select, params).fetchall()]


def _unindex(conn: Connection, positions: Sequence[Position]) -> None:
    pks = [pk for pk, _ in positions]
    conn.execute("DELETE FROM search_queue WHERE pk = ANY(?)", (pks,))
    for sql, params in _by_position(positions, "DELETE FROM search_index"):
        conn.execute(sql, params)


class PostgresPrivacy(PostgresSection, PrivacySection):
    """The privacy section of the Store contract."""

    def _remove_texts(self, conn: Connection, where: str, params: list[Any], limit: int) -> int:
        positions = _positions(
            conn,
            f"SELECT pk, published_at FROM documents WHERE {where} ORDER BY pk LIMIT ?",
            [*params, limit],
        )
        if not positions:
            return 0
        _unindex(conn, positions)
        update = f"UPDATE documents SET {REMOVE_TEXT_SET}, analysis = analysis - 'explain'"
        for sql, by_position in _by_position(positions, update):
            conn.execute(sql, by_position)
        return len(positions)

    def _delete_posts(self, conn: Connection, where: str, params: list[Any]) -> int:
        positions = _positions(
            conn, f"SELECT pk, published_at FROM documents WHERE {where} ORDER BY pk", params
        )
        if not positions:
            return 0
        _unindex(conn, positions)
        for sql, by_position in _by_position(positions, "DELETE FROM documents"):
            conn.execute(sql, by_position)
        conn.execute("DELETE FROM document_keys WHERE pk = ANY(?)", ([pk for pk, _ in positions],))
        return len(positions)
