"""Stream workers: ``yuqing worker --stream URL --store URL``.

Each worker is one consumer of a Redis consumer group. It loops:

1. ``XAUTOCLAIM`` entries that another consumer (a dead or stuck worker) has held longer
   than ``claim_idle_ms``; an entry delivered more than ``max_deliveries`` times is moved
   to ``<stream>:dead`` with the reason instead of being tried again (no poison loop);
2. otherwise ``XREADGROUP`` up to ``batch_size`` new entries, blocking ``block_ms``;
3. decodes the entries into Documents (an entry that does not decode is rejected: logged
   as ``line N: reason [...]``, moved to the dead stream and acknowledged), drops those
   already stored (same source and id), runs the pipeline and ``store.add_documents``;
4. only after that commit: ``XACK`` and ``XDEL`` the batch in one ``MULTI``.

Delivery is at-least-once (a worker killed between its commit and its XACK sees the batch
delivered again); writes are idempotent by (source, id); together every post is stored
exactly once. A worker stops after the current batch on SIGTERM or SIGINT; ``once`` drains
what is in the stream (nothing undelivered, nothing pending) and returns.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import redis

from yuqing.errors import PipelineError, RecordError, StoreError
from yuqing.models import Document, Rejection
from yuqing.pipeline.stage import Pipeline
from yuqing.store.base import Store
from yuqing.streams.entry import connect, decode, source_key_of
from yuqing.streams.publisher import ensure_group
from yuqing.streams.url import StreamURL, default_consumer, parse_stream_url

if TYPE_CHECKING:
    from yuqing.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")
Entry = tuple[bytes, dict[bytes, bytes]]
RejectHandler = Callable[[str, str, Rejection], None]  # (entry id, source key, rejection)


@dataclass(slots=True)
class WorkerReport:
    """Counts of one worker run; ``received = stored + existing + rejected``."""

    received: int = 0  # entries taken, new and claimed
    claimed: int = 0  # of which taken over from another consumer
    stored: int = 0
    existing: int = 0  # already stored (redelivered, or published twice)
    rejected: int = 0  # undecodable, failing alone in the pipeline, or delivered too often
    near_duplicates: int = 0
    batches: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"processed {self.received}, stored {self.stored}, duplicates {self.existing}, "
            f"rejected {self.rejected}, claimed {self.claimed}"
        )


def print_rejection(entry_id: str, source_key: str, rejection: Rejection) -> None:
    """The worker's rejection line: ``line N: reason [source, entry ID]`` on stderr."""
    where = f"{source_key}, " if source_key else ""
    sys.stderr.write(f"line {rejection.line}: {rejection.reason} [{where}entry {entry_id}]\n")


class Worker:
    """One consumer of the group: stream entries -> pipeline -> store (see the module doc)."""

    def __init__(
        self,
        client: redis.Redis,
        target: StreamURL,
        store: Store,
        pipeline: Pipeline,
        *,
        consumer: str,
        batch_size: int = 500,
        block_ms: int = 2000,
        claim_idle_ms: int = 60_000,
        max_deliveries: int = 5,
        index_every: int = 1,
        on_reject: RejectHandler | None = print_rejection,
    ) -> None:
        self.client = client
        self.target = target
        self.store = store
        self.pipeline = pipeline
        self.consumer = consumer
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.index_every = index_every
        self.on_reject = on_reject
        self._stop = threading.Event()
        self._claim_from = "0-0"

    def request_stop(self) -> None:
        """Stop after the current batch (safe from a signal handler or another thread)."""
        self._stop.set()

    def run(self, *, once: bool = False) -> WorkerReport:
        """Process batches until stopped; with ``once``, until the group has nothing left."""
        report = WorkerReport()
        start = time.perf_counter()
        self._call("creating the consumer group", ensure_group, self.client, self.target)
        while not self._stop.is_set():
            entries = self._claim(report)
            if not entries:
                entries = self._read(None if once else self.block_ms)
            if entries:
                self._handle(entries, report)
            elif once:
                if self._pending() == 0:
                    break
                time.sleep(min(0.1, self.claim_idle_ms / 4000))  # wait for them to be claimable
        report.seconds = time.perf_counter() - start
        return report

    # -- taking entries ---------------------------------------------------------------

    def _read(self, block: int | None) -> list[Entry]:
        answer = self._call(
            "reading the stream",
            self.client.xreadgroup,
            self.target.group,
            self.consumer,
            {self.target.stream: ">"},
            count=self.batch_size,
            block=block,
        )
        if not answer:
            return []
        rows: Any = answer  # RESP2 shape: [[stream, [(id, fields), ...]]]
        return [(eid, fields) for eid, fields in rows[0][1] if fields is not None]

    def _claim(self, report: WorkerReport) -> list[Entry]:
        """Take over entries idle longer than ``claim_idle_ms``; dead-letter worn-out ones."""
        answer = self._call(
            "claiming idle entries",
            self.client.xautoclaim,
            self.target.stream,
            self.target.group,
            self.consumer,
            self.claim_idle_ms,
            start_id=self._claim_from,
            count=self.batch_size,
        )
        next_from, claimed = answer[0], [(eid, f) for eid, f in answer[1] if f is not None]
        self._claim_from = next_from.decode() if isinstance(next_from, bytes) else str(next_from)
        if not claimed:
            return []
        report.claimed += len(claimed)
        counts = self._deliveries([eid for eid, _ in claimed])
        worn = [(eid, f) for eid, f in claimed if counts.get(eid, 1) > self.max_deliveries]
        if worn:
            report.received += len(worn)
            dead: list[tuple[Entry, Rejection]] = []
            for eid, fields in worn:
                reason = (
                    f"delivered {counts[eid]} times without being stored (a worker died or "
                    f"failed on it each time); moved to {self.target.dead_stream}"
                )
                dead.append(((eid, fields), Rejection(0, "deliveries", reason, "")))
            self._finish([], dead, report)
        worn_ids = {eid for eid, _ in worn}
        return [(eid, f) for eid, f in claimed if eid not in worn_ids]

    def _deliveries(self, ids: Sequence[bytes]) -> dict[bytes, int]:
        rows = self._call(
            "reading delivery counts",
            self.client.xpending_range,
            self.target.stream,
            self.target.group,
            min=min(ids, key=_id_order),
            max=max(ids, key=_id_order),
            count=len(ids) + self.batch_size,
            consumername=self.consumer,
        )
        found: list[Any] = list(rows)
        return {row["message_id"]: int(row["times_delivered"]) for row in found}

    def _pending(self) -> int:
        info = self._call(
            "reading pending entries", self.client.xpending, self.target.stream, self.target.group
        )
        return int(info["pending"])

    # -- one batch --------------------------------------------------------------------

    def _handle(self, entries: list[Entry], report: WorkerReport) -> None:
        report.received += len(entries)
        decoded: list[tuple[Entry, Document]] = []
        dead: list[tuple[Entry, Rejection]] = []
        for entry in entries:
            try:
                decoded.append((entry, decode(entry[1])))
            except RecordError as exc:
                line = exc.line if exc.line is not None else 0
                raw = entry[1].get(b"post", b"").decode("utf-8", "replace")[:200]
                dead.append((entry, Rejection(line, exc.code, exc.reason, raw)))
        dead += self._store_docs(decoded, report)
        self._finish([entry for entry, _ in decoded], dead, report)
        report.batches += 1

    def _store_docs(
        self, decoded: list[tuple[Entry, Document]], report: WorkerReport
    ) -> list[tuple[Entry, Rejection]]:
        """Pipeline and commit; a batch the pipeline fails on is retried one post at a
        time, and a post that fails alone is rejected (returned), never retried forever."""
        if not decoded:
            return []
        docs: list[Document] = []
        seen: set[tuple[str, str]] = set()
        for _, doc in decoded:
            if doc.key not in seen:
                seen.add(doc.key)
                docs.append(doc)
        known = self.store.existing_keys([d.key for d in docs])
        new = [d for d in docs if d.key not in known]
        try:
            new = self.pipeline.process(new) if new else new
        except PipelineError as exc:
            if len(decoded) == 1:
                entry, doc = decoded[0]
                return [(entry, Rejection(doc.line or 0, "pipeline", str(exc), doc.text[:200]))]
            dead: list[tuple[Entry, Rejection]] = []
            for item in decoded:
                dead += self._store_docs([item], report)
            return dead
        result = self.store.add_documents(new)
        report.stored += result.stored
        report.existing += len(decoded) - result.stored
        report.near_duplicates += sum(1 for d in new if d.duplicate_of is not None)
        if self.index_every and (report.batches + 1) % self.index_every == 0:
            self.store.index_pending(50_000)
        return []

    def _finish(
        self, done: list[Entry], dead: list[tuple[Entry, Rejection]], report: WorkerReport
    ) -> None:
        """After the commit: dead-letter the rejected entries, XACK and XDEL all, atomically."""
        pipe = self.client.pipeline(transaction=True)
        for (eid, fields), rejection in dead:
            report.rejected += 1
            source_key = source_key_of(fields)
            if self.on_reject is not None:
                self.on_reject(eid.decode(), source_key, rejection)
            pipe.xadd(
                self.target.dead_stream,
                {
                    "entry": eid,
                    "code": rejection.code,
                    "reason": rejection.reason,
                    "source_key": source_key,
                    **{k.decode(): v for k, v in fields.items()},
                },
            )
        ids = [eid for eid, _ in done] + [eid for (eid, _), _ in dead]
        if ids:
            pipe.xack(self.target.stream, self.target.group, *ids)
            pipe.xdel(self.target.stream, *ids)
        self._call("acknowledging a batch", pipe.execute)

    def _call(self, what: str, fn: Callable[P, T], *args: P.args, **kw: P.kwargs) -> T:
        try:
            return fn(*args, **kw)
        except redis.RedisError as exc:
            raise StoreError(f"{self.target.describe()}: {what} failed: {exc}") from exc


def _id_order(entry_id: bytes) -> tuple[int, int]:
    ms, _, seq = entry_id.partition(b"-")
    return (int(ms), int(seq or 0))


@contextmanager
def stop_on_signals(worker: Worker) -> Iterator[None]:
    """SIGTERM and SIGINT ask ``worker`` to stop after its batch (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        del frame
        sys.stderr.write(f"signal {signum}: stopping after the current batch\n")
        worker.request_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def warm_stages(pipeline: Pipeline, store: Store, window: timedelta, limit: int) -> int:
    """Feed recent stored posts to stages that keep state (the near-duplicate index)."""
    warmed = 0
    since = datetime.now(UTC) - window
    for stage in pipeline.stages:
        warm: Any = getattr(stage, "warm", None)
        if callable(warm):
            warmed = int(warm(store.recent_documents(since, limit)))
    return warmed


def worker_command(
    settings: Settings,
    stream_url: str,
    *,
    consumer: str | None = None,
    batch_size: int = 500,
    block_ms: int = 2000,
    once: bool = False,
    analysis: bool = True,
    claim_idle_ms: int = 60_000,
    max_deliveries: int = 5,
) -> int:
    """``yuqing worker --stream URL --store URL``: run one worker until SIGTERM/SIGINT
    (or, with ``once``, until the stream is drained); print the summary; return the exit
    status (0, or 3 when some entries were rejected). Errors raise YuqingError."""
    from yuqing.runtime.factory import build_pipeline
    from yuqing.store.url import open_store

    target = parse_stream_url(stream_url)
    name = consumer or target.consumer or default_consumer()
    store = open_store(settings.store)
    try:
        pipeline = build_pipeline(settings, analysis=analysis, events=False)
        warm_stages(
            pipeline, store, timedelta(days=settings.dedup.window_days), settings.dedup.max_entries
        )
        client = connect(target)
        try:
            worker = Worker(
                client,
                target,
                store,
                pipeline,
                consumer=name,
                batch_size=batch_size,
                block_ms=block_ms,
                claim_idle_ms=claim_idle_ms,
                max_deliveries=max_deliveries,
            )
            with stop_on_signals(worker):
                report = worker.run(once=once)
        finally:
            client.close()
        store.index_pending(50_000)
    finally:
        store.close()
    print(report.summary())
    return 3 if report.rejected else 0
