"""Feeding the demo store: the story's start at once, then the rest live.

:class:`DemoFeed` runs a :class:`~yuqing.demo.story.Story` through the drill machinery
(:class:`~yuqing.drill.replay.DrillSource` slices, one pipeline with analysis and event
clustering, the demo's alert rules) into the demo's SQLite store:

- :meth:`DemoFeed.ingest_at_once` feeds posts as fast as possible (the clock stands
  still and jumps to each 15-minute slice's end, as in a fast drill), so the dashboard
  has trends, events and alerts before it is served;
- :meth:`DemoFeed.start_live` replays the rest in a background thread at ``speed``
  scenario seconds per wall second (0: as fast as possible) into the same store, with
  the same pipeline (events keep growing, near-duplicates are still found) and the same
  alert engine (cooldowns hold across the cut). Open events touched by a batch are
  saved with it, so the 事件 pages grow too; alerts go to the store, where the 预警
  page's event stream picks them up. Milestones (phases, the rumour, the cascade, the
  statement) and alerts are printed as they come. With ``loop`` the story starts over
  (see :meth:`~yuqing.demo.story.Story.round`); otherwise the clock then runs at the
  wall clock's pace and the dashboard keeps serving.

Everything is stamped on one scenario-time :class:`DemoClock` that the alert engine and
the web app (cases, deadlines) share.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

from yuqing.demo.monitor import DemoMonitor
from yuqing.demo.story import Story
from yuqing.demo.summary import DemoSummary
from yuqing.drill.replay import (
    DEFAULT_TICK,
    FAST_TICK,
    AcceleratedClock,
    DrillSource,
    TimelineEntry,
    script,
)
from yuqing.errors import UsageError, YuqingError
from yuqing.models import Document
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor, IngestReport
from yuqing.settings import Settings
from yuqing.sources.base import Source
from yuqing.store.base import Store
from yuqing.store.url import open_store

__all__ = ["DemoClock", "DemoFeed"]

BATCH_SIZE = 200  # alerts follow the story in small steps
STOP_TIMEOUT = 10.0  # seconds to wait for the replay thread when the demo stops


class DemoClock:
    """Scenario time for the whole demo: standing still while the start is ingested at
    once (moved slice by slice), ``speed`` × the wall clock while the rest is replayed,
    the wall clock's pace once the story is over. It never runs backwards; safe to read
    from any thread (the web app's requests, the replay thread)."""

    def __init__(self, start: datetime) -> None:
        self._clock = AcceleratedClock(start, 0)  # replaced as a whole: reads need no lock

    @property
    def replay(self) -> AcceleratedClock:
        """The clock a :class:`~yuqing.drill.replay.DrillSource` waits on now."""
        return self._clock

    @property
    def speed(self) -> float:
        return self._clock.speed

    def now(self) -> datetime:
        return self._clock.now()

    def run_at(self, speed: float) -> AcceleratedClock:
        """Run at ``speed`` from the current time on; returns the clock to wait on."""
        self._clock = AcceleratedClock(self._clock.now(), speed)
        return self._clock


def _fmt(at: datetime, settings: Settings) -> str:
    return at.astimezone(settings.zone).strftime("%m-%d %H:%M")


class DemoFeed:
    """Ingests a story into the demo store (see the module docstring). Counters of the
    live part (``live_posts``, ``live_alerts``, ``rounds``) and ``finished`` (set when
    the replay thread is done, for whatever reason) are for the console and tests."""

    def __init__(self, settings: Settings, story: Story, *, out: TextIO) -> None:
        self.settings = settings
        self.story = story
        self.out = out
        self.clock = DemoClock(story.scenario.start)
        self.pipeline = build_pipeline(settings, analysis=True, events=True)
        self.summary = DemoSummary(title=story.scenario.title)
        self.stop_event = threading.Event()
        self.finished = threading.Event()
        self.live_posts = 0
        self.live_alerts = 0
        self.rounds = 0  # rounds of the story replayed to their end
        self.stopped = False
        self.error: BaseException | None = None
        self._monitor: DemoMonitor | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one writer of console lines at a time

    @property
    def monitor(self) -> DemoMonitor:
        if self._monitor is None:
            raise UsageError("the demo feed ingests its story's start before it replays the rest")
        return self._monitor

    def _monitor_for(self, store: Store) -> DemoMonitor:
        if self._monitor is None:
            self._monitor = DemoMonitor(
                store, self.settings.public_url, self.story.scenario.start, clock=self.clock
            )
        self._monitor.store = store
        return self._monitor

    def _source(
        self,
        records: Sequence[dict[str, Any]],
        start: datetime,
        seed: int,
        clock: AcceleratedClock,
        on_tick: Callable[[datetime], None] | None = None,
    ) -> DrillSource:
        return DrillSource(
            f"demo:{self.story.scenario.name}:{seed}",
            records,
            settings=self.settings,
            clock=clock,
            start=start,
            tick=DEFAULT_TICK if clock.speed else FAST_TICK,
            stop_event=self.stop_event,
            on_tick=on_tick,
        )

    # -- at once -------------------------------------------------------------------------

    def ingest_at_once(
        self,
        store: Store,
        records: Sequence[dict[str, Any]],
        *,
        on_reject: Callable[[Source, Any], None] | None = None,
    ) -> IngestReport:
        """Feed ``records`` (the story's head, or all of it) into ``store`` as fast as
        possible, raising alerts on the way; the clock ends at the last slice's end, or at
        the story's cut when that is later. Open events are saved at the end."""
        monitor = self._monitor_for(store)

        def on_batch(docs: Sequence[Document]) -> None:
            self.summary.add(docs)
            monitor.process(docs)

        source = self._source(
            records, self.story.scenario.start, self.story.seed, self.clock.replay
        )
        report = Ingestor(
            store,
            self.pipeline,
            batch_size=BATCH_SIZE,
            resume=False,
            on_reject=on_reject,
            on_batch=on_batch,
        ).run([source])
        self.clock.replay.advance_to(self.story.split_at)
        self.summary.events = report.events
        self.summary.alerts = monitor.raised
        return report

    # -- live ----------------------------------------------------------------------------

    def start_live(self, speed: float, *, loop: bool = False) -> None:
        """Replay the rest of the story (and with ``loop`` the following rounds) in a
        background thread at ``speed`` (0: as fast as possible)."""
        if speed < 0:
            raise UsageError(f"--speed must be 0 (as fast as possible) or positive, got {speed:g}")
        self.monitor  # noqa: B018 - the start must be ingested first (raises otherwise)
        if self._thread is not None:
            raise UsageError("the demo replay is already running")
        self._thread = threading.Thread(
            target=self._live, args=(speed, loop), name="yuqing-demo-replay", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """End the replay (if it runs) and close the alert engine."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._monitor is not None:
            self._monitor.close()

    def say(self, at: datetime, line: str) -> None:
        with self._lock:
            self.out.write(f"[{_fmt(at, self.settings)}] {line}\n")
            self.out.flush()

    def _live(self, speed: float, loop: bool) -> None:
        try:
            store = open_store(self.settings.store)
        except YuqingError as exc:
            self.error = exc
            self.say(self.clock.now(), f"演示回放无法打开存储：{exc}")
            self.finished.set()
            return
        try:
            self._replay(store, speed, loop)
        except Exception as exc:  # reported on the console; the dashboard keeps serving
            self.error = exc
            self.say(self.clock.now(), f"演示回放出错，已停止：{exc}")
        finally:
            store.close()
            if not self.stopped:
                self.clock.run_at(1.0)  # the story is over: time goes on at its own pace
            self.finished.set()

    def _replay(self, store: Store, speed: float, loop: bool) -> None:
        monitor = self._monitor_for(store)
        clusterer: Any = next(s for s in self.pipeline.stages if s.name == "events")
        clock = self.clock.run_at(speed)
        k = 0
        while True:
            scenario, records = self.story.round(k)
            start = self.story.split_at if k == 0 else scenario.start
            if k == 0:
                records = self.story.tail
            else:
                self.say(start, f"演示场景重新开始（第 {k + 1} 轮）：{scenario.title}")
            pending = [e for e in script(scenario) if e.at >= start]

            def on_tick(end: datetime, pending: list[TimelineEntry] = pending) -> None:
                while pending and pending[0].at < end:
                    entry = pending.pop(0)
                    self.say(entry.at, entry.detail)

            def on_batch(docs: Sequence[Document]) -> None:
                self.summary.add(docs)
                alerts = monitor.process(docs)
                touched = {d.analysis.get("event_id") for d in docs}
                grown = [e for e in clusterer.open_events() if e.id in touched]
                if grown:
                    store.upsert_events(grown)
                self.live_posts += len(docs)
                self.live_alerts += len(alerts)
                for alert in alerts:
                    self.say(alert.created_at, f"预警 [{alert.severity}] {alert.title}")

            source = self._source(records, start, self.story.seed + k, clock, on_tick)
            Ingestor(
                store, self.pipeline, batch_size=BATCH_SIZE, resume=False, on_batch=on_batch
            ).run([source])
            if source.stopped:
                self.stopped = True
                return
            on_tick(scenario.end)
            self.rounds += 1
            if not loop:
                break
            k += 1
        self.say(
            self.clock.now(),
            f"演示场景播放完毕：实时新增帖文 {self.live_posts} 条、预警 {self.live_alerts} 条。"
            "看板继续运行（Ctrl+C 退出）",
        )
