"""The PostgreSQL side of cases (table of migration 5); the record checks and the lost-update
rule are :mod:`yuqing.store.sqlite_cases`' (reused from there), only the locking differs.

SQLite serializes writers with ``BEGIN IMMEDIATE``; PostgreSQL lets them run side by side,
so :func:`save_case` reads the stored case ``FOR UPDATE``: a second writer of the same case
waits until the first commits and then checks its copy against what the first saved. A
case that does not exist yet is inserted with ``ON CONFLICT DO NOTHING``; when another
writer created it in between, the save goes on as an update of that case (and is refused
when that case's action log is not a prefix of this copy's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import psycopg
from psycopg.rows import TupleRow

from yuqing.errors import StoreError
from yuqing.store.base import CASE_STATUSES, StoreConflictError
from yuqing.store.sqlite_cases import _columns, _describe

Conn = psycopg.Connection[TupleRow]

_UPDATE = (
    "UPDATE cases SET title = %s, level = %s, status = %s, event_id = %s, alert_id = %s, "
    "owner = %s, opened_at = %s, updated_at = %s, version = %s, data = %s WHERE id = %s"
)


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


def save_case(conn: Conn, where: str, case: Mapping[str, Any]) -> bool:
    """Insert or update one case inside the caller's transaction; True when it is new."""
    if not isinstance(case, Mapping):
        raise StoreError(f"{where}: a case must be saved as the dict of Case.as_dict()")
    columns = _columns(case, where)
    case_id, version = columns[0], columns[-1]
    try:
        data = orjson.dumps(case).decode()
    except TypeError as exc:
        raise StoreError(f"{where}: case {case_id} is not JSON-ready: {exc}") from exc
    select = "SELECT version, data FROM cases WHERE id = %s FOR UPDATE"
    row = conn.execute(select, (case_id,)).fetchone()
    if row is None:
        inserted = conn.execute(
            "INSERT INTO cases (id, title, level, status, event_id, alert_id, owner, "
            "opened_at, updated_at, version, data) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
            (*columns, data),
        ).rowcount
        if inserted:
            return True
        row = conn.execute(select, (case_id,)).fetchone()  # created meanwhile by another
        if row is None:
            raise StoreError(f"{where}: case {case_id} vanished while it was being saved")
    _check(where, str(case_id), int(version), data, row)
    conn.execute(_UPDATE, (*columns[1:], data, case_id))
    return False


def get_case(conn: Conn, case_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT data FROM cases WHERE id = %s", (case_id,)).fetchone()
    return None if row is None else dict(orjson.loads(row[0]))


def cases(
    conn: Conn,
    status: str | None,
    event_id: str | None,
    alert_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    if status is not None and status not in CASE_STATUSES:
        raise StoreError(f"case status {status!r} is not one of {', '.join(CASE_STATUSES)}")
    where: list[str] = []
    params: list[object] = []
    for column, value in (("status", status), ("event_id", event_id), ("alert_id", alert_id)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"SELECT data FROM cases {clause} ORDER BY opened_at DESC, id DESC LIMIT %s",
        [*params, max(limit, 0)],
    ).fetchall()
    return [dict(orjson.loads(data)) for (data,) in rows]
