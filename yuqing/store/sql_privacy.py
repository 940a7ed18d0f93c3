"""Privacy (:mod:`yuqing.privacy`) in SQL shared by both backends
(:mod:`yuqing.store.dialect`): the append-only audit log (migration 10), retention of raw
text, the deletion of one author's posts and the suppression list of authors no longer
collected (migration 14; ``source = ''`` there means every source). Which posts retention
and deletion touch is chosen here; how they are changed (with their search index entries,
in one transaction) is each backend's own: :mod:`yuqing.store.sqlite_privacy`,
:mod:`yuqing.store.postgres_privacy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import AUDIT_ACTIONS, AuditAction, AuditEntry, SuppressedAuthor
from yuqing.store.dialect import Connection, Section
from yuqing.store.rows import from_micros, to_micros

_AUDIT_COLUMNS = "pk, action, actor, at, client, target, details"
_SUPPRESSED_COLUMNS = "author, source, actor, at, reason"
# What retention blanks: raw text and personal fields; labels, counts and times stay.
REMOVE_TEXT_SET = (
    "text = '', norm_text = '', quoted_text = '', title = NULL, url = NULL, author = NULL, "
    "author_followers = NULL, author_verified = NULL, repost_chain = NULL, urls = NULL, "
    "mentions = NULL, tokens = '', extra = NULL"
)


def check_audit(entry: AuditEntry, where: str) -> tuple[int, str]:
    """The entry's time (microseconds) and details (JSON), checked."""
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
) -> tuple[str, list[Any]]:
    """The WHERE clause of an audit query."""
    clauses = ["pk > ?"]
    args: list[Any] = [after]
    if since is not None:
        clauses.append("at >= ?")
        args.append(to_micros(since, "since"))
    if until is not None:
        clauses.append("at < ?")
        args.append(to_micros(until, "until"))
    if actor is not None:
        clauses.append("actor = ?")
        args.append(actor)
    if action is not None:
        clauses.append("action = ?")
        args.append(action)
    return " AND ".join(clauses), args


def suppressed_row(entry: SuppressedAuthor, where: str) -> tuple[str, str, str, int, str]:
    """The row of a suppression entry (source '' for every source), checked."""
    if not entry.author.strip():
        raise StoreError(f"{where}: suppressing an author needs an author")
    if not entry.actor.strip():
        raise StoreError(f"{where}: suppressing an author needs an actor")
    micros = to_micros(entry.at, f"{where}: suppression at")
    assert micros is not None
    return entry.author, entry.source or "", entry.actor, micros, entry.reason


def suppressed_entry(row: tuple[Any, ...]) -> SuppressedAuthor:
    at = from_micros(row[3])
    assert at is not None
    return SuppressedAuthor(
        author=row[0], source=row[1] or None, actor=row[2], at=at, reason=row[4] or ""
    )


def source_filter(source: str | None, exclude_sources: Sequence[str]) -> tuple[str, list[Any]]:
    """`` AND source ...`` of one source or all but some."""
    if source is not None:
        return " AND source = ?", [source]
    if exclude_sources:
        marks = ", ".join("?" for _ in exclude_sources)
        return f" AND source NOT IN ({marks})", list(exclude_sources)
    return "", []


class PrivacySection(Section):
    """The privacy section of the Store contract. A backend gives :meth:`_remove_texts` and
    :meth:`_delete_posts`."""

    # -- audit log --------------------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> AuditEntry:
        micros, details = check_audit(entry, self.label)
        with self._write(f"logging audit entry {entry.action}") as conn:
            pk = self.dialect.insert_id(
                conn,
                "INSERT INTO audit_log (action, actor, at, client, target, details) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry.action, entry.actor, micros, entry.client, entry.target, details),
            )
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
        where, args = audit_where(since, until, actor, action, after)
        order = "DESC" if newest_first else "ASC"
        with self._read("reading the audit log") as conn:
            rows = conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE {where} ORDER BY pk {order} LIMIT ?",
                [*args, max(limit, 0)],
            ).fetchall()
        return [audit_entry(row) for row in rows]

    # -- retention and deletion ----------------------------------------------------------------

    def _remove_texts(self, conn: Connection, where: str, params: list[Any], limit: int) -> int:
        """Blank the first ``limit`` posts (by ``pk``) of ``where`` (``REMOVE_TEXT_SET``,
        and the analysis' ``explain``), out of the search index; how many."""
        raise NotImplementedError

    def _delete_posts(self, conn: Connection, where: str, params: list[Any]) -> int:
        """Delete the posts of ``where``, with their search index entries; how many."""
        raise NotImplementedError

    def _count(self, what: str, where: str, params: list[Any]) -> int:
        with self._read(what) as conn:
            row = conn.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", params).fetchone()
        return int(row[0]) if row else 0

    def remove_texts(
        self,
        before: datetime,
        *,
        source: str | None = None,
        exclude_sources: Sequence[str] = (),
        limit: int = 5000,
        dry_run: bool = False,
    ) -> int:
        cutoff = to_micros(before, f"{self.label}: retention cutoff")
        by_source, args = source_filter(source, exclude_sources)
        where = "text <> '' AND COALESCE(published_at, ingested_at) < ?" + by_source
        if dry_run:
            return self._count("counting posts past retention", where, [cutoff, *args])
        with self._write("removing the text of posts past retention") as conn:
            return self._remove_texts(conn, where, [cutoff, *args], max(limit, 0))

    def delete_author_documents(
        self, author: str, *, source: str | None = None, dry_run: bool = False
    ) -> int:
        if not author.strip():
            raise StoreError(f"{self.label}: deleting an author's posts needs an author")
        by_source, args = source_filter(source, ())
        where = "author = ?" + by_source
        if dry_run:
            return self._count(f"counting the posts of {author}", where, [author, *args])
        with self._write(f"deleting the posts of {author}") as conn:
            return self._delete_posts(conn, where, [author, *args])

    # -- suppression list (authors no longer collected) --------------------------------------

    def suppress_author(self, entry: SuppressedAuthor) -> bool:
        row = suppressed_row(entry, self.label)
        with self._write(f"suppressing {entry.author}") as conn:
            return self.dialect.upsert_is_new(
                conn,
                f"INSERT INTO suppressed_authors ({_SUPPRESSED_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (author, source) DO UPDATE SET actor = excluded.actor, "
                "at = excluded.at, reason = excluded.reason",
                row,
                "SELECT 1 FROM suppressed_authors WHERE author = ? AND source = ?",
                row[:2],
            )

    def unsuppress_author(self, author: str, source: str | None = None) -> bool:
        with self._write(f"unsuppressing {author}") as conn:
            cursor = conn.execute(
                "DELETE FROM suppressed_authors WHERE author = ? AND source = ?",
                (author, source or ""),
            )
            return cursor.rowcount > 0

    def suppression_mark(self) -> tuple[int, int]:
        with self._read("reading the suppression list's mark") as conn:
            row = conn.execute(
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM suppressed_authors"
            ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def suppressed_authors(self) -> list[SuppressedAuthor]:
        with self._read("reading the suppression list") as conn:
            rows = conn.execute(
                f"SELECT {_SUPPRESSED_COLUMNS} FROM suppressed_authors ORDER BY author, source"
            ).fetchall()
        return [suppressed_entry(row) for row in rows]
