"""The dispatcher against the real local HTTP receiver: retries, no-retry on 4xx, timeouts,
the delivery log, failures, closing, and the latency from submit to receipt."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels import LogChannel, WebhookChannel, WeComChannel
from yuqing.alerts.channels.base import Channel, DeliveryResult
from yuqing.alerts.delivery import (
    DeliveryAttempt,
    Dispatcher,
    JsonlDeliveryLog,
    MemoryDeliveryLog,
    RetryPolicy,
    dispatcher_from_config,
)
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError

from .test_channels import SECRET, Receiver, make_alert

FAST = RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.1, jitter=0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def hook(
    receiver: Receiver, path: str = "/hook", name: str = "hook", timeout: float = 2
) -> WebhookChannel:
    return WebhookChannel(receiver.url(path), SECRET, name=name, timeout=timeout)


def test_retry_policy_schedule() -> None:
    policy = RetryPolicy(attempts=6, base_delay=1, multiplier=2, max_delay=10, jitter=0)
    assert [policy.delay(k) for k in range(1, 6)] == [1, 2, 4, 8, 10]
    assert policy.delay(1, retry_after=5) == 5 and policy.delay(1, retry_after=999) == 10
    jittered = RetryPolicy(base_delay=1, jitter=0.2)
    assert all(0.8 <= jittered.delay(1) <= 1.2 for _ in range(50))
    for bad in ({"attempts": 0}, {"base_delay": -1}, {"multiplier": 0.5}, {"jitter": 1.0}):
        with pytest.raises(ConfigError):
            RetryPolicy(**bad)


def test_500_twice_then_delivered(receiver: Receiver) -> None:
    log = MemoryDeliveryLog()
    with Dispatcher([hook(receiver, "/flaky")], retry=FAST, log=log) as dispatcher:
        alert = make_alert()
        assert dispatcher.submit(alert) == 1
        assert dispatcher.flush(5)
        stats = dispatcher.stats()
    attempts = list(reversed(log.recent()))
    assert [(a.attempt, a.ok, a.status, a.final) for a in attempts] == [
        (1, False, 500, False),
        (2, False, 500, False),
        (3, True, 200, True),
    ]
    assert (
        all(a.next_retry_at is not None for a in attempts[:2]) and attempts[2].next_retry_at is None
    )
    assert receiver.hits["/flaky"] == 3 and dispatcher.failures() == []
    assert (stats.delivered, stats.failed, stats.retries, stats.pending) == (1, 0, 2, 0)


def test_400_is_not_retried_and_is_visible(receiver: Receiver) -> None:
    with Dispatcher([hook(receiver, "/bad")], retry=FAST) as dispatcher:
        alert = make_alert()
        dispatcher.submit(alert)
        assert dispatcher.flush(5)
        (failure,) = dispatcher.failures()
    assert receiver.hits["/bad"] == 1
    assert (failure.alert_id, failure.attempt, failure.status, failure.final) == (
        alert.id,
        1,
        400,
        True,
    )
    assert failure.response == "bad request"


def test_429_waits_then_delivers(receiver: Receiver) -> None:
    with Dispatcher([hook(receiver, "/limited")], retry=FAST) as dispatcher:
        dispatcher.submit(make_alert())
        assert dispatcher.flush(5)
        assert dispatcher.stats().delivered == 1 and receiver.hits["/limited"] == 2


def test_timeouts_retry_then_give_up(receiver: Receiver) -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.01, jitter=0)
    with Dispatcher([hook(receiver, "/hang", timeout=0.2)], retry=policy) as dispatcher:
        began = time.perf_counter()
        dispatcher.submit(make_alert())
        assert time.perf_counter() - began < 0.5  # submit does not wait for the hanging receiver
        assert dispatcher.flush(5)
        (failure,) = dispatcher.failures()
    assert failure.attempt == 2 and failure.retryable and "no answer" in (failure.error or "")
    assert receiver.hits["/hang"] == 2


def test_a_hanging_channel_does_not_delay_the_others(receiver: Receiver) -> None:
    channels = [hook(receiver, "/hang", "slow", timeout=1.0), hook(receiver, "/hook", "fast")]
    with Dispatcher(channels, retry=RetryPolicy(attempts=1)) as dispatcher:
        submitted = time.perf_counter()
        dispatcher.submit(make_alert())
        got = [r for r in receiver.wait_for(2) if r.path == "/hook"]
        assert got and got[0].at - submitted < 0.9  # delivered while "slow" still hangs
        dispatcher.flush(5)


def test_retry_schedule_follows_the_injected_clock(receiver: Receiver) -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    log = MemoryDeliveryLog()
    policy = RetryPolicy(attempts=3, base_delay=60, jitter=0)
    dispatcher = Dispatcher([hook(receiver, "/flaky")], retry=policy, log=log, clock=clock)
    dispatcher.submit(make_alert())
    assert not dispatcher.flush(0.3)  # the retry waits for scenario time to pass
    (first,) = log.recent()
    assert first.next_retry_at == clock.now() + timedelta(seconds=60)
    assert receiver.hits["/flaky"] == 1
    clock.advance(timedelta(seconds=61))
    receiver.wait_for(2)
    assert not dispatcher.flush(0.3)  # the second retry waits 120 s
    assert log.recent(1)[0].next_retry_at == clock.now() + timedelta(seconds=120)
    clock.advance(timedelta(seconds=120))
    assert dispatcher.flush(5) and dispatcher.stats().delivered == 1
    dispatcher.close()


def test_close_records_what_was_not_delivered(receiver: Receiver) -> None:
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    dispatcher = Dispatcher(
        [hook(receiver, "/flaky")], retry=RetryPolicy(base_delay=60, jitter=0), clock=clock
    )
    alert = make_alert()
    dispatcher.submit(alert)
    receiver.wait_for(1)
    dispatcher.close(timeout=0.3)
    assert dispatcher.submit(make_alert("late")) == 0
    errors = [f.error for f in dispatcher.failures()]
    assert errors == ["the dispatcher is closed", "the dispatcher closed before delivery"]


def test_full_queue_refuses_without_blocking(receiver: Receiver) -> None:
    with Dispatcher(
        [hook(receiver, "/hang", timeout=0.3)], retry=RetryPolicy(attempts=1), max_pending=1
    ) as dispatcher:
        assert dispatcher.submit(make_alert("a")) == 1
        began = time.perf_counter()
        assert dispatcher.submit(make_alert("b")) == 0
        assert time.perf_counter() - began < 0.25  # far below the 0.3 s a blocked submit would take
        refused = dispatcher.failures()[0]
        assert (
            refused.rule_id == "b"
            and refused.attempt == 0
            and "queue full" in (refused.error or "")
        )
        dispatcher.flush(5)


def test_channel_selection_and_unknown_names(receiver: Receiver, tmp_path: Path) -> None:
    channels: list[Channel] = [
        hook(receiver),
        WeComChannel(receiver.url("/wecom"), name="wecom"),
        LogChannel(tmp_path / "a.jsonl"),
    ]
    with Dispatcher(channels) as dispatcher:
        assert dispatcher.submit(make_alert()) == 3
        assert dispatcher.submit(make_alert("r2"), channels=["wecom"]) == 1
        with pytest.raises(ConfigError, match="unknown channel"):
            dispatcher.submit(make_alert(), channels=["sms"])
        assert dispatcher.flush(5)
        assert dispatcher.stats().delivered == 4
    assert sorted(r.path for r in receiver.received) == ["/hook", "/wecom", "/wecom"]
    with pytest.raises(ConfigError, match="two alert channels"):
        Dispatcher([LogChannel(), LogChannel()])


class Broken:
    """A real (if faulty) channel: its bug must not kill a worker thread."""

    name = "broken"
    kind = "test"

    def send(self, alert: Alert) -> DeliveryResult:
        raise RuntimeError("bug in channel")

    def close(self) -> None:
        pass


def test_a_channel_that_raises_is_recorded(receiver: Receiver) -> None:
    channels: list[Channel] = [Broken(), hook(receiver)]
    with Dispatcher(channels, workers=1) as dispatcher:
        dispatcher.submit(make_alert())
        dispatcher.submit(make_alert("r2"))
        assert dispatcher.flush(5)
        stats = dispatcher.stats()
    assert (stats.delivered, stats.failed) == (2, 2)
    assert "RuntimeError: bug in channel" in (dispatcher.failures()[0].error or "")


def test_jsonl_log_persists_and_reloads(receiver: Receiver, tmp_path: Path) -> None:
    path = tmp_path / "delivery.jsonl"
    log = JsonlDeliveryLog(path, capacity=10)
    with Dispatcher([hook(receiver, "/flaky")], retry=FAST, log=log) as dispatcher:
        dispatcher.submit(make_alert())
        dispatcher.flush(5)
    log.close()
    with path.open("ab") as f:
        f.write(b"not json\n")
    lines = path.read_text().splitlines()
    assert len(lines) == 4
    reloaded = JsonlDeliveryLog(path, capacity=3)  # the last 3 lines, one unreadable
    assert [a.attempt for a in reloaded.recent()] == [3, 2]
    assert reloaded.recent(1)[0] == DeliveryAttempt.from_dict(log.recent(1)[0].to_dict())
    reloaded.close()


def test_latency_from_submit_to_receipt(receiver: Receiver) -> None:
    """Loose bound only (< 5 s); the measured figures are in docs/alerts.md."""
    n = 50
    with Dispatcher([hook(receiver)]) as dispatcher:
        submitted: dict[str, float] = {}
        for i in range(n):
            alert = make_alert(f"rule-{i}")
            submitted[alert.id] = time.perf_counter()
            dispatcher.submit(alert)
            time.sleep(0.002)
        received = receiver.wait_for(n)
        assert dispatcher.flush(5)
        stats = dispatcher.stats()
    latencies = [r.at - submitted[r.headers["x-yuqing-alert-id"]] for r in received]
    assert len(latencies) == n and max(latencies) < 5
    assert stats.latency_p50_ms is not None and stats.latency_p99_ms is not None
    print(
        f"submit->receipt p50 {statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )


def test_dispatcher_from_config(receiver: Receiver, tmp_path: Path) -> None:
    channels = [{"kind": "webhook", "url": receiver.url("/flaky"), "secret": SECRET}]
    delivery = {
        "attempts": 3,
        "base_delay": 0.01,
        "jitter": 0,
        "workers": 2,
        "log": str(tmp_path / "d.jsonl"),
    }
    with dispatcher_from_config(channels, delivery) as dispatcher:
        assert dispatcher.retry == RetryPolicy(attempts=3, base_delay=0.01, jitter=0)
        dispatcher.submit(make_alert())
        assert dispatcher.flush(5) and dispatcher.stats().delivered == 1
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) == 3
    with pytest.raises(ConfigError, match="unknown key"):
        dispatcher_from_config([], {"attempt": 3})
    with pytest.raises(ConfigError, match=r"alerts\.delivery"):
        dispatcher_from_config([], {"attempts": "many"})
