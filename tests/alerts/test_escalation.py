"""Escalation on the test clock: an alert nobody acknowledged goes to the next contact in
the chain, each step once (also across a restart), recorded in the store's delivery log;
acknowledged alerts and false alarms are left alone. Deliveries cross a real socket to the
local HTTP receiver of test_channels.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from yuqing.alerts.alert import Alert, Severity
from yuqing.alerts.channels import WebhookChannel
from yuqing.alerts.delivery import Dispatcher, RetryPolicy
from yuqing.alerts.escalation import EscalationPolicy, Escalator, marker_channel
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError
from yuqing.store.base import Correction, Store
from yuqing.store.delivery_log import StoreDeliveryLog
from yuqing.store.url import open_store

from .test_channels import SECRET, Receiver

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
CHAIN = {
    "steps": [
        {"after": "15m", "channels": ["chief"]},
        {"after": "1h", "channels": ["director"]},
    ],
    "min_severity": "medium",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'alerts.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    opened = open_store(url)
    yield opened
    opened.close()


def _dispatcher(receiver: Receiver, url: str, clock: ManualClock) -> Dispatcher:
    channels = [
        WebhookChannel(receiver.url("/hook"), SECRET, name=name, timeout=2)
        for name in ("duty", "chief", "director")
    ]
    retry = RetryPolicy(attempts=2, base_delay=0.01, jitter=0)
    return Dispatcher(channels, retry=retry, log=StoreDeliveryLog(url), clock=clock)


def _alert(title: str, severity: Severity = "high") -> Alert:
    return Alert.create(
        rule_id=f"canteen-{title}", kind="match", title=title, severity=severity,
        created_at=T0, public_url="http://yq.test",
    )  # fmt: skip


def _titles(receiver: Receiver, dispatcher: Dispatcher) -> list[str]:
    assert dispatcher.flush(5)
    return [str(r.json()["title"]) for r in receiver.received]


def test_unacknowledged_alert_escalates_step_by_step(
    receiver: Receiver, store: Store, url: str
) -> None:
    clock = ManualClock(T0)
    waiting, acked, low = _alert("食堂过期食材"), _alert("学生腹痛就医"), _alert("小事", "low")
    store.add_alerts([waiting, acked, low])
    store.acknowledge_alert(acked.id, "duty-officer", T0 + timedelta(minutes=5))
    policy = EscalationPolicy.from_config(CHAIN)
    assert policy is not None
    with _dispatcher(receiver, url, clock) as dispatcher:
        escalator = Escalator(policy, dispatcher, clock)
        clock.advance(timedelta(minutes=14))
        assert escalator.check(store) == []
        clock.advance(timedelta(minutes=2))
        (first,) = escalator.check(store)
        assert (first.alert_id, first.step, first.channels) == (waiting.id, 1, ("chief",))
        assert _titles(receiver, dispatcher) == ["【升级·第1级】食堂过期食材"]
        body = receiver.received[0].json()
        assert body["id"] == waiting.id and "15 分钟内无人确认" in body["reasons"][0]
        clock.advance(timedelta(minutes=10))
        assert escalator.check(store) == []  # each step once
        clock.advance(timedelta(minutes=40))
        (second,) = escalator.check(store)
        assert (second.step, second.channels) == (2, ("director",))
        assert _titles(receiver, dispatcher)[-1] == "【升级·第2级】食堂过期食材"
        # a restarted process reads the markers from the store and does not page again
        assert Escalator(policy, dispatcher, clock).check(store) == []
    logged = store.deliveries(alert_id=waiting.id)
    channels = {d.channel for d in logged}
    assert {marker_channel(1), marker_channel(2), "chief", "director"} <= channels
    assert all(d.ok for d in logged)
    assert store.deliveries(alert_id=acked.id) == []  # acknowledged in time: never escalated
    assert store.deliveries(alert_id=low.id) == []  # below min_severity


def test_acknowledging_or_a_false_alarm_stops_the_chain(
    receiver: Receiver, store: Store, url: str
) -> None:
    clock = ManualClock(T0)
    first, second = _alert("一"), _alert("二")
    store.add_alerts([first, second])
    policy = EscalationPolicy.from_config(CHAIN)
    assert policy is not None
    with _dispatcher(receiver, url, clock) as dispatcher:
        escalator = Escalator(policy, dispatcher, clock)
        clock.advance(timedelta(minutes=20))
        assert {e.alert_id for e in escalator.check(store)} == {first.id, second.id}
        store.acknowledge_alert(first.id, "chief", clock.now())
        mark = Correction("false_alarm", second.id, "new", "false_alarm", "li", clock.now())
        store.mark_false_alarm(second.id, mark)
        clock.advance(timedelta(hours=2))
        assert escalator.check(store) == []
        assert len(_titles(receiver, dispatcher)) == 2


def test_alerts_older_than_max_age_are_left_alone(
    receiver: Receiver, store: Store, url: str
) -> None:
    clock = ManualClock(T0 + timedelta(days=2))
    store.add_alerts([_alert("旧")])
    policy = EscalationPolicy.from_config(CHAIN)
    assert policy is not None
    with _dispatcher(receiver, url, clock) as dispatcher:
        assert Escalator(policy, dispatcher, clock).check(store) == []


def test_escalation_config_errors_name_the_key(receiver: Receiver, url: str) -> None:
    assert EscalationPolicy.from_config({}) is None
    bad: list[tuple[dict[str, Any], str]] = [
        ({"steps": [{"channels": ["chief"]}]}, "after"),
        ({"steps": [{"after": "15m"}]}, "channels"),
        ({"steps": [{"after": "1h", "channels": ["a"]}, {"after": "15m", "channels": ["b"]}]},
         "later than"),
        ({"steps": [{"after": "soon", "channels": ["a"]}]}, "not a duration"),
        ({"steps": [], "min_severity": "huge"}, "min_severity"),
        ({"steps": [], "when": 1}, "unknown key"),
    ]  # fmt: skip
    for table, message in bad:
        with pytest.raises(ConfigError, match=message):
            EscalationPolicy.from_config(table)
    policy = EscalationPolicy.from_config({"steps": [{"after": "5m", "channels": ["boss"]}]})
    assert policy is not None
    with (
        _dispatcher(receiver, url, ManualClock(T0)) as dispatcher,
        pytest.raises(ConfigError, match="unknown channel"),
    ):
        Escalator(policy, dispatcher, ManualClock(T0))
