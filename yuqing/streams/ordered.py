"""The order-dependent part of stream processing, replicated in every worker.

Three things in yuqing depend on the order of posts, not on each post alone: the
near-duplicate index (``dedup``: a copy is marked against the posts before it), the event
clusterer (``events``: a post joins the events the posts before it formed) and the alert
engine (windows, bursts, cooldowns). Embedded mode runs them in one process in input order.

With several workers, each worker keeps its own **replica** of that state, and the
replicas stay identical because they all apply the same posts in the same order: the
order in which batches are committed to the store. Commits are serialized in stream order
by the turnstile of :mod:`yuqing.streams.turn` (a batch commits only when every entry
before it in the stream is done), so the store's storage order is the stream order.

Before it commits, a worker **catches up**: it reads every document stored since its
replica's position (:meth:`~yuqing.store.base.Store.documents_after`) that another worker
committed, and applies it to its replica: the dedup index is warmed with the stored
``duplicate_of`` (no re-marking), the clusterer replays the stored event id
(:meth:`~yuqing.events.cluster.EventClusterer.apply`: the state it would have reached by
assigning the post itself, without the similarity search; a stored id this replica could
not have chosen is counted in ``diverged``, which tests require to be 0),
and the alert engine sees it with saving and delivery switched off (:class:`AlertGate`),
so windows and cooldowns advance without a second alert. Then it marks its own batch,
assigns events, commits, saves the events the batch touched and the events it closed, and
raises (saves and delivers) the alerts its batch fires. Each alert is raised by exactly one
worker: the one that committed the batch that fired it. What does not depend on the order
(the clusterer's features of the batch) is computed before the turn (:meth:`OrderedState.prepare`).

Within one batch, the store may keep rows in another order than it was given (the SQLite
store groups the rows of a batch by their null columns), so a replica cannot read the
commit order from the storage order alone. Each commit therefore also appends the batch's
keys, in the order they were processed, to a **commit log** (a capped Redis stream,
``<stream>:commits``, written in the same ``MULTI`` as the ``XACK``); a replica puts the
documents it reads back into that order (:class:`CommitOrder`). Documents with no log
entry (written by embedded ingest, or by a worker killed between its commit and its
``XACK``, or older than the capped log) are applied in storage order.

A worker that starts replays the stored history from the stream's **epoch** (a storage
position kept in Redis at ``<stream>:epoch``; 0, the first stored post, unless an operator
set it), so a late or restarted worker reaches the same state as those that ran all along.
See docs/server.md for the costs (measured) and for resetting the epoch.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from yuqing.events.cluster import EventClusterer, Features
from yuqing.models import Document
from yuqing.store.base import AddResult, Store

if TYPE_CHECKING:
    from yuqing.alerts.alert import Alert
    from yuqing.alerts.delivery import Dispatcher
    from yuqing.alerts.engine import AlertEngine, AlertSink
    from yuqing.pipeline.stage import Stage

Key = tuple[str, str]
LogReader = Callable[[], list[list[Key]]]
"""Returns the commit-log entries (each a batch's keys in commit order) written by other
workers since the last call."""

ORDERED_STAGES: frozenset[str] = frozenset({"dedup", "events"})
"""Pipeline stages whose result depends on the posts before: run in commit order."""


class AlertGate:
    """Stands between the alert engine and its dispatcher and sink: while ``live`` is
    False (replaying other workers' posts) alerts are neither saved nor delivered.

    An alert that a replay opened was raised by another worker, under its own id (ids
    include the time the alert was raised); when a live batch folds into it, the grown
    ``suppressed`` count is not saved here, so no second copy appears in the store."""

    def __init__(self, dispatcher: Dispatcher, sink: AlertSink | None) -> None:
        self.dispatcher = dispatcher
        self.sink = sink
        self.channels = dispatcher.channels
        self.live = True
        self._foreign: OrderedDict[str, None] = OrderedDict()  # ids opened in replays

    def submit(self, alert: Alert, channels: Sequence[str] | None = None) -> int:
        if self.live:
            return self.dispatcher.submit(alert, channels)
        self._foreign[alert.id] = None
        if len(self._foreign) > 100_000:
            self._foreign.popitem(last=False)
        return 0

    def save(self, alerts: Sequence[Alert]) -> object:
        if not self.live or self.sink is None:
            return None
        own = [a for a in alerts if a.id not in self._foreign]
        return self.sink(own) if own else None


@dataclass(slots=True)
class Committed:
    """What one ordered commit did; ``keys`` are the committed posts in commit order (the
    caller appends them to the commit log)."""

    result: AddResult
    alerts: int = 0
    events: int = 0
    keys: list[Key] = field(default_factory=list)


class CommitOrder:
    """Puts documents read in storage order back into commit order (module docstring).

    Feed it the commit log (:meth:`log`) and the documents (:meth:`add`); :meth:`ready`
    returns those whose turn has come. A logged key not yet read holds back the ones after
    it, up to ``limit`` buffered documents (then the oldest go out in storage order)."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.unordered = 0  # documents applied in storage order (no log entry found)
        self._batches: deque[deque[Key]] = deque()
        self._current: list[Document] = []  # the head batch's documents emitted so far
        self._buffer: OrderedDict[Key, Document] = OrderedDict()

    def log(self, entries: list[list[Key]]) -> None:
        self._batches.extend(deque(keys) for keys in entries)

    def add(self, docs: Sequence[Document]) -> None:
        for doc in docs:
            self._buffer[doc.key] = doc

    def ready(self, *, final: bool) -> list[list[Document]]:
        """Documents in commit order, one list per committed batch (the alert engine's
        windows are evaluated per batch, as in the worker that committed it); with
        ``final`` (everything stored has been added) all of them, the unlogged ones last
        in storage order."""
        out: list[list[Document]] = []
        batches, buffer = self._batches, self._buffer
        while batches:
            keys = batches[0]
            while keys:
                doc = buffer.pop(keys[0], None)
                if doc is None and not final:
                    break
                keys.popleft()  # read and emitted, or never stored (final)
                if doc is not None:
                    self._current.append(doc)
            if keys:
                break
            batches.popleft()
            if self._current:
                out.append(self._current)
                self._current = []
        rest: list[Document] = []
        while buffer and (final or len(buffer) > self.limit):
            rest.append(buffer.popitem(last=False)[1])
            self.unordered += 1
        if rest:
            out.append(rest)
        return out


class OrderedState:
    """The replica of dedup, events and alerts state of one worker (module docstring).

    ``stages`` are the order-dependent pipeline stages in pipeline order (a Deduplicator
    and/or an EventClusterer); ``alerts`` an AlertEngine built on ``gate`` (or None).
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        *,
        alerts: AlertEngine | None = None,
        gate: AlertGate | None = None,
        log: LogReader | None = None,
        page: int = 2000,
    ) -> None:
        self.stages = list(stages)
        self.log = log
        self.order = CommitOrder()
        self.alerts = alerts
        self.gate = gate
        self.page = page
        self.clusterer = next((s for s in self.stages if isinstance(s, EventClusterer)), None)
        self.position = 0  # storage position up to which this replica has applied posts
        self.replayed = 0  # posts of other workers (or from before the start) applied
        self.diverged = 0  # replayed posts whose recomputed event id differs from the stored
        self._mine: set[tuple[str, str]] = set()  # committed by us since the last catch-up
        self._features: dict[Key, Features] = {}  # of the batch to commit next (prepare)

    @property
    def needed(self) -> bool:
        """Whether there is any ordered work (else commits need no turn)."""
        return bool(self.stages) or self.alerts is not None

    def start(self, store: Store, epoch: int) -> int:
        """Replay the stored history after storage position ``epoch``; returns how many."""
        self.position = epoch
        before = self.replayed
        self.catch_up(store)
        return self.replayed - before

    def prepare(self, docs: Sequence[Document]) -> None:
        """Compute ahead, outside the turn, what the ordered stages need of ``docs`` and
        does not depend on the posts before them (the clusterer's features); the next
        :meth:`commit` uses it."""
        if self.clusterer is not None:
            features_of = self.clusterer.features_of
            self._features = {doc.key: features_of(doc) for doc in docs}

    def catch_up(self, store: Store) -> int:
        """Apply the documents stored since our position that another worker committed."""
        applied = 0
        if self.log is not None:
            self.order.log(self.log())
        while page := store.documents_after(self.position, self.page):
            self.position = page[-1][0]
            self.order.add([doc for _, doc in page if doc.key not in self._mine])
            applied += sum(self._replay(batch) for batch in self.order.ready(final=False))
            if len(page) < self.page:
                break
        if self.log is not None:  # entries committed while we read (at start only)
            self.order.log(self.log())
        applied += sum(self._replay(batch) for batch in self.order.ready(final=True))
        self._mine.clear()
        self.replayed += applied
        return applied

    def _replay(self, docs: list[Document]) -> int:
        if not docs:
            return 0
        for stage in self.stages:
            warm = getattr(stage, "warm", None)
            if stage.name == "dedup" and callable(warm):
                warm(docs)  # the stored duplicate_of, not re-marked
            elif stage is self.clusterer:
                self._apply_events(self.clusterer, docs)
            else:
                stage.process(docs)
        if self.clusterer is not None:
            self.clusterer.drain_closed()  # saved by the worker that closed them
        if self.alerts is not None and self.gate is not None:
            self.gate.live = False
            try:
                self.alerts.process(docs)
            finally:
                self.gate.live = True
        return len(docs)

    def _apply_events(self, clusterer: EventClusterer, docs: list[Document]) -> None:
        """Replay the stored event assignments (no similarity search); count the posts
        for which this replica would have chosen another event (``diverged``)."""
        apply = clusterer.apply
        for doc in docs:
            was = doc.analysis.get("event_id")
            got = apply(doc, was)
            if got != was:
                doc.analysis["event_id"] = got
                if was is not None:
                    self.diverged += 1

    def commit(self, store: Store, docs: list[Document]) -> Committed:
        """Mark, assign, store ``docs`` (new posts, in stream order); save the events the
        batch touched or closed; raise its alerts. Call it in the batch's turn, after
        :meth:`catch_up`."""
        features, self._features = self._features, {}
        for stage in self.stages:
            if not docs:
                break
            if stage is self.clusterer and features:
                docs = self.clusterer.process(docs, features)
            else:
                docs = stage.process(docs)
        result = store.add_documents(docs)
        self._mine.update(doc.key for doc in docs)
        done = Committed(result, keys=[doc.key for doc in docs])
        if self.clusterer is not None:
            touched = {doc.analysis.get("event_id") for doc in docs} - {None}
            events = self.clusterer.drain_closed()
            if touched:
                events += [e for e in self.clusterer.open_events() if e.id in touched]
            if events:
                done.events = store.upsert_events(events)
        if self.alerts is not None and docs:
            done.alerts = len(self.alerts.process(docs))
        return done


def split_stages(stages: Sequence[Stage]) -> tuple[list[Stage], list[Stage]]:
    """(the stages every worker runs in parallel, the ordered ones), each in pipeline
    order. Dedup reads only the normalized text, so it can run after segmentation,
    keywords and analysis, which do not read what dedup writes."""
    parallel = [s for s in stages if s.name not in ORDERED_STAGES]
    ordered = [s for s in stages if s.name in ORDERED_STAGES]
    return parallel, ordered
