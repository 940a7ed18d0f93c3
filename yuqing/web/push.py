"""Push ingest (``POST /api/v1/posts``): a batch of input records through the real pipeline
into the store, idempotent by (source, id).

One pipeline (normalize, dedup, segment, keywords, analysis, events) serves every push; it
is built on the first push (the models take a second or two to load), warmed with the
store's recent posts like ``yuqing ingest`` does, and used under a lock, because its
stages keep state (the near-duplicate index, the open events). The events that the batch
touched, and any that closed, are saved with ``Store.upsert_events``.

Then, unless ``[web] push_alerts`` is off, the batch's newly stored posts go through the
alert rules (:class:`~yuqing.web.push_alerts.PushAlerts`, built on the first push that
stores a post, under the same lock): alerts are stored and delivered, and the answer's
``alerts`` counts them (null when alerts are off or their engine could not be built, which
is logged and retried at the next push; the posts stay stored). :func:`push_lifespan`
closes the engine's dispatcher when the app shuts down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from yuqing.clock import Clock, SystemClock
from yuqing.errors import RecordError, YuqingError
from yuqing.models import Cursor, Document
from yuqing.pipeline.stage import Pipeline
from yuqing.settings import Settings
from yuqing.sources.base import SourceBatch
from yuqing.sources.record import to_document
from yuqing.store.base import Store
from yuqing.web.push_alerts import PushAlerts, event_titles

DEFAULT_SOURCE = "push"
LOG = logging.getLogger("yuqing.web.push")


@dataclass(slots=True)
class Rejected:
    index: int
    code: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "code": self.code, "reason": self.reason}


@dataclass(slots=True)
class PushResult:
    """``accepted`` valid records, of which ``stored`` were new and ``existing`` already
    stored (or repeated in the batch); ``rejected`` with their 0-based index; ``alerts``
    raised by the stored posts (None when push alerts are off or could not run)."""

    accepted: int = 0
    stored: int = 0
    existing: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    alerts: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "accepted": self.accepted,
            "stored": self.stored,
            "existing": self.existing,
            "rejected": [r.as_dict() for r in self.rejected],
            "alerts": self.alerts,
        }


class _Batch:
    """The validated documents of one push, as a one-batch Source for the Ingestor."""

    key = "api:push"

    def __init__(self, docs: list[Document]) -> None:
        self._docs = docs

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        del size, start
        yield SourceBatch(documents=self._docs, read=len(self._docs))


class PushService:
    """The push API's pipeline and alert engine (one per app; ``clock`` stamps alerts)."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._pipeline: Pipeline | None = None
        self._alerts: PushAlerts | None = None

    def validate(self, records: Sequence[Any]) -> tuple[list[Document], list[Rejected]]:
        """Input records -> documents, or rejections with their index and reason."""
        docs: list[Document] = []
        rejected: list[Rejected] = []
        now = datetime.now(UTC)
        limit = self.settings.max_record_bytes
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                rejected.append(Rejected(index, "not_object", "a record must be a JSON object"))
                continue
            size = len(orjson.dumps(record, default=str))
            if size > limit:
                reason = f"the record is {size} bytes, over the {limit}-byte limit"
                rejected.append(Rejected(index, "too_large", reason))
                continue
            try:
                doc = to_document(
                    record,
                    line=index + 1,
                    default_source=DEFAULT_SOURCE,
                    zone=self.settings.zone,
                    now=now,
                )
            except RecordError as exc:
                rejected.append(Rejected(index, exc.code, exc.reason))
                continue
            docs.append(doc)
        return docs, rejected

    def _ready(self, store: Store) -> Pipeline:
        if self._pipeline is None:
            from yuqing.runtime.factory import build_pipeline
            from yuqing.runtime.ingest import Ingestor

            pipeline = build_pipeline(self.settings, analysis=True, events=True)
            dedup = self.settings.dedup
            Ingestor(store, pipeline).warm(timedelta(days=dedup.window_days), dedup.max_entries)
            self._pipeline = pipeline
        return self._pipeline

    def push(self, store: Store, records: Sequence[Any]) -> PushResult:
        """Validate, then run the valid records through the pipeline into ``store``."""
        from yuqing.runtime.ingest import Ingestor

        docs, rejected = self.validate(records)
        alerts = 0 if self.settings.web.push_alerts else None
        result = PushResult(accepted=len(docs), rejected=rejected, alerts=alerts)
        if not docs:
            return result
        with self._lock:
            pipeline = self._ready(store)
            stored: list[Document] = []
            ingestor = Ingestor(
                store, pipeline, batch_size=len(docs), resume=False, on_batch=stored.extend
            )
            report = ingestor.run([_Batch(docs)])
            clusterer: Any = next((s for s in pipeline.stages if s.name == "events"), None)
            if clusterer is not None:
                touched = {d.analysis.get("event_id") for d in stored}
                events = list(clusterer.drain_closed())
                events += [e for e in clusterer.open_events() if e.id in touched]
                if events:
                    store.upsert_events(events)
            if self.settings.web.push_alerts:
                result.alerts = self._raise_alerts(store, pipeline, stored)
        result.stored = report.stored
        result.existing = report.existing
        return result

    def _raise_alerts(self, store: Store, pipeline: Pipeline, stored: list[Document]) -> int | None:
        """Run the newly stored posts through the alert rules (under the push lock)."""
        if not stored:
            return 0
        try:
            if self._alerts is None:
                clusterer = next((s for s in pipeline.stages if s.name == "events"), None)
                self._alerts = PushAlerts(self.settings, store, self.clock, event_titles(clusterer))
            return len(self._alerts.process(store, stored))
        except YuqingError as exc:  # the posts are stored: answer, and log
            LOG.error("push alerts: %d stored post(s) not checked: %s", len(stored), exc)
            return None

    def close(self) -> None:
        """Close the alert engine's dispatcher (pending deliveries get a few seconds)."""
        with self._lock:
            alerts, self._alerts = self._alerts, None
        if alerts is not None:
            alerts.close()


@asynccontextmanager
async def push_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The push router's lifespan: close the push alerts' dispatcher at app shutdown."""
    try:
        yield
    finally:
        web = getattr(app.state, "web", None)
        push = getattr(web, "push", None)
        if isinstance(push, PushService):
            await run_in_threadpool(push.close)
