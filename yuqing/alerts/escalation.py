"""Escalation: an alert nobody acknowledged in time goes to the next contact in a chain.

Configured in ``[alerts.escalation]``::

    [alerts.escalation]
    min_severity = "medium"     # lower alerts are never escalated (default: low, all)
    max_age = "24h"             # older unacknowledged alerts are left alone (default 24h)

    [[alerts.escalation.steps]]
    after = "15m"               # not acknowledged 15 minutes after it was raised ...
    channels = ["dingtalk-chief"]   # ... goes to these [[alerts.channels]]

    [[alerts.escalation.steps]]
    after = "1h"
    channels = ["email-director"]

:meth:`Escalator.check` (run every poll of ``yuqing run``; tests call it on a
:class:`~yuqing.clock.ManualClock`) reads the stored alerts still ``new`` (not acknowledged,
not a false alarm) and, for each step whose ``after`` has passed since the alert was raised,
sends a copy titled 【升级·第N级】 with a reason saying how long it waited to the step's
channels through the dispatcher (retries and the delivery log as for any alert). Each step
happens once per alert: before sending, a marker attempt on channel ``escalation-N`` is
written to the store's delivery log, and a step whose marker is there is skipped, so a
restart or a second process does not page twice. The alert page lists the markers with the
deliveries. Steps due together (the check was not running) all go out at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from yuqing.alerts.alert import SEVERITIES, SEVERITY_LABELS, Alert, Severity
from yuqing.alerts.delivery import DeliveryAttempt
from yuqing.clock import Clock
from yuqing.errors import ConfigError, YuqingError
from yuqing.settings import parse_duration

if TYPE_CHECKING:
    from yuqing.alerts.delivery import Dispatcher
    from yuqing.store.base import Store

__all__ = [
    "ESCALATION_PREFIX",
    "Escalation",
    "EscalationPolicy",
    "EscalationStep",
    "Escalator",
    "is_escalation",
    "marker_channel",
]

LOG = logging.getLogger("yuqing.alerts.escalation")
ESCALATION_PREFIX = "【升级·第"
MAX_ALERTS = 10_000  # unacknowledged alerts looked at per check
_KEYS = ("steps", "min_severity", "max_age")


def marker_channel(step: int) -> str:
    """The delivery-log channel that records step ``step`` (1-based) of an alert."""
    return f"escalation-{step}"


def is_escalation(alert: Alert) -> bool:
    """True for the copy of an alert that an escalation step sends (never held for a digest)."""
    return alert.title.startswith(ESCALATION_PREFIX)


@dataclass(slots=True, frozen=True)
class EscalationStep:
    """After ``after`` without acknowledgement, the alert goes to ``channels``."""

    after: timedelta
    channels: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class EscalationPolicy:
    """The chain of steps (``after`` increasing), and which alerts it applies to."""

    steps: tuple[EscalationStep, ...]
    min_severity: Severity = "low"
    max_age: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> EscalationPolicy | None:
        """The policy of ``[alerts.escalation]``; None when it has no steps. ConfigError
        names the bad key or step."""
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"alerts.escalation: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_KEYS)}"
            )
        raw = table.get("steps") or []
        if not isinstance(raw, list):
            raise ConfigError(
                "alerts.escalation.steps: expected [[alerts.escalation.steps]] tables"
            )
        steps: list[EscalationStep] = []
        for n, item in enumerate(raw, 1):
            where = f"alerts.escalation.steps[{n}]"
            if not isinstance(item, Mapping) or set(item) - {"after", "channels"}:
                raise ConfigError(f"{where}: expected a table with 'after' and 'channels'")
            if "after" not in item:
                raise ConfigError(f'{where}: missing "after", e.g. after = "15m"')
            after = parse_duration(item["after"], f"{where}.after")
            channels = item.get("channels")
            if isinstance(channels, str):
                channels = [channels]
            if not channels or not all(isinstance(c, str) and c for c in channels):
                raise ConfigError(f"{where}: 'channels' must name at least one alert channel")
            if steps and after <= steps[-1].after:
                raise ConfigError(f"{where}: 'after' must be later than the step before it")
            steps.append(EscalationStep(after, tuple(channels)))
        severity = table.get("min_severity", "low")
        if severity not in SEVERITIES:
            raise ConfigError(
                f"alerts.escalation.min_severity: {severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        max_age = parse_duration(table.get("max_age", "24h"), "alerts.escalation.max_age")
        if steps and max_age <= steps[-1].after:
            raise ConfigError(
                "alerts.escalation.max_age: must be longer than the last step's 'after'"
            )
        if not steps:
            return None
        return cls(tuple(steps), cast(Severity, severity), max_age)


@dataclass(slots=True, frozen=True)
class Escalation:
    """One step taken: which alert, which step (1-based), to which channels."""

    alert_id: str
    step: int
    channels: tuple[str, ...]
    queued: int


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes / 60:g} 小时"
    return f"{minutes:g} 分钟"


class Escalator:
    """Check the store for alerts due for a step of ``policy`` and send them on."""

    def __init__(self, policy: EscalationPolicy, dispatcher: Dispatcher, clock: Clock) -> None:
        for n, step in enumerate(policy.steps, 1):
            unknown = [c for c in step.channels if c not in dispatcher.channels]
            if unknown:
                raise ConfigError(
                    f"alerts.escalation.steps[{n}]: unknown channel(s) {', '.join(unknown)}; "
                    f"configured [[alerts.channels]]: {', '.join(dispatcher.channels) or 'none'}"
                )
        self.policy = policy
        self.dispatcher = dispatcher
        self.clock = clock
        self._floor = SEVERITIES.index(policy.min_severity)

    def check(self, store: Store) -> list[Escalation]:
        """Take every step now due; return them (an empty list when nothing was due)."""
        now = self.clock.now()
        first = self.policy.steps[0].after
        found = store.alerts(
            status="new", since=now - self.policy.max_age, until=now - first + _EPS,
            limit=MAX_ALERTS,
        )  # fmt: skip
        done: list[Escalation] = []
        for stored in found:
            alert = stored.alert
            if alert.kind == "digest" or SEVERITIES.index(alert.severity) < self._floor:
                continue
            waited = now - alert.created_at
            due = [(n, s) for n, s in enumerate(self.policy.steps, 1) if waited >= s.after]
            if not due:
                continue
            taken = {d.channel for d in store.deliveries(alert_id=alert.id, limit=1000)}
            for n, step in due:
                if marker_channel(n) in taken:
                    continue
                done.append(self._escalate(store, alert, n, step))
        return done

    def _escalate(self, store: Store, alert: Alert, n: int, step: EscalationStep) -> Escalation:
        now = self.clock.now()
        why = (
            f"告警发出后 {_minutes(step.after)}内无人确认（级别：{SEVERITY_LABELS[alert.severity]}），"
            f"按升级链通知第 {n} 级：{'、'.join(step.channels)}"
        )
        store.record_delivery(
            DeliveryAttempt(
                alert_id=alert.id,
                rule_id=alert.rule_id,
                channel=marker_channel(n),
                attempt=1,
                at=now,
                ok=True,
                final=True,
                response=why,
            )
        )  # the marker first: at most once per step, even if sending fails below
        copy = replace(
            alert, title=f"{ESCALATION_PREFIX}{n}级】{alert.title}", reasons=[why, *alert.reasons]
        )
        try:
            queued = self.dispatcher.submit(copy, list(step.channels))
        except YuqingError as exc:  # a channel removed since start: log, do not stop the loop
            LOG.error("alert %s: escalation step %d not sent: %s", alert.id, n, exc)
            queued = 0
        LOG.info("alert %s escalated to step %d (%s)", alert.id, n, ", ".join(step.channels))
        return Escalation(alert.id, n, step.channels, queued)


_EPS = timedelta(microseconds=1)


def escalator_from_settings(
    table: Mapping[str, Any], dispatcher: Dispatcher, clock: Clock
) -> Escalator | None:
    """The Escalator of ``[alerts.escalation]`` (None when no steps are configured)."""
    policy = EscalationPolicy.from_config(table)
    return None if policy is None else Escalator(policy, dispatcher, clock)


def steps_summary(steps: Sequence[EscalationStep]) -> str:
    """``15m -> dingtalk-chief; 1h -> email-director`` (for the run loop's first line)."""
    return "; ".join(f"{_minutes(s.after)} -> {', '.join(s.channels)}" for s in steps)
