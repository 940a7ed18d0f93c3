"""The PostgreSQL side of subscriptions (the table of migration 12); semantics:
:mod:`yuqing.store.sqlite_subscriptions`.

A mixin of :class:`yuqing.store.postgres.PostgresStore`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import TupleRow

from yuqing.store.base import Subscription
from yuqing.store.sqlite_subscriptions import (
    COLUMNS,
    missing_error,
    subscription,
    subscription_row,
    subscription_where,
)

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


class PostgresSubscriptions:
    """The subscriptions section of the Store contract."""

    if TYPE_CHECKING:
        url: str
        where: str

        def _errors(self, what: str) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

        def _transaction(
            self, what: str
        ) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

    def save_subscription(self, subscription: Subscription) -> bool:
        row = subscription_row(subscription, self.where)
        what = f"saving the subscription of {subscription.username} to plan {subscription.plan_id}"
        with self._transaction(what) as conn:
            user = conn.execute(
                "SELECT 1 FROM users WHERE username = %s FOR SHARE", (row[0],)
            ).fetchone()
            plan = conn.execute("SELECT 1 FROM plans WHERE id = %s FOR SHARE", (row[1],)).fetchone()
            error = missing_error(self.where, subscription, user is not None, plan is not None)
            if error is not None:
                raise error
            found = conn.execute(
                f"INSERT INTO subscriptions ({COLUMNS}) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (username, plan_id) DO UPDATE SET channel = excluded.channel, "
                "mode = excluded.mode, updated_at = excluded.updated_at "
                "RETURNING (xmax = 0)",
                row,
            ).fetchone()
        return bool(found and found[0])

    def subscriptions(
        self, *, username: str | None = None, plan_id: str | None = None
    ) -> list[Subscription]:
        where, args = subscription_where(username, plan_id, "%s")
        with self._errors("listing subscriptions") as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM subscriptions {where} ORDER BY username, plan_id", args
            ).fetchall()
        return [subscription(row) for row in rows]

    def delete_subscription(self, username: str, plan_id: str) -> bool:
        what = f"deleting the subscription of {username} to plan {plan_id}"
        with self._transaction(what) as conn:
            cursor = conn.execute(
                "DELETE FROM subscriptions WHERE username = %s AND plan_id = %s",
                (username, plan_id),
            )
            return cursor.rowcount == 1
