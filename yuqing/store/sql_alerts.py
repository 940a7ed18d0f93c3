"""Alerts, their delivery log and the monitoring rules saved through the API (tables of
migration 4), in SQL shared by both backends (:mod:`yuqing.store.dialect`): the section
:class:`AlertsSection`, which :mod:`yuqing.store.sqlite_alerts` and
:mod:`yuqing.store.postgres_alerts` mix into the stores.

An alert is kept whole as its payload (``Alert.as_payload()``) plus the columns that are
filtered on; ``seq`` numbers alerts in insertion order and is the cursor of the alert
stream (alert ids are hashes, so they cannot be one). ``suppressed`` lives in its own
column because a cooldown keeps folding later firings into a stored alert.

:mod:`yuqing.alerts` is imported on first use (where alerts and delivery attempts are read
back): plain ingest and search need not load the alerting code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import ALERT_STATUSES, AlertStatus, StoredAlert, StoredRule
from yuqing.store.dialect import Section
from yuqing.store.rows import from_micros, to_micros

if TYPE_CHECKING:
    from yuqing.alerts.alert import Alert
    from yuqing.alerts.delivery import DeliveryAttempt

_ALERT_COLUMNS = "seq, data, suppressed, status, acknowledged_by, acknowledged_at"


def _stored(row: tuple[Any, ...]) -> StoredAlert:
    from yuqing.alerts.alert import Alert

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


class AlertsSection(Section):
    """The alerts, delivery log and saved rules section of the Store contract."""

    def add_alerts(self, alerts: Sequence[Alert]) -> int:
        """Insert new alerts in the given order; a stored one only has its ``suppressed``
        count raised."""
        unique = list({a.id: a for a in alerts}.values())
        ids = [a.id for a in unique]
        d = self.dialect
        with self._write("saving alerts") as conn:
            if not unique:
                return 0
            d.serialize_writers(conn, "alerts")
            before: set[str] = set()
            for chunk in d.chunks(ids):
                clause, params = d.text_in("id", chunk)
                before.update(
                    row[0] for row in conn.execute(f"SELECT id FROM alerts WHERE {clause}", params)
                )
            conn.executemany(
                "INSERT INTO alerts (id, rule_id, kind, severity, event_id, created_at, "
                "suppressed, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
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
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: AlertStatus | None = None,
        rule_id: str | None = None,
        limit: int = 100,
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
        with self._read("reading alerts") as conn:
            rows = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts {clause} "
                "ORDER BY created_at DESC, seq DESC LIMIT ?",
                [*params, max(limit, 0)],
            ).fetchall()
        return [_stored(row) for row in rows]

    def alerts_after(self, seq: int, limit: int = 100) -> list[StoredAlert]:
        with self._read(f"reading alerts after number {seq}") as conn:
            rows = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, max(limit, 0)),
            ).fetchall()
        return [_stored(row) for row in rows]

    def get_alert(self, alert_id: str) -> StoredAlert | None:
        with self._read(f"reading alert {alert_id}") as conn:
            row = conn.execute(
                f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
            ).fetchone()
        return None if row is None else _stored(row)

    def last_alert_seq(self) -> int:
        with self._read("reading the newest alert number") as conn:
            row = conn.execute("SELECT MAX(seq) FROM alerts").fetchone()
        return int(row[0] or 0) if row is not None else 0

    def acknowledge_alert(self, alert_id: str, who: str, at: datetime) -> bool:
        with self._write(f"acknowledging alert {alert_id}") as conn:
            changed = conn.execute(
                "UPDATE alerts SET status = 'acknowledged', acknowledged_by = ?, "
                "acknowledged_at = ? WHERE id = ? AND status = 'new'",
                (who, to_micros(at, "acknowledged at"), alert_id),
            ).rowcount
            if changed:
                return True
            if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
                raise StoreError(f"{self.label}: no alert with id {alert_id!r} to acknowledge")
            return False

    def record_delivery(self, attempt: DeliveryAttempt) -> None:
        with self._write("recording a delivery attempt") as conn:
            conn.execute(
                "INSERT INTO deliveries (alert_id, rule_id, channel, attempt, at, ok, final, "
                "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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

    def deliveries(self, *, alert_id: str | None = None, limit: int = 100) -> list[DeliveryAttempt]:
        from yuqing.alerts.delivery import DeliveryAttempt

        with self._read("reading the delivery log") as conn:
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
        rule_id: str,
        name: str,
        query: str,
        triggers_json: str,
        enabled: bool,
        *,
        severity: str = "medium",
    ) -> bool:
        where = self.label
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
        with self._write(f"saving rule {rule_id}") as conn:
            return self.dialect.upsert_is_new(
                conn,
                "INSERT INTO monitor_rules (id, name, query, triggers, severity, enabled, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO "
                "UPDATE SET name = excluded.name, query = excluded.query, "
                "triggers = excluded.triggers, severity = excluded.severity, "
                "enabled = excluded.enabled, updated_at = excluded.updated_at",
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

    def rules(self) -> list[StoredRule]:
        with self._read("reading the monitoring rules") as conn:
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

    def delete_rule(self, rule_id: str) -> bool:
        with self._write(f"deleting rule {rule_id}") as conn:
            return conn.execute("DELETE FROM monitor_rules WHERE id = ?", (rule_id,)).rowcount > 0
