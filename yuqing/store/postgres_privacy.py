"""The PostgreSQL side of privacy (:mod:`yuqing.privacy`): the append-only audit log (the
table of migration 10), retention of raw text and the deletion of one author's posts;
semantics: :mod:`yuqing.store.sqlite_privacy`.

A mixin of :class:`yuqing.store.postgres.PostgresStore`. Posts are changed by storage
position, naming the partition key (``published_at``) so that only the partitions that
hold them are touched (:mod:`yuqing.store.postgres_rows`); their ``search_index`` rows and
any ``search_queue`` entry go in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import TupleRow

from yuqing.errors import StoreError
from yuqing.store.base import AuditEntry
from yuqing.store.postgres_rows import Position
from yuqing.store.rows import to_micros
from yuqing.store.sqlite_privacy import (
    REMOVE_TEXT_SET,
    audit_entry,
    audit_where,
    check_audit,
    source_filter,
)

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
_AUDIT_COLUMNS = "pk, action, actor, at, client, target, details"


def _by_position(positions: Sequence[Position], action: str) -> list[tuple[str, list[object]]]:
    """``action`` (``UPDATE documents SET ...`` / ``DELETE FROM search_index``) statements
    with their parameters for these positions, dated and undated apart."""
    dated = [(pk, at) for pk, at in positions if at is not None]
    undated = [pk for pk, at in positions if at is None]
    out: list[tuple[str, list[object]]] = []
    if dated:
        out.append(
            (
                f"{action} WHERE pk = ANY(%s) AND published_at = ANY(%s)",
                [[pk for pk, _ in dated], sorted({at for _, at in dated})],
            )
        )
    if undated:
        out.append((f"{action} WHERE pk = ANY(%s) AND published_at IS NULL", [undated]))
    return out


class PostgresPrivacy:
    """The privacy section of the Store contract."""

    if TYPE_CHECKING:
        url: str
        where: str

        def _errors(self, what: str) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

        def _transaction(
            self, what: str
        ) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

    # -- audit log --------------------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> AuditEntry:
        micros, details = check_audit(entry, self.where)
        with self._transaction(f"logging audit entry {entry.action}") as conn:
            row = conn.execute(
                "INSERT INTO audit_log (action, actor, at, client, target, details) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING pk",
                (entry.action, entry.actor, micros, entry.client, entry.target, details),
            ).fetchone()
        assert row is not None
        return AuditEntry(
            action=entry.action,
            actor=entry.actor,
            at=entry.at,
            client=entry.client,
            target=entry.target,
            details=entry.details,
            id=int(row[0]),
        )

    def audit_log(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        after: int = 0,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[AuditEntry]:
        where, args = audit_where(since, until, actor, action, after, "%s")
        order = "DESC" if newest_first else "ASC"
        with self._errors("reading the audit log") as conn:
            rows = conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE {where} "
                f"ORDER BY pk {order} LIMIT %s",
                [*args, max(limit, 0)],
            ).fetchall()
        return [audit_entry(row) for row in rows]

    # -- retention and deletion ----------------------------------------------------------------

    @staticmethod
    def _unindex(conn: psycopg.Connection[TupleRow], positions: Sequence[Position]) -> None:
        pks = [pk for pk, _ in positions]
        conn.execute("DELETE FROM search_queue WHERE pk = ANY(%s)", (pks,))
        for sql, params in _by_position(positions, "DELETE FROM search_index"):
            conn.execute(sql, params)

    def remove_texts(
        self,
        before: datetime,
        *,
        source: str | None = None,
        exclude_sources: Sequence[str] = (),
        limit: int = 5000,
        dry_run: bool = False,
    ) -> int:
        cutoff = to_micros(before, f"{self.where}: retention cutoff")
        by_source, args = source_filter(source, exclude_sources, "%s")
        where = "text <> '' AND COALESCE(published_at, ingested_at) < %s" + by_source
        if dry_run:
            with self._errors("counting posts past retention") as conn:
                row = conn.execute(
                    f"SELECT COUNT(*) FROM documents WHERE {where}", [cutoff, *args]
                ).fetchone()
            return int(row[0]) if row else 0
        with self._transaction("removing the text of posts past retention") as conn:
            positions: list[Position] = [
                (int(pk), at)
                for pk, at in conn.execute(
                    f"SELECT pk, published_at FROM documents WHERE {where} ORDER BY pk LIMIT %s",
                    [cutoff, *args, max(limit, 0)],
                ).fetchall()
            ]
            if not positions:
                return 0
            self._unindex(conn, positions)
            update = f"UPDATE documents SET {REMOVE_TEXT_SET}, analysis = analysis - 'explain'"
            for sql, params in _by_position(positions, update):
                conn.execute(sql, params)
        return len(positions)

    def delete_author_documents(
        self, author: str, *, source: str | None = None, dry_run: bool = False
    ) -> int:
        if not author.strip():
            raise StoreError(f"{self.where}: deleting an author's posts needs an author")
        by_source, args = source_filter(source, (), "%s")
        where = "author = %s" + by_source
        if dry_run:
            with self._errors(f"counting the posts of {author}") as conn:
                row = conn.execute(
                    f"SELECT COUNT(*) FROM documents WHERE {where}", [author, *args]
                ).fetchone()
            return int(row[0]) if row else 0
        with self._transaction(f"deleting the posts of {author}") as conn:
            positions: list[Position] = [
                (int(pk), at)
                for pk, at in conn.execute(
                    f"SELECT pk, published_at FROM documents WHERE {where} ORDER BY pk",
                    [author, *args],
                ).fetchall()
            ]
            if not positions:
                return 0
            self._unindex(conn, positions)
            for sql, params in _by_position(positions, "DELETE FROM documents"):
                conn.execute(sql, params)
            conn.execute(
                "DELETE FROM document_keys WHERE pk = ANY(%s)", ([pk for pk, _ in positions],)
            )
        return len(positions)
