"""Reliable delivery of alerts: a queue, worker threads, retries with backoff, a log.

``Dispatcher.submit(alert)`` only appends to a queue and returns, so ingestion never waits
on a slow SMTP relay or a dead webhook. Worker threads take one (alert, channel) delivery
at a time; a retryable failure is rescheduled after an exponential backoff (the server's
``Retry-After`` wins when it asks for longer), a permanent one (HTTP 4xx other than
408/429, DingTalk/WeCom errcodes, SMTP 5xx) ends at once. Every attempt is written to a
:class:`DeliveryLog`; deliveries that gave up are kept for ``failures()``.

Retry times are read from the injectable clock (scenario time in drills and tests);
latency is measured on the monotonic wall clock, from ``submit`` to the end of the
attempt that delivered.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels import SecretResolver, channels_from_config
from yuqing.alerts.channels.base import Channel, DeliveryResult
from yuqing.clock import Clock, SystemClock
from yuqing.errors import ConfigError

LOG = logging.getLogger("yuqing.alerts.delivery")
_POLL = 0.05  # longest sleep while a retry is scheduled: a ManualClock may jump meanwhile


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the wait after try k is ``base_delay * multiplier**(k-1)``,
    capped at ``max_delay``, then spread by +/- ``jitter`` (a fraction) so that many
    alerts failing together do not retry together."""

    attempts: int = 5
    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 300.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"retry attempts must be at least 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise ConfigError(
                "retry delays must be >= 0 and the multiplier >= 1, got "
                f"base_delay={self.base_delay} max_delay={self.max_delay} multiplier={self.multiplier}"
            )
        if not 0 <= self.jitter < 1:
            raise ConfigError(f"retry jitter is a fraction in [0, 1), got {self.jitter}")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        wait = min(self.max_delay, self.base_delay * self.multiplier ** (attempt - 1))
        if self.jitter:
            wait *= 1 + random.uniform(-self.jitter, self.jitter)  # not crypto
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait


@dataclass(slots=True, frozen=True)
class DeliveryAttempt:
    """One try of one alert through one channel, as the delivery log keeps it.

    ``attempt`` is 1-based (0 for a delivery refused before any try: full queue, closed
    dispatcher). ``final`` marks the try that settled the delivery: delivered, or given
    up. ``latency_ms`` runs from ``submit`` to the end of this try.
    """

    alert_id: str
    rule_id: str
    channel: str
    attempt: int
    at: datetime
    ok: bool
    final: bool
    retryable: bool = False
    status: int | None = None
    error: str | None = None
    response: str | None = None
    duration_ms: float = 0.0
    latency_ms: float = 0.0
    next_retry_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["next_retry_at"] = self.next_retry_at.isoformat() if self.next_retry_at else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryAttempt:
        values = dict(data)
        values["at"] = datetime.fromisoformat(values["at"])
        if values.get("next_retry_at"):
            values["next_retry_at"] = datetime.fromisoformat(values["next_retry_at"])
        return cls(**values)


class DeliveryLog(Protocol):
    """Where attempts are recorded. The store provides a persistent one later."""

    def record(self, attempt: DeliveryAttempt) -> None: ...

    def recent(self, n: int = 100) -> list[DeliveryAttempt]:
        """The last ``n`` attempts, newest first."""
        ...


class MemoryDeliveryLog:
    """The last ``capacity`` attempts in memory (a ring). Thread-safe."""

    def __init__(self, capacity: int = 1000) -> None:
        self._ring: deque[DeliveryAttempt] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, attempt: DeliveryAttempt) -> None:
        with self._lock:
            self._ring.append(attempt)

    def recent(self, n: int = 100) -> list[DeliveryAttempt]:
        with self._lock:
            return list(itertools.islice(reversed(self._ring), n))


class JsonlDeliveryLog(MemoryDeliveryLog):
    """A ring in memory plus one JSON line per attempt appended to ``path``.

    On start the ring is refilled from the end of an existing file, so ``recent`` survives
    a restart. Lines that cannot be read are skipped.
    """

    def __init__(self, path: str | Path, capacity: int = 1000) -> None:
        super().__init__(capacity)
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_file():
                with self.path.open("rb") as old:
                    for line in deque(old, maxlen=capacity):
                        try:
                            super().record(DeliveryAttempt.from_dict(orjson.loads(line)))
                        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                            continue
            self._file: IO[bytes] = self.path.open("ab")
        except OSError as exc:
            raise ConfigError(f"delivery log {self.path}: cannot open for append: {exc}") from exc

    def record(self, attempt: DeliveryAttempt) -> None:
        line = orjson.dumps(attempt.to_dict()) + b"\n"
        with self._lock:
            self._ring.append(attempt)
            try:
                self._file.write(line)
                self._file.flush()
            except OSError as exc:  # the ring still has it; do not kill the worker
                LOG.error("delivery log %s: cannot write: %s", self.path, exc)

    def close(self) -> None:
        with self._lock:
            self._file.close()


@dataclass(slots=True)
class DispatcherStats:
    """Counters since start, and latency percentiles over the last 10,000 deliveries."""

    submitted: int = 0
    delivered: int = 0
    failed: int = 0
    retries: int = 0
    pending: int = 0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None


@dataclass(order=True, slots=True)
class _Job:
    due: datetime
    seq: int
    alert: Alert = field(compare=False)
    channel: Channel = field(compare=False)
    attempt: int = field(compare=False, default=1)
    submitted: float = field(compare=False, default=0.0)


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Dispatcher:
    """Deliver alerts to channels in the background, with retries and a delivery log.

    ``submit`` returns at once; ``workers`` threads deliver (several, so one channel that
    hangs until its timeout does not hold up the others). At most ``max_pending``
    deliveries wait at a time; beyond that a delivery is refused and recorded as failed,
    never blocking the caller.
    """

    def __init__(
        self,
        channels: Iterable[Channel],
        *,
        retry: RetryPolicy | None = None,
        log: DeliveryLog | None = None,
        clock: Clock | None = None,
        workers: int = 4,
        max_pending: int = 10_000,
        failure_capacity: int = 1000,
    ) -> None:
        self.channels: dict[str, Channel] = {}
        for channel in channels:
            if channel.name in self.channels:
                raise ConfigError(f"two alert channels are named {channel.name!r}")
            self.channels[channel.name] = channel
        if workers < 1:
            raise ConfigError(f"the dispatcher needs at least one worker, got {workers}")
        self.retry = retry or RetryPolicy()
        self.log: DeliveryLog = log if log is not None else MemoryDeliveryLog()
        self._clock: Clock = clock or SystemClock()
        self._max_pending = max_pending
        self._ready: deque[_Job] = deque()
        self._later: list[_Job] = []  # heap of retries by due time
        self._in_flight = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closing = False
        self._failures: deque[DeliveryAttempt] = deque(maxlen=failure_capacity)
        self._latencies: deque[float] = deque(maxlen=10_000)
        self._stats = DispatcherStats()
        self._threads = [
            threading.Thread(target=self._work, name=f"yuqing-alerts-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # -- the caller's side ---------------------------------------------------------------

    def submit(self, alert: Alert, channels: Sequence[str] | None = None) -> int:
        """Queue ``alert`` for every channel (or the named ones); returns deliveries queued."""
        if channels is None:
            targets = list(self.channels.values())
        else:
            unknown = [n for n in channels if n not in self.channels]
            if unknown:
                raise ConfigError(
                    f"alert {alert.id} (rule {alert.rule_id}): unknown channel(s) "
                    f"{', '.join(unknown)}; configured: {', '.join(self.channels) or 'none'}"
                )
            targets = [self.channels[n] for n in channels]
        now = self._clock.now()
        started = time.perf_counter()
        refused: list[tuple[Channel, str]] = []
        with self._cond:
            self._stats.submitted += 1
            for channel in targets:
                if self._closing:
                    refused.append((channel, "the dispatcher is closed"))
                elif self._pending() >= self._max_pending:
                    refused.append(
                        (channel, f"queue full ({self._max_pending} deliveries waiting)")
                    )
                else:
                    self._ready.append(_Job(now, next(self._seq), alert, channel, 1, started))
            self._cond.notify(len(targets) - len(refused))
        for channel, why in refused:
            self._give_up(alert, channel, why)
        return len(targets) - len(refused)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued, scheduled or in flight; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(_POLL if remaining is None else min(remaining, _POLL))
            return True

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is pending (up to ``timeout`` s), stop the workers, close channels.

        Deliveries still pending after the timeout are recorded as failures.
        """
        self.flush(timeout)
        with self._cond:
            self._closing = True
            left = list(self._ready) + list(self._later)
            self._ready.clear()
            self._later.clear()
            self._cond.notify_all()
        for job in left:
            self._give_up(job.alert, job.channel, "the dispatcher closed before delivery")
        for thread in self._threads:
            thread.join(timeout)
        for channel in self.channels.values():
            channel.close()

    def failures(self, n: int = 100) -> list[DeliveryAttempt]:
        """Deliveries that gave up (their last attempt), newest first."""
        with self._cond:
            return list(itertools.islice(reversed(self._failures), n))

    def stats(self) -> DispatcherStats:
        with self._cond:
            latencies = list(self._latencies)
            out = DispatcherStats(
                **{
                    f: getattr(self._stats, f)
                    for f in ("submitted", "delivered", "failed", "retries")
                }
            )
            out.pending = self._pending()
        out.latency_p50_ms = _percentile(latencies, 0.5)
        out.latency_p99_ms = _percentile(latencies, 0.99)
        return out

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the workers' side ---------------------------------------------------------------

    def _pending(self) -> int:
        return len(self._ready) + len(self._later) + self._in_flight

    def _next_job(self) -> _Job | None:
        with self._cond:
            while True:
                if self._closing:
                    return None
                if self._ready:
                    job = self._ready.popleft()
                elif self._later and self._later[0].due <= self._clock.now():
                    job = heapq.heappop(self._later)
                else:
                    wait = None
                    if self._later:
                        due_in = (self._later[0].due - self._clock.now()).total_seconds()
                        wait = min(max(due_in, 0.0), _POLL)
                    self._cond.wait(wait)
                    continue
                self._in_flight += 1
                return job

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                self._deliver(job)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, job: _Job) -> None:
        began = time.perf_counter()
        try:
            result = job.channel.send(job.alert)
        except Exception as exc:  # a bug in a channel must not kill the worker
            LOG.exception(
                "channel %s raised while sending alert %s", job.channel.name, job.alert.id
            )
            result = DeliveryResult.failure(
                f"channel {job.channel.name!r} raised {type(exc).__name__}: {exc}", retryable=False
            )
        ended = time.perf_counter()
        now = self._clock.now()
        retry = (
            not result.ok
            and result.retryable
            and job.attempt < self.retry.attempts
            and not self._closing  # a closing dispatcher gives up instead of rescheduling
        )
        next_at = None
        if retry:
            next_at = now + timedelta(seconds=self.retry.delay(job.attempt, result.retry_after))
        record = DeliveryAttempt(
            alert_id=job.alert.id,
            rule_id=job.alert.rule_id,
            channel=job.channel.name,
            attempt=job.attempt,
            at=now,
            ok=result.ok,
            final=not retry,
            retryable=result.retryable,
            status=result.status,
            error=result.error,
            response=result.response,
            duration_ms=(ended - began) * 1000,
            latency_ms=(ended - job.submitted) * 1000,
            next_retry_at=next_at,
        )
        self._record(record)
        with self._cond:
            if result.ok:
                self._stats.delivered += 1
                self._latencies.append(record.latency_ms)
            elif retry and next_at is not None:
                self._stats.retries += 1
                nxt = _Job(
                    next_at, next(self._seq), job.alert, job.channel, job.attempt + 1, job.submitted
                )
                heapq.heappush(self._later, nxt)
                self._cond.notify()
            else:
                self._stats.failed += 1
                self._failures.append(record)
        if not result.ok and not retry:
            LOG.warning(
                "alert %s not delivered via %s after %d attempt(s): %s",
                job.alert.id, job.channel.name, job.attempt, result.error,
            )  # fmt: skip

    def _give_up(self, alert: Alert, channel: Channel, why: str) -> None:
        record = DeliveryAttempt(
            alert_id=alert.id,
            rule_id=alert.rule_id,
            channel=channel.name,
            attempt=0,
            at=self._clock.now().astimezone(UTC),
            ok=False,
            final=True,
            error=why,
        )
        self._record(record)
        with self._cond:
            self._stats.failed += 1
            self._failures.append(record)
        LOG.warning("alert %s not delivered via %s: %s", alert.id, channel.name, why)

    def _record(self, attempt: DeliveryAttempt) -> None:
        try:
            self.log.record(attempt)
        except Exception:  # a broken log must not stop delivery
            LOG.exception("delivery log failed to record an attempt")


_DELIVERY_KEYS = (
    "attempts",
    "base_delay",
    "multiplier",
    "max_delay",
    "jitter",
    "workers",
    "max_pending",
    "log",
)


def dispatcher_from_config(
    channels: Iterable[Mapping[str, Any]],
    delivery: Mapping[str, Any] | None = None,
    *,
    clock: Clock | None = None,
    secrets: SecretResolver | None = None,
) -> Dispatcher:
    """A Dispatcher from yuqing.toml's ``[[alerts.channels]]`` tables and ``[alerts.delivery]``
    (``secrets`` resolves the channels' ``env:``/``file:`` references; default: environment).

    ``delivery`` keys: ``attempts``, ``base_delay``, ``multiplier``, ``max_delay``,
    ``jitter`` (RetryPolicy), ``workers``, ``max_pending``, and ``log`` (a JSONL path
    for the delivery log; absent: in memory only).
    """
    options = dict(delivery or {})
    unknown = sorted(set(options) - set(_DELIVERY_KEYS))
    if unknown:
        raise ConfigError(
            f"alerts.delivery: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_DELIVERY_KEYS)}"
        )
    retry_keys = ("attempts", "base_delay", "multiplier", "max_delay", "jitter")
    try:
        retry = RetryPolicy(**{k: options[k] for k in retry_keys if k in options})
        workers = int(options.get("workers", 4))
        max_pending = int(options.get("max_pending", 10_000))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"alerts.delivery: {exc}") from exc
    log_path = options.get("log")
    if log_path is not None and not isinstance(log_path, str):
        raise ConfigError(f"alerts.delivery: 'log' must be a file path, got {log_path!r}")
    log: DeliveryLog = JsonlDeliveryLog(log_path) if log_path else MemoryDeliveryLog()
    return Dispatcher(
        channels_from_config(channels, secrets=secrets),
        retry=retry,
        log=log,
        clock=clock,
        workers=workers,
        max_pending=max_pending,
    )
