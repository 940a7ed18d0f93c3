"""Ingest: sources -> pipeline -> store, batch by batch, resumable and idempotent.

Each batch is committed together with its source cursor, so a crash (even ``kill -9``)
loses nothing that was reported stored, and a rerun resumes after the last committed
batch; records already stored (same source and id) are skipped, never stored twice.
Posts of authors on the store's suppression list (:mod:`yuqing.privacy.blocking`, checked
once per batch) are dropped before the pipeline and counted as ``blocked``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from yuqing.gc_tuning import young_collections_for_batches
from yuqing.models import Cursor, Document, Rejection
from yuqing.pipeline.stage import Pipeline
from yuqing.privacy.blocking import BlocklistCache
from yuqing.sources.base import Source
from yuqing.store.base import Store


@dataclass(slots=True)
class IngestReport:
    """Counts of one ingest run. ``read = stored + existing + rejected + blocked``."""

    read: int = 0
    stored: int = 0
    existing: int = 0  # already in the store (same source and id): the "duplicates" of the summary
    rejected: int = 0
    blocked: int = 0  # of authors on the suppression list: dropped, kept nowhere
    near_duplicates: int = 0  # stored posts marked duplicate_of an earlier post
    reposts: int = 0  # stored posts marked repost_of a known post
    indexed: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0
    batches: int = 0
    events: int = 0  # events saved (closed during the run, and open at its end)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def merge(self, other: IngestReport) -> None:
        """Add the commit-side counts of ``other`` (from the writer thread)."""
        self.stored += other.stored
        self.existing += other.existing
        self.near_duplicates += other.near_duplicates
        self.reposts += other.reposts
        self.indexed += other.indexed
        self.index_seconds += other.index_seconds
        self.batches += other.batches
        self.events += other.events

    def summary(self) -> str:
        """The one-line summary that ends an ingest (DESIGN.md contract), with the posts
        of blocked authors when there were any."""
        line = (
            f"read {self.read}, stored {self.stored}, duplicates {self.existing}, "
            f"rejected {self.rejected}"
        )
        return f"{line}, blocked {self.blocked}" if self.blocked else line


RejectHandler = Callable[[Source, Rejection], None]
ProgressHandler = Callable[[Source, int], None]
BatchHandler = Callable[[Sequence[Document]], object]


def _first_of_each_key(docs: Sequence[Document]) -> tuple[list[Document], int]:
    """Keep the first record of each (source, id) in a batch; count the rest."""
    seen: set[tuple[str, str]] = set()
    kept: list[Document] = []
    for doc in docs:
        if doc.key in seen:
            continue
        seen.add(doc.key)
        kept.append(doc)
    return kept, len(docs) - len(kept)


class Ingestor:
    """Runs sources through a pipeline into a store.

    ``index_every`` > 0 brings the search index up to date after each batch; 0 leaves it to
    ``catch_up_index`` (search may then lag behind the writes, as DESIGN.md allows).
    """

    def __init__(
        self,
        store: Store,
        pipeline: Pipeline,
        *,
        batch_size: int = 2000,
        resume: bool = True,
        index_every: int = 1,
        on_reject: RejectHandler | None = None,
        on_progress: ProgressHandler | None = None,
        on_batch: BatchHandler | None = None,
        open_writer: Callable[[], Store] | None = None,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.resume = resume
        self.index_every = index_every
        self.on_reject = on_reject
        self.on_progress = on_progress
        self.on_batch = on_batch  # sees each batch of newly stored documents
        # With ``open_writer``, a second store connection commits batches and indexes them
        # in a background thread while the next batch goes through the pipeline (SQLite
        # works without the GIL, so both cores are used). Each batch is still committed
        # together with its cursor, in order.
        self.open_writer = open_writer
        # Stages that keep events (the clusterer): their closed events are saved with the
        # batch that closed them, the open ones at the end of the run.
        self._event_stages: list[Any] = [
            stage for stage in pipeline.stages if hasattr(stage, "drain_closed")
        ]
        self._blocklist = BlocklistCache()  # authors whose posts are dropped

    def warm(self, window: timedelta, limit: int) -> int:
        """Feed recent stored posts to stages that keep state (the near-duplicate index)."""
        warmed = 0
        since = datetime.now(UTC) - window
        for stage in self.pipeline.stages:
            warm = getattr(stage, "warm", None)
            if callable(warm):
                warmed = int(warm(self.store.recent_documents(since, limit)))
        return warmed

    def run(self, sources: Sequence[Source]) -> IngestReport:
        report = IngestReport()
        start = time.perf_counter()
        with young_collections_for_batches(self.batch_size):
            writer = _Writer(self, report) if self.open_writer is not None else None
            try:
                for source in sources:
                    cursor = self.store.get_cursor(source.key) if self.resume else None
                    for batch in source.batches(self.batch_size, cursor):
                        report.read += batch.read
                        report.rejected += len(batch.rejections)
                        if self.on_reject is not None:
                            for rejection in batch.rejections:
                                self.on_reject(source, rejection)
                        docs, repeated = _first_of_each_key(batch.documents)
                        known = self.store.existing_keys([d.key for d in docs]) if docs else set()
                        new = [d for d in docs if d.key not in known]
                        report.existing += repeated + len(docs) - len(new)
                        if new:  # one tiny query a batch (docs/privacy.md: blocking)
                            new, blocked = self._blocklist.current(self.store).split(new)
                            report.blocked += blocked
                        new = self.pipeline.process(new) if new else new
                        closed = [e for stage in self._event_stages for e in stage.drain_closed()]
                        if writer is not None:
                            writer.put(new, batch.cursor, closed)
                        else:
                            self._commit(self.store, report, new, batch.cursor, closed)
                        if self.on_progress is not None:
                            self.on_progress(source, batch.read)
            finally:
                if writer is not None:
                    writer.close()
        report.indexed += self.catch_up_index(report)
        for stage in self._event_stages:
            report.events += self.store.upsert_events(stage.open_events())
        report.seconds = time.perf_counter() - start
        report.stage_seconds = dict(self.pipeline.timings)
        return report

    def _commit(
        self,
        store: Store,
        report: IngestReport,
        new: list[Document],
        cursor: Cursor | None,
        closed_events: Sequence[Any] = (),
    ) -> None:
        result = store.add_documents(new, cursor)
        if closed_events:
            report.events += store.upsert_events(closed_events)
        report.stored += result.stored
        report.existing += result.existing
        report.near_duplicates += sum(1 for d in new if d.duplicate_of is not None)
        report.reposts += sum(1 for d in new if d.repost_of is not None)
        if self.on_batch is not None and new:
            self.on_batch(new)
        report.batches += 1
        if self.index_every and report.batches % self.index_every == 0:
            report.indexed += self._index(report, store)

    def catch_up_index(self, report: IngestReport | None = None) -> int:
        """Index everything stored but not yet searchable."""
        total = 0
        while True:
            n = self._index(report)
            total += n
            if n == 0:
                return total

    def _index(self, report: IngestReport | None, store: Store | None = None) -> int:
        start = time.perf_counter()
        n = (store or self.store).index_pending(50_000)
        if report is not None:
            report.index_seconds += time.perf_counter() - start
        return n


class _Writer:
    """Commits batches (and indexes them) on its own store connection in a thread."""

    def __init__(self, ingestor: Ingestor, report: IngestReport) -> None:
        assert ingestor.open_writer is not None
        self._ingestor = ingestor
        self._report = report
        self._part = IngestReport()  # this thread's counts, merged into report on close
        self._queue: queue.Queue[tuple[list[Document], Cursor | None, list[Any]] | None] = (
            queue.Queue(2)
        )
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="yuqing-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        store: Store | None = None
        try:
            open_writer = self._ingestor.open_writer
            assert open_writer is not None
            store = open_writer()
            while (item := self._queue.get()) is not None:
                self._ingestor._commit(store, self._part, *item)
        except BaseException as exc:  # handed to the main thread
            self._error = exc
            while self._queue.get() is not None:  # unblock the producer until it closes
                pass
        finally:
            if store is not None:
                store.close()

    def put(self, docs: list[Document], cursor: Cursor | None, closed: list[Any]) -> None:
        self._raise()
        self._queue.put((docs, cursor, closed))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._report.merge(self._part)
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
