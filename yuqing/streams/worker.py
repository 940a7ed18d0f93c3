"""Stream workers: ``yuqing worker --stream URL --store URL``.

Each worker is one consumer of a Redis consumer group. It loops:

1. ``XAUTOCLAIM`` entries that another consumer (a dead or stuck worker) has held longer
   than ``claim_idle_ms``; an entry delivered more than ``max_deliveries`` times is moved
   to ``<stream>:dead`` with the reason instead of being tried again (no poison loop);
2. otherwise ``XREADGROUP`` up to ``batch_size`` new entries, blocking ``block_ms``;
3. decodes the entries into Documents (an entry that does not decode is rejected: logged
   as ``line N: reason [...]``, moved to the dead stream and acknowledged), drops those
   already stored (same source and id) and those of authors on the suppression list
   (:mod:`yuqing.privacy.blocking`, checked once per batch: acknowledged, counted as
   ``blocked``, kept nowhere) and runs the per-post stages of the pipeline
   (normalize, segment, keywords, the models) at the same time as the other workers;
4. waits for the batch's turn (:mod:`yuqing.streams.turn`: every earlier entry of the
   stream is done; it blocks on the commit log meanwhile), catches its replica of the
   order-dependent state up with what other workers committed (replaying their stored
   event ids), then marks near-duplicates, assigns events (features computed before the
   turn), ``store.add_documents``, saves the touched events and raises the batch's
   alerts (:mod:`yuqing.streams.ordered`);
5. only after that commit: ``XACK`` and ``XDEL`` the batch in one ``MULTI``; then search
   indexing (``index_pending``), outside the turn.

The report gives CPU seconds (``cpu``), of which in turns (``turn_cpu``: serialized
across workers) and replaying (``replay_cpu``), for benchmarks/stream_workers.py.

Delivery is at-least-once (a worker killed between its commit and its XACK sees the batch
delivered again); writes are idempotent by (source, id); together every post is stored
exactly once. Commits happen in stream order, so near-duplicates, events and alerts are
those of one embedded ingest of the same input, with any number of workers
(docs/server.md). A worker stops after the current batch on SIGTERM or SIGINT; ``once``
drains what is in the stream (nothing undelivered, nothing pending) and returns.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import orjson
import redis

from yuqing.errors import PipelineError, RecordError, StoreError
from yuqing.gc_tuning import young_collections_for_batches
from yuqing.models import Document, Rejection
from yuqing.pipeline.stage import Pipeline
from yuqing.privacy.blocking import BlocklistCache
from yuqing.store.base import Store
from yuqing.streams.entry import decode, source_key_of
from yuqing.streams.ordered import AlertGate, OrderedState, split_stages
from yuqing.streams.publisher import ensure_group
from yuqing.streams.turn import Turnstile
from yuqing.streams.url import StreamURL

if TYPE_CHECKING:
    from yuqing.alerts.engine import AlertEngine

P = ParamSpec("P")
T = TypeVar("T")
Entry = tuple[bytes, dict[bytes, bytes]]
COMMIT_LOG_MAXLEN = 20_000  # batches kept in <stream>:commits (about 10 M posts at 500)
RejectHandler = Callable[[str, str, Rejection], None]  # (entry id, source key, rejection)


@dataclass(slots=True)
class WorkerReport:
    """Counts of one worker run; ``received = stored + existing + rejected + blocked``."""

    received: int = 0  # entries taken, new and claimed
    claimed: int = 0  # of which taken over from another consumer
    stored: int = 0
    existing: int = 0  # already stored (redelivered, or published twice)
    rejected: int = 0  # undecodable, failing alone in the pipeline, or delivered too often
    blocked: int = 0  # of authors on the suppression list: acknowledged, kept nowhere
    near_duplicates: int = 0
    batches: int = 0
    alerts: int = 0  # alerts raised (saved and submitted) by this worker
    events: int = 0  # event upserts of this worker
    replayed: int = 0  # posts of other workers applied to this worker's replica
    diverged: int = 0  # replayed posts whose recomputed event differs from the stored (0)
    seconds: float = 0.0
    waited: float = 0.0  # seconds spent waiting for turns
    cpu: float = 0.0  # CPU seconds of this process during the run
    turn_cpu: float = 0.0  # of which in turns (catch-up, ordered stages, commit): serialized
    replay_cpu: float = 0.0  # of which catching up with other workers' commits

    def summary(self) -> str:
        line = (
            f"processed {self.received}, stored {self.stored}, duplicates {self.existing}, "
            f"rejected {self.rejected}, claimed {self.claimed}"
        )
        return f"{line}, blocked {self.blocked}" if self.blocked else line


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
        alerts: AlertEngine | None = None,
        gate: AlertGate | None = None,
        epoch: int | None = None,
    ) -> None:
        self.client = client
        self.target = target
        self.store = store
        self.pipeline = pipeline
        parallel, ordered = split_stages(pipeline.stages)
        self.parallel = Pipeline(parallel)
        self.ordered = OrderedState(ordered, alerts=alerts, gate=gate, log=self._read_log)
        self._log_from = b"0-0"
        self._instance = uuid.uuid4().hex.encode()  # tags our commit-log entries
        self.epoch = epoch  # None: read <stream>:epoch from Redis (0 when unset)
        self.turn = Turnstile(client, target, consumer, self._call, claim_idle_ms=claim_idle_ms)
        self.consumer = consumer
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.index_every = index_every
        self.on_reject = on_reject
        self._stop = threading.Event()
        self._claim_from = "0-0"
        self._blocklist = BlocklistCache()  # authors whose posts are dropped

    def request_stop(self) -> None:
        """Stop after the current batch (safe from a signal handler or another thread)."""
        self._stop.set()

    def run(self, *, once: bool = False) -> WorkerReport:
        """Process batches until stopped; with ``once``, until the group has nothing left."""
        report = WorkerReport()
        start = time.perf_counter()
        cpu = time.process_time()
        self._call("creating the consumer group", ensure_group, self.client, self.target)
        if self.ordered.needed:
            self.ordered.start(self.store, self._epoch())
        with young_collections_for_batches(self.batch_size):  # as Ingestor.run does
            while not self._stop.is_set():
                entries = self._claim(report)
                if not entries:
                    entries = self._read(None if once else self.block_ms)
                if entries:
                    self._handle(entries, report)
                elif once:
                    if self._pending() == 0:
                        break
                    time.sleep(min(0.1, self.claim_idle_ms / 4000))  # until claimable
        report.seconds = time.perf_counter() - start
        report.cpu = time.process_time() - cpu
        report.replayed, report.diverged = self.ordered.replayed, self.ordered.diverged
        return report

    def _epoch(self) -> int:
        """The storage position the replicas start from (docs/server.md: the epoch)."""
        if self.epoch is not None:
            return self.epoch
        value = self._call("reading the epoch", self.client.get, self.target.epoch_key)
        try:
            return int(value) if value is not None else 0
        except ValueError as exc:
            raise StoreError(
                f"{self.target.describe()}: {self.target.epoch_key} holds {value!r}, not a "
                "storage position; delete it or set it to a number"
            ) from exc

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
        return self._take_claimed(claimed, report)

    def _take_claimed(self, claimed: list[Entry], report: WorkerReport) -> list[Entry]:
        """Count claimed entries; dead-letter those delivered too often; return the rest."""
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
        more, keys = self._store_docs(decoded, report)
        self._finish([entry for entry, _ in decoded], dead + more, report, keys)
        report.batches += 1
        if keys and self.index_every and report.batches % self.index_every == 0:
            self.store.index_pending(50_000)  # after the XACK: outside the turn

    def _store_docs(
        self, decoded: list[tuple[Entry, Document]], report: WorkerReport
    ) -> tuple[list[tuple[Entry, Rejection]], list[tuple[str, str]]]:
        """Per-post stages, then the batch's turn, then the ordered commit; returns the
        rejected entries and the committed keys in commit order. A batch the per-post
        stages fail on is retried one post at a time, and a post that fails alone is
        rejected, never retried forever."""
        if not decoded:
            return [], []
        docs: list[Document] = []
        first_entry: dict[tuple[str, str], Entry] = {}
        for entry, doc in decoded:
            if doc.key not in first_entry:
                first_entry[doc.key] = entry
                docs.append(doc)
        known = self.store.existing_keys([d.key for d in docs])
        fresh, blocked = [d for d in docs if d.key not in known], 0
        if fresh:  # one tiny query a batch (docs/privacy.md: blocking)
            fresh, blocked = self._blocklist.current(self.store).split(fresh)
            report.blocked += blocked
        new, dead = self._analyse(fresh, first_entry)
        self.ordered.prepare(new)  # the clusterer's features, before the turn
        if self.ordered.needed:
            self._await_turn([entry[0] for entry, _ in decoded], report)
        turn = time.process_time()
        if self.ordered.needed:
            if self.ordered.catch_up(self.store):
                again = self.store.existing_keys([d.key for d in new]) if new else set()
                new = [d for d in new if d.key not in again]
            report.replay_cpu += time.process_time() - turn
        done = self.ordered.commit(self.store, new)
        report.turn_cpu += time.process_time() - turn
        report.stored += done.result.stored
        report.existing += len(decoded) - len(dead) - blocked - done.result.stored
        report.near_duplicates += sum(1 for d in new if d.duplicate_of is not None)
        report.alerts += done.alerts
        report.events += done.events
        return dead, done.keys

    def _analyse(
        self, new: list[Document], entries: dict[tuple[str, str], Entry]
    ) -> tuple[list[Document], list[tuple[Entry, Rejection]]]:
        """The per-post stages over ``new``; on a PipelineError, post by post."""
        if not new:
            return new, []
        try:
            return self.parallel.process(new), []
        except PipelineError:
            pass
        ok: list[Document] = []
        dead: list[tuple[Entry, Rejection]] = []
        for doc in new:
            try:
                ok += self.parallel.process([doc])
            except PipelineError as exc:
                rejection = Rejection(doc.line or 0, "pipeline", str(exc), doc.text[:200])
                dead.append((entries[doc.key], rejection))
        return ok, dead

    def _await_turn(self, ids: list[bytes], report: WorkerReport) -> None:
        """Wait until every entry before ``ids`` is done; meanwhile take over (and
        process) stale entries before them and keep our own from looking stale."""
        first = min(ids, key=_id_order)
        start = time.monotonic()
        touched = start
        after = self._log_from  # commit-log entries newer than our catch-up wake us
        while self.turn.blocked(first):
            stale = self.turn.stale_before(first, self.batch_size)
            if stale:
                entries, gone = self.turn.claim(stale)
                if gone:  # deleted while pending (a MAXLEN trim): nothing to do but ack
                    self._call(
                        "acknowledging deleted entries",
                        self.client.xack,
                        self.target.stream,
                        self.target.group,
                        *gone,
                    )
                entries = self._take_claimed(entries, report)
                if entries:
                    self._handle(entries, report)
                continue
            now = time.monotonic()
            if (now - touched) * 3000 > self.claim_idle_ms:
                self.turn.touch(ids)
                touched = now
            after = self.turn.wait_commit(after)
        report.waited += time.monotonic() - start

    def _finish(
        self,
        done: list[Entry],
        dead: list[tuple[Entry, Rejection]],
        report: WorkerReport,
        keys: list[tuple[str, str]] | None = None,
    ) -> None:
        """After the commit: append the committed ``keys`` to the commit log, dead-letter
        the rejected entries, XACK and XDEL all, atomically."""
        pipe = self.client.pipeline(transaction=True)
        if keys:
            pipe.xadd(
                self.target.commits_stream,
                {"by": self._instance, "keys": orjson.dumps(keys)},
                maxlen=COMMIT_LOG_MAXLEN,
                approximate=True,
            )
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

    def _read_log(self) -> list[list[tuple[str, str]]]:
        """Commit-log entries of other consumers since the last call (yuqing.streams.ordered)."""
        entries: list[list[tuple[str, str]]] = []
        while True:
            rows: Any = self._call(
                "reading the commit log",
                self.client.xrange,
                self.target.commits_stream,
                min=b"(" + self._log_from,
                count=1000,
            )
            if not rows:
                return entries
            self._log_from = rows[-1][0]
            for _, fields in rows:
                if fields.get(b"by") != self._instance:
                    entries.append([(s, i) for s, i in orjson.loads(fields[b"keys"])])

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
