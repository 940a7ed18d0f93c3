"""The SQLite side of subscriptions: the table of migration 12 and the shared section
:mod:`yuqing.store.sql_subscriptions` over the store's connection, its transactions and its
error translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_subscriptions import SubscriptionsSection

MIGRATION_NAME = "subscriptions of users to plans"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE subscriptions (
        username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,         -- a [[alerts.channels]] name
        mode TEXT NOT NULL,            -- immediate | hourly | daily
        updated_at INTEGER NOT NULL,   -- microseconds since the epoch, UTC
        PRIMARY KEY (username, plan_id)
    )""",
    "CREATE INDEX subscriptions_plan ON subscriptions (plan_id)",
)


class SQLiteSubscriptions(SQLiteSection, SubscriptionsSection):
    """The subscriptions section of the Store contract."""
