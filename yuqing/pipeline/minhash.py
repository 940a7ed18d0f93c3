"""Vectorized MinHash over character shingles, and the exact Jaccard that verifies it.

Why this shape: the dedup stage must sign tens of thousands of short posts a second, so
nothing here loops in Python per shingle. A batch of texts is joined into one string,
encoded once as UTF-32 into a ``uint32`` array of code points, and every ``k`` consecutive
code points are combined arithmetically into one 64-bit shingle value (exact for
``k <= 3``: 21 bits per code point). Each permutation is one multiply-add-shift over the
whole batch, and ``np.minimum.reduceat`` takes the minimum per text.

Texts shorter than ``k`` characters are one shingle: the whole text (padded with NUL
code points inside the hash, so it never equals a real ``k``-gram).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

U64 = np.uint64
_MIX = U64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio) for multiply-shift
_POLY = U64(0x100000001B3)  # FNV-style multiplier for shingles longer than 3 characters
_SHIFT32 = U64(32)

Signatures = npt.NDArray[np.uint32]


class MinHasher:
    """MinHash signatures of ``num_perm`` permutations over character ``k``-grams.

    Permutation ``i`` is ``h_i(x) = (a_i * x + b_i) mod 2**64 >> 32`` over the 32-bit
    shingle hash ``x`` (Dietzfelbinger's multiply-add-shift family: universal, and four
    times cheaper in numpy than a ``mod prime`` reduction). ``a_i``/``b_i`` come from a
    fixed seed, so signatures are the same in every process and across restarts.
    """

    def __init__(self, shingle: int, num_perm: int, seed: int = 0x59_51_D0) -> None:
        if shingle < 1:
            raise ValueError(f"shingle size must be >= 1, got {shingle}")
        self.k = shingle
        self.num_perm = num_perm
        rng = np.random.default_rng(seed)
        self._a = (rng.integers(0, 2**32, num_perm, dtype=np.uint64) | U64(1)).astype(np.uint32)
        self._b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)

    def shingle_values(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.intp]]:
        """Return every shingle value of the non-empty ``texts`` and each text's start offset.

        Empty texts must be filtered out by the caller (they have no shingles).
        """
        k = self.k
        padded = [t if len(t) >= k else t + "\0" * (k - len(t)) for t in texts]
        lengths = np.fromiter((len(t) for t in padded), dtype=np.intp, count=len(padded))
        cps = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32)
        total = cps.size
        # value at every position p of the joined string, over cps[p : p + k]
        usable = total - k + 1
        values = cps[:usable].astype(np.uint64)
        mult = U64(1 << 21) if k <= 3 else _POLY  # exact packing of up to 3 code points
        for j in range(1, k):
            values = values * mult + cps[j : usable + j].astype(np.uint64)
        # keep only positions whose k-gram lies inside one text
        counts = lengths - k + 1
        text_starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.intp)
        out_starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.intp)
        positions = np.arange(int(counts.sum()), dtype=np.intp) + np.repeat(
            text_starts - out_starts, counts
        )
        return values[positions], out_starts

    def signatures(self, texts: Sequence[str]) -> Signatures:
        """MinHash signatures, shape ``(len(texts), num_perm)``; every text must be non-empty."""
        if not texts:
            return np.empty((0, self.num_perm), dtype=np.uint32)
        values, starts = self.shingle_values(texts)
        x = ((values * _MIX) >> _SHIFT32).astype(np.uint32)  # 32-bit hash of each shingle
        by_perm = np.empty((self.num_perm, len(texts)), dtype=np.uint32)  # rows written whole
        h = np.empty_like(x)
        for i in range(self.num_perm):
            np.multiply(x, self._a[i], out=h)
            h += self._b[i]
            np.minimum.reduceat(h, starts, out=by_perm[i])
        return by_perm.T


class Banding:
    """Cuts signatures into ``bands`` bands of ``rows`` values, one 32-bit key per band.

    Each band's rows are combined into a 64-bit value (band number mixed in, so all bands
    share one table) whose top 32 bits are the key.
    """

    def __init__(self, num_perm: int, bands: int, seed: int = 0xBA_4D) -> None:
        if bands < 1 or num_perm % bands:
            raise ValueError(f"num_perm ({num_perm}) must be a multiple of bands ({bands})")
        self.bands = bands
        self.rows = num_perm // bands
        rng = np.random.default_rng(seed)
        self._mult = rng.integers(1, 2**63, self.rows, dtype=np.uint64) | U64(1)
        self._salt = rng.integers(0, 2**63, bands, dtype=np.uint64)

    def keys(self, sig: Signatures) -> npt.NDArray[np.uint32]:
        """Band keys, shape ``(len(sig), bands)``: 32-bit, odd (0 marks an empty table slot).

        32 bits are plenty: a chance match only adds a candidate, and every candidate is
        verified by exact Jaccard.
        """
        by_perm = np.ascontiguousarray(sig.T).reshape(self.bands, self.rows, sig.shape[0])
        keys = by_perm[:, 0].astype(np.uint64) * self._mult[0]
        for j in range(1, self.rows):  # (explicit: a sum over a length-4 axis is slow)
            keys += by_perm[:, j].astype(np.uint64) * self._mult[j]
        keys += self._salt[:, None]
        return key32(keys).T


def key32(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """The top 32 bits of well-mixed 64-bit keys, made odd (0 stays free for "empty")."""
    return ((keys >> _SHIFT32) | U64(1)).astype(np.uint32)


def shingle_set(text: str, k: int) -> set[str]:
    """The character ``k``-gram set of ``text``; a text shorter than ``k`` is one shingle."""
    if len(text) < k:
        return {text} if text else set()
    if k == 2:  # the default: pairs of neighbours, built in C
        return set(map(operator.add, text, text[1:]))
    return {text[i : i + k] for i in range(len(text) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity of two shingle sets (0 when both are empty)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)
