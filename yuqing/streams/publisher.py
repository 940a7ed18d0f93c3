"""Publish input records to a Redis stream: ``yuqing ingest ... --stream URL``.

The publisher reads sources exactly as ``ingest`` does (the same readers, the same
validation, the same rejections with line numbers) and adds one stream entry per accepted
record (:mod:`yuqing.streams.entry`). Each batch goes in one ``MULTI``/``EXEC`` together
with the source's cursor (key ``<stream>:cursor:<source key>``), so a publisher killed at
any point has published whole batches only, and a rerun resumes after the last one: no
record is published twice by a resumed run, none is lost.

Backpressure: before each batch the publisher waits while the stream holds ``backlog``
entries or more (workers delete entries once stored, so the length is the work not yet
done). ``maxlen`` adds ``MAXLEN ~`` to each XADD, a hard memory cap that drops the oldest
entries even when no worker has processed them; it is off unless the URL asks for it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import orjson
import redis

from yuqing.errors import StoreError
from yuqing.models import Cursor, Rejection
from yuqing.sources.base import Source
from yuqing.streams.entry import FIELD, connect, encode
from yuqing.streams.url import StreamURL, parse_stream_url

if TYPE_CHECKING:
    from yuqing.settings import Settings
    from yuqing.sources.record import ColumnMapping

RejectHandler = Callable[[Source, Rejection], None]
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(slots=True)
class PublishReport:
    """Counts of one publish run: ``read = published + rejected``."""

    read: int = 0
    published: int = 0
    rejected: int = 0
    batches: int = 0
    waited_seconds: float = 0.0  # time spent waiting on backpressure
    seconds: float = 0.0

    def summary(self) -> str:
        return f"read {self.read}, published {self.published}, rejected {self.rejected}"


def ensure_group(client: redis.Redis, target: StreamURL) -> None:
    """Create the stream and its consumer group (reading from the start) if missing."""
    try:
        client.xgroup_create(target.stream, target.group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise StoreError(
                f"{target.describe()}: cannot create group {target.group!r}: {exc}"
            ) from exc


class Publisher:
    """Reads sources and XADDs their accepted records, batch by batch, resumable.

    ``wait_timeout`` (seconds) bounds one backpressure wait; None waits as long as it takes.
    """

    def __init__(
        self,
        client: redis.Redis,
        target: StreamURL,
        *,
        batch_size: int = 2000,
        resume: bool = True,
        on_reject: RejectHandler | None = None,
        wait_timeout: float | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.client = client
        self.target = target
        self.batch_size = batch_size
        self.resume = resume
        self.on_reject = on_reject
        self.wait_timeout = wait_timeout
        self.poll_seconds = poll_seconds

    def get_cursor(self, source_key: str) -> Cursor | None:
        """The saved cursor of a source, or None (never published, or unreadable)."""
        raw = self._call(
            "reading a cursor", self.client.get, self.target.cursor_prefix + source_key
        )
        if not isinstance(raw, bytes | str):
            return None
        try:
            value = orjson.loads(raw)
            return Cursor(source_key, int(value["position"]), int(value["line"]), value["fp"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def run(self, sources: Sequence[Source]) -> PublishReport:
        report = PublishReport()
        start = time.perf_counter()
        self._call("creating the consumer group", ensure_group, self.client, self.target)
        for source in sources:
            cursor = self.get_cursor(source.key) if self.resume else None
            for batch in source.batches(self.batch_size, cursor):
                report.read += batch.read
                report.rejected += len(batch.rejections)
                if self.on_reject is not None:
                    for rejection in batch.rejections:
                        self.on_reject(source, rejection)
                self._wait_for_room(report)
                self._publish(source.key, batch.documents, batch.cursor)
                report.published += len(batch.documents)
                report.batches += 1
        report.seconds = time.perf_counter() - start
        return report

    def _publish(self, source_key: str, docs: Sequence[object], cursor: Cursor | None) -> None:
        pipe = self.client.pipeline(transaction=True)
        maxlen = self.target.maxlen
        for doc in docs:
            pipe.xadd(
                self.target.stream,
                {FIELD: encode(doc, source_key)},  # type: ignore[arg-type]
                maxlen=maxlen,
                approximate=True,
            )
        if cursor is not None:
            value = {"position": cursor.position, "line": cursor.line, "fp": cursor.fingerprint}
            pipe.set(self.target.cursor_prefix + source_key, orjson.dumps(value))
        self._call("publishing a batch", pipe.execute)

    def backlog(self) -> int:
        """Entries in the stream: not yet stored by a worker (workers delete stored ones)."""
        return int(self._call("reading the stream length", self.client.xlen, self.target.stream))

    def _wait_for_room(self, report: PublishReport) -> None:
        limit = self.target.backlog
        if self.backlog() < limit:
            return
        began = time.monotonic()
        sys.stderr.write(
            f"{self.target.describe()}: {limit:,} or more posts wait for workers; "
            "pausing until they catch up (backlog option of --stream)\n"
        )
        while self.backlog() >= limit:
            waited = time.monotonic() - began
            if self.wait_timeout is not None and waited >= self.wait_timeout:
                raise StoreError(
                    f"{self.target.describe()}: the stream stayed at {limit:,} or more entries "
                    f"for {waited:.0f} s; start workers (yuqing worker) or raise backlog"
                )
            time.sleep(self.poll_seconds)
        report.waited_seconds += time.monotonic() - began

    def _call(self, what: str, fn: Callable[P, T], *args: P.args, **kw: P.kwargs) -> T:
        try:
            return fn(*args, **kw)
        except redis.RedisError as exc:
            raise StoreError(f"{self.target.describe()}: {what} failed: {exc}") from exc


def publish_command(
    specs: Sequence[str],
    settings: Settings,
    stream_url: str,
    *,
    kind: str | None,
    mapping: ColumnMapping,
    source_name: str | None,
    rejects_path: Path | None,
    resume: bool = True,
    batch_size: int | None = None,
) -> int:
    """``yuqing ingest SPECS --stream URL``: publish, print the summary, return the exit
    status (0, or 3 when some records were rejected). Errors raise YuqingError."""
    from yuqing.console import RejectReporter
    from yuqing.sources.resolve import open_sources

    target = parse_stream_url(stream_url)
    sources = open_sources(
        specs,
        kind=kind,
        mapping=mapping,
        zone=settings.zone,
        max_record_bytes=settings.max_record_bytes,
        source_name=source_name,
    )
    client = connect(target)
    try:
        with RejectReporter(rejects_path, several_sources=len(sources) > 1) as reporter:
            publisher = Publisher(
                client,
                target,
                batch_size=batch_size or settings.batch_size,
                resume=resume,
                on_reject=reporter,
            )
            report = publisher.run(sources)
    finally:
        client.close()
    print(report.summary())
    return 3 if report.rejected else 0
