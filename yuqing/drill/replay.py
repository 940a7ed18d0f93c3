"""Replay a drill scenario into its own store, through the real pipeline, in accelerated
time.

:class:`AcceleratedClock` is a :class:`yuqing.clock.Clock` whose time runs ``speed``
times faster than the wall clock from the scenario's start (speed 144: 24 hours in 10
minutes); with speed 0 it moves only when the replay advances it (as fast as possible).
Give the same clock to the :class:`~yuqing.alerts.engine.AlertEngine` (and later to
cases and deadlines) so that cooldowns and deadlines run on scenario time.

:func:`run_drill` generates the scenario's posts, cuts them into slices of ``tick``
scenario time, waits until each slice's end has come on the clock, and hands the slice
to an :class:`~yuqing.runtime.ingest.Ingestor` (normalize, dedup, segment, keywords,
analysis, events) that commits it to the store; ``on_batch`` sees each committed batch
(pass ``engine.process``). The :class:`DrillReport` holds the counts and a timeline of
(scenario time, kind, detail) entries: the script (phases, rumours, cascades, the
statement), the alerts, the start and the end; scoring adds the trainee's actions to the
same timeline later.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from yuqing.alerts.alert import Alert
from yuqing.drill.generator import generate
from yuqing.drill.scenario import Scenario
from yuqing.errors import UsageError
from yuqing.models import Cursor, Document, Rejection
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.base import SourceBatch
from yuqing.sources.record import to_document
from yuqing.store.url import open_store

__all__ = ["AcceleratedClock", "DrillReport", "DrillSource", "TimelineEntry", "run_drill"]

DEFAULT_TICK = timedelta(minutes=5)  # paced replays: speed 144 feeds a slice every ~2 s
FAST_TICK = timedelta(minutes=15)  # speed 0: fewer, larger batches (each commit costs ~7 ms)
MAX_WAIT = 0.25  # seconds between looks at stop_event while waiting for scenario time


class AcceleratedClock:
    """Scenario time: ``anchor + (wall seconds since the anchor) × speed``.

    ``speed`` 0 stops the clock between :meth:`advance_to` calls (fast mode). The clock
    never runs backwards; it is safe to read from several threads (delivery workers).
    """

    def __init__(
        self,
        start: datetime,
        speed: float = 144.0,
        *,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs a timezone-aware start time")
        if speed < 0:
            raise ValueError(f"speed must be 0 (as fast as possible) or positive, got {speed}")
        self.speed = float(speed)
        self._wall = wall
        self._anchor = (start, wall())  # replaced as a whole: reads need no lock
        self._lock = threading.Lock()

    def now(self) -> datetime:
        at, wall_at = self._anchor
        if not self.speed:
            return at
        return at + timedelta(seconds=(self._wall() - wall_at) * self.speed)

    def reset(self, start: datetime) -> None:
        """Start again at ``start``, now."""
        with self._lock:
            self._anchor = (start, self._wall())

    def advance_to(self, when: datetime) -> None:
        """Jump forward to ``when`` (no effect if the clock is already past it)."""
        with self._lock:
            if when > self.now():
                self._anchor = (when, self._wall())

    def wall_until(self, when: datetime) -> float:
        """Wall seconds until scenario time ``when`` (0 when it has come; speed 0: 0)."""
        if not self.speed:
            return 0.0
        return max(0.0, (when - self.now()).total_seconds() / self.speed)


@dataclass(slots=True, frozen=True)
class TimelineEntry:
    """One thing that happened in a drill, at scenario time ``at``.

    ``kind``: ``start``, ``phase``, ``rumour``, ``cascade``, ``statement``, ``alert``,
    ``stopped``, ``end`` (scoring will add the trainee's ``acknowledge``, ``case``,
    ``response`` and ``briefing``); ``detail`` is a Chinese line for people, ``data``
    the machine-readable rest.
    """

    at: datetime
    kind: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "detail": self.detail,
            "data": self.data,
        }


@dataclass(slots=True)
class DrillReport:
    """What one drill run did. ``posts`` were generated; ``stored`` reached the store."""

    scenario: str
    title: str
    seed: int
    speed: float
    store_url: str
    started_at: datetime
    ended_at: datetime
    posts: int = 0
    stored: int = 0
    rejected: int = 0
    events: int = 0
    batches: int = 0
    negative: int = 0  # analysed posts labelled negative
    rumours: int = 0  # analysed posts of risk type rumor
    group_incident: int = 0  # analysed posts of risk type group_incident
    wall_seconds: float = 0.0
    stopped: bool = False
    alerts: list[Alert] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the score report of the next slice builds on it)."""
        return {
            "scenario": self.scenario,
            "title": self.title,
            "seed": self.seed,
            "speed": self.speed,
            "store": self.store_url,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "posts": self.posts,
            "stored": self.stored,
            "rejected": self.rejected,
            "events": self.events,
            "batches": self.batches,
            "negative": self.negative,
            "rumours": self.rumours,
            "group_incident": self.group_incident,
            "alerts": len(self.alerts),
            "wall_seconds": round(self.wall_seconds, 3),
            "stopped": self.stopped,
            "timeline": [entry.as_dict() for entry in sorted_timeline(self.timeline)],
        }


def sorted_timeline(entries: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """By scenario time; entries at the same time keep their order."""
    return sorted(entries, key=lambda e: e.at)


def script(scenario: Scenario) -> list[TimelineEntry]:
    """The scenario's own milestones as timeline entries, by time."""
    entries: list[TimelineEntry] = []
    at = scenario.start
    for i, phase in enumerate(scenario.phases):
        entries.append(
            TimelineEntry(
                at,
                "phase",
                f"阶段「{phase.name}」开始（每小时约 {phase.posts_per_hour:g} 条）",
                {"index": i, "name": phase.name},
            )
        )
        at += phase.duration
    for i, rumour in enumerate(scenario.rumours):
        entries.append(
            TimelineEntry(
                scenario.start + rumour.at,
                "rumour",
                f"谣言注入：{rumour.spread} 条，{rumour.over.total_seconds() / 3600:g} 小时内扩散",
                {"index": i, "spread": rumour.spread},
            )
        )
    for i, cascade in enumerate(scenario.cascades):
        entries.append(
            TimelineEntry(
                scenario.start + cascade.at,
                "cascade",
                f"大V @{cascade.account} 发帖，转发链 {cascade.size} 条",
                {"index": i, "account": cascade.account, "size": cascade.size},
            )
        )
    if scenario.statement is not None:
        st = scenario.statement
        label = "良好" if st.quality == "good" else "欠佳"
        entries.append(
            TimelineEntry(
                scenario.start + st.at,
                "statement",
                f"官方通报（@{st.account}，质量{label}）",
                {"account": st.account, "quality": st.quality},
            )
        )
    return sorted_timeline(entries)


class DrillSource:
    """A :class:`~yuqing.sources.base.Source` over generated records that releases each
    ``tick`` of scenario time only when that time has come on ``clock`` (speed 0: at
    once, moving the clock there). ``on_tick`` is called with each slice's end time
    before its batch is handed out; a set ``stop_event`` ends the replay early."""

    def __init__(
        self,
        key: str,
        records: Sequence[dict[str, Any]],
        *,
        settings: Settings,
        clock: AcceleratedClock,
        start: datetime,
        tick: timedelta = DEFAULT_TICK,
        stop_event: threading.Event | None = None,
        on_tick: Callable[[datetime], None] | None = None,
    ) -> None:
        if tick <= timedelta():
            raise UsageError(f"drill tick must be positive, got {tick}")
        self.key = key
        self.records = records
        self.settings = settings
        self.clock = clock
        self.start = start
        self.tick = tick
        self.stop_event = stop_event or threading.Event()
        self.on_tick = on_tick
        self.stopped = False

    def _wait(self, until: datetime) -> bool:
        """Wait for scenario time ``until``; False when stopped meanwhile."""
        if not self.clock.speed:
            self.clock.advance_to(until)
            return not self.stop_event.is_set()
        while (left := self.clock.wall_until(until)) > 0:
            if self.stop_event.wait(min(left, MAX_WAIT)):
                return False
        return not self.stop_event.is_set()

    def _slices(self) -> Iterator[tuple[datetime, list[tuple[int, dict[str, Any]]]]]:
        """(slice end, [(line, record)]) for every tick that holds posts, in time order."""
        current: list[tuple[int, dict[str, Any]]] = []
        end = self.start + self.tick
        for line, record in enumerate(self.records, 1):
            at = datetime.fromisoformat(record["published_at"])
            while at >= end:
                if current:
                    yield end, current
                    current = []
                end += self.tick
            current.append((line, record))
        if current:
            yield end, current

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        del start  # a drill always starts at the scenario's beginning
        for end, items in self._slices():
            if not self._wait(end):
                self.stopped = True
                return
            if self.on_tick is not None:
                self.on_tick(end)
            for i in range(0, len(items), size):
                yield self._batch(items[i : i + size])

    def _batch(self, items: Sequence[tuple[int, dict[str, Any]]]) -> SourceBatch:
        from yuqing.errors import RecordError

        batch = SourceBatch(read=len(items))
        now = self.clock.now()
        for line, record in items:
            try:
                batch.documents.append(
                    to_document(
                        record, line=line, default_source="drill", zone=self.settings.zone, now=now
                    )
                )
            except RecordError as exc:  # generated records are valid; never drop silently
                batch.rejections.append(Rejection(line, exc.code, exc.reason, str(record)))
        return batch


def scenario_stamp(at: datetime, settings: Settings) -> str:
    """``at`` as the drill log prints it: month-day hour:minute in the configured zone."""
    return at.astimezone(settings.zone).strftime("%m-%d %H:%M")


def run_drill(
    scenario: Scenario,
    *,
    store_url: str,
    speed: float = 144.0,
    seed: int = 7,
    settings: Settings | None = None,
    on_batch: Callable[[Sequence[Document]], object] | None = None,
    stop_event: threading.Event | None = None,
    out: TextIO | None = None,
    clock: AcceleratedClock | None = None,
    tick: timedelta | None = None,
) -> DrillReport:
    """Play ``scenario`` into the (empty) store at ``store_url`` at ``speed`` (0: as fast
    as possible) and return the report.

    ``on_batch`` sees every committed batch; when it returns a list of
    :class:`~yuqing.alerts.alert.Alert` (as ``AlertEngine.process`` does) they go into the
    report and its timeline. Build that engine on ``clock`` (create an
    :class:`AcceleratedClock` first and pass it here too) so that it runs on scenario
    time. ``stop_event`` ends the drill early; ``out`` gets one line per milestone.
    ``tick`` is the slice of scenario time fed at once (default 5 minutes, 15 in fast
    mode).
    Raises UsageError for a bad speed or a store that already holds posts (drill posts go
    to their own store), StoreError when the store fails.
    """
    if speed < 0:
        raise UsageError(f"--speed must be 0 (as fast as possible) or positive, got {speed:g}")
    settings = settings or Settings.model_validate({"store": store_url})
    stream = out or sys.stdout
    if clock is None:
        clock = AcceleratedClock(scenario.start, speed)
    elif clock.speed != speed:
        raise UsageError(f"the drill clock runs at speed {clock.speed:g}, not {speed:g}")
    records = generate(scenario, seed)
    report = DrillReport(
        scenario=scenario.name,
        title=scenario.title,
        seed=seed,
        speed=speed,
        store_url=store_url,
        started_at=scenario.start,
        ended_at=scenario.start,
        posts=len(records),
    )
    pending = script(scenario)

    def say(entry: TimelineEntry) -> None:
        report.timeline.append(entry)
        stream.write(f"[{scenario_stamp(entry.at, settings)}] {entry.detail}\n")
        stream.flush()

    def on_tick(end: datetime) -> None:
        while pending and pending[0].at < end:
            say(pending.pop(0))

    def handle(docs: Sequence[Document]) -> None:
        for doc in docs:
            report.negative += doc.analysis.get("sentiment") == "negative"
            kind = (doc.analysis.get("risk") or {}).get("type")
            report.rumours += kind == "rumor"
            report.group_incident += kind == "group_incident"
        result = on_batch(docs) if on_batch is not None else None
        if isinstance(result, list):
            for alert in result:
                if isinstance(alert, Alert):
                    report.alerts.append(alert)
                    say(
                        TimelineEntry(
                            alert.created_at,
                            "alert",
                            f"预警 [{alert.severity}] {alert.title}",
                            {"id": alert.id, "rule": alert.rule_id, "kind": alert.kind},
                        )
                    )

    store = open_store(store_url)
    try:
        held = store.stats().documents
        if held:
            raise UsageError(
                f"store {store_url} already holds {held} posts; drill posts go to their own "
                "store: name a new database file"
            )
        source = DrillSource(
            f"drill:{scenario.name}:{seed}",
            records,
            settings=settings,
            clock=clock,
            start=scenario.start,
            tick=tick or (DEFAULT_TICK if speed else FAST_TICK),
            stop_event=stop_event,
            on_tick=on_tick,
        )

        def rejected(_source: object, rejection: Rejection) -> None:
            report.rejected += 1
            stream.write(f"line {rejection.line}: {rejection.reason}\n")

        ingestor = Ingestor(
            store,
            build_pipeline(settings, analysis=True, events=True),
            batch_size=settings.batch_size,
            resume=False,
            on_batch=handle,
            on_reject=rejected,
        )
        wall = time.perf_counter()
        clock.reset(scenario.start)
        say(
            TimelineEntry(
                scenario.start,
                "start",
                f"演练开始：{scenario.title}（{len(records)} 条，速度 "
                f"{'最快' if not speed else f'{speed:g}×'}）",
                {"scenario": scenario.name, "seed": seed, "speed": speed},
            )
        )
        ingest = ingestor.run([source])
        report.wall_seconds = time.perf_counter() - wall
    finally:
        store.close()
    report.stored, report.events, report.batches = ingest.stored, ingest.events, ingest.batches
    report.stopped = source.stopped
    report.ended_at = clock.now() if source.stopped else scenario.end
    if not source.stopped:
        on_tick(scenario.end + timedelta(seconds=1))
    say(
        TimelineEntry(
            report.ended_at,
            "stopped" if source.stopped else "end",
            f"演练{'中止' if source.stopped else '结束'}：存储 {report.stored} 条，事件 "
            f"{report.events} 个，预警 {len(report.alerts)} 条",
            {"stored": report.stored, "events": report.events, "alerts": len(report.alerts)},
        )
    )
    return report
