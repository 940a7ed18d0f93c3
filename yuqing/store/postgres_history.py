"""The PostgreSQL side of working over stored history: the shared section
:mod:`yuqing.store.sql_history` (a mixin of :class:`yuqing.store.postgres.PostgresStore`),
reading and writing by storage position.

Storage positions are ``document_keys.pk`` (an identity column: they only grow). With
several writers a position is drawn before its transaction commits, so a page read while
writers run may miss a smaller position committed just after it; re-analysis and exports
read history when it is settled (they page again from their last position to pick up later
posts).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.rows import TupleRow

from yuqing.models import Document
from yuqing.store.dialect import Connection, PostgresSection, psycopg_connection
from yuqing.store.postgres_rows import SELECT_COLUMNS, fetch_by_position, lookup_keys
from yuqing.store.rows import row_to_document
from yuqing.store.sql_history import AnalysisRow, HistorySection


class PostgresHistory(PostgresSection, HistorySection):
    """``documents_after`` and ``update_analysis`` of the Store contract."""

    def _documents_after(
        self, conn: Connection, position: int, limit: int
    ) -> list[tuple[int, Document]]:
        positions = conn.execute(
            "SELECT pk, published_at FROM document_keys WHERE pk > ? ORDER BY pk LIMIT ?",
            (position, limit),
        ).fetchall()
        rows = fetch_by_position(psycopg_connection(conn), positions, SELECT_COLUMNS)
        return [(int(pk), row_to_document(rows[pk][1:])) for pk, _ in positions if pk in rows]

    def _replace_analysis(self, conn: Connection, payload: Sequence[AnalysisRow]) -> int:
        return replace_analysis(psycopg_connection(conn), payload)


def replace_analysis(
    conn: psycopg.Connection[TupleRow], payload: Sequence[tuple[str | None, str, str]]
) -> int:
    """Set the analysis JSON (or NULL) of the stored ones among (analysis, source, id), in the
    caller's transaction; return how many of them were stored (a key given twice counts
    twice and keeps the last analysis, as SQLite's ``executemany`` of UPDATEs does)."""
    found = lookup_keys(conn, [(source, id_) for _, source, id_ in payload])
    last: dict[tuple[str, str], str | None] = {}
    changed = 0
    for data, source, id_ in payload:
        if (source, id_) in found:
            last[(source, id_)] = data
            changed += 1
    dated = [
        (data, found[key][0], found[key][1])
        for key, data in sorted(last.items())
        if found[key][1] is not None
    ]
    undated = [(data, found[key][0]) for key, data in sorted(last.items()) if found[key][1] is None]
    with conn.cursor() as cur:
        if dated:
            cur.executemany(
                "UPDATE documents SET analysis = %s::jsonb WHERE pk = %s AND published_at = %s",
                dated,
            )
        if undated:
            cur.executemany(
                "UPDATE documents SET analysis = %s::jsonb WHERE pk = %s AND published_at IS NULL",
                undated,
            )
    return changed
