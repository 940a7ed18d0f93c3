"""Triggers: when the posts a monitoring rule matches become an alert.

A monitoring rule (:mod:`yuqing.alerts.rules_config`) has a query and one or more
triggers. The engine matches every batch against all rules at once and hands each
trigger the :class:`Observation` s (post and its time) its rule matched; the trigger keeps
its own small state and returns :class:`Firing` s: a kind, the event it is about, reasons
(Chinese sentences) and sample posts. The engine turns firings into alerts and applies
the rule's cooldown (one alert per rule and event per window).

Time is scenario time: a post's time is its ``published_at`` (else ``ingested_at``), and
"now" for windows and buckets is the newest post time seen (:attr:`TriggerContext.now`),
never the wall clock, so a replay or a drill gives the alerts of the live run.

=================  ===============================================================
``match``          every matching post (grouped per event within a batch)
``count``          ``n(window) >= threshold``
``negative_share`` ``neg / n_sent >= threshold`` and ``n_sent >= min_count``
``burst``          the current bucket against the ``baseline`` buckets before it
                   (:class:`yuqing.events.burst.BurstTest`: Poisson or z-score)
``new_event``      an event holding matching posts whose heat index reaches
                   ``threshold`` (:func:`yuqing.events.heat.heat`), once per event
``risk``           ``risk.rumor`` or ``risk.group_incident`` of a matching post
                   ``>= threshold``
=================  ===============================================================

Formulas and defaults are in docs/monitoring.md.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from yuqing.alerts.alert import AlertKind, AlertSample, Severity
from yuqing.errors import UsageError
from yuqing.events.burst import BurstTest
from yuqing.events.heat import EventStats, HeatConfig, heat
from yuqing.models import Document

__all__ = [
    "BurstTrigger",
    "CountTrigger",
    "EventInfo",
    "Firing",
    "MatchTrigger",
    "NegativeShareTrigger",
    "NewEventTrigger",
    "Observation",
    "RiskTrigger",
    "Trigger",
    "TriggerContext",
    "duration_label",
]

MAX_SAMPLES = 5
_MAX_KEYS = 10_000  # per trigger: (rule, event) windows kept; the least recently used go


def duration_label(span: timedelta) -> str:
    """A duration in Chinese for reasons: 1小时, 30分钟, 2天, 45秒."""
    seconds = span.total_seconds()
    for unit, label in ((86400, "天"), (3600, "小时"), (60, "分钟")):
        if seconds >= unit and seconds % unit == 0:
            return f"{int(seconds // unit)}{label}"
    if seconds >= 3600:
        return f"{seconds / 3600:g}小时"
    if seconds >= 60:
        return f"{seconds / 60:g}分钟"
    return f"{seconds:g}秒"


@dataclass(slots=True, frozen=True)
class Observation:
    """A post a rule matched, and its scenario time (aware UTC)."""

    doc: Document
    at: datetime

    @property
    def event_id(self) -> str | None:
        value = self.doc.analysis.get("event_id")
        return str(value) if value else None


@dataclass(slots=True)
class Firing:
    """What a trigger reports: the engine makes it an Alert (id, link, severity, cooldown)."""

    kind: AlertKind
    event_id: str | None
    reasons: list[str]
    samples: list[AlertSample | Document]
    detail: str  # a short phrase for the alert title
    severity: Severity | None = None  # the trigger's override of the rule's severity


class EventInfo(Protocol):
    """What event-based triggers need to know about an event, whoever clusters posts."""

    def stats(self, event_id: str, now: datetime) -> EventStats | None:
        """The event's counts as the heat index reads them, hours ending at ``now``."""
        ...

    def title(self, event_id: str) -> str | None: ...

    def samples(self, event_id: str) -> list[AlertSample]: ...


@dataclass(slots=True)
class TriggerContext:
    """What a trigger may read besides its observations.

    ``now`` is the newest post time the engine has seen (the scenario "now" of windows
    and buckets); ``started`` the first one (buckets before it were not observed);
    ``touched`` the events that received posts in this batch.
    """

    now: datetime
    started: datetime
    events: EventInfo
    touched: set[str] = field(default_factory=set)


class Trigger(Protocol):
    """One condition of a monitoring rule, with its state."""

    kind: AlertKind
    severity: Severity | None
    watches_events: bool  # True: called on every batch, even without matches

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]: ...

    def describe(self) -> str:
        """The condition in Chinese, e.g. ``1小时内 >= 20 条``."""
        ...


def _by_event(matched: Iterable[Observation]) -> dict[str | None, list[Observation]]:
    groups: dict[str | None, list[Observation]] = {}
    for obs in matched:
        groups.setdefault(obs.event_id, []).append(obs)
    return groups


def _newest(observations: Sequence[Observation], n: int = MAX_SAMPLES) -> list[Document]:
    ordered = sorted(observations, key=lambda o: o.at, reverse=True)
    return [o.doc for o in ordered[:n]]


class _Lru(OrderedDict[Any, Any]):
    """An ordered dict that forgets its least recently touched keys past ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def touch(self, key: Any, make: Callable[[], Any]) -> Any:
        value = self.get(key)
        if value is None:
            value = self[key] = make()
            while len(self) > self.limit:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return value


class _Window:
    """Counts of posts in a sliding window of scenario time, kept in ``slots`` slots (the
    window is exact to 1/slots of its length), and the newest samples."""

    __slots__ = ("_slot", "_slots", "counts", "negatives")

    def __init__(self, window: timedelta, slots: int = 60) -> None:
        self._slot = window.total_seconds() / slots
        self._slots = slots
        self.counts: dict[int, list[int]] = {}  # slot -> [posts, negative, with sentiment]
        self.negatives: deque[tuple[datetime, AlertSample]] = deque(maxlen=MAX_SAMPLES)

    def _index(self, at: datetime) -> int:
        return math.floor(at.timestamp() / self._slot)

    def add(self, obs: Observation, now: datetime) -> bool:
        """Count ``obs``; False when it is older than the window."""
        index = self._index(obs.at)
        if index <= self._index(now) - self._slots:
            return False
        cell = self.counts.setdefault(index, [0, 0, 0])
        cell[0] += 1
        sentiment = obs.doc.analysis.get("sentiment")
        if sentiment:
            cell[2] += 1
            if sentiment == "negative":
                cell[1] += 1
                self.negatives.append((obs.at, AlertSample.from_document(obs.doc)))
        return True

    def totals(self, now: datetime) -> tuple[int, int, int]:
        """(posts, negative, with sentiment) inside the window ending at ``now``."""
        low = self._index(now) - self._slots
        for index in [i for i in self.counts if i <= low]:
            del self.counts[index]
        posts = negative = sentiment = 0
        for a, b, c in self.counts.values():
            posts, negative, sentiment = posts + a, negative + b, sentiment + c
        return posts, negative, sentiment

    def recent_negative(self, now: datetime, window: timedelta) -> list[AlertSample]:
        return [s for at, s in reversed(self.negatives) if at > now - window]


class MatchTrigger:
    """``match``: every matching post; one firing per event within a batch."""

    kind: AlertKind = "match"
    watches_events = False

    def __init__(self, *, severity: Severity | None = None) -> None:
        self.severity = severity

    def describe(self) -> str:
        return "每条匹配信息"

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]:
        out = []
        for event_id, group in _by_event(matched).items():
            reason = f"{len(group)} 条新信息命中规则"
            detail = f"{len(group)} 条"
            out.append(
                Firing("match", event_id, [reason], list(_newest(group)), detail, self.severity)
            )
        return out


class CountTrigger:
    """``count``: at least ``threshold`` matching posts within ``window`` (per rule, or per
    event with ``per_event``)."""

    kind: AlertKind = "count"
    watches_events = False

    def __init__(
        self,
        threshold: int,
        window: timedelta,
        *,
        per_event: bool = False,
        severity: Severity | None = None,
    ) -> None:
        if threshold < 1 or window <= timedelta(0):
            raise UsageError("CountTrigger: threshold must be >= 1 and window positive")
        self.threshold = threshold
        self.window = window
        self.per_event = per_event
        self.severity = severity
        self._windows = _Lru(_MAX_KEYS)
        self._samples = _Lru(_MAX_KEYS)

    def describe(self) -> str:
        return f"{duration_label(self.window)}内 >= {self.threshold} 条"

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]:
        keys: set[str | None] = set()
        for obs in matched:
            key = obs.event_id if self.per_event else None
            window: _Window = self._windows.touch(key, lambda: _Window(self.window))
            if window.add(obs, ctx.now):
                keys.add(key)
                samples = self._samples.touch(key, lambda: deque(maxlen=MAX_SAMPLES))
                samples.append((obs.at, AlertSample.from_document(obs.doc)))
        out = []
        for key in keys:
            posts, _, _ = self._windows[key].totals(ctx.now)
            if posts < self.threshold:
                continue
            span = duration_label(self.window)
            reason = f"{span}内匹配 {posts} 条，达到阈值 {self.threshold} 条"
            recent = [s for at, s in reversed(self._samples[key]) if at > ctx.now - self.window]
            out.append(
                Firing("count", key, [reason], list(recent), f"{span}内 {posts} 条", self.severity)
            )
        return out


class NegativeShareTrigger:
    """``negative_share``: among matching posts with a sentiment in ``window``, the share
    that is negative reaches ``threshold``, with at least ``min_count`` such posts."""

    kind: AlertKind = "negative_share"
    watches_events = False

    def __init__(
        self,
        threshold: float,
        window: timedelta,
        *,
        min_count: int = 10,
        per_event: bool = False,
        severity: Severity | None = None,
    ) -> None:
        if not 0 < threshold <= 1 or min_count < 1 or window <= timedelta(0):
            raise UsageError("NegativeShareTrigger: threshold in (0, 1], min_count >= 1")
        self.threshold = threshold
        self.window = window
        self.min_count = min_count
        self.per_event = per_event
        self.severity = severity
        self._windows = _Lru(_MAX_KEYS)

    def describe(self) -> str:
        return (
            f"{duration_label(self.window)}内负面占比 >= {self.threshold:.0%}"
            f"（至少 {self.min_count} 条）"
        )

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]:
        keys: set[str | None] = set()
        for obs in matched:
            key = obs.event_id if self.per_event else None
            window: _Window = self._windows.touch(key, lambda: _Window(self.window))
            if window.add(obs, ctx.now):
                keys.add(key)
        out = []
        for key in keys:
            window = self._windows[key]
            posts, negative, with_sentiment = window.totals(ctx.now)
            if with_sentiment < self.min_count:
                continue
            share = negative / with_sentiment
            if share < self.threshold:
                continue
            span = duration_label(self.window)
            reason = (
                f"{span}内匹配 {posts} 条，其中 {with_sentiment} 条有情感判断、负面 {negative} 条，"
                f"负面占比 {share:.0%}，达到阈值 {self.threshold:.0%}"
            )
            samples = window.recent_negative(ctx.now, self.window)
            detail = f"负面占比 {share:.0%}"
            out.append(
                Firing("negative_share", key, [reason], list(samples), detail, self.severity)
            )
        return out


class BurstTrigger:
    """``burst``: the matching posts of the current bucket (default: the last hour) against
    the ``test.baseline`` buckets before it (default 12), by :class:`BurstTest`. Buckets
    are cut on post times; buckets before the engine's first post are gaps, not zeros."""

    kind: AlertKind = "burst"
    watches_events = False

    def __init__(
        self,
        test: BurstTest | None = None,
        *,
        bucket: timedelta = timedelta(hours=1),
        severity: Severity | None = None,
    ) -> None:
        if bucket <= timedelta(0):
            raise UsageError("BurstTrigger: bucket must be positive")
        self.test = test or BurstTest()
        self.bucket = bucket
        self.severity = severity
        self._counts: dict[int, int] = {}
        self._samples: deque[tuple[int, AlertSample]] = deque(maxlen=MAX_SAMPLES)

    def describe(self) -> str:
        return (
            f"最近{duration_label(self.bucket)}对比此前 {self.test.baseline} 个时段"
            f"（{self.test.method}）"
        )

    def _index(self, at: datetime) -> int:
        return math.floor(at.timestamp() / self.bucket.total_seconds())

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]:
        current = self._index(ctx.now)
        oldest = current - self.test.baseline
        fresh = False
        for obs in matched:
            index = self._index(obs.at)
            if index < oldest:
                continue
            self._counts[index] = self._counts.get(index, 0) + 1
            if index == current:
                fresh = True
                self._samples.append((index, AlertSample.from_document(obs.doc)))
        for index in [i for i in self._counts if i < oldest]:
            del self._counts[index]
        if not fresh:
            return []
        first = max(oldest, self._index(ctx.started))
        history = [self._counts.get(i, 0) for i in range(first, current)]
        count = self._counts[current]
        start = datetime.fromtimestamp(current * self.bucket.total_seconds(), UTC)
        found = self.test.check(start, count, history)
        if found is None:
            return []
        span = duration_label(self.bucket)
        test = "Poisson 检验" if self.test.method == "poisson" else "z 检验"
        reason = (
            f"最近{span}匹配 {count} 条，此前 {len(history)} 个{span}平均 "
            f"{sum(history) / max(len(history), 1):.1f} 条（基线 λ={found.expected:g}）；"
            f"{test} p={found.p_value:.2g}，z={found.score:.1f}"
        )
        samples = [s for i, s in reversed(self._samples) if i == current]
        ratio = count / max(found.expected, 1e-9)
        return [
            Firing(
                "burst", None, [reason], list(samples), f"声量为基线 {ratio:.1f} 倍", self.severity
            )
        ]


class NewEventTrigger:
    """``new_event``: an event holding posts this rule matched reaches heat ``threshold``
    with at least ``min_posts`` posts; once per event (the first crossing)."""

    kind: AlertKind = "new_event"
    watches_events = True

    def __init__(
        self,
        threshold: float = 30.0,
        *,
        min_posts: int = 5,
        heat_config: HeatConfig | None = None,
        severity: Severity | None = None,
        max_events: int = 100_000,
    ) -> None:
        if not 0 < threshold <= 100 or min_posts < 1:
            raise UsageError("NewEventTrigger: threshold in (0, 100], min_posts >= 1")
        self.threshold = threshold
        self.min_posts = min_posts
        self.heat_config = heat_config
        self.severity = severity
        self._tracked = _Lru(max_events)  # events with a matching post, not yet fired
        self._fired = _Lru(max_events)

    def describe(self) -> str:
        return f"事件热度 >= {self.threshold:g}（至少 {self.min_posts} 条）"

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]:
        for obs in matched:
            event_id = obs.event_id
            if event_id is not None and event_id not in self._fired:
                self._tracked.touch(event_id, lambda: True)
        out = []
        for event_id in [e for e in ctx.touched if e in self._tracked]:
            stats = ctx.events.stats(event_id, ctx.now)
            if stats is None or stats.posts < self.min_posts:
                continue
            result = heat(stats, self.heat_config)
            if result.score < self.threshold:
                continue
            del self._tracked[event_id]
            self._fired.touch(event_id, lambda: True)
            c = result.components
            reason = (
                f"事件热度 {result.score:.1f}，达到阈值 {self.threshold:g}：共 {stats.posts} 条，"
                f"近3小时每小时 {c['recent_rate']:.1f} 条，负面占比 {c['negativity']:.0%}，"
                f"来源 {len(stats.sources)} 个"
            )
            title = ctx.events.title(event_id) or event_id
            samples: list[AlertSample | Document] = list(ctx.events.samples(event_id))
            out.append(
                Firing(
                    "new_event", event_id, [reason], samples, f"新事件「{title}」", self.severity
                )
            )
        return out


_RISK_LABELS = {"rumor": "谣言风险", "group_incident": "群体性事件风险"}


class RiskTrigger:
    """``risk``: a matching post whose ``risk.rumor`` or ``risk.group_incident`` (``score``:
    one of them, or ``any``) reaches ``threshold``; one firing per event within a batch."""

    kind: AlertKind = "risk"
    watches_events = False

    def __init__(
        self, threshold: float = 0.7, *, score: str = "any", severity: Severity | None = None
    ) -> None:
        if not 0 < threshold <= 1 or score not in ("any", "rumor", "group_incident"):
            raise UsageError("RiskTrigger: threshold in (0, 1]; score any, rumor or group_incident")
        self.threshold = threshold
        self.scores = ("rumor", "group_incident") if score == "any" else (score,)
        self.severity = severity

    def describe(self) -> str:
        names = "或".join(_RISK_LABELS[s] for s in self.scores)
        return f"{names} >= {self.threshold:g}"

    def _top(self, doc: Document) -> tuple[str, float] | None:
        risk = doc.analysis.get("risk")
        if not isinstance(risk, Mapping):
            return None
        best: tuple[str, float] | None = None
        for name in self.scores:
            value = risk.get(name)
            if (
                isinstance(value, int | float)
                and value >= self.threshold
                and (best is None or value > best[1])
            ):
                best = (name, float(value))
        return best

    def observe(self, matched: Sequence[Observation], ctx: TriggerContext) -> list[Firing]:
        risky: dict[str | None, list[tuple[float, str, Observation]]] = {}
        for obs in matched:
            top = self._top(obs.doc)
            if top is not None:
                risky.setdefault(obs.event_id, []).append((top[1], top[0], obs))
        out = []
        for event_id, items in risky.items():
            items.sort(key=lambda item: -item[0])
            value, name, obs = items[0]
            reasons = [
                f"{len(items)} 条信息{_RISK_LABELS[name]}达到阈值 {self.threshold:g}，"
                f"最高 {value:.2f}"
            ]
            risk = obs.doc.analysis.get("risk") or {}
            reasons += [str(r) for r in (risk.get("reasons") or [])[:3]]
            samples: list[AlertSample | Document] = [item[2].doc for item in items[:MAX_SAMPLES]]
            detail = f"{_RISK_LABELS[name]} {value:.2f}"
            out.append(Firing("risk", event_id, reasons, samples, detail, self.severity))
        return out
