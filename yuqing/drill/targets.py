"""Drill targets: replay a scenario into a running yuqing server instead of its own store.

``yuqing drill run SCENARIO --push URL --token TOKEN`` posts the scenario's posts in
batches to the server's ``POST /api/v1/posts`` (:class:`PushTarget`); ``--stream
redis://...`` publishes them to a Redis stream that ``yuqing worker`` processes
(:class:`StreamTarget`, through :class:`~yuqing.streams.publisher.Publisher`). Both release
the posts through the embedded replay's :class:`~yuqing.drill.replay.DrillSource` on an
:class:`~yuqing.drill.replay.AcceleratedClock`: a slice of scenario time is sent when that
time has come at ``speed`` (0: as fast as possible), and ``published_at`` keeps scenario
time. :func:`run_to_target` plays the scenario and returns a :class:`TargetedDrill`.

**Time.** The server stamps alerts, acknowledgements, cases and statements with its own
clock (the wall clock), not with the drill's. So that ``yuqing --store <server store> drill
score report.json`` compares like with like, a server drill's report puts every timeline
entry (start, phases, rumours, cascades, the statement, the end) at the wall time (UTC) it
was played, keeps its scenario time in ``data["scenario_at"]``, and adds ``clock:
"server"``, ``scenario_started_at``, ``scenario_ended_at`` and ``target`` (never the
token; a stream URL without its password). ``hold`` keeps the drill open after the last
post so that the trainee's later actions still count (Ctrl+C ends it).

**Push.** Batches of ``batch_size`` posts (a 413 from a server with a smaller
``web.max_push`` halves the batch); connection errors, timeouts, 429 and 5xx are retried
with exponential backoff (``Retry-After`` honoured), which is safe because the push API
is idempotent by (source, id); 401/403 raise a :class:`~yuqing.errors.UsageError` naming
the token; other answers and a server still unreachable after the retries raise
:class:`PushError`. The server's store must hold no posts at the start (drill posts go to
their own store), and the counts of the report (stored, events, negative, rumours,
group_incident, alerts) are read back from ``/api/v1/stats`` and ``/api/v1/alerts`` at the
end. The server runs its alert rules on pushed posts (``[web] push_alerts``), so a pushed
drill raises alerts in the server like any pushed feed (docs/drills.md).

**Stream.** The workers analyse, cluster, store and raise alerts (the rules of their
settings and those saved in the store); the report counts what was published, and leaves
the store's counts (``stored``, ``events``, ...) null: read them from the store.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO

import httpx

from yuqing.drill.generator import generate
from yuqing.drill.replay import (
    DEFAULT_TICK,
    FAST_TICK,
    AcceleratedClock,
    DrillReport,
    DrillSource,
    TimelineEntry,
    scenario_stamp,
    script,
)
from yuqing.drill.scenario import Scenario
from yuqing.errors import UsageError, YuqingError
from yuqing.models import Cursor, Rejection
from yuqing.settings import Settings
from yuqing.sources.base import SourceBatch

__all__ = [
    "Delivery",
    "PushError",
    "PushTarget",
    "StreamTarget",
    "TargetedDrill",
    "run_to_target",
    "target_for",
]

PUSH_BATCH = 500  # posts per push (the server's web.max_push is 1000 by default)
ATTEMPTS = 6  # tries per batch: 0.5 + 1 + 2 + 4 + 8 s of backoff before giving up
MAX_DELAY = 30.0  # longest wait between tries, Retry-After included
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class PushError(YuqingError):
    """The server did not take a push: unreachable after the retries, or an answer that
    retrying cannot fix."""


@dataclass(slots=True)
class Delivery:
    """What a target took. ``stored``/``existing``: new and already-stored posts by the
    server's answers (push; None for a stream, whose workers store later)."""

    sent: int = 0
    rejected: int = 0
    batches: int = 0
    stored: int | None = None
    existing: int | None = None
    stopped: bool = False


class Target(Protocol):
    kind: str

    def describe(self) -> str:
        """Where the posts go, for messages and the report (no secrets)."""
        ...

    def check(self) -> None:
        """Raise before the drill starts when the target cannot take it."""
        ...

    def deliver(self, source: DrillSource) -> Delivery:
        """Send every batch of ``source`` (which waits for scenario time)."""
        ...

    def counts(self, since: datetime) -> dict[str, Any]:
        """The store's counts for the report after the drill (empty when unknown)."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- push


def api_base(url: str) -> str:
    """The server's base URL from ``url`` (the base, ``.../api/v1`` or ``.../api/v1/posts``)."""
    base = url.strip().rstrip("/")
    for suffix in ("/api/v1/posts", "/api/v1"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    if not base.startswith(("http://", "https://")):
        raise UsageError(f"--push needs an http:// or https:// URL of a yuqing server, got {url!r}")
    return base


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return response.text[:200]


class PushTarget:
    """Posts batches to ``POST /api/v1/posts`` of the yuqing server at ``url`` with the
    Bearer ``token`` (a ``[web] api_tokens`` service token or a personal token that may
    push). ``transport`` is for tests (an ``httpx.MockTransport``)."""

    kind = "push"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        batch_size: int = PUSH_BATCH,
        attempts: int = ATTEMPTS,
        backoff: float = 0.5,
        timeout: float = 120.0,
        stop_event: threading.Event | None = None,
        transport: httpx.BaseTransport | None = None,
        err: TextIO | None = None,
    ) -> None:
        if not token:
            raise UsageError(
                "--push needs a token: --token TOKEN or the YUQING_TOKEN environment variable "
                "(one of the server's [web] api_tokens)"
            )
        if batch_size < 1 or attempts < 1:
            raise UsageError("push batch size and attempts must be at least 1")
        self.base = api_base(url)
        self.batch_size = batch_size
        self.attempts = attempts
        self.backoff = backoff
        self.stop_event = stop_event or threading.Event()
        self.err = err or sys.stderr
        self.client = httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
        )

    def describe(self) -> str:
        return f"{self.base}/api/v1/posts"

    def close(self) -> None:
        self.client.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response | None:
        """The answer to one request after retries (None: stopped while waiting). 401/403
        raise UsageError; retryable failures that persist raise PushError."""
        where = f"{method} {self.base}{path}"
        problem = ""
        for attempt in range(1, self.attempts + 1):
            delay = min(MAX_DELAY, self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.request(method, path, **kw)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in (401, 403):
                    raise UsageError(
                        f"{where}: the server refused the token ({response.status_code} "
                        f"{_error_text(response)}); give one of its [web] api_tokens with "
                        "--token or YUQING_TOKEN"
                    )
                if response.status_code not in RETRY_STATUS:
                    return response
                problem = f"{response.status_code} {_error_text(response)}"
                delay = min(MAX_DELAY, _retry_after(response) or delay)
            if attempt == self.attempts:
                break
            self.err.write(f"{where}: {problem}; retrying in {delay:g} s\n")
            if self.stop_event.wait(delay):
                return None
        raise PushError(
            f"{where}: still failing after {self.attempts} tries ({problem}); check that "
            "`yuqing serve` runs there and answers"
        )

    def check(self) -> None:
        """The server answers, the token is accepted and its store holds no posts."""
        response = self._request("GET", "/api/v1/stats")
        if response is None:
            return
        if response.status_code != 200:
            raise PushError(
                f"GET {self.base}/api/v1/stats: {response.status_code} {_error_text(response)}"
            )
        held = int(response.json().get("documents") or 0)
        if held:
            raise UsageError(
                f"the server at {self.base} already holds {held} posts; drill posts go to their "
                "own store: serve the drill from a new, empty store"
            )

    def push(self, records: Sequence[dict[str, Any]]) -> dict[str, int] | None:
        """Push ``records``; the summed ``stored``, ``existing`` and ``rejected`` counts of
        the answers (a 413 splits the batch in two). None when stopped."""
        response = self._request("POST", "/api/v1/posts", json={"posts": list(records)})
        if response is None:
            return None
        if response.status_code == 413 and len(records) > 1:
            half = len(records) // 2
            first, second = self.push(records[:half]), None
            if first is not None:
                second = self.push(records[half:])
            if first is None or second is None:
                return None
            return {k: first[k] + second[k] for k in first}
        if response.status_code != 200:
            raise PushError(
                f"POST {self.describe()}: {response.status_code} {_error_text(response)}"
            )
        body = response.json()
        rejected = body.get("rejected") or []
        for item in rejected:
            self.err.write(f"post {item.get('index')}: {item.get('reason')}\n")
        return {
            "stored": int(body.get("stored", body.get("accepted", 0))),
            "existing": int(body.get("existing", 0)),
            "rejected": len(rejected),
        }

    def deliver(self, source: DrillSource) -> Delivery:
        done = Delivery(stored=0, existing=0)
        for batch in source.batches(self.batch_size):
            done.rejected += len(batch.rejections)
            records = [doc.raw for doc in batch.documents if doc.raw is not None]
            if not records:
                continue
            answer = self.push(records)
            if answer is None:
                done.stopped = True
                break
            done.sent += len(records)
            done.batches += 1
            done.stored = (done.stored or 0) + answer["stored"]
            done.existing = (done.existing or 0) + answer["existing"]
            done.rejected += answer["rejected"]
        done.stopped = done.stopped or source.stopped
        return done

    def counts(self, since: datetime) -> dict[str, Any]:
        """Counts from the server's store (best effort: {} when it does not answer)."""
        try:
            stats = self._request("GET", "/api/v1/stats")
            alerts = self._request(
                "GET", "/api/v1/alerts", params={"since": since.isoformat(), "limit": 200}
            )
        except (PushError, UsageError) as exc:
            self.err.write(f"could not read the server's counts: {exc}\n")
            return {}
        out: dict[str, Any] = {}
        if stats is not None and stats.status_code == 200:
            data = stats.json()
            out["events"] = data.get("events")
            out["negative"] = (data.get("sentiment") or {}).get("negative", 0)
            out["rumours"] = (data.get("risk") or {}).get("rumor", 0)
            out["group_incident"] = (data.get("risk") or {}).get("group_incident", 0)
        if alerts is not None and alerts.status_code == 200:
            out["alerts"] = alerts.json().get("count")
        return out


# ---------------------------------------------------------------- stream


class _WallStamped:
    """The drill source with ``ingested_at`` set to the wall clock (UTC) as each batch is
    published, as the push API does: the server's clock, not the scenario's."""

    def __init__(self, source: DrillSource) -> None:
        self.source = source
        self.key = source.key

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        for batch in self.source.batches(size, start):
            now = datetime.now(UTC)
            for doc in batch.documents:
                doc.ingested_at = now
            yield batch


class StreamTarget:
    """Publishes to the Redis stream of ``url`` (``redis://host:6379/0?stream=...&group=
    ...``) for ``yuqing worker``, with the publisher of ``yuqing ingest --stream``."""

    kind = "stream"

    def __init__(
        self,
        url: str,
        *,
        batch_size: int = PUSH_BATCH,
        on_reject: Callable[[object, Rejection], None] | None = None,
    ) -> None:
        from yuqing.streams.url import parse_stream_url

        self.target = parse_stream_url(url)
        self.batch_size = batch_size
        self.on_reject = on_reject
        self._client: Any = None

    def describe(self) -> str:
        return self.target.describe()

    def check(self) -> None:
        from yuqing.streams.entry import connect

        self._client = connect(self.target)  # StoreError when Redis does not answer

    def deliver(self, source: DrillSource) -> Delivery:
        from yuqing.streams.publisher import Publisher

        if self._client is None:
            self.check()
        publisher = Publisher(
            self._client,
            self.target,
            batch_size=self.batch_size,
            resume=False,  # a drill always starts at the scenario's beginning
            on_reject=self.on_reject,
        )
        report = publisher.run([_WallStamped(source)])
        return Delivery(
            sent=report.published,
            rejected=report.rejected,
            batches=report.batches,
            stopped=source.stopped,
        )

    def counts(self, since: datetime) -> dict[str, Any]:
        del since
        return {}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def target_for(
    push: str | None,
    token: str | None,
    stream: str | None,
    *,
    stop_event: threading.Event | None = None,
) -> PushTarget | StreamTarget:
    """The target of ``yuqing drill run --push URL --token T`` or ``--stream URL``."""
    if push is not None and stream is not None:
        raise UsageError("give --push or --stream, not both")
    if push is not None:
        return PushTarget(push, token or "", stop_event=stop_event)
    if stream is None:
        raise UsageError("a drill target needs --push URL or --stream URL")

    def rejected(_source: object, rejection: Rejection) -> None:
        sys.stderr.write(f"line {rejection.line}: {rejection.reason}\n")

    return StreamTarget(stream, on_reject=rejected)


# ---------------------------------------------------------------- the drill


@dataclass(slots=True)
class TargetedDrill:
    """A drill played into a server: the report (timeline at server time) and what the
    target took; ``counts`` read back from the server (push) override the report's."""

    report: DrillReport
    target: str
    target_kind: str
    delivery: Delivery
    counts: dict[str, Any] = field(default_factory=dict)
    scenario_started_at: datetime | None = None
    scenario_ended_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report JSON: ``DrillReport.as_dict()`` plus the target and the clock; counts
        the client cannot know are null."""
        data = self.report.as_dict()
        unknown = ("stored", "events", "negative", "rumours", "group_incident", "alerts")
        data.update(dict.fromkeys(unknown))
        data["stored"] = self.delivery.stored
        data.update({k: v for k, v in self.counts.items() if k in unknown})
        start, end = self.scenario_started_at, self.scenario_ended_at
        data.update(
            {
                "clock": "server",
                "target": {"kind": self.target_kind, "url": self.target},
                "sent": self.delivery.sent,
                "existing": self.delivery.existing,
                "scenario_started_at": start.isoformat() if start else None,
                "scenario_ended_at": end.isoformat() if end else None,
            }
        )
        return data

    def summary(self) -> str:
        data = self.as_dict()
        shown = ", ".join(
            f"{k} {'?' if data[k] is None else data[k]}"
            for k in ("stored", "events", "alerts", "negative", "group_incident", "rumours")
        )
        return f"posts {data['posts']}, sent {data['sent']} ({self.target_kind}), {shown}"


def run_to_target(
    scenario: Scenario,
    target: Target,
    *,
    speed: float = 144.0,
    seed: int = 7,
    settings: Settings | None = None,
    stop_event: threading.Event | None = None,
    out: TextIO | None = None,
    tick: timedelta | None = None,
    hold: timedelta = timedelta(),
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TargetedDrill:
    """Play ``scenario`` into ``target`` at ``speed`` (0: as fast as possible) and return
    the report, its timeline at server (wall) time. ``hold`` keeps the drill open that long
    after the last post (the trainee goes on working; ``stop_event`` ends it early). Raises
    UsageError for a bad speed or hold, and what the target raises (PushError,
    StoreError, UsageError for a refused token or a store that holds posts)."""
    if speed < 0:
        raise UsageError(f"--speed must be 0 (as fast as possible) or positive, got {speed:g}")
    if hold < timedelta():
        raise UsageError(f"--hold must be 0 or positive, got {hold}")
    settings = settings or Settings.model_validate({})
    stop = stop_event or threading.Event()
    stream = out or sys.stdout
    clock = AcceleratedClock(scenario.start, speed)
    records = generate(scenario, seed)
    try:
        target.check()
    except BaseException:
        target.close()
        raise
    started = wall()
    report = DrillReport(
        scenario=scenario.name,
        title=scenario.title,
        seed=seed,
        speed=speed,
        store_url=target.describe(),
        started_at=started,
        ended_at=started,
        posts=len(records),
    )
    pending = script(scenario)

    def say(entry: TimelineEntry) -> None:
        """Print at scenario time, record at server time."""
        data = {**entry.data, "scenario_at": entry.at.isoformat()}
        report.timeline.append(TimelineEntry(wall(), entry.kind, entry.detail, data))
        stream.write(f"[{scenario_stamp(entry.at, settings)}] {entry.detail}\n")
        stream.flush()

    def on_tick(end: datetime) -> None:
        while pending and pending[0].at < end:
            say(pending.pop(0))

    source = DrillSource(
        f"drill:{scenario.name}:{seed}",
        records,
        settings=settings,
        clock=clock,
        start=scenario.start,
        tick=tick or (DEFAULT_TICK if speed else FAST_TICK),
        stop_event=stop,
        on_tick=on_tick,
    )
    clock.reset(scenario.start)
    pace = "最快" if not speed else f"{speed:g}×"
    say(
        TimelineEntry(
            scenario.start,
            "start",
            f"演练开始：{scenario.title}（{len(records)} 条，速度 {pace}，发往 {target.describe()}）",
            {"scenario": scenario.name, "seed": seed, "speed": speed, "target": target.kind},
        )
    )
    began = time.perf_counter()
    try:
        delivery = target.deliver(source)
        stopped = delivery.stopped or stop.is_set()
        scenario_end = clock.now() if stopped else scenario.end
        if not stopped:
            on_tick(scenario.end + timedelta(seconds=1))
            if hold > timedelta():
                stream.write(
                    f"帖文已全部发出；演练保持开放 {hold.total_seconds() / 60:g} 分钟"
                    "（Ctrl+C 提前结束）\n"
                )
                stream.flush()
                until = time.monotonic() + hold.total_seconds()
                while (left := until - time.monotonic()) > 0 and not stop.wait(min(left, 0.5)):
                    pass
        report.wall_seconds = time.perf_counter() - began
        report.ended_at = wall()
        counts = target.counts(started)
    finally:
        target.close()
    report.stopped = stopped
    report.rejected = delivery.rejected
    report.batches = delivery.batches
    report.stored = delivery.stored or 0
    result = TargetedDrill(
        report,
        target.describe(),
        target.kind,
        delivery,
        counts,
        scenario.start,
        scenario_end,
    )
    stored = "?" if delivery.stored is None else delivery.stored
    alerts = counts.get("alerts", "?")
    say(
        TimelineEntry(
            scenario_end,
            "stopped" if stopped else "end",
            f"演练{'中止' if stopped else '结束'}：发出 {delivery.sent} 条，存储 {stored} 条，"
            f"预警 {alerts} 条",
            {"sent": delivery.sent, "stored": delivery.stored, "alerts": counts.get("alerts")},
        )
    )
    # the end entry is stamped now; keep ended_at at (or after) it so scoring includes it
    report.ended_at = max(report.ended_at, report.timeline[-1].at)
    return result
