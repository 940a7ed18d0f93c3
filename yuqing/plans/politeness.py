"""Polite polling: at most one request per host per interval, exponential backoff with
jitter after errors, and the server's ``Retry-After`` honoured.

Time comes from an injected :class:`~yuqing.clock.Clock` and waiting from an injected
``sleep`` (seconds), so tests drive both with a ManualClock and no test waits on the wall
clock. ``yuqing run`` and ``yuqing serve`` pass the wall clock and a stop event's ``wait``
(so that stopping interrupts a wait).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from yuqing.clock import Clock

__all__ = ["Backoff", "HostLimiter", "Sleep", "retry_after"]

Sleep = Callable[[float], object]


class HostLimiter:
    """At most one request per host every ``interval`` seconds: :meth:`wait` sleeps until
    the host's next slot, then takes it. Thread-safe (one lock; waits happen outside it,
    and a host's slot is reserved before the wait, so two callers never share one)."""

    def __init__(self, interval: float, clock: Clock, sleep: Sleep) -> None:
        self.interval = max(0.0, interval)
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> float:
        """Sleep until ``host`` may be asked again; return the seconds slept."""
        with self._lock:
            now = self.clock.now()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + timedelta(seconds=self.interval)
        delay = (slot - now).total_seconds()
        if delay > 0:
            self.sleep(delay)
        return delay


@dataclass(slots=True)
class Backoff:
    """The wait before the next poll of a source after ``failures`` errors in a row:
    ``min(max_delay, base * 2 ** (failures - 1))``, jittered down by up to ``jitter``
    (a share: 0.5 waits between half and all of it), and never less than what the
    server asked for with Retry-After. ``rng`` is injectable for tests."""

    max_delay: float
    jitter: float = 0.5
    rng: random.Random | None = None

    def delay(self, base: float, failures: int, asked: float | None = None) -> float:
        if failures <= 0:
            return max(base, asked or 0.0)
        raw = min(self.max_delay, base * 2.0 ** min(failures - 1, 32))
        draw = self.rng.random() if self.rng is not None else random.random()
        jittered = raw * (1.0 - self.jitter * draw)
        return max(jittered, asked or 0.0)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None
    when absent or unreadable; a date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
