"""The turnstile: batches commit in stream order, whichever worker holds them.

Workers take batches from the consumer group in stream order (``XREADGROUP`` delivers
entry ids in increasing order) and do the per-post work (normalize, segment, keywords,
the models) at the same time. Before it commits, a batch waits for its **turn**: no entry
with a smaller id is still pending in the group, i.e. every earlier entry has been stored
(or rejected) and acknowledged. The check is one ``XPENDING <stream> <group> - (<first id>
1``. Entries are acknowledged only after their commit, so at most one batch is in its
turn at any time, and the store receives batches in stream order: the order that the
replicated dedup/events/alerts state (:mod:`yuqing.streams.ordered`) relies on.

While it waits, a worker

- claims entries before its own that another consumer has held longer than
  ``claim_idle_ms`` (a dead worker's batch would otherwise block everyone) and processes
  them first;
- every ``claim_idle_ms / 3`` resets the idle time of its own entries (``XCLAIM ...
  JUSTID``, which does not count a delivery), so that a long wait is not mistaken for a
  dead worker.

Between checks it blocks on the commit log (``XREAD BLOCK 20`` on ``<stream>:commits``,
which every commit appends to in the same ``MULTI`` as its ``XACK``), so it wakes as soon
as a batch commits instead of sleeping through a backoff; a commit that stored nothing
writes no log entry and is seen at the next check, 20 ms later at most. The wait is
reported as ``waited`` seconds in the worker's report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis

from yuqing.streams.url import StreamURL

Entry = tuple[bytes, dict[bytes, bytes]]
Call = Callable[..., Any]  # the worker's Redis call wrapper: (what, fn, *args, **kw)


class Turnstile:
    """The turn checks and claims of one consumer (see the module docstring)."""

    def __init__(
        self,
        client: redis.Redis,
        target: StreamURL,
        consumer: str,
        call: Call,
        *,
        claim_idle_ms: int,
    ) -> None:
        self.client = client
        self.target = target
        self.consumer = consumer
        self.call = call
        self.claim_idle_ms = claim_idle_ms

    def blocked(self, first: bytes) -> bool:
        """Whether an entry before ``first`` is still pending in the group."""
        rows = self.call(
            "checking the batch's turn",
            self.client.xpending_range,
            self.target.stream,
            self.target.group,
            min="-",
            max=b"(" + first,
            count=1,
        )
        return bool(rows)

    def stale_before(self, first: bytes, limit: int) -> list[bytes]:
        """Entries before ``first`` held by another consumer for ``claim_idle_ms`` or more."""
        rows = self.call(
            "finding stale entries",
            self.client.xpending_range,
            self.target.stream,
            self.target.group,
            min="-",
            max=b"(" + first,
            count=limit,
            idle=self.claim_idle_ms,
        )
        me = self.consumer.encode()
        return [row["message_id"] for row in rows if _name(row["consumer"]) != me]

    def claim(self, ids: Sequence[bytes]) -> tuple[list[Entry], list[bytes]]:
        """Take over ``ids`` (if still idle); returns (entries, ids of entries that were
        deleted from the stream while pending: nothing left to process)."""
        answer = self.call(
            "claiming stale entries",
            self.client.xclaim,
            self.target.stream,
            self.target.group,
            self.consumer,
            self.claim_idle_ms,
            list(ids),
        )
        rows: list[Any] = list(answer)
        entries = [(eid, fields) for eid, fields in rows if fields is not None]
        gone = [eid for eid, fields in rows if fields is None]
        return entries, gone

    def touch(self, ids: Sequence[bytes]) -> None:
        """Reset the idle time of our own pending ``ids`` (no delivery is counted)."""
        if ids:
            self.call(
                "keeping our entries",
                self.client.xclaim,
                self.target.stream,
                self.target.group,
                self.consumer,
                0,
                list(ids),
                justid=True,
            )

    def wait_commit(self, after: bytes, block_ms: int = 20) -> bytes:
        """Block up to ``block_ms`` for a commit-log entry after id ``after``; returns the
        id to wait after next time (``after`` when none came)."""
        answer = self.call(
            "waiting for a commit",
            self.client.xread,
            {self.target.commits_stream: after},
            count=1,
            block=block_ms,
        )
        rows: Any = answer  # RESP2 shape: [[stream, [(id, fields)]]]
        return bytes(rows[0][1][-1][0]) if rows and rows[0][1] else after


def _name(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
