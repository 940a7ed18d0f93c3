"""The SQLite side of alerts, their delivery log and the monitoring rules saved through the
API: the shared SQL of :mod:`yuqing.store.sql_alerts` in SQLite's dialect, as functions
over one connection that :class:`yuqing.store.sqlite.SQLiteStore` wraps with its
transactions and its error translation. Writers take turns through the store's
``BEGIN IMMEDIATE`` transactions, so ``seq`` is in commit order as it is drawn.
"""

from __future__ import annotations

from yuqing.store.dialect import SQLITE
from yuqing.store.sql_alerts import AlertTables

_tables = AlertTables(SQLITE)

add_alerts = _tables.add_alerts
alerts = _tables.alerts
alerts_after = _tables.alerts_after
get_alert = _tables.get_alert
last_alert_seq = _tables.last_alert_seq
acknowledge_alert = _tables.acknowledge_alert
record_delivery = _tables.record_delivery
deliveries = _tables.deliveries
save_rule = _tables.save_rule
rules = _tables.rules
delete_rule = _tables.delete_rule
