"""The SQLite side of alerts, their delivery log and the monitoring rules saved through the
API: the shared section :mod:`yuqing.store.sql_alerts` over the store's connection, its
transactions and its error translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
Writers take turns through the store's ``BEGIN IMMEDIATE`` transactions, so ``seq`` is in
commit order as it is drawn.
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_alerts import AlertsSection


class SQLiteAlerts(SQLiteSection, AlertsSection):
    """The alerts, delivery log and saved rules section of the Store contract."""
