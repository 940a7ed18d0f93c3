"""The PostgreSQL side of alerts, their delivery log and the monitoring rules saved through
the API (tables of migration 4); the semantics are :mod:`yuqing.store.sqlite_alerts`'.

**The alert stream's cursor.** ``seq`` comes from an identity sequence, and a sequence
alone hands out numbers in call order, not commit order: with two workers, the one that
drew seq 10 may commit after the one that drew 11, and a reader that already moved its
cursor past 11 would never see 10. :func:`add_alerts` therefore starts by locking the
``alerts`` table in SHARE ROW EXCLUSIVE mode (it conflicts with itself, not with readers):
writers of alerts take turns, each draws its numbers and commits before the next draws.
PostgreSQL makes a commit visible before it releases the transaction's locks, so the
guarantee is: *when a reader sees an alert with seq n, every alert with a smaller seq is
either visible too or will never exist* (a rolled-back batch leaves a gap, which readers
simply skip). Alerts are rare next to posts, so the serialization costs nothing measurable.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
import psycopg
from psycopg.rows import TupleRow

from yuqing.alerts.alert import Alert
from yuqing.alerts.delivery import DeliveryAttempt
from yuqing.errors import StoreError
from yuqing.store.base import ALERT_STATUSES, AlertStatus, StoredAlert, StoredRule
from yuqing.store.rows import from_micros, to_micros

Conn = psycopg.Connection[TupleRow]

_ALERT_COLUMNS = "seq, data, suppressed, status, acknowledged_by, acknowledged_at"


def _limit(limit: int) -> int:
    return max(limit, 0)


def _stored(row: tuple[Any, ...]) -> StoredAlert:
    seq, data, suppressed, status, by, at = row
    alert = Alert.from_payload(orjson.loads(data))
    alert.suppressed = int(suppressed)
    return StoredAlert(
        alert=alert,
        seq=int(seq),
        status=cast(AlertStatus, status),
        acknowledged_by=by,
        acknowledged_at=from_micros(at),
    )


def add_alerts(conn: Conn, alerts: Sequence[Alert]) -> int:
    """Insert new alerts in the given order; a stored one only has its ``suppressed`` count
    raised. Runs inside the caller's transaction (see the module docstring on ``seq``)."""
    unique = list({a.id: a for a in alerts}.values())
    if not unique:
        return 0
    conn.execute("LOCK TABLE alerts IN SHARE ROW EXCLUSIVE MODE")
    ids = [a.id for a in unique]
    before = {row[0] for row in conn.execute("SELECT id FROM alerts WHERE id = ANY(%s)", (ids,))}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO alerts (id, rule_id, kind, severity, event_id, created_at, suppressed, "
            "data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
            "suppressed = GREATEST(alerts.suppressed, excluded.suppressed)",
            [
                (
                    a.id,
                    a.rule_id,
                    a.kind,
                    a.severity,
                    a.event_id,
                    to_micros(a.created_at, "alert created_at"),
                    a.suppressed,
                    orjson.dumps(a.as_payload()).decode(),
                )
                for a in unique
            ],
        )
    return sum(1 for i in ids if i not in before)


def alerts(
    conn: Conn,
    since: datetime | None,
    until: datetime | None,
    status: str | None,
    rule_id: str | None,
    limit: int,
) -> list[StoredAlert]:
    if status is not None and status not in ALERT_STATUSES:
        raise StoreError(f"alert status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
    where: list[str] = []
    params: list[object] = []
    if since is not None:
        where.append("created_at >= %s")
        params.append(to_micros(since, "since"))
    if until is not None:
        where.append("created_at < %s")
        params.append(to_micros(until, "until"))
    if status is not None:
        where.append("status = %s")
        params.append(status)
    if rule_id is not None:
        where.append("rule_id = %s")
        params.append(rule_id)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        f"SELECT {_ALERT_COLUMNS} FROM alerts {clause} ORDER BY created_at DESC, seq DESC LIMIT %s",
        [*params, _limit(limit)],
    ).fetchall()
    return [_stored(row) for row in rows]


def alerts_after(conn: Conn, seq: int, limit: int) -> list[StoredAlert]:
    rows = conn.execute(
        f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE seq > %s ORDER BY seq LIMIT %s",
        (seq, _limit(limit)),
    ).fetchall()
    return [_stored(row) for row in rows]


def get_alert(conn: Conn, alert_id: str) -> StoredAlert | None:
    row = conn.execute(f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    return None if row is None else _stored(row)


def last_alert_seq(conn: Conn) -> int:
    row = conn.execute("SELECT MAX(seq) FROM alerts").fetchone()
    return int(row[0] or 0) if row is not None else 0


def acknowledge_alert(conn: Conn, where: str, alert_id: str, who: str, at: datetime) -> bool:
    changed = conn.execute(
        "UPDATE alerts SET status = 'acknowledged', acknowledged_by = %s, acknowledged_at = %s "
        "WHERE id = %s AND status = 'new'",
        (who, to_micros(at, "acknowledged at"), alert_id),
    ).rowcount
    if changed:
        return True
    if conn.execute("SELECT 1 FROM alerts WHERE id = %s", (alert_id,)).fetchone() is None:
        raise StoreError(f"{where}: no alert with id {alert_id!r} to acknowledge")
    return False


def record_delivery(conn: Conn, attempt: DeliveryAttempt) -> None:
    conn.execute(
        "INSERT INTO deliveries (alert_id, rule_id, channel, attempt, at, ok, final, data) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            attempt.alert_id,
            attempt.rule_id,
            attempt.channel,
            attempt.attempt,
            to_micros(attempt.at, "delivery time"),
            bool(attempt.ok),
            bool(attempt.final),
            orjson.dumps(attempt.to_dict()).decode(),
        ),
    )


def deliveries(conn: Conn, alert_id: str | None, limit: int) -> list[DeliveryAttempt]:
    if alert_id is None:
        rows = conn.execute(
            "SELECT data FROM deliveries ORDER BY pk DESC LIMIT %s", (_limit(limit),)
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT data FROM deliveries WHERE alert_id = %s ORDER BY pk DESC LIMIT %s",
            (alert_id, _limit(limit)),
        ).fetchall()
    return [DeliveryAttempt.from_dict(orjson.loads(data)) for (data,) in rows]


def save_rule(
    conn: Conn,
    where: str,
    rule_id: str,
    name: str,
    query: str,
    triggers_json: str,
    enabled: bool,
    severity: str,
) -> bool:
    try:
        triggers = orjson.loads(triggers_json)
    except orjson.JSONDecodeError as exc:
        raise StoreError(f"{where}: rule {rule_id!r}: triggers are not JSON: {exc}") from exc
    if not isinstance(triggers, list) or not all(isinstance(t, dict) for t in triggers):
        raise StoreError(
            f"{where}: rule {rule_id!r}: triggers must be a JSON array of objects such as "
            '[{"kind": "match"}]'
        )
    if not rule_id.strip():
        raise StoreError(f"{where}: a rule needs a non-empty id")
    now = time.time_ns() // 1000
    # xmax = 0 only on a freshly inserted row version: new vs replaced, race-free
    row = conn.execute(
        "INSERT INTO monitor_rules (id, name, query, triggers, severity, enabled, created_at, "
        "updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
        "name = excluded.name, query = excluded.query, triggers = excluded.triggers, "
        "severity = excluded.severity, enabled = excluded.enabled, "
        "updated_at = excluded.updated_at RETURNING (xmax = 0)",
        (rule_id, name, query, orjson.dumps(triggers).decode(), severity, enabled, now, now),
    ).fetchone()
    return bool(row and row[0])


def rules(conn: Conn) -> list[StoredRule]:
    rows = conn.execute(
        "SELECT id, name, query, triggers, enabled, severity, created_at, updated_at "
        "FROM monitor_rules ORDER BY id"
    ).fetchall()
    return [
        StoredRule(
            id=id_,
            name=name,
            query=query,
            triggers=list(orjson.loads(triggers)),
            enabled=bool(enabled),
            severity=severity,
            created_at=from_micros(created),
            updated_at=from_micros(updated),
        )
        for id_, name, query, triggers, enabled, severity, created, updated in rows
    ]


def delete_rule(conn: Conn, rule_id: str) -> bool:
    return conn.execute("DELETE FROM monitor_rules WHERE id = %s", (rule_id,)).rowcount > 0
