"""Cases (table of migration 5), in SQL shared by both backends (:mod:`yuqing.store.dialect`):
the section :class:`CasesSection`, which :mod:`yuqing.store.sqlite_cases` and
:mod:`yuqing.store.postgres_cases` mix into the stores.

A case is kept whole as the JSON of ``Case.as_dict()`` beside the columns that lists
filter and sort on (status, level, event, alert, owner, opened and updated times). The
store does not import :mod:`yuqing.cases`: it reads the few keys it indexes and keeps the
rest as given, so the domain can grow without a migration.

**Lost updates.** Every change to a case appends one action to its log, and the log is
append-only. A save is accepted when the stored log is a prefix of the new one (the new
copy was read from what is stored, then changed); otherwise another writer saved first
and the save raises :class:`~yuqing.store.base.StoreConflictError` naming the stored last
action. ``version`` (the log's length) makes the common check a column comparison.

The stored case is read with the dialect's row lock (``FOR UPDATE`` in PostgreSQL, where
writers run side by side; SQLite's ``BEGIN IMMEDIATE`` already excludes other writers), so
a second writer of the same case waits until the first commits and then checks its copy
against what the first saved. A case that does not exist yet is inserted with ``ON
CONFLICT DO NOTHING``; when another writer created it in between, the save goes on as an
update of that case (and is refused when that case's action log is not a prefix of this
copy's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import CASE_STATUSES, StoreConflictError
from yuqing.store.dialect import Section
from yuqing.store.rows import to_micros

_LEVELS = ("I", "II", "III", "IV")


def _text(case: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = case.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise StoreError(f"{where}: the case record has no {key!r}; save Case.as_dict()")
        return None
    if not isinstance(value, str):
        raise StoreError(f"{where}: the case's {key!r} must be text, got {type(value).__name__}")
    return value


def _time(value: object, what: str, where: str) -> int:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise StoreError(f"{where}: {what} {value!r} is not an ISO 8601 time") from exc
    if when.tzinfo is None:
        raise StoreError(f"{where}: {what} {value!r} has no time zone; save aware times")
    micros = to_micros(when, what)
    assert micros is not None
    return micros


def _columns(case: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    """The indexed columns of a case record, checked."""
    case_id = _text(case, "id", where)
    where = f"{where}: case {case_id}"
    title = _text(case, "title", where)
    level = _text(case, "level", where)
    status = _text(case, "status", where)
    if level not in _LEVELS:
        raise StoreError(f"{where}: level {level!r} is not one of {', '.join(_LEVELS)}")
    if status not in CASE_STATUSES:
        raise StoreError(f"{where}: status {status!r} is not one of {', '.join(CASE_STATUSES)}")
    opened = _time(case.get("opened_at"), "opened_at", where)
    actions = case.get("actions") or []
    if not isinstance(actions, list):
        raise StoreError(f"{where}: actions must be a list (the action log)")
    last = actions[-1].get("at") if actions and isinstance(actions[-1], Mapping) else None
    updated = _time(last, "the last action's time", where) if last is not None else opened
    return (
        case_id,
        title,
        level,
        status,
        _text(case, "event_id", where, required=False),
        _text(case, "alert_id", where, required=False),
        _text(case, "owner", where, required=False),
        opened,
        updated,
        len(actions),
    )


def _describe(action: object) -> str:
    if not isinstance(action, Mapping):
        return "an unreadable action"
    return f"{action.get('kind')} by {action.get('who')} at {action.get('at')}"


def _check(where: str, case_id: str, version: int, data: str, row: tuple[Any, ...]) -> None:
    stored_version, stored_data = int(row[0]), row[1]
    stored_actions = orjson.loads(stored_data).get("actions") or []
    given_actions = orjson.loads(data).get("actions") or []
    if version < stored_version or given_actions[:stored_version] != stored_actions:
        last = _describe(stored_actions[-1]) if stored_actions else "none"
        raise StoreConflictError(
            f"{where}: case {case_id} was changed since this copy was read (stored: "
            f"{stored_version} actions, the last {last}; this copy: {version}); "
            "read the case again, apply the change again and save"
        )


class CasesSection(Section):
    """The cases section of the Store contract."""

    def save_case(self, case: dict[str, Any]) -> bool:
        where = self.label
        if not isinstance(case, Mapping):
            raise StoreError(f"{where}: a case must be saved as the dict of Case.as_dict()")
        columns = _columns(case, where)
        case_id, version = columns[0], columns[-1]
        try:
            data = orjson.dumps(case).decode()
        except TypeError as exc:
            raise StoreError(f"{where}: case {case_id} is not JSON-ready: {exc}") from exc
        select = f"SELECT version, data FROM cases WHERE id = ?{self.dialect.for_update}"
        with self._write(f"saving case {case.get('id')}") as conn:
            row = conn.execute(select, (case_id,)).fetchone()
            if row is None:
                inserted = conn.execute(
                    "INSERT INTO cases (id, title, level, status, event_id, alert_id, owner, "
                    "opened_at, updated_at, version, data) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (*columns, data),
                ).rowcount
                if inserted:
                    return True
                row = conn.execute(select, (case_id,)).fetchone()  # created meanwhile by another
                if row is None:
                    raise StoreError(f"{where}: case {case_id} vanished while it was being saved")
            _check(where, str(case_id), int(version), data, row)
            conn.execute(
                "UPDATE cases SET title = ?, level = ?, status = ?, event_id = ?, alert_id = ?, "
                "owner = ?, opened_at = ?, updated_at = ?, version = ?, data = ? WHERE id = ?",
                (*columns[1:], data, case_id),
            )
            return False

    def get_case(self, case_id: str) -> dict[str, Any] | None:
        with self._read(f"reading case {case_id}") as conn:
            row = conn.execute("SELECT data FROM cases WHERE id = ?", (case_id,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def cases(
        self,
        *,
        status: str | None = None,
        event_id: str | None = None,
        alert_id: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        if status is not None and status not in CASE_STATUSES:
            raise StoreError(f"case status {status!r} is not one of {', '.join(CASE_STATUSES)}")
        where: list[str] = []
        params: list[object] = []
        for column, value in (("status", status), ("event_id", event_id), ("alert_id", alert_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._read("reading cases") as conn:
            rows = conn.execute(
                f"SELECT data FROM cases {clause} ORDER BY opened_at DESC, id DESC LIMIT ?",
                [*params, max(limit, 0)],
            ).fetchall()
        return [dict(orjson.loads(data)) for (data,) in rows]
