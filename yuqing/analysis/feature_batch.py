"""Vectorized batch featurization: every text of a batch is tokenized once, then the
character n-grams, their MurmurHash3 buckets and counts are computed with numpy over the
whole batch. The matrix is bit-identical to scikit-learn's ``FeatureHasher`` over the
same feature names (see :mod:`yuqing.analysis.features`)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import rjieba
import scipy.sparse as sp

from yuqing.analysis.features import (
    DEGREES,
    EMOTICON_RE,
    NEGATIONS,
    FeatureConfig,
    Trace,
    _marker_features,
)

_U32 = np.uint32
_C1, _C2, _C3 = _U32(0xCC9E2D51), _U32(0x1B873593), _U32(0xE6546B64)
_F1, _F2 = _U32(0x85EBCA6B), _U32(0xC2B2AE35)
_TRIGGERS = NEGATIONS | DEGREES
_SURFACE_COLUMNS = (1 << 63) - 1


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    out: np.ndarray = (x << _U32(r)) | (x >> _U32(32 - r))
    return out


def _murmur3_32(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Signed 32-bit MurmurHash3 (x86, seed 0) of each span ``buf[start:start+length]``.

    ``buf`` holds byte values as uint32, padded with 4 zeros. This is the hash
    FeatureHasher applies to a feature name's UTF-8 bytes, vectorized over spans.
    """
    h = np.zeros(len(starts), _U32)
    blocks = lengths >> 2
    for j in range(int(blocks.max()) if len(blocks) else 0):
        sel = np.flatnonzero(blocks > j)
        p = starts[sel] + 4 * j
        k = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)
        h[sel] = _rotl(h[sel] ^ (_rotl(k * _C1, 15) * _C2), 13) * _U32(5) + _C3
    tail = lengths & 3
    p = starts + 4 * blocks
    k = (
        np.where(tail >= 3, buf[p + 2] << 16, 0)
        ^ np.where(tail >= 2, buf[p + 1] << 8, 0)
        ^ np.where(tail >= 1, buf[p], 0)
    ).astype(_U32)
    h ^= _rotl(k * _C1, 15) * _C2
    h ^= lengths.astype(_U32)
    h ^= h >> 16
    h *= _F1
    h ^= h >> 13
    h *= _F2
    h ^= h >> 16
    return h.view(np.int32)


def _buckets(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, n: int) -> np.ndarray:
    """FeatureHasher's bucket ``abs(h) % n`` (its special case for h == -2**31 included)."""
    h = _murmur3_32(buf, starts, lengths).astype(np.int64)
    out: np.ndarray = np.abs(h) % n
    out[h == -(1 << 31)] = (2147483647 - (n - 1)) % n
    return out


def _as_buffer(raw: bytes) -> np.ndarray:
    buf = np.zeros(len(raw) + 4, _U32)
    buf[: len(raw)] = np.frombuffer(raw, np.uint8)
    return buf


def _spans_of_lines(raw: bytes, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(buffer, starts, lengths) of the ``count`` newline-separated names in ``raw``."""
    if count == 0:
        return _as_buffer(b""), np.zeros(0, np.int64), np.zeros(0, np.int64)
    nl = np.flatnonzero(np.frombuffer(raw, np.uint8) == 10)
    starts = np.concatenate([[0], nl + 1]).astype(np.int64)
    ends = np.concatenate([nl, [len(raw)]]).astype(np.int64)
    return _as_buffer(raw), starts, ends - starts


def _interleave(n: int, *rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """indptr of a row-major layout of several row-sorted sources, and where each goes."""
    counts = [np.bincount(r, minlength=n) for r in rows]
    indptr = np.concatenate([[0], np.cumsum(sum(counts, np.zeros(n, np.int64)))])
    dests: list[np.ndarray] = []
    before = np.zeros(n, np.int64)
    for r, cnt in zip(rows, counts, strict=True):
        first = np.concatenate([[0], np.cumsum(cnt)[:-1]]) if n else cnt
        dests.append(indptr[r] + before[r] + np.arange(len(r)) - first[r])
        before = before + cnt
    return indptr.astype(np.int64), dests


@lru_cache(maxsize=1)
def _alnum_bmp() -> np.ndarray:
    return np.fromiter((chr(c).isalnum() for c in range(0x10000)), bool, count=0x10000)


def _alnum(cps: np.ndarray) -> np.ndarray:
    """``str.isalnum`` of each code point."""
    table = _alnum_bmp()
    out = table[np.minimum(cps, 0xFFFF)]
    astral = np.flatnonzero(cps > 0xFFFF)
    if len(astral):
        out[astral] = [chr(int(c)).isalnum() for c in cps[astral].tolist()]
    result: np.ndarray = out
    return result


def _span_ids(text: str, c: np.ndarray, pos: np.ndarray, ln: np.ndarray) -> np.ndarray:
    """An id per span of ``text``, equal iff the spans spell the same string.

    Up to three characters: the code points (+1, 21 bits each) packed into an int64;
    longer: a negative number from a per-batch dictionary. ``c`` is code point + 1
    padded with two zeros.
    """
    ids = np.zeros(len(pos), np.int64)
    for size in (1, 2, 3):
        sel = np.flatnonzero(ln == size)
        p = pos[sel]
        value = np.zeros(len(sel), np.int64)
        for j in range(size):
            value = (value << 21) | c[p + j]
        ids[sel] = value
    longer = np.flatnonzero(ln > 3)
    if len(longer):
        seen: dict[str, int] = {}
        ids[longer] = [
            -1 - seen.setdefault(text[p : p + n], len(seen))
            for p, n in zip(pos[longer].tolist(), ln[longer].tolist(), strict=True)
        ]
    return ids


def _batch(
    cfg: FeatureConfig, norms: list[str], *, traced: bool
) -> tuple[sp.csr_matrix, Trace | None]:
    """The feature matrix of normalized texts and (``traced``) its :class:`Trace`."""
    n = len(norms)
    bodies: list[str] = []
    names: list[str] = []  # E:, W:, N:/D:, P: names, text by text
    name_counts: list[int] = []
    codes: list[str] = []
    code_counts: list[int] = []
    words: list[str] = []
    word_counts: list[int] = []
    for norm in norms:
        body = norm
        found = EMOTICON_RE.findall(norm) if cfg.emoticons and "[" in norm else []
        if found:
            body = EMOTICON_RE.sub(" ", norm)
        body = " ".join(body.split())
        bodies.append(body)
        row = ["E:" + code for code in found]
        cut: list[str] = rjieba.cut(body) if cfg.words and body else []
        if cut:
            row += ["W:" + w for w in cut if len(w) > 1]  # no space runs in a body
            if cfg.markers and not _TRIGGERS.isdisjoint(cut):
                row += [name for name, _ in _marker_features(cut)]
        if cfg.markers and ("!" in body or "?" in body):
            bangs = body.count("!")
            row += ["P:!!"] if bangs >= 2 else []
            row += ["P:!!!!"] if bangs >= 4 else []
            row += ["P:??"] if body.count("?") >= 2 else []
        names += row
        name_counts.append(len(row))
        codes += found
        code_counts.append(len(found))
        words += cut
        word_counts.append(len(cut))

    body_text = " ".join(bodies)
    nb = len(body_text)
    joined = body_text + " " + " ".join(codes) if traced and codes else body_text
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), _U32).astype(np.int64)
    blen = 1 + (cps >= 0x80) + (cps >= 0x800) + (cps >= 0x10000)
    boff = np.concatenate([[0], np.cumsum(blen)])
    buf = _as_buffer(joined.encode("utf-8", "surrogatepass"))
    body_len = np.array([len(b) for b in bodies], np.int64)
    bstart = np.concatenate([[0], np.cumsum(body_len + 1)[:-1]]) if n else body_len
    row_of = np.repeat(np.arange(n), body_len + 1)[:nb]

    # character n-grams without a space, position-major (so row-major)
    sizes = np.arange(cfg.ngram_min, cfg.ngram_max + 1, dtype=np.int64)
    spaces = np.concatenate([[0], np.cumsum(cps[:nb] == 32)])
    ends = np.arange(nb, dtype=np.int64)[:, None] + sizes[None, :]
    inside = ends <= nb
    ok = inside & (spaces[np.minimum(ends, nb)] == spaces[:nb, None])
    gpos, gsize_idx = np.nonzero(ok)
    gsize = sizes[gsize_idx]
    grow = row_of[gpos]
    gbucket = _buckets(buf, boff[gpos], boff[gpos + gsize] - boff[gpos], cfg.n_features)
    name_spans = _spans_of_lines("\n".join(names).encode("utf-8", "surrogatepass"), len(names))
    nbucket = _buckets(*name_spans, cfg.n_features)
    nrow = np.repeat(np.arange(n), name_counts)

    indptr, (dest_g, dest_n) = _interleave(n, grow, nrow)
    indices = np.empty(int(indptr[-1]), np.int32)
    indices[dest_g] = gbucket
    indices[dest_n] = nbucket
    counts, run_of = _count(indices, indptr, cfg.n_features)
    matrix, values = _finish(counts)
    if not traced:
        return matrix, None

    # trace entries: n-grams, emoticon codes (in the tail of `joined`), words
    c = np.concatenate([cps + 1, [0, 0]])
    crow = np.repeat(np.arange(n), code_counts)
    code_len = np.array([len(x) for x in codes], np.int64)
    cpos = nb + 1 + np.concatenate([[0], np.cumsum(code_len + 1)[:-1]]).astype(np.int64)
    cfirst = np.concatenate([[0], np.cumsum(code_counts)[:-1]]) if n else crow
    nfirst = np.concatenate([[0], np.cumsum(name_counts)[:-1]]) if n else nrow
    cj = np.arange(len(codes)) - cfirst[crow] if len(codes) else crow
    craw = dest_n[nfirst[crow] + cj] if len(codes) else crow
    wlen = np.fromiter(map(len, words), np.int64, count=len(words))
    wrow = np.repeat(np.arange(n), word_counts)
    wcum = np.concatenate([[0], np.cumsum(wlen)])
    wfirst = np.concatenate([[0], np.cumsum(word_counts)])[:-1]
    wpos = bstart[wrow] + wcum[:-1] - wcum[wfirst[wrow]]
    if not np.array_equal(
        np.bincount(wrow, wlen, minlength=n)[body_len > 0], body_len[body_len > 0]
    ) and len(words):
        wpos = _word_positions(bodies, words, word_counts, bstart)
    keep = np.flatnonzero(wlen > 1)
    wrow, wpos, wlen = wrow[keep], wpos[keep], wlen[keep]
    wj = np.arange(len(keep)) - np.searchsorted(wrow, np.arange(n))[wrow]
    wraw = (
        dest_n[nfirst[wrow] + np.asarray(code_counts, np.int64)[wrow] + wj] if len(keep) else wrow
    )

    span = (
        int(max(body_len.max(initial=0), max(code_counts, default=0), max(word_counts, default=0)))
        + 1
    )
    gorder = (1 + gsize_idx) * span + gpos - bstart[grow]
    worder = (len(sizes) + 1) * span + wj
    indptr_t, (dg, dc, dw) = _interleave(n, grow, crow, wrow)
    total = int(indptr_t[-1])
    fields = {}
    for name, parts in (
        ("row", (grow, crow, wrow)),
        ("pos", (gpos, cpos, wpos)),
        ("len", (gsize, code_len, wlen)),
        ("raw", (dest_g, craw, wraw)),
        ("order", (gorder, cj, worder)),
        ("kind", (np.zeros(len(gpos)), np.zeros(len(crow)), np.ones(len(wrow)))),
    ):
        arr = np.empty(total, np.int64)
        for dest, part in zip((dg, dc, dw), parts, strict=True):
            arr[dest] = part
        fields[name] = arr
    ids = _span_ids(joined, c, fields["pos"], fields["len"])
    by_surface = sp.csr_matrix(
        (np.arange(total, dtype=np.int64), ids, indptr_t), shape=(n, _SURFACE_COLUMNS)
    )
    by_surface.has_sorted_indices = False
    by_surface.sort_indices()
    e = by_surface.data
    srow, sid = fields["row"][e], by_surface.indices
    first = np.ones(total, bool)
    first[1:] = (sid[1:] != sid[:-1]) | (srow[1:] != srow[:-1])
    starts = np.flatnonzero(first)
    kind, raw = fields["kind"][e], fields["raw"][e]
    gram_b = np.maximum.reduceat(np.where(kind == 0, raw, -1), starts) if total else starts
    word_b = np.maximum.reduceat(np.where(kind == 1, raw, -1), starts) if total else starts
    rep = e[starts]
    group_row = srow[starts]
    bad = np.concatenate([[0], np.cumsum(~_alnum(cps))])
    gstart, glen = fields["pos"][rep], fields["len"][rep]
    usable = ((bad[gstart + glen] - bad[gstart]) == 0) | (cps[gstart] == ord("["))
    gsel, wsel = np.flatnonzero(gram_b >= 0), np.flatnonzero(word_b >= 0)
    pair_group = np.concatenate([gsel, wsel])
    pair_raw = np.concatenate([gram_b[gsel], word_b[wsel]])
    pair_bucket = indices[pair_raw].astype(np.int64)
    at = run_of[pair_raw]
    return matrix, Trace(
        text=joined,
        pair_group=pair_group,
        pair_bucket=pair_bucket,
        pair_value=values[at].astype(np.float64),
        group_row=group_row,
        group_start=gstart,
        group_len=glen,
        group_order=np.minimum.reduceat(fields["order"][e], starts) if total else starts,
        group_usable=usable & (glen > 0),
        group_offsets=np.searchsorted(group_row, np.arange(n + 1)),
    )


def _count(
    indices: np.ndarray, indptr: np.ndarray, n_features: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts per (row, bucket) as FeatureHasher's ``sum_duplicates`` makes them, and the
    position in that matrix of each raw entry (for the trace)."""
    n = len(indptr) - 1
    raw = sp.csr_matrix(
        (np.arange(len(indices), dtype=np.int64), indices.copy(), indptr), shape=(n, n_features)
    )
    raw.has_sorted_indices = False
    raw.sort_indices()
    rows = np.repeat(np.arange(n), np.diff(indptr))
    sb = raw.indices
    new = np.ones(len(sb), bool)
    new[1:] = (sb[1:] != sb[:-1]) | (rows[1:] != rows[:-1])
    starts = np.flatnonzero(new)
    run_of = np.empty(len(sb), np.int64)
    run_of[raw.data] = np.cumsum(new) - 1
    sizes = np.diff(np.concatenate([starts, [len(sb)]])).astype(np.float64)
    c_indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[starts], minlength=n))])
    counts = sp.csr_matrix((sizes, sb[starts], c_indptr), shape=(n, n_features))
    counts.has_sorted_indices = True
    return counts, run_of


def _word_positions(
    bodies: list[str], words: list[str], counts: list[int], bstart: np.ndarray
) -> np.ndarray:
    """Start of each word in the joined bodies, by search (when a cut is not a partition)."""
    out: list[int] = []
    it = iter(words)
    for body, count, base in zip(bodies, counts, bstart.tolist(), strict=True):
        at = 0
        for _ in range(count):
            w = next(it)
            found = body.find(w, at)
            at = found + len(w) if found >= 0 else at
            out.append(base + max(found, 0))
    return np.array(out, np.int64)


def _finish(counts: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """log1p of the hashed counts, each row scaled to unit L2 norm, float32.

    Also returns the values in the order of ``counts`` (sorted indices). The matrix
    keeps each row's indices in descending order, the order the former
    ``diags(scale) @ matrix`` left them in: sums over a row then run in the same order,
    so scores are bit-identical to the artifacts' evaluation.
    """
    logged = counts.copy()
    np.log1p(logged.data, out=logged.data)
    sq = np.asarray(logged.multiply(logged).sum(axis=1)).ravel()
    scale = np.where(sq > 0, 1.0 / np.sqrt(np.maximum(sq, 1e-12)), 0.0)
    indptr = logged.indptr
    per_row = np.diff(indptr)
    values = (logged.data * np.repeat(scale, per_row)).astype(np.float32)
    rows = np.repeat(np.arange(len(per_row)), per_row)
    flip = indptr[rows] + indptr[rows + 1] - 1 - np.arange(len(values))
    result = sp.csr_matrix((values[flip], logged.indices[flip], indptr.copy()), shape=logged.shape)
    return result, values
