"""Working over stored history, shared by both backends (:mod:`yuqing.store.dialect`):
reading every document in storage order (re-analysis, exports, training from corrections)
and replacing documents' analysis. How a page of documents is read and how analysis is
written differ (PostgreSQL goes by storage position, through the partitions):
:mod:`yuqing.store.sqlite_history`, :mod:`yuqing.store.postgres_history`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from yuqing.errors import StoreError
from yuqing.models import Document
from yuqing.store.dialect import Connection, Section

#: (analysis JSON or None, source, id) of one document whose analysis is replaced
AnalysisRow = tuple[str | None, str, str]


def analysis_rows(
    updates: Sequence[tuple[str, str, dict[str, Any]]], url: str
) -> Iterator[AnalysisRow]:
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


class HistorySection(Section):
    """``documents_after`` and ``update_analysis`` of the Store contract. A backend gives
    :meth:`_documents_after` and :meth:`_replace_analysis`."""

    def _documents_after(
        self, conn: Connection, position: int, limit: int
    ) -> list[tuple[int, Document]]:
        """Up to ``limit`` documents after storage position ``position``, in order."""
        raise NotImplementedError

    def _replace_analysis(self, conn: Connection, payload: Sequence[AnalysisRow]) -> int:
        """Set the analysis JSON (or NULL) of the stored ones among (analysis, source, id), in
        the caller's transaction; how many of them were stored (a key given twice counts
        twice and keeps the last analysis)."""
        raise NotImplementedError

    def documents_after(self, position: int, limit: int = 1000) -> list[tuple[int, Document]]:
        if limit <= 0:
            raise StoreError(f"{self.label}: documents_after needs a positive limit, not {limit}")
        with self._read("reading stored documents in order") as conn:
            return self._documents_after(conn, position, limit)

    def update_analysis(self, updates: Sequence[tuple[str, str, dict[str, Any]]]) -> int:
        payload = list(analysis_rows(updates, self.label))
        with self._write("replacing the analysis of documents") as conn:
            return self._replace_analysis(conn, payload)
