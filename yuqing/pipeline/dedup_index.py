"""The bounded near-duplicate index behind the dedup stage: a post ring and a band table.

- **Ring**: a fixed-capacity FIFO of indexed posts addressed by a running sequence number
  (``seq % capacity``), kept as flat columns (Python lists of the shared ``str`` objects,
  ``array`` columns of times and exact keys) rather than one object per post.
- **Band table** (:class:`BandTable`): every LSH band key and exact-text key of a post maps
  to one sequence number, newest writer wins. It is a numpy table of buckets of 8 slots
  (4-byte key, 4-byte sequence number), each key hashed to two buckets and placed in the
  emptier one, so that a whole batch's keys are looked up and written with a handful of
  vectorized operations, and a key costs about 8 bytes / load instead of a Python dict
  entry and int (~90 bytes).

The table is allocated at the size a full ring needs (``max_entries`` posts); a table
created smaller (``buckets``) doubles as it fills, never beyond that size. Evicted posts
are not removed from the table at once: a slot whose sequence number is below the ring's
head is dead (lookups report it, the stage ignores it). A vectorized scan, run after every
``slots / 8`` new keys once posts have been evicted (and before the table would pass 75 %
load), clears dead slots, compacts buckets, rebases the stored sequence numbers and, only
if the live keys still fill it, grows the table. Memory is therefore bounded by
``max_entries`` (and ``window_days``).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
_WAYS = 8  # slots per bucket: 8 x 4-byte keys = half a cache line
_MIX2 = np.uint64(0x9E3779B1)  # odd 32-bit multiplier deriving the second bucket
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_FULL = 0.7  # live keys per slot the table is sized for once the ring is full
_GROW = 0.75  # grow (or reclaim dead slots) before live keys pass this load


class BandTable:
    """Key (odd ``uint32``) -> sequence number, for a batch of keys at a time.

    Slots store ``seq - base + 1``. A key is in at most one slot: writes update the slot a
    lookup found, and only keys not found are appended to one of their two buckets (the
    emptier; each bucket keeps its used slots first, counted in ``_fill``). Dead slots
    (sequence numbers below the ring's head) are cleared, and buckets compacted, by
    :meth:`scan`, every ``slots / 8`` new keys. A key whose two buckets are both full is
    dropped (counted in ``dropped``; rare at the loads kept here, and it only loses one
    band of one post).
    """

    def __init__(self, max_keys: int, buckets: int | None = None) -> None:
        self.max_buckets = math.ceil(max_keys / _FULL / _WAYS)  # sized for a full ring
        # Allocated at once by default (np.zeros: pages are only touched as keys land).
        # Growing by doubling cost ~4 us a post of the first 100,000 and held the old and
        # new arrays together (1.5x the table) at each doubling.
        buckets = self.max_buckets if buckets is None else min(buckets, self.max_buckets)
        self._keys = np.zeros((buckets, _WAYS), dtype=np.uint32)
        self._vals = np.zeros((buckets, _WAYS), dtype=np.uint32)
        self._fill = np.zeros(buckets, dtype=np.uint8)
        self.base = 0  # stored values are relative to this sequence number
        self.dropped = 0
        self._since_scan = 0
        self.live_at_scan = 0

    @property
    def slots(self) -> int:
        return self._keys.size

    @property
    def nbytes(self) -> int:
        return self._keys.nbytes + self._vals.nbytes + self._fill.nbytes

    def _homes(self, keys: U32) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        return self._homes_for(keys, self._keys.shape[0])

    @staticmethod
    def _homes_for(keys: U32, buckets: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The two buckets of each key: ``(h * buckets) >> 32`` of two 32-bit hashes."""
        k = keys.astype(np.uint64)
        nb = np.uint64(buckets)
        first = (k * nb) >> _SHIFT32
        second = (((k * _MIX2) & _MASK32) * nb) >> _SHIFT32
        return first.astype(np.intp), second.astype(np.intp)

    def lookup(self, keys: U32) -> tuple[I64, I64]:
        """(sequence number or -1, flat slot position or -1) of each key, dead ones included."""
        first, second = self._homes(keys)
        col = keys[:, None]
        flat = self._keys.ravel()
        # (np.take, not self._keys[first]: 2-D fancy indexing is ~15x slower here)
        pos1 = first * _WAYS + (np.take(self._keys, first, axis=0) == col).argmax(axis=1)
        pos2 = second * _WAYS + (np.take(self._keys, second, axis=0) == col).argmax(axis=1)
        pos = np.where(flat[pos1] == keys, pos1, np.where(flat[pos2] == keys, pos2, -1)).astype(
            np.int64
        )
        found = pos >= 0
        seq = np.full(keys.shape, -1, dtype=np.int64)
        seq[found] = self._vals.ravel()[pos[found]].astype(np.int64) + (self.base - 1)
        return seq, pos

    def write(self, keys: U32, seqs: I64, pos: I64, head: int, nxt: int) -> None:
        """Set ``keys`` (unique) to ``seqs``; ``pos`` is where ``lookup`` found each key."""
        if nxt - self.base >= 2**32 - 2:
            self.scan(head)  # stored values are about to overflow 32 bits: rebase
            pos = self.lookup(keys)[1]
        found = pos >= 0
        live = seqs >= head
        # a dead value (below base) is stored as 0: still dead, and the key keeps its slot
        self._vals.ravel()[pos[found]] = np.maximum(seqs[found] - self.base + 1, 0)
        new = ~found & live
        added = int(new.sum())
        if self.live_at_scan + self._since_scan + added > _GROW * self.slots:
            self.scan(head, extra=added)  # make room before placing
        self._place(keys[new], (seqs[new] - self.base + 1).astype(np.uint32))
        self._since_scan += added
        if self._since_scan > self.slots // 8 and head > self.base:  # (no deaths: no scan)
            self.scan(head)

    def scan(self, head: int, extra: int = 0) -> None:
        """Clear dead slots, compact buckets, rebase values on ``head``; grow if the live
        keys (and ``extra`` keys about to come) would fill more than 75 % of the slots."""
        thr = head - self.base + 1
        live = self._vals >= thr
        count = int(live.sum())
        self.base = head
        self._since_scan, self.live_at_scan = 0, count
        way = live.cumsum(axis=1) - 1  # live slots move to the front of their bucket
        slot = (np.arange(len(self._fill))[:, None] * _WAYS + way)[live]
        keys = np.zeros_like(self._keys)
        vals = np.zeros_like(self._vals)
        keys.ravel()[slot] = self._keys[live]
        vals.ravel()[slot] = self._vals[live] - np.uint32(thr - 1)
        self._keys, self._vals, self._fill = keys, vals, live.sum(axis=1, dtype=np.uint8)
        need = count + extra
        while need > _GROW * self.slots and 2 * len(self._fill) <= self.max_buckets:
            self._split()
        if need > _GROW * self.slots:  # past the size for a full ring: a general rehash
            used = np.arange(_WAYS) < self._fill[:, None]
            keys, vals = self._keys[used], self._vals[used]
            buckets = max(self.max_buckets, math.ceil(need / _FULL / _WAYS))
            self._keys = np.zeros((buckets, _WAYS), dtype=np.uint32)
            self._vals = np.zeros((buckets, _WAYS), dtype=np.uint32)
            self._fill = np.zeros(buckets, dtype=np.uint8)
            self._place(keys, vals)

    def _split(self) -> None:
        """Double the buckets without sorting: bucket ``b``'s keys all move to ``2b`` or
        ``2b + 1`` (``(k * 2n) >> 32`` is ``2 * ((k * n) >> 32)`` plus one bit)."""
        nb = len(self._fill)
        used = np.arange(_WAYS) < self._fill[:, None]
        first, second = self._homes_for(self._keys, 2 * nb)
        row = np.arange(nb)[:, None]
        upper = (np.where((first >> 1) == row, first, second) & 1).astype(bool) & used
        lower = used & ~upper
        way = np.where(upper, upper.cumsum(axis=1), lower.cumsum(axis=1)) - 1
        slot = ((2 * row + upper) * _WAYS + way)[used]
        keys = np.zeros((2 * nb, _WAYS), dtype=np.uint32)
        vals = np.zeros((2 * nb, _WAYS), dtype=np.uint32)
        keys.ravel()[slot] = self._keys[used]
        vals.ravel()[slot] = self._vals[used]
        fill = np.empty(2 * nb, dtype=np.uint8)
        fill[0::2], fill[1::2] = lower.sum(axis=1), upper.sum(axis=1)
        self._keys, self._vals, self._fill = keys, vals, fill

    def _place(self, keys: U32, vals: U32) -> None:
        # in strided parts, so that each part sees fresher fill counts (fewer full buckets)
        parts = -(-keys.size // max(1024, len(self._fill) // 4))
        for lo in range(parts):
            self._place_some(keys[lo::parts], vals[lo::parts])

    def _place_some(self, keys: U32, vals: U32) -> None:
        first, second = self._homes(keys)
        fill = self._fill
        swap = (fill[second] < fill[first]) | ((fill[second] == fill[first]) & (keys & 2 > 0))
        pick, other = np.where(swap, second, first), np.where(swap, first, second)
        left = self._append(keys, vals, pick, _WAYS - 2)  # keep room for second choices
        for buckets in (other, pick):
            if left.any():
                idx = np.flatnonzero(left)
                left[idx] = self._append(keys[idx], vals[idx], buckets[idx], _WAYS)
        self.dropped += int(left.sum())

    def _append(
        self, keys: U32, vals: U32, buckets: npt.NDArray[np.intp], limit: int
    ) -> npt.NDArray[np.bool_]:
        """Append each key to its bucket, filling it to at most ``limit`` slots; returns
        the mask of those that did not fit."""
        n = buckets.size
        at = np.arange(n)
        packed = np.sort((buckets.astype(np.uint64) << _SHIFT32) | at.astype(np.uint64))
        order = (packed & _MASK32).astype(np.intp)
        b = (packed >> _SHIFT32).astype(np.intp)
        starts = np.ones(n, dtype=bool)
        starts[1:] = b[1:] != b[:-1]
        first = np.flatnonzero(starts)
        way = at - np.repeat(first, np.diff(np.append(first, n))) + self._fill[b].astype(np.intp)
        ok = way < limit
        slot = b[ok] * _WAYS + way[ok]
        self._keys.ravel()[slot] = keys[order[ok]]
        self._vals.ravel()[slot] = vals[order[ok]]
        self._fill[b[first]] = np.maximum(
            self._fill[b[first]],
            np.minimum(self._fill[b[first]] + np.diff(np.append(first, n)), limit),
        )
        left = np.zeros(n, dtype=bool)
        left[order[~ok]] = True
        return left


@dataclass(slots=True)
class BatchPlan:
    """What the vectorized pass over a batch's keys tells the per-post loop.

    ``codes[r, c]`` says who owned key ``c`` of row ``r`` just before that row's post was
    handled: a sequence number (>= 0), ``-2 - j`` for "whatever post ``j`` of this batch
    wrote" (resolved in the loop), or -1 (nobody). ``pairs`` are the distinct
    (row, code, count) of the band columns, ``writes`` the final (key, post, slot) per
    distinct own key, applied once the loop has given every post its sequence number.
    """

    codes: I64
    pairs: tuple[list[int], list[int], list[int]]
    write_keys: U32
    write_docs: I64
    write_pos: I64


class NearIndex:
    """At most ``max_entries`` posts, none older than ``window_seconds`` before the newest."""

    def __init__(self, *, max_entries: int, window_seconds: float, keys_per_entry: int) -> None:
        self.capacity = max_entries
        self.window = window_seconds
        self.table = BandTable(max_keys=max_entries * keys_per_entry)
        self.ids: list[str | None] = []
        self.sources: list[str | None] = []
        self.texts: list[str | None] = []
        self.root_ids: list[str | None] = []
        self.root_sources: list[str | None] = []
        self.times = array("d")  # NaN: no time
        self.exact = array("Q")  # 64-bit exact-text key, to confirm 32-bit table hits
        self.reposts = bytearray()
        self.head = 0  # sequence number of the oldest live entry
        self.next = 0  # sequence number of the next entry
        self.newest = -math.inf
        self.cutoff = -math.inf

    def __len__(self) -> int:
        return self.next - self.head

    @property
    def nbytes(self) -> int:
        """Bytes held by the table and the ring's columns (not the strings they share)."""
        columns = (self.ids, self.sources, self.texts, self.root_ids, self.root_sources)
        lists = sum(8 * len(c) + 56 for c in columns)
        return self.table.nbytes + lists + 9 * len(self.times) + len(self.reposts)

    def advance(self, when: float) -> None:
        """Move the newest time seen forward and evict what fell out of the window."""
        if when > self.newest:
            self.newest = when
            self.cutoff = cutoff = when - self.window
            times, cap = self.times, self.capacity
            while self.head < self.next and times[self.head % cap] < cutoff:
                self._evict()

    def alive(self, seq: int) -> bool:
        """Whether ``seq`` is still indexed and inside the window."""
        if seq < self.head:
            return False
        when = self.times[seq % self.capacity]
        return not when < self.cutoff  # NaN (no time) never falls out

    def add(
        self,
        id: str,
        source: str,
        text: str,
        when: float,
        root: tuple[str, str] | None,
        exact: int,
        repost: bool,
    ) -> int:
        """Index a post (``root`` None: the original of its own group); returns its seq."""
        if self.next - self.head >= self.capacity:
            self._evict()
        seq = self.next
        self.next += 1
        rid, rsource = root or (id, source)
        slot = seq % self.capacity
        if slot == len(self.ids):
            self.ids.append(id)
            self.sources.append(source)
            self.texts.append(text)
            self.root_ids.append(rid)
            self.root_sources.append(rsource)
            self.times.append(when)
            self.exact.append(exact)
            self.reposts.append(repost)
        else:
            self.ids[slot], self.sources[slot], self.texts[slot] = id, source, text
            self.root_ids[slot], self.root_sources[slot] = rid, rsource
            self.times[slot], self.exact[slot], self.reposts[slot] = when, exact, repost
        return seq

    def _evict(self) -> None:
        slot = self.head % self.capacity
        self.ids[slot] = self.sources[slot] = self.texts[slot] = None
        self.root_ids[slot] = self.root_sources[slot] = None
        self.head += 1

    def plan(self, keys: U32, doc_of_row: I64, rank: I64, own: npt.NDArray[np.bool_]) -> BatchPlan:
        """Resolve a batch's keys (one row per own or quoted text) at once.

        ``rank`` orders the rows as the posts are handled (distinct, >= 0: a post's quoted
        text before its own text); ``own`` marks own texts (written once handled). A row's key is owned by the last earlier own text of
        the batch that has it, else by the table's entry: exactly what handling the posts
        one by one gives.
        """
        rows, width = keys.shape
        if not rows:
            empty = np.empty(0, dtype=np.int64)
            return BatchPlan(
                np.empty((0, width), np.int64), ([], [], []), keys.ravel(), empty, empty
            )
        flat = keys.ravel()
        seq, pos = self.table.lookup(flat)
        n = flat.size
        at = np.arange(n)
        low = np.repeat(rank * width, width) + np.tile(np.arange(width), rows)
        packed = np.sort((flat.astype(np.uint64) << _SHIFT32) | low.astype(np.uint64))
        low = (packed & _MASK32).astype(np.intp)  # sorted by key, then handling order
        k = (packed >> _SHIFT32).astype(np.uint32)
        row_of_rank = np.empty(int(rank.max()) + 1, dtype=np.intp)
        row_of_rank[rank] = np.arange(rows)
        row = row_of_rank[low // width]
        order = row * width + low % width
        new_key = np.ones(n, dtype=bool)
        new_key[1:] = k[1:] != k[:-1]
        new_run = new_key.copy()  # (a run: one key repeated within one row)
        new_run[1:] |= row[1:] != row[:-1]
        key_start = np.maximum.accumulate(np.where(new_key, at, 0))
        run_start = np.maximum.accumulate(np.where(new_run, at, 0))
        last_own = np.maximum.accumulate(np.where(own[row], at, -1))
        prev = last_own[run_start - 1]  # (run_start 0 reads the last element: masked next)
        prev[(run_start == 0) | (prev < key_start)] = -1
        unsorted = np.empty(n, dtype=np.int64)
        unsorted[order] = np.where(prev >= 0, -2 - doc_of_row[row[prev]], seq[order])
        codes = unsorted.reshape(rows, width)
        ends = np.flatnonzero(np.append(new_key[1:], True))
        writer = last_own[ends]
        writer = writer[writer >= key_start[ends]]
        band = codes[:, :-1]
        hit = np.flatnonzero(band.ravel() != -1)
        shift = len(doc_of_row) + 2  # codes + shift >= 0
        pairs = np.sort(((hit // (width - 1)) << 44) | (band.ravel()[hit] + shift))
        first = np.ones(pairs.size, dtype=bool)
        first[1:] = pairs[1:] != pairs[:-1]
        starts = np.flatnonzero(first)
        unique = pairs[starts]
        return BatchPlan(
            codes=codes,
            pairs=(
                (unique >> 44).tolist(),
                ((unique & ((1 << 44) - 1)) - shift).tolist(),
                np.diff(np.append(starts, pairs.size)).tolist(),
            ),
            write_keys=k[writer],
            write_docs=doc_of_row[row[writer]],
            write_pos=pos[order[writer]],
        )
