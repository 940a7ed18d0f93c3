"""The Alert that rules raise and channels deliver, and the cooldown that keeps it to one.

An :class:`Alert` is a plain value: who raised it (``rule_id``), why (``kind``,
``reasons``), about what (``event_id``, ``samples``) and where a person reads more
(``link``). Its ``id`` is derived from (rule, kind, event, time), so replaying the same
posts in a drill or a batch run gives the same ids as the live run.

:class:`Cooldown` keeps an officer from receiving forty copies of one story: one alert per
(rule, event) inside a window of scenario time from the injectable clock; later matches
are folded into the open alert's ``suppressed`` counter instead of being sent again.
The payload schema (``Alert.as_payload``) is documented in docs/alerts.md.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from yuqing.clock import Clock
from yuqing.models import Document

AlertKind = Literal[
    "match", "count", "negative_share", "burst", "new_event", "risk", "deadline", "digest"
]
Severity = Literal["low", "medium", "high", "critical"]

ALERT_KINDS: tuple[AlertKind, ...] = (
    "match",
    "count",
    "negative_share",
    "burst",
    "new_event",
    "risk",
    "deadline",  # a case's first statement is overdue (yuqing.cases.overdue_alerts)
    "digest",  # one message batching a period's alerts (yuqing.alerts.digest)
)
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")

#: Chinese labels for messages read by people (the identifiers stay English).
KIND_LABELS: Mapping[str, str] = {
    "match": "规则命中",
    "count": "数量超阈值",
    "negative_share": "负面占比超阈值",
    "burst": "声量突增",
    "new_event": "新事件",
    "risk": "风险预警",
    "deadline": "通报超时",
    "digest": "预警摘要",
}
SEVERITY_LABELS: Mapping[str, str] = {
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "紧急",
}

PAYLOAD_VERSION = 1
SAMPLE_CHARS = 140  # a sample's text is cut here: a message, not an archive
MAX_SAMPLES = 5


def _utc(when: datetime, what: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {when.isoformat()}")
    return when.astimezone(UTC)


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def truncate(text: str, limit: int = SAMPLE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when something was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(slots=True, frozen=True)
class AlertSample:
    """One post shown inside an alert, so the reader sees what triggered it."""

    source: str
    id: str
    text: str
    url: str | None = None
    published_at: datetime | None = None

    @classmethod
    def from_document(cls, doc: Document, limit: int = SAMPLE_CHARS) -> AlertSample:
        """A sample from a pipeline document, its text truncated to ``limit`` characters."""
        return cls(
            source=doc.source,
            id=doc.id,
            text=truncate(doc.text, limit),
            url=doc.url,
            published_at=doc.published_at,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.id,
            "text": self.text,
            "url": self.url,
            "published_at": _iso(self.published_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertSample:
        return cls(
            source=str(data["source"]),
            id=str(data["id"]),
            text=str(data["text"]),
            url=data.get("url"),
            published_at=_parse_iso(data.get("published_at")),
        )


def alert_id(rule_id: str, kind: str, event_id: str | None, created_at: datetime) -> str:
    """Deterministic id: the same rule, kind, event and time always give the same id."""
    key = "\x1f".join((rule_id, kind, event_id or "", _iso(created_at) or ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def alert_link(public_url: str, alert_id: str, event_id: str | None) -> str:
    """Where a person reads more: the event page when there is one, else the alert page."""
    base = public_url.rstrip("/")
    return f"{base}/events/{event_id}" if event_id else f"{base}/alerts/{alert_id}"


@dataclass(slots=True)
class Alert:
    """One alert raised by a monitoring rule.

    Build it with :meth:`create`, which derives ``id`` and ``link``. ``suppressed`` counts
    later matches folded into this alert by a :class:`Cooldown`; it is the only field that
    changes after creation.
    """

    id: str
    rule_id: str
    kind: AlertKind
    title: str
    severity: Severity
    created_at: datetime
    link: str
    event_id: str | None = None
    reasons: list[str] = field(default_factory=list)
    samples: list[AlertSample] = field(default_factory=list)
    suppressed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ALERT_KINDS:
            raise ValueError(f"alert kind {self.kind!r} is not one of {', '.join(ALERT_KINDS)}")
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"alert severity {self.severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        self.created_at = _utc(self.created_at, "Alert.created_at")

    @classmethod
    def create(
        cls,
        *,
        rule_id: str,
        kind: AlertKind,
        title: str,
        severity: Severity,
        created_at: datetime,
        public_url: str,
        event_id: str | None = None,
        reasons: Iterable[str] = (),
        samples: Iterable[AlertSample | Document] = (),
        max_samples: int = MAX_SAMPLES,
    ) -> Alert:
        """A new alert with its deterministic id and its link under ``public_url``.

        ``samples`` may be documents (truncated here) or ready samples; at most
        ``max_samples`` are kept.
        """
        created = _utc(created_at, "created_at")
        ident = alert_id(rule_id, kind, event_id, created)
        kept = [s if isinstance(s, AlertSample) else AlertSample.from_document(s) for s in samples][
            :max_samples
        ]
        return cls(
            id=ident,
            rule_id=rule_id,
            kind=kind,
            title=title,
            severity=severity,
            created_at=created,
            link=alert_link(public_url, ident, event_id),
            event_id=event_id,
            reasons=list(reasons),
            samples=kept,
        )

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    def as_payload(self) -> dict[str, Any]:
        """The JSON body sent to webhooks and written to logs (schema in docs/alerts.md)."""
        return {
            "version": PAYLOAD_VERSION,
            "id": self.id,
            "rule_id": self.rule_id,
            "kind": self.kind,
            "title": self.title,
            "severity": self.severity,
            "event_id": self.event_id,
            "created_at": _iso(self.created_at),
            "reasons": list(self.reasons),
            "samples": [s.as_dict() for s in self.samples],
            "link": self.link,
            "suppressed": self.suppressed,
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Alert:
        """The inverse of :meth:`as_payload` (for the store and for receivers)."""
        created = _parse_iso(data["created_at"])
        if created is None:
            raise ValueError("alert payload has no created_at")
        return cls(
            id=str(data["id"]),
            rule_id=str(data["rule_id"]),
            kind=cast(AlertKind, data["kind"]),
            title=str(data["title"]),
            severity=cast(Severity, data["severity"]),
            created_at=created,
            link=str(data["link"]),
            event_id=data.get("event_id"),
            reasons=[str(r) for r in data.get("reasons", [])],
            samples=[AlertSample.from_dict(s) for s in data.get("samples", [])],
            suppressed=int(data.get("suppressed", 0)),
        )


@dataclass(slots=True)
class _Open:
    alert: Alert
    opened_at: datetime


class Cooldown:
    """One alert per (rule_id, event_id) inside ``window`` of scenario time.

    ``admit(alert)`` is True when the alert should be sent: no alert is open for its key,
    or the open one is older than the window. Otherwise the alert is folded into the open
    one (its ``suppressed`` grows by one, plus whatever the newcomer had folded) and
    ``admit`` is False. The window is fixed from the moment an alert is sent, not sliding,
    so a steady stream of matches still yields one alert per window. When a new window
    opens after folds, the new alert gets a reason saying how many were folded before.

    Memory is bounded: expired keys are pruned every ``prune_every`` calls, and past
    ``max_keys`` the oldest open keys are dropped. Thread-safe.
    """

    def __init__(
        self,
        window: timedelta,
        clock: Clock,
        *,
        max_keys: int = 100_000,
        prune_every: int = 1024,
    ) -> None:
        if window <= timedelta(0):
            raise ValueError(f"cooldown window must be positive, got {window}")
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._prune_every = prune_every
        self._open: dict[tuple[str, str | None], _Open] = {}
        self._calls = 0
        self._lock = threading.Lock()

    def admit(self, alert: Alert) -> bool:
        """True: send ``alert`` (it opens a window); False: it was folded into the open one."""
        now = self._clock.now()
        key = (alert.rule_id, alert.event_id)
        with self._lock:
            self._calls += 1
            if self._calls % self._prune_every == 0:
                self._prune(now)
            current = self._open.get(key)
            if current is not None and now - current.opened_at < self.window:
                current.alert.suppressed += 1 + alert.suppressed
                return False
            if current is not None:
                del self._open[key]  # re-inserted below, so dict order stays opening order
                if current.alert.suppressed:
                    alert.reasons.append(
                        f"上一冷却期内另有 {current.alert.suppressed} 次触发已合并到告警 {current.alert.id}"
                    )
            self._open[key] = _Open(alert, now)
            while len(self._open) > self._max_keys:
                del self._open[next(iter(self._open))]
            return True

    def open_alert(self, rule_id: str, event_id: str | None = None) -> Alert | None:
        """The alert currently open for (rule_id, event_id), if its window has not ended."""
        now = self._clock.now()
        with self._lock:
            current = self._open.get((rule_id, event_id))
            if current is None or now - current.opened_at >= self.window:
                return None
            return current.alert

    def prune(self) -> int:
        """Forget keys whose window has ended; returns how many were dropped."""
        with self._lock:
            return self._prune(self._clock.now())

    def __len__(self) -> int:
        return len(self._open)

    def _prune(self, now: datetime) -> int:
        expired = [k for k, v in self._open.items() if now - v.opened_at >= self.window]
        for key in expired:
            del self._open[key]
        return len(expired)
