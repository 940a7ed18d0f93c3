"""The alert engine: every monitoring rule over every analysed batch, alerts out.

``AlertEngine.process(docs)`` is meant as the ingest runner's ``on_batch`` hook: it sees
each committed batch once, matches all rules at once
(:meth:`~yuqing.alerts.matcher.RuleMatcher.match_batch`: an Aho-Corasick prefilter, so
the cost follows the rules that could match, not the number of rules), feeds each rule's
triggers the posts it matched, turns their firings into alerts, keeps one alert per
(rule, event) per cooldown window and hands the rest to the Dispatcher, which returns at
once (delivery happens on its worker threads).

With a ``sink`` (``yuqing run`` passes ``Store.add_alerts``), the alerts of each batch are
saved before they are submitted, so every delivered alert (and its link) is in the store;
alerts that a cooldown folded into are passed again with their grown ``suppressed``. A
failing sink is logged and counted (``EngineStats.unsaved``): delivery goes on.

Scenario time: post times drive windows and buckets (a post more than ``future_slack``
ahead of the clock counts as the clock's time, so one bad timestamp cannot stall every
window); the injected clock stamps alerts and drives cooldowns.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from yuqing.alerts.alert import KIND_LABELS, Alert, AlertSample, Cooldown
from yuqing.alerts.matcher import RuleMatcher
from yuqing.alerts.rule_match import RegionLookup
from yuqing.alerts.rule_syntax import RuleSyntaxError
from yuqing.alerts.triggers import MAX_SAMPLES, Observation, TriggerContext
from yuqing.clock import Clock
from yuqing.errors import ConfigError, YuqingError
from yuqing.events.heat import EventStats
from yuqing.models import Document

if TYPE_CHECKING:
    from yuqing.alerts.delivery import Dispatcher
    from yuqing.alerts.rules_config import MonitorRule

__all__ = ["AlertEngine", "AlertSink", "EngineStats", "EventTracker", "post_time"]

LOG = logging.getLogger("yuqing.alerts.engine")
TitleLookup = Callable[[str], "str | None"]
#: Where raised alerts are saved (``Store.add_alerts``); called once per batch with alerts.
AlertSink = Callable[[Sequence[Alert]], object]


def post_time(
    doc: Document, now: datetime, future_slack: timedelta = timedelta(hours=1)
) -> datetime:
    """A post's scenario time: ``published_at``, else ``ingested_at``, else ``now``; never
    more than ``future_slack`` ahead of ``now``."""
    when = doc.published_at or doc.ingested_at or now
    if when.tzinfo is None:  # models promise aware times; be safe with hand-made docs
        when = when.replace(tzinfo=UTC)
    return min(when.astimezone(UTC), now + future_slack)


@dataclass(slots=True)
class _EventState:
    stats: EventStats
    hours: Counter[int] = field(default_factory=Counter)
    title: str = ""
    samples: deque[AlertSample] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))


class EventTracker:
    """Per-event counts from the posts the engine sees (``doc.analysis["event_id"]``), for
    the heat index of ``new_event`` triggers. Works with any clusterer; ``titles`` (for
    example the clusterer's event titles) replaces the default title, the first post's
    text. Bounded: the ``max_events`` most recently active events, ``hours`` hours each."""

    def __init__(
        self, *, max_events: int = 50_000, hours: int = 27, titles: TitleLookup | None = None
    ) -> None:
        self.max_events = max_events
        self.hours = hours
        self.titles = titles
        self._events: OrderedDict[str, _EventState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def observe(self, doc: Document, at: datetime) -> str | None:
        """Count ``doc`` into its event; returns the event id (None: no event)."""
        event_id = doc.analysis.get("event_id")
        if not event_id:
            return None
        event_id = str(event_id)
        state = self._events.get(event_id)
        if state is None:
            state = self._events[event_id] = _EventState(EventStats(), title=doc.text)
            while len(self._events) > self.max_events:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(event_id)
        s = state.stats
        s.posts += 1
        s.reposts += max(doc.reposts, 0)
        s.comments += max(doc.comments, 0)
        s.likes += max(doc.likes, 0)
        s.sources[doc.source] = s.sources.get(doc.source, 0) + 1
        sentiment = doc.analysis.get("sentiment")
        if sentiment:
            s.with_sentiment += 1
            s.negative += sentiment == "negative"
        s.first_seen = at if s.first_seen is None else min(s.first_seen, at)
        s.last_seen = at if s.last_seen is None else max(s.last_seen, at)
        hour = int(at.timestamp() // 3600)
        state.hours[hour] += 1
        if len(state.hours) > self.hours * 2:
            newest = max(state.hours)
            for old in [h for h in state.hours if h <= newest - self.hours]:
                del state.hours[old]
        state.samples.append(AlertSample.from_document(doc))
        return event_id

    def stats(self, event_id: str, now: datetime) -> EventStats | None:
        state = self._events.get(event_id)
        if state is None:
            return None
        last = int(now.timestamp() // 3600)
        s = state.stats
        s.hourly = [state.hours.get(h, 0) for h in range(last - self.hours + 1, last + 1)]
        return s

    def title(self, event_id: str) -> str | None:
        if self.titles is not None:
            found = self.titles(event_id)
            if found:
                return found
        state = self._events.get(event_id)
        if state is None:
            return None
        text = " ".join(state.title.split())
        return text if len(text) <= 30 else text[:29] + "…"

    def samples(self, event_id: str) -> list[AlertSample]:
        state = self._events.get(event_id)
        return list(reversed(state.samples)) if state is not None else []


@dataclass(slots=True)
class EngineStats:
    """Counters since start."""

    batches: int = 0
    documents: int = 0
    matches: int = 0  # (post, rule) pairs
    firings: int = 0
    alerts: int = 0  # admitted by the cooldown and submitted
    folded: int = 0  # folded into an open alert by the cooldown
    deliveries: int = 0  # (alert, channel) deliveries queued
    unsaved: int = 0  # alerts the sink failed to save


class AlertEngine:
    """Monitoring rules -> triggers -> cooldown -> dispatcher.

    ``rules`` are :class:`~yuqing.alerts.rules_config.MonitorRule` s (their triggers keep
    state: give each engine freshly loaded rules); ``dispatcher`` delivers; ``clock``
    stamps alerts and drives cooldowns; ``public_url`` is the base of alert links.
    ``events`` defaults to an :class:`EventTracker` fed from the batches themselves;
    ``sink`` saves each batch's alerts before they are submitted.
    """

    def __init__(
        self,
        rules: Iterable[MonitorRule],
        dispatcher: Dispatcher,
        clock: Clock,
        public_url: str,
        *,
        events: EventTracker | None = None,
        region_lookup: RegionLookup | None = None,
        max_recent: int = 1000,
        future_slack: timedelta = timedelta(hours=1),
        sink: AlertSink | None = None,
    ) -> None:
        self.sink = sink
        self.rules: dict[str, MonitorRule] = {}
        self.matcher = RuleMatcher(region_lookup=region_lookup)
        self.dispatcher = dispatcher
        self.clock = clock
        self.public_url = public_url
        self.events = events or EventTracker()
        self.future_slack = future_slack
        self._cooldowns: dict[str, Cooldown] = {}
        for rule in rules:
            if rule.id in self.rules:
                raise ConfigError(f"monitor.rules: the id {rule.id!r} is used twice")
            self._add_rule(rule)
        self.matcher.build()
        self._watchers = self._find_watchers()
        self._recent: deque[Alert] = deque(maxlen=max_recent)
        self._lock = threading.Lock()
        self._started: datetime | None = None
        self._now: datetime | None = None
        self._stats = EngineStats()

    def _add_rule(self, rule: MonitorRule) -> None:
        """Check and add (or replace) one rule; ConfigError names it."""
        unknown = [c for c in rule.channels if c not in self.dispatcher.channels]
        if unknown:
            raise ConfigError(
                f"monitoring rule {rule.id!r}: unknown channel(s) {', '.join(unknown)}; "
                f"configured [[alerts.channels]]: {', '.join(self.dispatcher.channels) or 'none'}"
            )
        try:
            self.matcher.add(rule.id, rule.query)
        except RuleSyntaxError as exc:
            raise ConfigError(f"monitoring rule {rule.id!r}: query: {exc}") from exc
        self.rules[rule.id] = rule
        self._cooldowns[rule.id] = Cooldown(rule.cooldown, self.clock)

    def _find_watchers(self) -> list[MonitorRule]:
        return [r for r in self.rules.values() if any(t.watches_events for t in r.triggers)]

    def update_rules(self, add: Iterable[MonitorRule] = (), remove: Iterable[str] = ()) -> None:
        """Add or replace rules (a replaced rule starts with fresh trigger state and
        cooldown) and remove rules by id, between batches. The other rules keep their
        state. A bad rule raises ConfigError and leaves the rule set as it was before it."""
        with self._lock:
            for rule_id in remove:
                if rule_id in self.rules:
                    self.matcher.remove(rule_id)
                    del self.rules[rule_id]
                    del self._cooldowns[rule_id]
            try:
                for rule in add:
                    self._add_rule(rule)
            finally:
                self._watchers = self._find_watchers()

    def process(self, docs: Sequence[Document]) -> list[Alert]:
        """Run one batch through every rule; returns the alerts submitted for delivery."""
        if not docs:
            return []
        with self._lock:
            return self._process(docs)

    def _process(self, docs: Sequence[Document]) -> list[Alert]:
        clock_now = self.clock.now()
        times = [post_time(doc, clock_now, self.future_slack) for doc in docs]
        newest = max(times)
        self._now = newest if self._now is None else max(self._now, newest)
        oldest = min(times)
        self._started = oldest if self._started is None else min(self._started, oldest)
        touched = {
            e for doc, at in zip(docs, times, strict=True) if (e := self.events.observe(doc, at))
        }
        matched: dict[str, list[Observation]] = {}
        for doc, at, ids in zip(docs, times, self.matcher.match_batch(docs), strict=True):
            for rule_id in ids:
                matched.setdefault(rule_id, []).append(Observation(doc, at))
        self._stats.batches += 1
        self._stats.documents += len(docs)
        self._stats.matches += sum(len(v) for v in matched.values())
        ctx = TriggerContext(self._now, self._started, self.events, touched)
        rules = [self.rules[r] for r in matched]
        rules += [r for r in self._watchers if r.id not in matched] if touched else []
        out: list[Alert] = []
        folded: dict[str, Alert] = {}
        targets: list[tuple[str, ...]] = []
        for rule in rules:
            observations = matched.get(rule.id, [])
            for trigger in rule.triggers:
                if not observations and not trigger.watches_events:
                    continue
                for firing in trigger.observe(observations, ctx):
                    self._stats.firings += 1
                    event_title = self.events.title(firing.event_id) if firing.event_id else None
                    title = f"{rule.name}｜{KIND_LABELS[firing.kind]}：{firing.detail}"
                    if event_title and firing.kind != "new_event":
                        title += f"｜{event_title}"
                    alert = Alert.create(
                        rule_id=rule.id,
                        kind=firing.kind,
                        title=title,
                        severity=firing.severity or rule.severity,
                        created_at=clock_now,
                        public_url=self.public_url,
                        event_id=firing.event_id,
                        reasons=[f"命中规则「{rule.name}」：{rule.query}", *firing.reasons],
                        samples=firing.samples,
                    )
                    cooldown = self._cooldowns[rule.id]
                    if not cooldown.admit(alert):
                        self._stats.folded += 1
                        into = cooldown.open_alert(alert.rule_id, alert.event_id)
                        if into is not None:
                            folded[into.id] = into
                        continue
                    out.append(alert)
                    targets.append(rule.channels)
        self._save(out, folded)
        for alert, channels in zip(out, targets, strict=True):
            self._stats.alerts += 1
            self._stats.deliveries += self.dispatcher.submit(alert, channels or None)
            self._recent.append(alert)
        return out

    def _save(self, new: list[Alert], folded: dict[str, Alert]) -> None:
        """Hand the batch's alerts to the sink before delivery; a failure is logged."""
        if self.sink is None or not (new or folded):
            return
        fresh = {a.id for a in new}
        batch = new + [a for a in folded.values() if a.id not in fresh]
        try:
            self.sink(batch)
        except YuqingError as exc:
            self._stats.unsaved += len(new)
            LOG.error("cannot save %d alert(s); delivering them anyway: %s", len(batch), exc)

    def recent(self, n: int = 50) -> list[Alert]:
        """The last ``n`` alerts submitted, newest first (memory only; bounded)."""
        with self._lock:
            return list(reversed(self._recent))[:n]

    def stats(self) -> EngineStats:
        with self._lock:
            return replace(self._stats)
