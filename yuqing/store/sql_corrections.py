"""The corrections log (table of migration 8), in SQL shared by both backends
(:mod:`yuqing.store.dialect`): appending a correction together with the analysis it
changes, reading the log, and marking an alert a false alarm. Old and new values are kept
as JSON text.

The log is paged by id (``after``), so ids must appear in commit order, as alert numbers
must: a writer makes other writers of the table wait (SQLite has one writer; PostgreSQL
takes a SHARE ROW EXCLUSIVE lock, which does not block readers) before it draws its id, so
when a reader sees id n, every smaller id is visible or will never exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import CORRECTION_KINDS, Correction, CorrectionKind
from yuqing.store.dialect import Connection, Section
from yuqing.store.rows import from_micros, to_micros
from yuqing.store.sql_history import AnalysisRow, analysis_rows

_COLUMNS = "pk, kind, target, old_value, new_value, corrected_by, corrected_at, note"


def _json(value: Any, what: str, url: str) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError as exc:
        raise StoreError(f"{url}: the {what} of a correction is not JSON: {exc}") from exc


def _correction_row(c: Correction, url: str) -> tuple[Any, ...]:
    if c.kind not in CORRECTION_KINDS:
        raise StoreError(
            f"{url}: correction kind {c.kind!r} is not one of {', '.join(CORRECTION_KINDS)}"
        )
    if not c.by.strip() or not c.target.strip():
        raise StoreError(f"{url}: a {c.kind} correction needs who made it and what it targets")
    return (
        c.kind,
        c.target,
        _json(c.old, "old value", url),
        _json(c.new, "new value", url),
        c.by,
        to_micros(c.at, "correction time"),
        c.note or "",
    )


def _correction(row: tuple[Any, ...]) -> Correction:
    pk, kind, target, old, new, by, at, note = row
    when = from_micros(at)
    assert when is not None
    return Correction(
        kind=cast(CorrectionKind, kind),
        target=target,
        old=None if old is None else orjson.loads(old),
        new=None if new is None else orjson.loads(new),
        by=by,
        at=when,
        note=note,
        id=int(pk),
    )


class CorrectionsSection(Section):
    """``add_correction``, ``corrections`` and ``mark_false_alarm`` of the Store contract.
    It writes analysis with the store's history section."""

    if TYPE_CHECKING:

        def _replace_analysis(self, conn: Connection, payload: Sequence[AnalysisRow]) -> int:
            """:meth:`yuqing.store.sql_history.HistorySection._replace_analysis`."""

    def _insert(self, conn: Connection, correction: Correction, row: tuple[Any, ...]) -> Correction:
        self.dialect.serialize_writers(conn, "corrections")
        correction.id = self.dialect.insert_id(
            conn,
            "INSERT INTO corrections (kind, target, old_value, new_value, corrected_by, "
            "corrected_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        return correction

    def add_correction(
        self,
        correction: Correction,
        updates: Sequence[tuple[str, str, dict[str, Any]]] = (),
    ) -> Correction:
        row = _correction_row(correction, self.label)
        payload = list(analysis_rows(updates, self.label))
        with self._write(f"logging a {correction.kind} correction") as conn:
            if payload:
                self._replace_analysis(conn, payload)
            return self._insert(conn, correction, row)

    def corrections(
        self,
        *,
        kind: str | None = None,
        target: str | None = None,
        after: int = 0,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[Correction]:
        if kind is not None and kind not in CORRECTION_KINDS:
            raise StoreError(
                f"{self.label}: correction kind {kind!r} is not one of "
                f"{', '.join(CORRECTION_KINDS)}"
            )
        where = ["pk > ?"]
        params: list[object] = [after]
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if target is not None:
            where.append("target = ?")
            params.append(target)
        order = "DESC" if newest_first else "ASC"
        with self._read("reading the corrections log") as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM corrections WHERE {' AND '.join(where)} "
                f"ORDER BY pk {order} LIMIT ?",
                [*params, max(limit, 0)],
            ).fetchall()
        return [_correction(row) for row in rows]

    def mark_false_alarm(self, alert_id: str, correction: Correction) -> bool:
        row = _correction_row(correction, self.label)
        with self._write(f"marking alert {alert_id} a false alarm") as conn:
            changed = conn.execute(
                "UPDATE alerts SET status = 'false_alarm', acknowledged_by = ?, "
                "acknowledged_at = ? WHERE id = ? AND status != 'false_alarm'",
                (row[4], row[5], alert_id),
            ).rowcount
            if not changed:
                if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone():
                    return False
                raise StoreError(f"{self.label}: no alert with id {alert_id!r} to mark")
            self._insert(conn, correction, row)
            return True
