"""Process-wide adjustments of Python's cyclic garbage collector for the hot paths that
make many short-lived acyclic containers: ingest batches (:func:`young_collections_for_batches`,
``Ingestor.run`` and the stream worker), and bulk work that makes millions of them at once
(:func:`paused_gc`: the event page's recomputed panels, the rule matcher's bulk load and
index build). The collector is one per process, so both are reference-counted under
one lock: concurrent users share the adjustment, and the last one to leave restores what
the first one found.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc", "young_collections_for_batches"]

_LOCK = threading.Lock()
_YOUNG = [0, 0]  # runs inside young_collections_for_batches, the threshold they restore
_PAUSES = [0, False]  # users inside paused_gc, whether the collector was enabled
_PER_POST = 50  # young tracked objects allowed per post of a batch before a collection


@contextmanager
def young_collections_for_batches(batch_size: int) -> Iterator[None]:
    """Raise the garbage collector's first threshold above what one batch keeps alive.

    A batch holds about 15 tracked containers per post (the Document with its lists and
    dicts, the raw record) until it is committed. With the default threshold (700) the
    collector runs in the middle of every batch, promotes them all to the oldest generation,
    and a full collection (which also walks the dedup index's columns) follows every few
    batches: about 10 us of the ~120 us a post cost. Above a batch's worth, they die by
    reference counting before a collection sees them. Cycles are still collected; the
    previous threshold is restored when the last concurrent run ends.
    """
    young = min(_PER_POST * max(batch_size, 1), 1_000_000)
    with _LOCK:
        _YOUNG[0] += 1
        threshold = gc.get_threshold()
        if _YOUNG[0] == 1:
            _YOUNG[1] = threshold[0]
        if threshold[0] < young:
            gc.set_threshold(young, *threshold[1:])
    try:
        yield
    finally:
        with _LOCK:
            _YOUNG[0] -= 1
            if _YOUNG[0] == 0:
                gc.set_threshold(_YOUNG[1], *gc.get_threshold()[1:])


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for a bulk of acyclic allocations. For the event
    page's recomputed panels: reading an event's thousands of posts makes ~15 small acyclic containers a post, and the
    collector's passes over them (and over the whole server's heap when they reach the
    oldest generation) cost more than the decoding (133 -> 56 ms for 2,572 posts). They
    die by reference counting; cycles are collected after. Concurrent requests share the
    pause; the last one restores the collector as the first found it."""
    with _LOCK:
        if _PAUSES[0] == 0:
            _PAUSES[1] = gc.isenabled()
            gc.disable()
        _PAUSES[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _PAUSES[0] -= 1
            if _PAUSES[0] == 0 and _PAUSES[1]:
                gc.enable()
