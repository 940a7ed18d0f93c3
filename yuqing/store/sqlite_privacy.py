"""The SQLite side of privacy: the shared section :mod:`yuqing.store.sql_privacy` over the
store's connection, its transactions and its error translation (a mixin of
:class:`yuqing.store.sqlite.SQLiteStore`), and how posts leave the search index.

The search index is a contentless FTS5 table (rowid = ``documents.pk``): a row leaves it
only through FTS5's ``'delete'`` command with the very terms it was indexed with, so both
retention and deletion read the indexed rows' text first, compute those terms again
(:func:`~yuqing.store.searchtext.index_terms`, as ``index_pending`` did) and delete them,
then change the rows, in one transaction. A post whose text was removed keeps
``text = ''``: ingest never stores a blank text, so that marks it done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yuqing.store.dialect import SQLITE, Connection, SQLiteSection
from yuqing.store.searchtext import index_terms
from yuqing.store.sql_privacy import REMOVE_TEXT_SET, PrivacySection

# Migration 14: authors whose posts ingest drops (yuqing.privacy.blocking); source '' = all.
SUPPRESSION_MIGRATION_NAME = "suppressed authors (privacy)"
SUPPRESSION_MIGRATION_STATEMENTS: tuple[str, ...] = (
    # seq: never reused (AUTOINCREMENT), so (count, max seq) changes with every insert or
    # delete: the cheap change check of suppression_mark.
    """CREATE TABLE suppressed_authors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        author TEXT NOT NULL,           -- the handle, as delete-author compares it
        source TEXT NOT NULL DEFAULT '',  -- '' = every source
        actor TEXT NOT NULL,            -- who asked
        at INTEGER NOT NULL,            -- microseconds since the epoch, UTC
        reason TEXT NOT NULL DEFAULT '',
        UNIQUE (author, source)
    )""",
)


def _among(pks: Sequence[int]) -> str:
    return f"pk IN ({', '.join('?' * len(pks))})"


def _unindex(conn: Connection, pks: Sequence[int]) -> None:
    """Take these posts out of the FTS5 index (those indexed), with their indexed terms."""
    for chunk in SQLITE.chunks(pks):
        rows = conn.execute(
            f"SELECT pk, norm_text, quoted_text, title FROM documents WHERE indexed = 1 "
            f"AND {_among(chunk)}",
            chunk,
        ).fetchall()
        conn.executemany(
            "INSERT INTO search_index (search_index, rowid, terms) VALUES ('delete', ?, ?)",
            [
                (pk, index_terms(f"{norm} {quoted} {title or ''}"))
                for pk, norm, quoted, title in rows
            ],
        )


class SQLitePrivacy(SQLiteSection, PrivacySection):
    """The privacy section of the Store contract."""

    def _remove_texts(self, conn: Connection, where: str, params: list[Any], limit: int) -> int:
        pks = [
            int(pk)
            for (pk,) in conn.execute(
                f"SELECT pk FROM documents WHERE {where} ORDER BY pk LIMIT ?", [*params, limit]
            ).fetchall()
        ]
        if not pks:
            return 0
        _unindex(conn, pks)
        for chunk in SQLITE.chunks(pks):
            conn.execute(
                f"UPDATE documents SET {REMOVE_TEXT_SET}, indexed = 1, "
                f"analysis = json_remove(analysis, '$.explain') WHERE {_among(chunk)}",
                chunk,
            )
        return len(pks)

    def _delete_posts(self, conn: Connection, where: str, params: list[Any]) -> int:
        pks = [
            int(pk)
            for (pk,) in conn.execute(
                f"SELECT pk FROM documents WHERE {where} ORDER BY pk", params
            ).fetchall()
        ]
        _unindex(conn, pks)
        for chunk in SQLITE.chunks(pks):
            conn.execute(f"DELETE FROM documents WHERE {_among(chunk)}", chunk)
        return len(pks)
