"""The PostgreSQL side of subscriptions: the table of migration 12 and the shared section
:mod:`yuqing.store.sql_subscriptions` (a mixin of :class:`yuqing.store.postgres.PostgresStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import PostgresSection
from yuqing.store.sql_subscriptions import SubscriptionsSection

MIGRATION_NAME = "subscriptions of users to plans"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE subscriptions (
        username TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        plan_id TEXT COLLATE "C" NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,         -- a [[alerts.channels]] name
        mode TEXT NOT NULL,            -- immediate | hourly | daily
        updated_at BIGINT NOT NULL,    -- microseconds since the epoch, UTC
        PRIMARY KEY (username, plan_id)
    )""",
    "CREATE INDEX subscriptions_plan ON subscriptions (plan_id)",
)


class PostgresSubscriptions(PostgresSection, SubscriptionsSection):
    """The subscriptions section of the Store contract."""
