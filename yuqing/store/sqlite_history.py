"""The SQLite side of working over stored history: reading every document in storage order
(re-analysis, exports, training from corrections) and replacing documents' analysis.

A mixin of :class:`yuqing.store.sqlite.SQLiteStore`; it uses the store's connection, its
transactions and its error translation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import orjson

from yuqing.errors import StoreError
from yuqing.models import Document
from yuqing.store.rows import COLUMNS, row_to_document

_SELECT_PAGE = f"SELECT pk, {', '.join(COLUMNS)} FROM documents WHERE pk > ? ORDER BY pk LIMIT ?"


class SQLiteHistory:
    """``documents_after`` and ``update_analysis`` of the Store contract."""

    if TYPE_CHECKING:
        url: str
        _conn: sqlite3.Connection

        def _errors(self, what: str) -> AbstractContextManager[None]: ...

        def _transaction(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    def documents_after(self, position: int, limit: int = 1000) -> list[tuple[int, Document]]:
        if limit <= 0:
            raise StoreError(f"{self.url}: documents_after needs a positive limit, not {limit}")
        with self._errors("reading stored documents in order"):
            rows = self._conn.execute(_SELECT_PAGE, (position, limit)).fetchall()
        return [(int(row[0]), row_to_document(row[1:])) for row in rows]

    def update_analysis(self, updates: Sequence[tuple[str, str, dict[str, Any]]]) -> int:
        payload = list(_analysis_rows(updates, self.url))
        with self._transaction("replacing the analysis of documents") as conn:
            return conn.executemany(
                "UPDATE documents SET analysis = ? WHERE source = ? AND id = ?", payload
            ).rowcount


def _analysis_rows(
    updates: Sequence[tuple[str, str, dict[str, Any]]], url: str
) -> Iterator[tuple[str | None, str, str]]:
    for number, (source, id_, analysis) in enumerate(updates, 1):
        if not isinstance(analysis, dict):
            raise StoreError(
                f"{url}: update {number} ({source}, {id_}): the analysis must be a JSON "
                f"object, not {type(analysis).__name__}"
            )
        try:
            data = orjson.dumps(analysis).decode() if analysis else None
        except TypeError as exc:
            raise StoreError(
                f"{url}: update {number} ({source}, {id_}): the analysis is not JSON: {exc}"
            ) from exc
        yield data, source, id_
