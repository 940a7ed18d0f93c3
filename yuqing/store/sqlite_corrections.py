"""The SQLite side of the corrections log (table of migration 8): appending a correction
together with the analysis it changes, reading the log, and marking an alert a false alarm.

A mixin of :class:`yuqing.store.sqlite.SQLiteStore`; it uses the store's connection, its
transactions and its error translation. Old and new values are kept as JSON text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, cast

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import CORRECTION_KINDS, Correction, CorrectionKind
from yuqing.store.rows import from_micros, to_micros
from yuqing.store.sqlite_history import _analysis_rows

_COLUMNS = "pk, kind, target, old_value, new_value, corrected_by, corrected_at, note"


class SQLiteCorrections:
    """``add_correction``, ``corrections`` and ``mark_false_alarm`` of the Store contract."""

    if TYPE_CHECKING:
        url: str
        _conn: sqlite3.Connection

        def _errors(self, what: str) -> AbstractContextManager[None]: ...

        def _transaction(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    def add_correction(
        self,
        correction: Correction,
        updates: Sequence[tuple[str, str, dict[str, Any]]] = (),
    ) -> Correction:
        row = _correction_row(correction, self.url)
        payload = list(_analysis_rows(updates, self.url))
        with self._transaction(f"logging a {correction.kind} correction") as conn:
            if payload:
                conn.executemany(
                    "UPDATE documents SET analysis = ? WHERE source = ? AND id = ?", payload
                )
            return _insert(conn, correction, row)

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
                f"{self.url}: correction kind {kind!r} is not one of {', '.join(CORRECTION_KINDS)}"
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
        with self._errors("reading the corrections log"):
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM corrections WHERE {' AND '.join(where)} "
                f"ORDER BY pk {order} LIMIT ?",
                [*params, max(limit, 0)],
            ).fetchall()
        return [_correction(row) for row in rows]

    def mark_false_alarm(self, alert_id: str, correction: Correction) -> bool:
        row = _correction_row(correction, self.url)
        with self._transaction(f"marking alert {alert_id} a false alarm") as conn:
            changed = conn.execute(
                "UPDATE alerts SET status = 'false_alarm', acknowledged_by = ?, "
                "acknowledged_at = ? WHERE id = ? AND status != 'false_alarm'",
                (row[4], row[5], alert_id),
            ).rowcount
            if not changed:
                if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone():
                    return False
                raise StoreError(f"{self.url}: no alert with id {alert_id!r} to mark")
            _insert(conn, correction, row)
            return True


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


def _insert(conn: sqlite3.Connection, correction: Correction, row: tuple[Any, ...]) -> Correction:
    cur = conn.execute(
        "INSERT INTO corrections (kind, target, old_value, new_value, corrected_by, "
        "corrected_at, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
        row,
    )
    assert cur.lastrowid is not None
    correction.id = int(cur.lastrowid)
    return correction


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
