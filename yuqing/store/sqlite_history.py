"""The SQLite side of working over stored history: the shared section
:mod:`yuqing.store.sql_history` over the store's connection, its transactions and its error
translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`). Storage positions are
``documents.pk``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import cast

from yuqing.models import Document
from yuqing.store.dialect import Connection, SQLiteSection
from yuqing.store.rows import COLUMNS, row_to_document
from yuqing.store.sql_history import AnalysisRow, HistorySection

_SELECT_PAGE = f"SELECT pk, {', '.join(COLUMNS)} FROM documents WHERE pk > ? ORDER BY pk LIMIT ?"


class SQLiteHistory(SQLiteSection, HistorySection):
    """``documents_after`` and ``update_analysis`` of the Store contract."""

    def _documents_after(
        self, conn: Connection, position: int, limit: int
    ) -> list[tuple[int, Document]]:
        rows = conn.execute(_SELECT_PAGE, (position, limit)).fetchall()
        return [(int(row[0]), row_to_document(row[1:])) for row in rows]

    def _replace_analysis(self, conn: Connection, payload: Sequence[AnalysisRow]) -> int:
        cursor = conn.executemany(
            "UPDATE documents SET analysis = ? WHERE source = ? AND id = ?", payload
        )
        return cast(sqlite3.Cursor, cursor).rowcount
