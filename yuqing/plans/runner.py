"""The plan poller inside ``yuqing run`` (:class:`PlansInRun`), as a background thread of
``yuqing serve`` (:class:`BackgroundPoller`, started by the plans router's lifespan), and
once from the CLI (``yuqing plans poll``).

In ``yuqing run`` the plans' sources go through the run's own Ingestor (same pipeline,
same near-duplicate index and event clusterer) and its alert engine, which also gets the
plans' rules (:class:`~yuqing.plans.rules.PlanRuleSync`), at each poll of the run loop:
a source is polled at the first loop poll after it is due.

In ``yuqing serve`` one daemon thread wakes every ``[plans] tick`` (or at once when a plan
is saved through the API), and, when some source is due, builds (once) the pipeline, an
alert engine with every rule (yuqing.toml, saved, plans) and the dispatcher, then polls.
Nothing heavy is loaded while no plan has a source to poll. Several pollers on one store
(``yuqing run`` and ``yuqing serve``) never poll one source at once: each poll is claimed
in the store first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TextIO

from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.dispatcher_setup import dispatcher_for
from yuqing.alerts.engine import AlertEngine
from yuqing.alerts.rule_sync import apply_rule_changes
from yuqing.alerts.rules_config import rules_from_settings
from yuqing.clock import Clock
from yuqing.errors import YuqingError
from yuqing.plans.poller import PlanPoller, PollReport, due_sources
from yuqing.plans.rules import PlanRuleSync
from yuqing.runtime.ingest import Ingestor, IngestReport
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.saved_rules import RuleSync, saved_rules
from yuqing.store.url import open_store

if TYPE_CHECKING:
    from yuqing.pipeline.stage import Pipeline

__all__ = [
    "BackgroundPoller",
    "PlanMachinery",
    "PlansInRun",
    "apply_rule_changes",
    "plans_for_run",
    "poller_of",
]

LOG = logging.getLogger("yuqing.plans")
STOP_TIMEOUT = 10.0


@dataclass(slots=True)
class PlansInRun:
    """The plans' part of each ``yuqing run`` poll."""

    poller: PlanPoller
    engine: AlertEngine
    sync: PlanRuleSync

    def poll(self, polled: tuple[IngestReport, int], err: TextIO) -> tuple[IngestReport, int]:
        """Sync the plans' rules, poll the due plan sources; add their counts to the run's
        ``(report, source errors)`` of this poll and return it."""
        store = self.poller.store
        try:
            for warning in apply_rule_changes(self.sync, store, self.engine):
                err.write(f"warning: {warning}\n")
            done = self.poller.poll_due()
        except YuqingError as exc:  # a broken plan must not stop the run
            err.write(f"warning: plans: {exc}\n")
            return polled
        total, errors = polled
        total.read += done.ingest.read
        total.stored += done.ingest.stored
        total.existing += done.ingest.existing
        total.rejected += done.ingest.rejected
        total.blocked += done.ingest.blocked
        return total, errors + done.errors


def plans_for_run(
    settings: Settings,
    ingestor: Ingestor,
    engine: AlertEngine,
    clock: Clock,
    stop_event: threading.Event,
    err: TextIO,
) -> PlansInRun | None:
    """The plans hook of ``yuqing run`` (None when ``[plans] poll_in_run`` is off)."""
    if not settings.plans.poll_in_run:
        return None
    poller = PlanPoller(
        settings,
        ingestor,
        clock=clock,
        sleep=stop_event.wait,
        on_error=lambda message: err.write(f"warning: {message}\n"),
    )
    return PlansInRun(poller, engine, PlanRuleSync(settings))


# -- yuqing serve ------------------------------------------------------------------------


def _pipeline(settings: Settings) -> Pipeline:
    from yuqing.runtime.factory import build_pipeline

    return build_pipeline(settings, analysis=settings.run.analysis, events=settings.run.events)


class PlanMachinery:
    """What polling plans outside `yuqing run` needs (serve, `yuqing plans poll`): the
    dispatcher, an alert engine with every rule (yuqing.toml, saved, plans), the pipeline
    and its ingestor, and the poller; :meth:`cycle` syncs the rules and polls once."""

    def __init__(
        self, settings: Settings, store: Store, clock: Clock, sleep: Callable[[float], object]
    ) -> None:
        self.dispatcher: Dispatcher = dispatcher_for(settings, clock=clock)
        try:
            self.saved = RuleSync(settings)
            self.saved.changes(store)
            self.engine = AlertEngine(
                rules_from_settings(settings) + saved_rules(store, settings),
                self.dispatcher,
                clock,
                settings.public_url,
                max_recent=settings.monitor.recent_alerts,
                sink=store.add_alerts,
            )
            self.sync = PlanRuleSync(settings)
            pipeline = _pipeline(settings)
            self.ingestor = Ingestor(
                store, pipeline, batch_size=settings.batch_size, on_batch=self.engine.process
            )
            dedup = settings.dedup
            self.ingestor.warm(timedelta(days=dedup.window_days), dedup.max_entries)
            self.poller = PlanPoller(
                settings,
                self.ingestor,
                clock=clock,
                sleep=sleep,
                on_error=lambda message: LOG.warning("%s", message),
            )
        except BaseException:
            self.dispatcher.close(0)
            raise

    def cycle(self, store: Store) -> PollReport:
        for sync in (self.saved, self.sync):
            for warning in apply_rule_changes(sync, store, self.engine):
                LOG.warning("%s", warning)
        return self.poller.poll_due()

    def close(self) -> None:
        self.poller.close()
        self.dispatcher.close(STOP_TIMEOUT)


class BackgroundPoller:
    """The serve poller: a daemon thread; :meth:`wake` polls at once (a plan was saved)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.tick = settings.plans.seconds("tick")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.cycles = 0  # passes made (tests and /api/v1/monitoring-plans/{id}/health read it)
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="yuqing-plans", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        machinery: PlanMachinery | None = None
        store: Store | None = None
        try:
            while not self._stop.is_set():
                try:
                    if store is None:
                        store = open_store(self.settings.store)
                    machinery = self._cycle(store, machinery)
                    self.last_error = None
                except YuqingError as exc:
                    self.last_error = str(exc)
                    LOG.error("plans poller: %s", exc)
                except Exception as exc:  # the thread must survive a bug in one pass
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    LOG.exception("plans poller: unexpected error")
                self.cycles += 1
                self._wake.wait(self.tick)
                self._wake.clear()
        finally:
            if machinery is not None:
                machinery.close()
            if store is not None:
                store.close()

    def _cycle(self, store: Store, machinery: PlanMachinery | None) -> PlanMachinery | None:
        if machinery is None:
            if not due_sources(store, self.settings, self.clock.now()):
                return None  # build nothing until a plan has a source to poll
            machinery = PlanMachinery(self.settings, store, self.clock, self._stop.wait)
        done = machinery.cycle(store)
        if done.polls:
            LOG.info("%s", done.summary())
        return machinery


def poller_of(app_state: Any) -> BackgroundPoller | None:
    """The serve poller kept on ``app.state`` (None when not running)."""
    found = getattr(app_state, "plans_poller", None)
    return found if isinstance(found, BackgroundPoller) else None
