"""Subscriptions (the table of migration 12), in SQL shared by both backends
(:mod:`yuqing.store.dialect`): which user gets which plan's alerts on which channel, at once
or in an hourly or daily digest (:mod:`yuqing.alerts.subscriptions`).

One row per (username, plan id); the row goes with its user or plan (``ON DELETE
CASCADE``). Saving checks that the user and the plan exist (holding them, in PostgreSQL,
until it commits) and names what is missing.
"""

from __future__ import annotations

from typing import Any, cast

from yuqing.errors import StoreError
from yuqing.store.base import SUBSCRIPTION_MODES, Subscription, SubscriptionMode
from yuqing.store.dialect import Section
from yuqing.store.rows import from_micros, to_micros

COLUMNS = "username, plan_id, channel, mode, updated_at"


def subscription_row(sub: Subscription, where: str) -> tuple[str, str, str, str, int]:
    """The row of ``sub``; StoreError (naming ``where``) for a bad mode or blank field."""
    what = f"{where}: subscription of {sub.username!r} to plan {sub.plan_id!r}"
    if sub.mode not in SUBSCRIPTION_MODES:
        raise StoreError(f"{what}: mode {sub.mode!r} is not one of {', '.join(SUBSCRIPTION_MODES)}")
    if not sub.username or not sub.plan_id or not sub.channel:
        raise StoreError(f"{what}: username, plan id and channel must not be blank")
    micros = to_micros(sub.updated_at, f"{what}: updated_at")
    assert micros is not None
    return (sub.username, sub.plan_id, sub.channel, sub.mode, micros)


def subscription(row: tuple[Any, ...]) -> Subscription:
    updated = from_micros(row[4])
    assert updated is not None
    return Subscription(
        username=row[0],
        plan_id=row[1],
        channel=row[2],
        mode=cast(SubscriptionMode, row[3]),
        updated_at=updated,
    )


def subscription_where(username: str | None, plan_id: str | None) -> tuple[str, list[str]]:
    """The WHERE clause (or "") and its parameters."""
    clauses: list[str] = []
    args: list[str] = []
    if username is not None:
        clauses.append("username = ?")
        args.append(username)
    if plan_id is not None:
        clauses.append("plan_id = ?")
        args.append(plan_id)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else "", args)


def missing_error(where: str, sub: Subscription, user: bool, plan: bool) -> StoreError | None:
    """The error for a subscription whose user or plan does not exist (None when both do)."""
    if not user:
        return StoreError(f"{where}: cannot subscribe unknown user {sub.username!r}")
    if not plan:
        return StoreError(
            f"{where}: cannot subscribe {sub.username!r} to unknown plan {sub.plan_id!r}"
        )
    return None


class SubscriptionsSection(Section):
    """The subscriptions section of the Store contract."""

    def save_subscription(self, subscription: Subscription) -> bool:
        row = subscription_row(subscription, self.label)
        what = f"saving the subscription of {subscription.username} to plan {subscription.plan_id}"
        lock = self.dialect.for_share
        with self._write(what) as conn:
            user = conn.execute(
                f"SELECT 1 FROM users WHERE username = ?{lock}", (row[0],)
            ).fetchone()
            plan = conn.execute(f"SELECT 1 FROM plans WHERE id = ?{lock}", (row[1],)).fetchone()
            error = missing_error(self.label, subscription, user is not None, plan is not None)
            if error is not None:
                raise error
            return self.dialect.upsert_is_new(
                conn,
                f"INSERT INTO subscriptions ({COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (username, plan_id) DO UPDATE SET channel = excluded.channel, "
                "mode = excluded.mode, updated_at = excluded.updated_at",
                row,
                "SELECT 1 FROM subscriptions WHERE username = ? AND plan_id = ?",
                row[:2],
            )

    def subscriptions(
        self, *, username: str | None = None, plan_id: str | None = None
    ) -> list[Subscription]:
        where, args = subscription_where(username, plan_id)
        with self._read("listing subscriptions") as conn:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM subscriptions {where} ORDER BY username, plan_id", args
            ).fetchall()
        return [subscription(row) for row in rows]

    def delete_subscription(self, username: str, plan_id: str) -> bool:
        what = f"deleting the subscription of {username} to plan {plan_id}"
        with self._write(what) as conn:
            cursor = conn.execute(
                "DELETE FROM subscriptions WHERE username = ? AND plan_id = ?", (username, plan_id)
            )
            return cursor.rowcount == 1
