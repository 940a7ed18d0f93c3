"""Alerts, their delivery log and the monitoring rules saved through the API (tables of
migration 4), in SQL shared by both backends (:mod:`yuqing.store.dialect`). Functions over
one connection; the stores wrap them with their transactions and their error translation
(:mod:`yuqing.store.sqlite_alerts`, :mod:`yuqing.store.postgres_alerts`).

An alert is kept whole as its payload (``Alert.as_payload()``) plus the columns that are
filtered on; ``seq`` numbers alerts in insertion order and is the cursor of the alert
stream (alert ids are hashes, so they cannot be one). ``suppressed`` lives in its own
column because a cooldown keeps folding later firings into a stored alert.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson

from yuqing.alerts.alert import Alert
from yuqing.alerts.delivery import DeliveryAttempt
from yuqing.errors import StoreError
from yuqing.store.base import ALERT_STATUSES, AlertStatus, StoredAlert, StoredRule
from yuqing.store.dialect import Dialect, DriverConnection
from yuqing.store.rows import from_micros, to_micros

_ALERT_COLUMNS = "seq, data, suppressed, status, acknowledged_by, acknowledged_at"


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


class AlertTables:
    """The alert functions of one dialect; each takes the backend's connection first."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def add_alerts(self, connection: DriverConnection, alerts: Sequence[Alert]) -> int:
        """Insert new alerts in the given order; a stored one only has its ``suppressed``
        count raised. Runs inside the caller's transaction."""
        unique = list({a.id: a for a in alerts}.values())
        if not unique:
            return 0
        d = self.dialect
        conn = d.adapt(connection)
        d.serialize_writers(conn, "alerts")
        ids = [a.id for a in unique]
        before: set[str] = set()
        for chunk in d.chunks(ids):
            clause, params = d.text_in("id", chunk)
            before.update(
                row[0] for row in conn.execute(f"SELECT id FROM alerts WHERE {clause}", params)
            )
        conn.executemany(
            "INSERT INTO alerts (id, rule_id, kind, severity, event_id, created_at, suppressed, "
            "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            f"suppressed = {d.greatest}(alerts.suppressed, excluded.suppressed)",
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
        self,
        connection: DriverConnection,
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
            where.append("created_at >= ?")
            params.append(to_micros(since, "since"))
        if until is not None:
            where.append("created_at < ?")
            params.append(to_micros(until, "until"))
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if rule_id is not None:
            where.append("rule_id = ?")
            params.append(rule_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        conn = self.dialect.adapt(connection)
        rows = conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts {clause} "
            "ORDER BY created_at DESC, seq DESC LIMIT ?",
            [*params, max(limit, 0)],
        ).fetchall()
        return [_stored(row) for row in rows]

    def alerts_after(self, connection: DriverConnection, seq: int, limit: int) -> list[StoredAlert]:
        conn = self.dialect.adapt(connection)
        rows = conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, max(limit, 0)),
        ).fetchall()
        return [_stored(row) for row in rows]

    def get_alert(self, connection: DriverConnection, alert_id: str) -> StoredAlert | None:
        conn = self.dialect.adapt(connection)
        row = conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
        ).fetchone()
        return None if row is None else _stored(row)

    def last_alert_seq(self, connection: DriverConnection) -> int:
        conn = self.dialect.adapt(connection)
        row = conn.execute("SELECT MAX(seq) FROM alerts").fetchone()
        return int(row[0] or 0) if row is not None else 0

    def acknowledge_alert(
        self, connection: DriverConnection, where: str, alert_id: str, who: str, at: datetime
    ) -> bool:
        conn = self.dialect.adapt(connection)
        changed = conn.execute(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?, acknowledged_at = ? "
            "WHERE id = ? AND status = 'new'",
            (who, to_micros(at, "acknowledged at"), alert_id),
        ).rowcount
        if changed:
            return True
        if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
            raise StoreError(f"{where}: no alert with id {alert_id!r} to acknowledge")
        return False

    def record_delivery(self, connection: DriverConnection, attempt: DeliveryAttempt) -> None:
        conn = self.dialect.adapt(connection)
        conn.execute(
            "INSERT INTO deliveries (alert_id, rule_id, channel, attempt, at, ok, final, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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

    def deliveries(
        self, connection: DriverConnection, alert_id: str | None, limit: int
    ) -> list[DeliveryAttempt]:
        conn = self.dialect.adapt(connection)
        if alert_id is None:
            rows = conn.execute(
                "SELECT data FROM deliveries ORDER BY pk DESC LIMIT ?", (max(limit, 0),)
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT data FROM deliveries WHERE alert_id = ? ORDER BY pk DESC LIMIT ?",
                (alert_id, max(limit, 0)),
            ).fetchall()
        return [DeliveryAttempt.from_dict(orjson.loads(data)) for (data,) in rows]

    def save_rule(
        self,
        connection: DriverConnection,
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
        return self.dialect.upsert_is_new(
            self.dialect.adapt(connection),
            "INSERT INTO monitor_rules (id, name, query, triggers, severity, enabled, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
            "SET name = excluded.name, query = excluded.query, triggers = excluded.triggers, "
            "severity = excluded.severity, enabled = excluded.enabled, "
            "updated_at = excluded.updated_at",
            (
                rule_id,
                name,
                query,
                orjson.dumps(triggers).decode(),
                severity,
                bool(enabled),
                now,
                now,
            ),
            "SELECT 1 FROM monitor_rules WHERE id = ?",
            (rule_id,),
        )

    def rules(self, connection: DriverConnection) -> list[StoredRule]:
        conn = self.dialect.adapt(connection)
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

    def delete_rule(self, connection: DriverConnection, rule_id: str) -> bool:
        conn = self.dialect.adapt(connection)
        return conn.execute("DELETE FROM monitor_rules WHERE id = ?", (rule_id,)).rowcount > 0
