"""Politeness on a ManualClock: per-host slots, jittered exponential backoff, Retry-After."""

from __future__ import annotations

import random
from datetime import timedelta

from tests.plans.conftest import T0
from yuqing.clock import ManualClock
from yuqing.plans.politeness import Backoff, HostLimiter, retry_after


def test_host_limiter_spaces_requests_per_host() -> None:
    clock = ManualClock(T0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    limiter = HostLimiter(5.0, clock, sleep)
    asked: list[tuple[str, float]] = []
    for host in ("a", "b", "a", "a", "b"):
        limiter.wait(host)
        asked.append((host, (clock.now() - T0).total_seconds()))
    assert asked == [("a", 0.0), ("b", 0.0), ("a", 5.0), ("a", 10.0), ("b", 10.0)]
    assert waits == [5.0, 5.0]
    clock.advance(timedelta(seconds=60))  # a host idle for longer than the interval: no wait
    assert limiter.wait("a") == 0.0


def test_backoff_doubles_with_jitter_and_respects_retry_after() -> None:
    backoff = Backoff(max_delay=3600.0, jitter=0.5, rng=random.Random(7))
    assert backoff.delay(60.0, 0) == 60.0
    assert backoff.delay(60.0, 0, asked=300.0) == 300.0
    for failures in range(1, 10):
        full = min(3600.0, 60.0 * 2 ** (failures - 1))
        assert full / 2 <= backoff.delay(60.0, failures) <= full
    assert backoff.delay(60.0, 1, asked=900.0) == 900.0
    assert Backoff(3600.0, rng=random.Random(1)).delay(60.0, 1000) <= 3600.0


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("120", T0) == 120.0
    assert retry_after("Mon, 04 May 2026 08:02:00 GMT", T0) == 120.0
    assert retry_after("Mon, 04 May 2026 07:00:00 GMT", T0) == 0.0
    assert retry_after("soon", T0) is None
    assert retry_after(None, T0) is None
