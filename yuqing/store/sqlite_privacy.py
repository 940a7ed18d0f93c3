"""The SQLite side of privacy (:mod:`yuqing.privacy`): the append-only audit log (migration
10), retention of raw text and the deletion of one author's posts.

A mixin of :class:`yuqing.store.sqlite.SQLiteStore`; it uses the store's connection, its
transactions and its error translation.

The search index is a contentless FTS5 table (rowid = ``documents.pk``): a row leaves it
only through FTS5's ``'delete'`` command with the very terms it was indexed with, so both
retention and deletion read the indexed rows' text first, compute those terms again
(:func:`~yuqing.store.searchtext.index_terms`, as ``index_pending`` did) and delete them,
then change the rows, in one transaction. A post whose text was removed keeps
``text = ''``: ingest never stores a blank text, so that marks it done.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import AUDIT_ACTIONS, AuditAction, AuditEntry
from yuqing.store.rows import from_micros, to_micros
from yuqing.store.searchtext import index_terms

_AUDIT_COLUMNS = "pk, action, actor, at, client, target, details"
# What retention blanks: raw text and personal fields; labels, counts and times stay.
REMOVE_TEXT_SET = (
    "text = '', norm_text = '', quoted_text = '', title = NULL, url = NULL, author = NULL, "
    "author_followers = NULL, author_verified = NULL, repost_chain = NULL, urls = NULL, "
    "mentions = NULL, tokens = '', extra = NULL"
)
_CHUNK = 500


def check_audit(entry: AuditEntry, where: str) -> tuple[int, str]:
    """The entry's time (microseconds) and details (JSON), checked (shared with PostgreSQL)."""
    if entry.action not in AUDIT_ACTIONS:
        raise StoreError(
            f"{where}: audit action {entry.action!r} is unknown; use one of "
            f"{', '.join(AUDIT_ACTIONS)}"
        )
    if not entry.actor.strip():
        raise StoreError(f"{where}: an audit entry needs an actor")
    if not isinstance(entry.details, dict):
        raise StoreError(f"{where}: audit details must be a JSON object")
    micros = to_micros(entry.at, f"{where}: audit entry at")
    assert micros is not None
    try:
        details = orjson.dumps(entry.details, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:
        raise StoreError(f"{where}: audit details are not JSON: {exc}") from exc
    return micros, details


def audit_entry(row: tuple[Any, ...]) -> AuditEntry:
    at = from_micros(row[3])
    assert at is not None
    return AuditEntry(
        id=int(row[0]),
        action=cast(AuditAction, row[1]),
        actor=row[2],
        at=at,
        client=row[4],
        target=row[5],
        details=orjson.loads(row[6]) if row[6] else {},
    )


def audit_where(
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    action: str | None,
    after: int,
    mark: str,
) -> tuple[str, list[Any]]:
    """The WHERE clause of an audit query (``mark``: the driver's placeholder)."""
    clauses = [f"pk > {mark}"]
    args: list[Any] = [after]
    if since is not None:
        clauses.append(f"at >= {mark}")
        args.append(to_micros(since, "since"))
    if until is not None:
        clauses.append(f"at < {mark}")
        args.append(to_micros(until, "until"))
    if actor is not None:
        clauses.append(f"actor = {mark}")
        args.append(actor)
    if action is not None:
        clauses.append(f"action = {mark}")
        args.append(action)
    return " AND ".join(clauses), args


def source_filter(
    source: str | None, exclude_sources: Sequence[str], mark: str
) -> tuple[str, list[Any]]:
    """`` AND source ...`` of one source or all but some (``mark``: the placeholder)."""
    if source is not None:
        return f" AND source = {mark}", [source]
    if exclude_sources:
        marks = ", ".join(mark for _ in exclude_sources)
        return f" AND source NOT IN ({marks})", list(exclude_sources)
    return "", []


class SQLitePrivacy:
    """The privacy section of the Store contract."""

    if TYPE_CHECKING:
        url: str
        _conn: sqlite3.Connection

        def _errors(self, what: str) -> AbstractContextManager[None]: ...

        def _transaction(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    # -- audit log --------------------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> AuditEntry:
        micros, details = check_audit(entry, self.url)
        with self._transaction(f"logging audit entry {entry.action}") as conn:
            cursor = conn.execute(
                "INSERT INTO audit_log (action, actor, at, client, target, details) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry.action, entry.actor, micros, entry.client, entry.target, details),
            )
            pk = cursor.lastrowid
        assert pk is not None
        return AuditEntry(
            action=entry.action,
            actor=entry.actor,
            at=entry.at,
            client=entry.client,
            target=entry.target,
            details=entry.details,
            id=pk,
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
        where, args = audit_where(since, until, actor, action, after, "?")
        order = "DESC" if newest_first else "ASC"
        with self._errors("reading the audit log"):
            rows = self._conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE {where} ORDER BY pk {order} LIMIT ?",
                [*args, max(limit, 0)],
            ).fetchall()
        return [audit_entry(row) for row in rows]

    # -- retention and deletion ----------------------------------------------------------------

    @staticmethod
    def _unindex(conn: sqlite3.Connection, pks: Sequence[int]) -> None:
        """Take these posts out of the FTS5 index (those indexed), with their indexed terms."""
        for start in range(0, len(pks), _CHUNK):
            chunk = pks[start : start + _CHUNK]
            rows = conn.execute(
                f"SELECT pk, norm_text, quoted_text, title FROM documents WHERE indexed = 1 "
                f"AND pk IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            conn.executemany(
                "INSERT INTO search_index (search_index, rowid, terms) VALUES ('delete', ?, ?)",
                [
                    (pk, index_terms(f"{norm} {quoted} {title or ''}"))
                    for pk, norm, quoted, title in rows
                ],
            )

    def remove_texts(
        self,
        before: datetime,
        *,
        source: str | None = None,
        exclude_sources: Sequence[str] = (),
        limit: int = 5000,
        dry_run: bool = False,
    ) -> int:
        cutoff = to_micros(before, f"{self.url}: retention cutoff")
        by_source, args = source_filter(source, exclude_sources, "?")
        where = "text <> '' AND COALESCE(published_at, ingested_at) < ?" + by_source
        if dry_run:
            with self._errors("counting posts past retention"):
                row = self._conn.execute(
                    f"SELECT COUNT(*) FROM documents WHERE {where}", [cutoff, *args]
                ).fetchone()
            return int(row[0])
        with self._transaction("removing the text of posts past retention") as conn:
            pks = [
                int(pk)
                for (pk,) in conn.execute(
                    f"SELECT pk FROM documents WHERE {where} ORDER BY pk LIMIT ?",
                    [cutoff, *args, max(limit, 0)],
                ).fetchall()
            ]
            if not pks:
                return 0
            self._unindex(conn, pks)
            for start in range(0, len(pks), _CHUNK):
                chunk = pks[start : start + _CHUNK]
                conn.execute(
                    f"UPDATE documents SET {REMOVE_TEXT_SET}, indexed = 1, "
                    "analysis = json_remove(analysis, '$.explain') "
                    f"WHERE pk IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
        return len(pks)

    def delete_author_documents(
        self, author: str, *, source: str | None = None, dry_run: bool = False
    ) -> int:
        if not author.strip():
            raise StoreError(f"{self.url}: deleting an author's posts needs an author")
        by_source, args = source_filter(source, (), "?")
        where = "author = ?" + by_source
        if dry_run:
            with self._errors(f"counting the posts of {author}"):
                row = self._conn.execute(
                    f"SELECT COUNT(*) FROM documents WHERE {where}", [author, *args]
                ).fetchone()
            return int(row[0])
        with self._transaction(f"deleting the posts of {author}") as conn:
            pks = [
                int(pk)
                for (pk,) in conn.execute(
                    f"SELECT pk FROM documents WHERE {where} ORDER BY pk", [author, *args]
                ).fetchall()
            ]
            self._unindex(conn, pks)
            for start in range(0, len(pks), _CHUNK):
                chunk = pks[start : start + _CHUNK]
                conn.execute(
                    f"DELETE FROM documents WHERE pk IN ({', '.join('?' * len(chunk))})", chunk
                )
        return len(pks)
