"""The bounded near-duplicate index behind the dedup stage.

A fixed-capacity FIFO of entries (a ring list addressed by a running sequence number),
one bucket table shared by all LSH bands (band key -> sequence number, or a list of them
when several posts share a bucket) and one exact-text table (key -> sequence number).

Why a ring and not a ``deque``: buckets hold sequence numbers, and a ring turns a
sequence number into its entry in O(1) (``deque[i]`` is O(n) in the middle). Eviction
is still strictly oldest first, so every bucket list is ordered by sequence number and
the evicted number is always at its front.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class Entry(NamedTuple):
    """One indexed post: identity, own text (for Jaccard), time and its group's original.

    A tuple of atoms on purpose: the garbage collector untracks such tuples, so a large
    index adds nothing to the cost of every full collection.
    """

    id: str
    source: str
    text: str
    time: float | None
    root: tuple[str, str]
    exact_key: str
    keys: tuple[int, ...]
    repost: bool


class NearIndex:
    """At most ``max_entries`` posts, none older than ``window_seconds`` before the newest.

    ``max_candidates`` caps how many bucket mates one lookup verifies (the newest win) and
    ``max_bucket`` how many posts one band bucket holds (the oldest stay: they are the
    groups' originals), so a flood of templated posts with thousands of indexed variants
    cannot make lookups or inserts linear in the number of posts.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        window_seconds: float,
        max_candidates: int = 32,
        max_bucket: int = 16,
    ) -> None:
        self.capacity = max_entries
        self.window = window_seconds
        self.max_candidates = max_candidates
        self.max_bucket = max_bucket
        self._ring: list[Entry | None] = []
        self._head = 0  # sequence number of the oldest live entry
        self._next = 0  # sequence number of the next entry
        self._buckets: dict[int, int | list[int]] = {}
        self._exact: dict[str, int] = {}
        self.newest: float | None = None
        self.inserted = 0  # entries added over the index's life
        self._last: tuple[list[int] | None, set[int]] = (None, set())

    def __len__(self) -> int:
        return self._next - self._head

    @property
    def cutoff(self) -> float:
        """Posts older than this are outside the window."""
        return -math.inf if self.newest is None else self.newest - self.window

    def advance(self, when: float | None) -> None:
        """Move the newest time seen forward and evict what fell out of the window."""
        if when is not None and (self.newest is None or when > self.newest):
            self.newest = when
            cutoff = self.cutoff
            while self._head < self._next:
                oldest = self._entry(self._head)
                if oldest.time is None or oldest.time >= cutoff:
                    break
                self._evict()

    def exact(self, key: str) -> Entry | None:
        """The live entry indexed under exact-text ``key``, if it is inside the window."""
        seq = self._exact.get(key)
        if seq is None:
            return None
        entry = self._entry(seq)
        return entry if self._fresh(entry) else None

    def candidates(self, keys: list[int]) -> list[Entry]:
        """Entries sharing at least one band bucket with ``keys``, oldest first."""
        buckets = self._buckets
        shared = buckets.keys() & keys  # set intersection in C: most posts share nothing
        self._last = (keys, shared)  # add() of the same keys reuses it
        if not shared:
            return []
        found: set[int] = set()
        for key in shared:
            hit = buckets[key]
            if isinstance(hit, int):
                found.add(hit)
            else:
                found.update(hit)
        if not found:
            return []
        seqs = sorted(found)[-self.max_candidates :]
        entries = [self._entry(seq) for seq in seqs]
        return [entry for entry in entries if self._fresh(entry)]

    def add(
        self,
        id: str,
        source: str,
        text: str,
        time: float | None,
        root: tuple[str, str] | None,
        exact_key: str,
        keys: list[int],
        *,
        repost: bool = False,
    ) -> Entry:
        """Index a post; ``root`` None makes it the original of its own group."""
        while len(self) >= self.capacity:
            self._evict()
        seq = self._next
        key_tuple = tuple(keys)
        entry = Entry(id, source, text, time, root or (id, source), exact_key, key_tuple, repost)
        slot = seq % self.capacity
        if slot == len(self._ring):
            self._ring.append(entry)
        else:
            self._ring[slot] = entry
        self._next += 1
        self.inserted += 1
        buckets = self._buckets
        last_keys, shared = self._last
        if last_keys is not keys:
            shared = buckets.keys() & key_tuple
        self._last = (None, set())
        if shared:
            for key in shared:
                hit = buckets.get(key)  # (None: evicted since the lookup)
                if hit is None:
                    buckets[key] = seq
                elif isinstance(hit, int):
                    buckets[key] = [hit, seq]
                elif len(hit) < self.max_bucket:
                    hit.append(seq)
            buckets.update((key, seq) for key in key_tuple if key not in shared)
        else:
            buckets.update(dict.fromkeys(key_tuple, seq))
        self._exact[exact_key] = seq
        return entry

    def _entry(self, seq: int) -> Entry:
        entry = self._ring[seq % self.capacity]
        assert entry is not None, "live sequence numbers always have an entry"
        return entry

    def _fresh(self, entry: Entry) -> bool:
        return entry.time is None or entry.time >= self.cutoff

    def _evict(self) -> None:
        seq = self._head
        slot = seq % self.capacity
        entry = self._ring[slot]
        assert entry is not None
        self._ring[slot] = None
        buckets = self._buckets
        for key in entry.keys:
            hit = buckets.get(key)
            if hit is None or hit == seq:  # (None: a key repeated within one post)
                buckets.pop(key, None)
            elif isinstance(hit, list):
                if hit[0] == seq:  # the oldest is always at the front
                    del hit[0]
                if len(hit) == 1:
                    buckets[key] = hit[0]
        if self._exact.get(entry.exact_key) == seq:
            del self._exact[entry.exact_key]
        self._head += 1
