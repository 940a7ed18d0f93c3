"""Per-user plan subscriptions on the test clock, through the real local HTTP receiver: an
immediate subscriber gets each new plan alert at once, an hourly subscriber gets one digest
on the hour listing them, a user not subscribed (and alerts of other plans) reach nobody,
and stopping sends what is held."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from yuqing.alerts.alert import Alert
from yuqing.alerts.delivery import Dispatcher, dispatcher_from_config
from yuqing.alerts.followup import FollowUp
from yuqing.alerts.subscriptions import plan_of_rule
from yuqing.clock import ManualClock
from yuqing.settings import Settings
from yuqing.store.base import Store, StoredUser, Subscription
from yuqing.store.url import open_store

from ..store.test_contract_plans import plan
from .test_channels import SECRET, Receiver

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 9, 20, tzinfo=ZONE)
USERS = ("zhang", "li", "wang")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'subs.db'}")
    for name in USERS:
        opened.add_user(StoredUser(name, name, "analyst", created_at=START))
    opened.save_plan(plan("canteen"))
    opened.save_plan(plan("traffic"))
    opened.save_subscription(Subscription("zhang", "canteen", "zhang-hook", "immediate", START))
    opened.save_subscription(Subscription("li", "canteen", "li-hook", "hourly", START))
    yield opened
    opened.close()


def _setup(receiver: Receiver, store: Store) -> tuple[ManualClock, Dispatcher, FollowUp]:
    settings = Settings.model_validate(
        {
            "store": store.url,
            "public_url": "https://yq.example.org",
            "alerts": {
                "channels": [
                    {"name": f"{u}-hook", "kind": "webhook", "url": receiver.url(f"/hook?to={u}"),
                     "secret": SECRET}
                    for u in USERS
                ],
                "delivery": {"attempts": 2, "base_delay": 0.01, "jitter": 0},
            },
        }
    )  # fmt: skip
    clock = ManualClock(START)
    dispatcher = dispatcher_from_config(
        settings.alerts.channels, settings.alerts.delivery, clock=clock
    )
    return clock, dispatcher, FollowUp(settings, dispatcher, clock)


def _alert(plan_id: str, n: int, at: datetime) -> Alert:
    return Alert.create(
        rule_id=f"plan:{plan_id}:r1", kind="match", title=f"{plan_id} 舆情 第{n}条",
        severity="high", created_at=at, public_url="https://yq.example.org", event_id=f"ev-{n}",
    )  # fmt: skip


def _to(receiver: Receiver) -> list[tuple[str, str, str]]:
    return [(r.query["to"][0], r.json()["kind"], r.json()["title"]) for r in receiver.received]


def test_immediate_hourly_and_unsubscribed(receiver: Receiver, store: Store) -> None:
    clock, dispatcher, followup = _setup(receiver, store)
    with dispatcher:
        store.add_alerts([_alert("canteen", 0, clock.now())])  # before the run started
        followup.start(store)
        first = _alert("canteen", 1, clock.advance(timedelta(minutes=5)))
        other = _alert("traffic", 2, clock.now())
        store.add_alerts([first, other])  # as the engine's sink stores them
        report = followup.tick(store).subscriptions
        assert report.immediate == 1 and report.digests == []
        assert dispatcher.flush(5)
        assert _to(receiver) == [("zhang", "match", first.title)]  # at once; li waits
        assert followup.subscriptions.held("li", "li-hook", "hourly") == 1
        second = _alert("canteen", 3, clock.advance(timedelta(minutes=20)))
        store.add_alerts([second])
        assert followup.tick(store).subscriptions.immediate == 1
        assert dispatcher.flush(5)
        assert len(receiver.received) == 2
        clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=ZONE))
        (digest,) = followup.tick(store).subscriptions.digests
        assert dispatcher.flush(5)
        assert digest.title == "舆情预警每小时摘要（11-20 09:00–10:00，共 2 条）"
        assert _to(receiver)[2:] == [("li", "digest", digest.title)]
        samples = receiver.received[2].json()["samples"]
        assert [s["id"] for s in samples] == [first.id, second.id]
        assert followup.tick(store).subscriptions.digests == []  # sent once
        third = _alert("canteen", 4, clock.advance(timedelta(minutes=1)))
        store.add_alerts([third])
        followup.tick(store)
        (held,) = followup.close()  # stopping sends what li's digest holds
        assert dispatcher.flush(5)
        assert "共 1 条" in held.title
    assert {to for to, _, _ in _to(receiver)} == {"zhang", "li"}  # wang: nothing
    assert len(receiver.received) == 5


def test_plan_of_rule() -> None:
    assert plan_of_rule("plan:canteen:r1") == "canteen"
    assert plan_of_rule("canteen") is None
    assert plan_of_rule("plan:") is None
