"""``yuqing run``: poll the configured sources, run the pipeline, raise alerts, forever.

Each poll re-expands the ``[run] sources`` (a glob picks up new files), reads every file
from its stored cursor (only what was appended since) and re-fetches every feed (posts
already stored are skipped by id), ingests through :class:`~yuqing.runtime.ingest.Ingestor`
and feeds each committed batch to the :class:`~yuqing.alerts.engine.AlertEngine`, whose
dispatcher delivers in the background. One line per poll says what happened. The loop
ends when ``stop_event`` is set (``run_command`` sets it on SIGINT/SIGTERM); pending
deliveries then get up to 10 s.

Alerts are saved in the store before delivery (``AlertEngine(sink=store.add_alerts)``) and
every delivery attempt goes to the store's delivery log (and to ``[alerts.delivery] log``
when set). Rules saved in the store through ``/api/v1/rules`` run beside yuqing.toml's
``[[monitor.rules]]`` (an id used by both is a ConfigError at start); rules saved, changed
or deleted while the loop runs take effect at the next poll.
Each poll also polls the due sources of the monitoring plans (``[plans] poll_in_run``;
:mod:`yuqing.plans.runner`, docs/plans.md), whose rules join the engine.

The poll interval is wall time (it paces I/O); triggers and cooldowns run on post times
and the injected clock, as everywhere in yuqing.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from yuqing.alerts.dispatcher_setup import dispatcher_for
from yuqing.alerts.engine import AlertEngine, EventTracker
from yuqing.alerts.followup import FollowUp
from yuqing.alerts.rule_sync import apply_rule_changes
from yuqing.alerts.rules_config import rules_from_settings
from yuqing.cases.overdue_alerts import DeadlineWatch
from yuqing.clock import Clock, SystemClock
from yuqing.console import RejectReporter
from yuqing.errors import ConfigError, SourceError, UsageError, YuqingError
from yuqing.plans.runner import plans_for_run
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor, IngestReport
from yuqing.settings import Settings, load_settings
from yuqing.sources.base import Source
from yuqing.sources.resolve import kind_of, open_sources
from yuqing.store.base import Store
from yuqing.store.saved_rules import RuleSync, saved_rules
from yuqing.store.url import open_store

if TYPE_CHECKING:
    from yuqing.pipeline.stage import Pipeline

__all__ = ["RunReport", "run_command", "run_forever"]

CLOSE_TIMEOUT = 10.0  # seconds pending deliveries get when the loop stops


@dataclass(slots=True)
class RunReport:
    """Totals over all polls of one ``run_forever``."""

    polls: int = 0
    read: int = 0
    stored: int = 0
    existing: int = 0
    rejected: int = 0
    blocked: int = 0  # posts of authors blocked after a deletion (yuqing.privacy.blocking)
    alerts: int = 0
    closed_events: int = 0
    source_errors: int = 0


def _check_sources(settings: Settings) -> None:
    if not settings.run.sources and not settings.plans.poll_in_run:  # plans may bring sources
        raise ConfigError("[run] sources: name at least one file, glob or feed URL to poll")
    for spec in settings.run.sources:
        if any(ch in spec for ch in "*?[") and not spec.startswith(("http://", "https://")):
            continue  # a glob: its files are checked when they appear
        if kind_of(spec) is None:
            raise ConfigError(
                f"[run] sources: {spec!r}: cannot tell the kind from the name; use a .jsonl, "
                ".csv, .xml/.rss/.atom or .html file, or a feed/page URL"
            )


def _pipeline(settings: Settings) -> tuple[Pipeline, Any]:
    """The ingest pipeline, plus the events stage when installed and enabled."""
    pipeline = build_pipeline(settings, analysis=settings.run.analysis)
    clusterer = next((s for s in pipeline.stages if s.name == "events"), None)
    if clusterer is None and settings.run.events:
        try:
            from yuqing.events.cluster import EventClusterer
        except ImportError:  # the events stage is optional
            return pipeline, None
        clusterer = EventClusterer()
        pipeline.stages.append(clusterer)
        pipeline.timings[clusterer.name] = 0.0
    return pipeline, clusterer


def _titles(clusterer: Any) -> Callable[[str], str | None] | None:
    """Event titles from the clusterer, when it offers a per-id lookup (``event(id)``)."""
    lookup = getattr(clusterer, "event", None)
    if not callable(lookup):
        return None

    def title(event_id: str) -> str | None:
        event = lookup(event_id)
        return str(event.title) if event is not None and event.title else None

    return title


def _open(settings: Settings, out: TextIO) -> tuple[list[Source], int]:
    sources: list[Source] = []
    errors = 0
    for spec in settings.run.sources:
        try:
            sources += open_sources(
                [spec], zone=settings.zone, max_record_bytes=settings.max_record_bytes
            )
        except (SourceError, UsageError) as exc:
            errors += 1
            out.write(f"warning: {exc}\n")
    return sources, errors


def run_forever(
    settings: Settings,
    *,
    clock: Clock,
    stop_event: threading.Event,
    once: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> RunReport:
    """Poll ``settings.run.sources`` every ``poll_interval`` until ``stop_event`` is set
    (``once``: one poll). Returns the totals; raises ConfigError for a bad configuration
    and StoreError when the store fails. Lines go to ``out`` (stdout), warnings and
    rejected records to ``err`` (stderr)."""
    out = out or sys.stdout
    err = err or sys.stderr
    _check_sources(settings)
    rules = rules_from_settings(settings)
    pipeline, clusterer = _pipeline(settings)
    dispatcher = dispatcher_for(settings, clock=clock)  # env:/file: secrets, store log
    report = RunReport()
    try:
        followup = FollowUp(settings, dispatcher, clock)  # escalation and digests
    except ConfigError:
        dispatcher.close(0)
        raise
    try:
        store = open_store(settings.store)
        try:
            rules += saved_rules(store, settings)
            followup.start(store)  # plan subscribers get the alerts stored from now on
            sync = RuleSync(settings)
            sync.changes(store)
            engine = AlertEngine(
                rules,
                dispatcher,
                clock,
                settings.public_url,
                events=EventTracker(titles=_titles(clusterer)),
                max_recent=settings.monitor.recent_alerts,
                sink=store.add_alerts,
            )
            alerts: list[int] = [0]
            deadlines = DeadlineWatch(settings, clock, submit=dispatcher.submit)

            def on_batch(docs: Any) -> None:
                alerts[0] += len(engine.process(docs))

            with RejectReporter(None, several_sources=True) as reporter:
                ingestor = Ingestor(
                    store,
                    pipeline,
                    batch_size=settings.batch_size,
                    on_reject=reporter,
                    on_batch=on_batch,
                )
                ingestor.warm(
                    timedelta(days=settings.dedup.window_days), settings.dedup.max_entries
                )
                plans = plans_for_run(settings, ingestor, engine, clock, stop_event, err)
                out.write(
                    f"yuqing run: {len(rules)} rule(s), {len(dispatcher.channels)} channel(s), "
                    f"{len(settings.run.sources)} source spec(s), every {settings.run.poll_interval}"
                    f"{'' if clusterer is not None else ', no event clustering'}\n"
                )
                out.flush()
                while not stop_event.is_set():
                    alerts[0] = 0
                    _sync_rules(sync, store, engine, err)
                    polled = _poll(settings, ingestor, err)
                    polled = plans.poll(polled, err) if plans is not None else polled
                    alerts[0] += len(deadlines.maybe_check(store))  # overdue first statements
                    followup.tick(store)  # escalate unacknowledged alerts, send due digests
                    if clusterer is not None:
                        report.closed_events += len(clusterer.drain_closed())
                    _add(report, polled, alerts[0])
                    stats = dispatcher.stats()
                    when = clock.now().astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")
                    out.write(
                        f"{when} poll {report.polls}: {polled[0].summary()}; alerts {alerts[0]} "
                        f"(so far: sent {stats.delivered}, failed {stats.failed}, "
                        f"pending {stats.pending})\n"
                    )
                    out.flush()
                    if once:
                        break
                    stop_event.wait(settings.run.poll_seconds)
        finally:
            store.close()
    finally:
        followup.close()  # held digests go out before the dispatcher stops
        dispatcher.close(CLOSE_TIMEOUT)
    return report


def _sync_rules(sync: RuleSync, store: Store, engine: AlertEngine, err: TextIO) -> None:
    """Apply the rules saved, changed or deleted in the store since the last poll."""
    for warning in apply_rule_changes(sync, store, engine):
        err.write(f"warning: {warning}\n")


def _poll(settings: Settings, ingestor: Ingestor, err: TextIO) -> tuple[IngestReport, int]:
    sources, errors = _open(settings, err)
    total = IngestReport()
    for source in sources:
        try:
            part = ingestor.run([source])
        except SourceError as exc:  # one unreachable feed must not stop the others
            errors += 1
            err.write(f"warning: {exc}\n")
            continue
        total.read += part.read
        total.stored += part.stored
        total.existing += part.existing
        total.rejected += part.rejected
        total.blocked += part.blocked
    return total, errors


def _add(report: RunReport, polled: tuple[IngestReport, int], alerts: int) -> None:
    part, errors = polled
    report.polls += 1
    report.read += part.read
    report.stored += part.stored
    report.existing += part.existing
    report.rejected += part.rejected
    report.blocked += part.blocked
    report.alerts += alerts
    report.source_errors += errors


def run_command(config_path: Path, *, once: bool) -> int:
    """``yuqing run CONFIG [--once]``: load settings, stop on SIGINT/SIGTERM, return the
    exit status (0 done, 1 failed, 3 done but some records were rejected)."""
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def handle(signum: int, _frame: FrameType | None) -> None:
        sys.stderr.write(f"yuqing run: signal {signum}, stopping after this poll\n")
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, handle)
    try:
        settings = load_settings(config_path)
        report = run_forever(settings, clock=SystemClock(), stop_event=stop, once=once)
    except YuqingError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
    blocked = f", blocked {report.blocked}" if report.blocked else ""
    print(
        f"stopped after {report.polls} poll(s): read {report.read}, stored {report.stored}, "
        f"duplicates {report.existing}, rejected {report.rejected}{blocked}, "
        f"alerts {report.alerts}"
    )
    return 3 if report.rejected else 0
