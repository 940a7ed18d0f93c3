"""``yuqing worker``: one stream worker with the pipeline, event clustering and alert
rules built from the settings, as embedded ``yuqing ingest``/``yuqing run`` build them."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from yuqing.pipeline.stage import Pipeline
from yuqing.store.base import Store
from yuqing.streams.entry import connect
from yuqing.streams.ordered import AlertGate
from yuqing.streams.url import default_consumer, parse_stream_url
from yuqing.streams.worker import Worker, stop_on_signals

if TYPE_CHECKING:
    from yuqing.alerts.engine import AlertEngine
    from yuqing.settings import Settings

CLOSE_TIMEOUT = 10.0  # seconds pending alert deliveries get when the worker stops


def warm_stages(pipeline: Pipeline, store: Store, window: timedelta, limit: int) -> int:
    """Feed recent stored posts to stages that keep state (the near-duplicate index).
    Workers replay from the epoch instead; benchmarks and tools may still use this."""
    warmed = 0
    since = datetime.now(UTC) - window
    for stage in pipeline.stages:
        warm: Any = getattr(stage, "warm", None)
        if callable(warm):
            warmed = int(warm(store.recent_documents(since, limit)))
    return warmed


def build_alerts(
    settings: Settings, store: Store, stack: ExitStack
) -> tuple[AlertEngine | None, AlertGate | None]:
    """The alert engine of ``yuqing run`` (rules of yuqing.toml and those saved through the
    API, alerts saved to the store, deliveries logged there) behind an AlertGate; (None,
    None) when there is no rule. The dispatcher is closed by ``stack``."""
    from yuqing.alerts.dispatcher_setup import dispatcher_for
    from yuqing.alerts.engine import AlertEngine
    from yuqing.alerts.rules_config import rules_from_settings
    from yuqing.clock import SystemClock
    from yuqing.store.saved_rules import saved_rules

    rules = rules_from_settings(settings) + saved_rules(store, settings)
    if not rules:
        return None, None
    clock = SystemClock()
    dispatcher = dispatcher_for(settings, clock=clock)
    stack.callback(dispatcher.close, CLOSE_TIMEOUT)
    gate = AlertGate(dispatcher, store.add_alerts)
    engine = AlertEngine(
        rules,
        gate,  # type: ignore[arg-type]  # a Dispatcher's submit and channels
        clock,
        settings.public_url,
        max_recent=settings.monitor.recent_alerts,
        sink=gate.save,
    )
    return engine, gate


def build_worker(
    settings: Settings,
    stream_url: str,
    stack: ExitStack,
    *,
    consumer: str | None = None,
    batch_size: int = 500,
    block_ms: int = 2000,
    analysis: bool = True,
    events: bool | None = None,
    alerts: bool = True,
    claim_idle_ms: int = 60_000,
    max_deliveries: int = 5,
) -> Worker:
    """A Worker with the store, pipeline, alert engine and Redis client of ``settings``;
    ``stack`` closes them (see :func:`worker_command` for the options)."""
    from yuqing.runtime.factory import build_pipeline
    from yuqing.store.url import open_store

    target = parse_stream_url(stream_url)
    cluster = analysis and (settings.run.events if events is None else events)
    store = open_store(settings.store)
    stack.callback(store.close)
    pipeline = build_pipeline(settings, analysis=analysis, events=cluster)
    engine, gate = build_alerts(settings, store, stack) if alerts else (None, None)
    client = connect(target)
    stack.callback(client.close)
    return Worker(
        client,
        target,
        store,
        pipeline,
        consumer=consumer or target.consumer or default_consumer(),
        batch_size=batch_size,
        block_ms=block_ms,
        claim_idle_ms=claim_idle_ms,
        max_deliveries=max_deliveries,
        alerts=engine,
        gate=gate,
    )


def worker_command(
    settings: Settings,
    stream_url: str,
    *,
    consumer: str | None = None,
    batch_size: int = 500,
    block_ms: int = 2000,
    once: bool = False,
    analysis: bool = True,
    events: bool | None = None,
    alerts: bool = True,
    claim_idle_ms: int = 60_000,
    max_deliveries: int = 5,
) -> int:
    """``yuqing worker --stream URL --store URL``: run one worker until SIGTERM/SIGINT
    (or, with ``once``, until the stream is drained); print the summary; return the exit
    status (0, or 3 when some entries were rejected). ``events`` (default ``[run] events``,
    with analysis) clusters posts into events; ``alerts`` runs the monitoring rules of the
    settings and the store. Errors raise YuqingError."""
    with ExitStack() as stack:
        worker = build_worker(
            settings,
            stream_url,
            stack,
            consumer=consumer,
            batch_size=batch_size,
            block_ms=block_ms,
            analysis=analysis,
            events=events,
            alerts=alerts,
            claim_idle_ms=claim_idle_ms,
            max_deliveries=max_deliveries,
        )
        with stop_on_signals(worker):
            report = worker.run(once=once)
        worker.store.index_pending(50_000)
    print(report.summary())
    return 3 if report.rejected else 0
