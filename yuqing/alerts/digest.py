"""Digests: a channel (a recipient) that wants one message per hour or per day instead of one
per alert.

Configured in ``[alerts.digest]``::

    [alerts.digest]
    daily_at = "08:00"              # local time (the ``timezone`` setting) of daily digests

    [alerts.digest.channels]
    email-office = "daily"          # immediate (the default), hourly or daily
    wecom-duty = "hourly"

A channel in digest mode is wrapped in a :class:`DigestChannel`: an alert sent to it is
held (the delivery log records it as delivered with the answer 已加入每小时摘要…), and
:meth:`DigestScheduler.tick` (every poll of ``yuqing run``; tests call it on a
:class:`~yuqing.clock.ManualClock`) sends, when a period has ended, one alert of kind
``digest`` that lists the period's alerts through the real channel, with the dispatcher's
retries and delivery log. Hourly periods end on the hour, daily ones at ``daily_at``, both
in the configured zone. A period without alerts sends nothing. Escalation copies
(:func:`yuqing.alerts.escalation.is_escalation`) are never held: they are urgent.

The digest message, in Chinese: the title 舆情预警每小时摘要（09:00–10:00，共 3 条）, a
count per severity and per rule, and one line per alert (severity, kind, local time,
title) linking to the alert's page; its own link opens the alerts inbox. Webhooks receive
it as an alert payload of kind ``digest`` whose ``samples`` are the alerts (id, title, link).

Held alerts live in memory: when ``yuqing run`` stops, :meth:`DigestScheduler.flush` sends
what is held at once, so nothing is lost on an orderly stop; a crash loses the pending list
(the alerts themselves stay in the store and the inbox).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

from yuqing.alerts.alert import (
    KIND_LABELS,
    SEVERITIES,
    SEVERITY_LABELS,
    Alert,
    AlertSample,
    alert_id,
)
from yuqing.alerts.channels.base import Channel, DeliveryResult
from yuqing.alerts.escalation import is_escalation
from yuqing.clock import Clock
from yuqing.errors import ConfigError

if TYPE_CHECKING:
    from yuqing.alerts.delivery import Dispatcher

__all__ = [
    "DIGEST_MODES",
    "DigestChannel",
    "DigestConfig",
    "DigestScheduler",
    "build_digest",
    "next_digest_time",
]

DigestMode = Literal["immediate", "hourly", "daily"]
DIGEST_MODES: tuple[str, ...] = ("immediate", "hourly", "daily")
MODE_LABELS = {"hourly": "每小时", "daily": "每日"}
RULE_ID = "digest"
TITLE_CHARS = 80


@dataclass(slots=True, frozen=True)
class DigestConfig:
    """Channel name -> hourly or daily (immediate channels are left out), the local time of
    daily digests and the zone periods are cut in."""

    modes: Mapping[str, DigestMode]
    zone: ZoneInfo
    daily_at: time = time(8, 0)

    @classmethod
    def from_config(cls, table: Mapping[str, Any], zone: ZoneInfo) -> DigestConfig:
        """The config of ``[alerts.digest]``; ConfigError names the bad key or value."""
        unknown = sorted(set(table) - {"channels", "daily_at"})
        if unknown:
            raise ConfigError(
                f"alerts.digest: unknown key(s) {', '.join(unknown)}; allowed: channels, daily_at"
            )
        channels = table.get("channels") or {}
        if not isinstance(channels, Mapping):
            raise ConfigError(
                'alerts.digest.channels: expected a table such as { email-office = "daily" }'
            )
        modes: dict[str, DigestMode] = {}
        for name, mode in channels.items():
            if mode not in DIGEST_MODES:
                raise ConfigError(
                    f"alerts.digest.channels.{name}: {mode!r} is not one of {', '.join(DIGEST_MODES)}"
                )
            if mode != "immediate":
                modes[str(name)] = cast(DigestMode, mode)
        text = str(table.get("daily_at", "08:00"))
        try:
            daily_at = time.fromisoformat(text)
        except ValueError as exc:
            raise ConfigError(
                f'alerts.digest.daily_at: {text!r} is not a time of day such as "08:00"'
            ) from exc
        return cls(modes, zone, daily_at.replace(tzinfo=None))


def next_digest_time(mode: str, after: datetime, config: DigestConfig) -> datetime:
    """The first end of a ``mode`` period strictly after ``after`` (aware, UTC)."""
    local = after.astimezone(config.zone)
    if mode == "hourly":
        due = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        due = datetime.combine(local.date(), config.daily_at, tzinfo=config.zone)
        if due <= local:
            due = datetime.combine(
                local.date() + timedelta(days=1), config.daily_at, tzinfo=config.zone
            )
    return due.astimezone(after.tzinfo)


class DigestChannel:
    """Holds alerts for ``inner``'s digest; passes digests and escalations straight on."""

    def __init__(self, inner: Channel, mode: DigestMode) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind = inner.kind
        self.mode = mode
        self._held: list[Alert] = []
        self._lock = threading.Lock()

    def send(self, alert: Alert) -> DeliveryResult:
        if alert.kind == "digest" or is_escalation(alert):
            return self.inner.send(alert)
        with self._lock:
            if all(a.id != alert.id for a in self._held):
                self._held.append(alert)
        return DeliveryResult.success(response=f"已加入{MODE_LABELS[self.mode]}摘要")

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def take(self) -> list[Alert]:
        """The held alerts (oldest first), emptying the hold."""
        with self._lock:
            taken, self._held = self._held, []
        return taken

    def close(self) -> None:
        self.inner.close()


def _local(when: datetime, zone: ZoneInfo, with_date: bool) -> str:
    return when.astimezone(zone).strftime("%m-%d %H:%M" if with_date else "%H:%M")


def build_digest(
    alerts: Sequence[Alert],
    *,
    channel: str,
    mode: str,
    start: datetime,
    end: datetime,
    public_url: str,
    zone: ZoneInfo,
) -> Alert:
    """One alert of kind ``digest`` listing ``alerts`` (at least one), for ``channel``."""
    if not alerts:
        raise ValueError("a digest needs at least one alert")
    ordered = sorted(alerts, key=lambda a: (a.created_at, a.id))
    label = MODE_LABELS.get(mode, "")
    span = f"{_local(start, zone, True)}–{_local(end, zone, mode == 'daily')}"
    top = max((a.severity for a in ordered), key=SEVERITIES.index)
    by_severity = Counter(a.severity for a in ordered)
    by_rule = Counter(a.rule_id for a in ordered)
    reasons = [
        "按级别："
        + "，".join(
            f"{SEVERITY_LABELS[s]} {by_severity[s]} 条"
            for s in reversed(SEVERITIES)
            if by_severity[s]
        ),
        "按规则：" + "，".join(f"{rule} {n} 条" for rule, n in by_rule.most_common()),
    ]
    samples = [
        AlertSample(
            source=f"{SEVERITY_LABELS[a.severity]}·{KIND_LABELS.get(a.kind, a.kind)}",
            id=a.id,
            text=_cut(f"{_local(a.created_at, zone, True)} {a.title}"),
            url=a.link,
            published_at=a.created_at,
        )
        for a in ordered
    ]
    return Alert(
        id=alert_id(f"{RULE_ID}:{channel}", "digest", None, end),
        rule_id=RULE_ID,
        kind="digest",
        title=f"舆情预警{label}摘要（{span}，共 {len(ordered)} 条）",
        severity=top,
        created_at=end,
        link=f"{public_url.rstrip('/')}/alerts",
        reasons=reasons,
        samples=samples,
    )


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


class DigestScheduler:
    """Wraps the dispatcher's digest-mode channels and sends their digests when due."""

    def __init__(
        self, config: DigestConfig, dispatcher: Dispatcher, clock: Clock, public_url: str
    ) -> None:
        unknown = [n for n in config.modes if n not in dispatcher.channels]
        if unknown:
            raise ConfigError(
                f"alerts.digest.channels: unknown channel(s) {', '.join(unknown)}; "
                f"configured [[alerts.channels]]: {', '.join(dispatcher.channels) or 'none'}"
            )
        self.config = config
        self.dispatcher = dispatcher
        self.clock = clock
        self.public_url = public_url
        now = clock.now()
        self.channels: dict[str, DigestChannel] = {}
        self._start: dict[str, datetime] = {}
        self._due: dict[str, datetime] = {}
        for name, mode in config.modes.items():
            inner = dispatcher.channels[name]
            wrapped = inner if isinstance(inner, DigestChannel) else DigestChannel(inner, mode)
            dispatcher.channels[name] = wrapped  # alerts sent to it are held from now on
            self.channels[name] = wrapped
            self._start[name] = now
            self._due[name] = next_digest_time(mode, now, config)

    def next_due(self, channel: str) -> datetime:
        return self._due[channel]

    def tick(self) -> list[Alert]:
        """Send the digest of every channel whose period has ended; return the digests."""
        now = self.clock.now()
        sent: list[Alert] = []
        for name, channel in self.channels.items():
            if now < self._due[name]:
                continue
            end = self._due[name]
            digest = self._send(name, channel, self._start[name], end)
            if digest is not None:
                sent.append(digest)
            self._start[name] = end
            self._due[name] = next_digest_time(channel.mode, now, self.config)
        return sent

    def flush(self) -> list[Alert]:
        """Send what every channel holds now, without waiting for its period to end."""
        now = self.clock.now()
        sent = []
        for name, channel in self.channels.items():
            digest = self._send(name, channel, self._start[name], now)
            if digest is not None:
                sent.append(digest)
            self._start[name] = now
        return sent

    def _send(
        self, name: str, channel: DigestChannel, start: datetime, end: datetime
    ) -> Alert | None:
        held = channel.take()
        if not held:
            return None
        digest = build_digest(
            held,
            channel=name,
            mode=channel.mode,
            start=start,
            end=end,
            public_url=self.public_url,
            zone=self.config.zone,
        )
        self.dispatcher.submit(digest, [name])
        return digest
