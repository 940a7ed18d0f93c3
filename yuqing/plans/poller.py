"""Poll the due sources of the enabled monitoring plans, politely, into the store.

One :meth:`PlanPoller.poll_due` call goes over every polled source (rss, page, files; push
sources are not polled) of every enabled plan, in plan then source order, and for each
one that is due:

1. claims it in the store (:meth:`~yuqing.store.base.Store.claim_plan_source`: another
   poller on the same store skips it; the claim is a lease of ``[plans] lease``);
2. for a URL, waits for the host's slot (at most one request per host per
   ``[plans] host_interval``), then GETs it conditionally (ETag / Last-Modified): a 304
   means nothing new; for files, reads what was appended since the stored cursor;
3. runs the new items through the caller's :class:`~yuqing.runtime.ingest.Ingestor` (the
   normal pipeline into the store; its ``on_batch`` feeds the alert engine);
4. saves the poll state: outcome, HTTP status, validators, failures in a row, the next
   poll time (the source's interval after success; exponential backoff with jitter after
   an error, never sooner than a ``Retry-After``), the last error and the posts stored.

Time and waiting are injected (a Clock and a ``sleep``), so tests run it on a
ManualClock. A failing source never stops the others: its error goes into its state and
the report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from yuqing.clock import Clock
from yuqing.errors import PipelineError, RecordError, SourceError, UsageError
from yuqing.plans.fetch import Fetcher
from yuqing.plans.plan import Plan, PlanSource
from yuqing.plans.politeness import Backoff, HostLimiter, Sleep
from yuqing.plans.rules import stored_plans
from yuqing.plans.sources import FetchedFeed, FetchedPage
from yuqing.runtime.ingest import Ingestor, IngestReport
from yuqing.settings import Settings
from yuqing.sources.base import Source
from yuqing.sources.resolve import open_sources
from yuqing.store.base import SourcePollState, Store

__all__ = ["PlanPoller", "PollReport", "SourcePoll", "due_sources"]

MAX_ERROR_CHARS = 500


@dataclass(slots=True)
class SourcePoll:
    """What one poll of one source did (for the report and the CLI)."""

    plan_id: str
    source_id: str
    state: SourcePollState
    read: int = 0
    stored: int = 0
    retry_after: float | None = None  # seconds the server asked for (Retry-After)


@dataclass(slots=True)
class PollReport:
    """One pass over the due sources: the polls made and the ingest counts together."""

    polls: list[SourcePoll] = field(default_factory=list)
    ingest: IngestReport = field(default_factory=IngestReport)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.polls if p.state.status == "error")

    @property
    def not_modified(self) -> int:
        return sum(1 for p in self.polls if p.state.status == "not_modified")

    def summary(self) -> str:
        return (
            f"plans: {len(self.polls)} source(s) polled, {self.not_modified} unchanged, "
            f"{self.errors} failed; {self.ingest.summary()}"
        )


def due_sources(
    store: Store, settings: Settings, now: datetime, plan_id: str | None = None
) -> list[tuple[Plan, PlanSource, SourcePollState]]:
    """The polled sources of enabled plans (of one plan, with ``plan_id``) due at ``now``
    (never polled, or ``next_poll_at`` reached), with their poll state, in plan order."""
    due: list[tuple[Plan, PlanSource, SourcePollState]] = []
    for plan in stored_plans(store, settings):
        if not plan.enabled or (plan_id is not None and plan.id != plan_id):
            continue
        states = {s.source_id: s for s in store.plan_source_states(plan.id)}
        for source in plan.sources:
            state = states.get(source.id) or SourcePollState(plan.id, source.id)
            if source.polled and (state.next_poll_at is None or state.next_poll_at <= now):
                due.append((plan, source, state))
    return due


class PlanPoller:
    """Polls plan sources through ``ingestor`` into ``ingestor.store``; use it from the
    thread that opened that store. ``fetcher`` defaults to one built from ``[plans]``."""

    def __init__(
        self,
        settings: Settings,
        ingestor: Ingestor,
        *,
        clock: Clock,
        sleep: Sleep,
        fetcher: Fetcher | None = None,
        rng: random.Random | None = None,
        on_error: Callable[[str], object] | None = None,
    ) -> None:
        self.settings = settings
        self.ingestor = ingestor
        self.store: Store = ingestor.store
        self.clock = clock
        conf = settings.plans
        self.fetcher = fetcher or Fetcher(
            user_agent=conf.user_agent, timeout=conf.seconds("timeout")
        )
        self._own_fetcher = fetcher is None
        self.limiter = HostLimiter(conf.seconds("host_interval"), clock, sleep)
        self.backoff = Backoff(conf.seconds("max_backoff"), rng=rng)
        self.lease = timedelta(seconds=conf.seconds("lease"))
        self.on_error = on_error

    def close(self) -> None:
        if self._own_fetcher:
            self.fetcher.close()

    # -- one pass -----------------------------------------------------------------------

    def poll_due(self, plan_id: str | None = None) -> PollReport:
        """Poll every source due now (of one plan, with ``plan_id``); return what was done."""
        report = PollReport()
        for plan, source, state in due_sources(
            self.store, self.settings, self.clock.now(), plan_id
        ):
            now = self.clock.now()
            if not self.store.claim_plan_source(plan.id, source.id, now, now + self.lease):
                continue  # another poller took it
            try:
                report.polls.append(self._poll(plan, source, state, report.ingest))
            except (PipelineError, RecordError) as exc:  # one bad batch: the others go on
                report.polls.append(self._failed(plan, source, state, str(exc)))
        return report

    def _failed(
        self, plan: Plan, source: PlanSource, state: SourcePollState, error: str
    ) -> SourcePoll:
        """Record a poll that broke past the fetch (the pipeline failed on its batch)."""
        done = self.clock.now()
        failures = state.failures + 1
        new = replace(
            state,
            last_poll_at=done,
            status="error",
            failures=failures,
            last_error=error[:MAX_ERROR_CHARS],
            last_posts=0,
            next_poll_at=done
            + timedelta(seconds=self.backoff.delay(source.interval_seconds, failures)),
        )
        self.store.save_source_state(new)
        if self.on_error is not None:
            self.on_error(f"plan {plan.id} source {source.id}: {error}")
        return SourcePoll(plan.id, source.id, new)

    # -- one source ---------------------------------------------------------------------

    def _poll(
        self, plan: Plan, source: PlanSource, state: SourcePollState, total: IngestReport
    ) -> SourcePoll:
        interval = source.interval_seconds
        if source.kind == "files":
            outcome = self._poll_files(source, state, total)
        else:
            outcome = self._poll_url(source, state, total)
        done = self.clock.now()
        new = outcome.state
        new.last_poll_at = done
        if new.status == "error":
            new.failures = state.failures + 1
            delay = self.backoff.delay(interval, new.failures, outcome.retry_after)
            if new.last_error and self.on_error is not None:
                self.on_error(f"plan {plan.id} source {source.id}: {new.last_error}")
        else:
            new.failures = 0
            new.last_error = None
            delay = self.backoff.delay(interval, 0, outcome.retry_after)
        new.next_poll_at = done + timedelta(seconds=delay)
        new.posts_fetched = state.posts_fetched + outcome.stored
        new.last_posts = outcome.stored
        self.store.save_source_state(new)
        return outcome

    def _ingest(self, sources: list[Source], total: IngestReport) -> tuple[int, int]:
        part = self.ingestor.run(sources)
        total.read += part.read
        total.stored += part.stored
        total.existing += part.existing
        total.rejected += part.rejected
        total.blocked += part.blocked
        return part.read, part.stored

    def _poll_url(
        self, source: PlanSource, state: SourcePollState, total: IngestReport
    ) -> SourcePoll:
        url = source.target
        self.limiter.wait(urlsplit(url).hostname or url)
        result = self.fetcher.get(
            url, etag=state.etag, last_modified=state.last_modified, now=self.clock.now()
        )
        new = replace(
            state,
            http_status=result.status,
            etag=result.etag,
            last_modified=result.last_modified,
        )
        poll = SourcePoll(state.plan_id, state.source_id, new, retry_after=result.retry_after)
        if result.not_modified:
            new.status = "not_modified"
            return poll
        if not result.ok or result.body is None:
            new.status = "error"
            new.last_error = (result.error or f"{url}: HTTP {result.status}")[:MAX_ERROR_CHARS]
            return poll
        now = self.clock.now()
        zone = self.settings.zone
        fetched: Source = (
            FetchedFeed(url, result.body, zone=zone, default_source=source.name, now=now)
            if source.kind == "rss"
            else FetchedPage(url, result.body, zone=zone, default_source=source.name, now=now)
        )
        try:
            poll.read, poll.stored = self._ingest([fetched], total)
        except SourceError as exc:
            new.status = "error"
            new.last_error = str(exc)[:MAX_ERROR_CHARS]
            return poll
        new.status = "ok"
        return poll

    def _poll_files(
        self, source: PlanSource, state: SourcePollState, total: IngestReport
    ) -> SourcePoll:
        new = replace(state, http_status=None, etag=None, last_modified=None)
        poll = SourcePoll(state.plan_id, state.source_id, new)
        try:
            opened = open_sources(
                [source.target],
                zone=self.settings.zone,
                max_record_bytes=self.settings.max_record_bytes,
                source_name=source.name,
            )
            poll.read, poll.stored = self._ingest(opened, total)
        except (SourceError, UsageError) as exc:
            new.status = "error"
            new.last_error = str(exc)[:MAX_ERROR_CHARS]
            return poll
        new.status = "ok"
        return poll
