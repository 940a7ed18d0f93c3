"""Contract tests of subscriptions in the store (every backend): one per user and plan,
saving again replaces it, lists filter by user and plan, unknown users, plans and modes are
refused with a clear error, and deleting the plan or the subscription removes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import StoreError
from yuqing.store.base import Store, StoredUser, Subscription

from .test_contract_plans import plan

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def _setup(store: Store) -> None:
    for name in ("li", "zhang"):
        store.add_user(StoredUser(username=name, display_name=name, role="analyst", created_at=T0))
    for plan_id in ("p1", "p2"):
        store.save_plan(plan(plan_id))


def sub(username: str, plan_id: str, mode: str = "hourly", channel: str = "mail") -> Subscription:
    return Subscription(username, plan_id, channel, mode, T0)  # type: ignore[arg-type]


def test_save_list_replace_delete(store: Store) -> None:
    _setup(store)
    assert store.subscriptions() == []
    assert store.save_subscription(sub("zhang", "p2")) is True
    assert store.save_subscription(sub("zhang", "p1", "immediate")) is True
    assert store.save_subscription(sub("li", "p1", "daily", "li-mail")) is True
    assert [(s.username, s.plan_id) for s in store.subscriptions()] == [
        ("li", "p1"), ("zhang", "p1"), ("zhang", "p2"),
    ]  # fmt: skip
    assert [s.plan_id for s in store.subscriptions(username="zhang")] == ["p1", "p2"]
    assert [s.username for s in store.subscriptions(plan_id="p1")] == ["li", "zhang"]
    assert store.subscriptions(username="zhang", plan_id="p2") == [sub("zhang", "p2")]
    later = replace(sub("zhang", "p2", "daily", "wecom"), updated_at=T0 + timedelta(hours=1))
    assert store.save_subscription(later) is False  # replaced
    assert store.subscriptions(username="zhang", plan_id="p2") == [later]
    assert store.delete_subscription("zhang", "p2") is True
    assert store.delete_subscription("zhang", "p2") is False
    assert store.delete_plan("p1")
    assert store.subscriptions() == []  # they go with their plan


def test_refuses_unknown_user_plan_and_mode(store: Store) -> None:
    _setup(store)
    with pytest.raises(StoreError, match="unknown user 'wang'"):
        store.save_subscription(sub("wang", "p1"))
    with pytest.raises(StoreError, match="unknown plan 'nope'"):
        store.save_subscription(sub("zhang", "nope"))
    with pytest.raises(StoreError, match="'weekly' is not one of"):
        store.save_subscription(sub("zhang", "p1", "weekly"))
    with pytest.raises(StoreError, match="must not be blank"):
        store.save_subscription(sub("zhang", "p1", channel=""))
    assert store.subscriptions() == []
