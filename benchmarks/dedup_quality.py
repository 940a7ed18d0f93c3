"""Precision/recall/speed of the dedup stage on a labelled set built from real Weibo posts.

    .venv/bin/python benchmarks/dedup_quality.py --data ../shared/data --n 20000

Base posts come from weibo_senti_100k (dev), SMP2020-EWECT (train+dev), NLPCC2013 and
Li2016 Weibo emotion sets: own words only (the ``//@`` chain cut off), normalized by the
project's Normalizer, 10-200 characters, de-duplicated exactly and then of mutual
near-duplicates (any pair with character-bigram Jaccard >= 0.3, found exhaustively with
a sparse matrix product, independent of the LSH under test). From them, with a fixed
seed: originals; edited copies (1-3 random insertions/deletions/substitutions with
characters drawn from the corpus); Traditional twins (OpenCC s2t of the original's raw
text); reposts (``转发微博//@user: original`` and ``好!//@user: original``); unrelated
posts. Everything is streamed in (time, id) order, copies after their original.

A ``duplicate_of`` is correct when it names an earlier post of the same group; a
``repost_of`` when it names the quoted original (or a member of its group).
"""

from __future__ import annotations

import argparse
import csv
import gc
import math
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import opencc
from scipy import sparse

from yuqing.models import Document
from yuqing.pipeline.dedup import Deduplicator
from yuqing.pipeline.minhash import MinHasher
from yuqing.pipeline.normalize import Normalizer
from yuqing.settings import DedupSettings

SOURCES = (
    "sentiment_weibo_senti_100k/dev.csv",
    "emotion_smp2020_ewect/train.csv",
    "emotion_smp2020_ewect/dev.csv",
    "emotion_nlpcc2013_weibo/data.csv",
    "emotion_weibo_li2016_clue/data.csv",
)
T0 = datetime(2024, 3, 1, tzinfo=UTC)


@dataclass(slots=True)
class Item:
    doc: Document
    kind: str  # original | edited | twin | repost | unrelated
    group: int
    target: str | None = None  # repost: the quoted original's id


def load_base(data: Path, normalizer: Normalizer) -> list[tuple[str, str]]:
    """(raw own text, normalized text) of unique, mutually dissimilar posts."""
    raws: list[str] = []
    for rel in SOURCES:
        path = data / rel
        if not path.is_file():
            print(f"warning: {path} missing, skipped", file=sys.stderr)
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            raws.extend(
                (row.get("text") or "").split("//@")[0].strip() for row in csv.DictReader(fh)
            )
    docs = normalizer.process([Document(id=str(i), source="b", text=r) for i, r in enumerate(raws)])
    seen: set[str] = set()
    base: list[tuple[str, str]] = []
    for raw, doc in zip(raws, docs, strict=True):
        norm = doc.norm_text
        if 10 <= len(norm) <= 200 and norm not in seen:
            seen.add(norm)
            base.append((raw, norm))
    return drop_near_pairs(base)


def drop_near_pairs(base: list[tuple[str, str]], limit: float = 0.3) -> list[tuple[str, str]]:
    """Exhaustively drop the later post of every pair with bigram Jaccard >= ``limit``."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, (_, norm) in enumerate(base):
        for g in {norm[j : j + 2] for j in range(len(norm) - 1)}:
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)))
    size = np.asarray(x.sum(axis=1)).ravel()
    drop = np.zeros(len(base), dtype=bool)
    for start in range(0, len(base), 2000):
        inter = (x[start : start + 2000] @ x.T).tocoo()
        a, b = inter.row + start, inter.col
        sim = inter.data / (size[a] + size[b] - inter.data)
        hit = (a < b) & (sim >= limit)
        drop[b[hit & ~drop[a]]] = True
    return [item for item, gone in zip(base, drop, strict=True) if not gone]


def edit(text: str, rng: random.Random, alphabet: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice("ids")
        i = rng.randrange(len(chars))
        if op == "i":
            chars.insert(i, rng.choice(alphabet))
        elif op == "d" and len(chars) > 1:
            del chars[i]
        else:
            chars[i] = rng.choice(alphabet.replace(chars[i], "")) if len(alphabet) > 1 else "x"
    return "".join(chars)


def build(base: list[tuple[str, str]], n: int, seed: int) -> list[Item]:
    """The labelled stream, in (published_at, id) order."""
    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2t")
    alphabet = "".join(sorted({c for _, norm in base[:3000] for c in norm if c.strip()}))
    pool = list(base)
    rng.shuffle(pool)
    n_orig = n // 5
    n_unrel = n - n_orig - n_orig - n_orig // 2 - n_orig // 2
    if n_orig + n_unrel > len(pool):
        raise SystemExit(f"only {len(pool)} base posts, need {n_orig + n_unrel}: lower --n")
    items: list[Item] = []
    horizon = 10 * 86_400

    def doc(text: str, kind: str, base_t: float, i: int) -> Document:
        return Document(
            id=f"{kind[0]}{i}",
            source="bench",
            text=text,
            published_at=T0 + timedelta(seconds=base_t),
        )

    for g in range(n_orig):
        raw, norm = pool[g]
        t = rng.uniform(0, horizon)
        items.append(Item(doc(raw, "original", t, g), "original", g))
        items.append(
            Item(
                doc(edit(norm, rng, alphabet), "edited", t + rng.uniform(60, 3 * 86_400), g),
                "edited",
                g,
            )
        )
        if g % 2 == 0:
            twin = s2t.convert(raw)
            items.append(Item(doc(twin, "twin", t + rng.uniform(60, 3 * 86_400), g), "twin", g))
        else:
            head = rng.choice(("转发微博", "好!"))
            text = f"{head}//@用户{rng.randrange(10**6)}: {raw}"
            items.append(
                Item(
                    doc(text, "repost", t + rng.uniform(60, 3 * 86_400), g),
                    "repost",
                    -1 - g,
                    f"o{g}",
                )
            )
    for j in range(n_unrel):
        raw, _ = pool[n_orig + j]
        items.append(Item(doc(raw, "unrelated", rng.uniform(0, horizon), j), "unrelated", n + j))
    items.sort(key=lambda it: (it.doc.published_at or T0, it.doc.id))
    return items


def score(items: Sequence[Item], dup: Callable[[Item], str | None]) -> dict[str, float]:
    """Precision/recall of duplicate_of predictions given by ``dup``."""
    group_of = {it.doc.id: it.group for it in items}
    first_seen: set[int] = set()
    tp = fp = positives = 0
    per_kind: dict[str, list[int]] = {}
    unrelated_flagged = unrelated = 0
    for it in items:
        expected = it.group in first_seen and it.kind != "repost"
        first_seen.add(it.group)
        got = dup(it)
        ok = got is not None and group_of.get(got) == it.group and expected
        positives += expected
        tp += ok
        fp += got is not None and not ok
        if expected:
            per_kind.setdefault(it.kind, [0, 0])
            per_kind[it.kind][0] += ok
            per_kind[it.kind][1] += 1
        if it.kind == "unrelated":
            unrelated += 1
            unrelated_flagged += got is not None
    out = {
        "precision": tp / max(tp + fp, 1),
        "recall": tp / max(positives, 1),
        "fp_rate_unrelated": unrelated_flagged / max(unrelated, 1),
    }
    for kind, (hit, total) in per_kind.items():
        out[f"recall_{kind}"] = hit / max(total, 1)
    return out


def score_reposts(items: Sequence[Item]) -> dict[str, float]:
    group_of = {it.doc.id: it.group for it in items}
    tp = fp = total = 0
    for it in items:
        got = it.doc.repost_of
        if it.kind == "repost":
            total += 1
            good = got is not None and group_of.get(got) == -1 - it.group
            tp += good
            fp += got is not None and not good
        else:
            fp += got is not None
    return {"precision": tp / max(tp + fp, 1), "recall": tp / max(total, 1)}


def simhash_baseline(items: Sequence[Item], k: int = 3, max_dist: int = 3) -> dict[str, float]:
    """64-bit SimHash of character k-grams, Hamming <= max_dist via 4 exact 16-bit blocks."""
    docs = [it for it in items if it.kind != "repost" and it.doc.norm_text]
    hasher = MinHasher(k, 1)
    values, starts = hasher.shingle_values([it.doc.norm_text for it in docs])
    h = values * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    bits = ((h[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).astype(np.int32) * 2 - 1
    sums = np.add.reduceat(bits, starts, axis=0)
    fp = (sums > 0).astype(np.uint64) << np.arange(64, dtype=np.uint64)
    prints = np.bitwise_or.reduce(fp, axis=1).tolist()
    tables: list[dict[int, list[int]]] = [{}, {}, {}, {}]
    roots: dict[int, str] = {}
    found: dict[str, str | None] = {}
    for i, (it, sig) in enumerate(zip(docs, prints, strict=True)):
        best: int | None = None
        for b, table in enumerate(tables):
            for j in table.get((sig >> (16 * b)) & 0xFFFF, ()):
                if (best is None or j < best) and (sig ^ prints[j]).bit_count() <= max_dist:
                    best = j
        found[it.doc.id] = None if best is None else roots[best]
        roots[i] = it.doc.id if best is None else roots[best]
        for b, table in enumerate(tables):
            table.setdefault((sig >> (16 * b)) & 0xFFFF, []).append(i)
    return score(items, lambda it: found.get(it.doc.id))


def bytes_per_entry(items: Sequence[Item], settings: DedupSettings) -> tuple[float, int]:
    """Memory the index holds per entry, measured with tracemalloc.

    The texts and ids it keeps are shared with the documents here (so tracemalloc does
    not see them); they are added, since in a pipeline the index outlives the batch.
    """
    docs = [it.doc for it in items]
    tracemalloc.start()
    dedup = Deduplicator(settings)
    base_mem = tracemalloc.get_traced_memory()[0]
    dedup.process(docs)
    for d in docs:  # drop what the stage wrote on the documents themselves
        d.content_hash = ""
    current = tracemalloc.get_traced_memory()[0] - base_mem
    tracemalloc.stop()
    index = dedup.index
    shared = sum(sys.getsizeof(s) for s in (*index.texts, *index.ids) if s is not None)
    return (current + shared) / max(dedup.indexed, 1), dedup.indexed


def flat_memory(items: Sequence[Item], settings: DedupSettings) -> list[tuple[int, int]]:
    """(posts processed, traced bytes) with a small index: memory must stop growing."""
    cap = settings.model_copy(update={"max_entries": 2000})
    docs = [it.doc for it in items]
    tracemalloc.start()
    dedup = Deduplicator(cap)
    points = []
    for i in range(0, len(docs), 2000):
        dedup.process(docs[i : i + 2000])
        for d in docs[i : i + 2000]:
            d.content_hash = ""
        points.append((i + 2000, tracemalloc.get_traced_memory()[0]))
    tracemalloc.stop()
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (best is kept)")
    parser.add_argument("--shingle", type=int)
    parser.add_argument("--num-perm", type=int)
    parser.add_argument("--bands", type=int)
    parser.add_argument("--jaccard", type=float)
    args = parser.parse_args()
    overrides = {
        k: v
        for k, v in {
            "shingle": args.shingle,
            "num_perm": args.num_perm,
            "bands": args.bands,
            "jaccard": args.jaccard,
        }.items()
        if v is not None
    }
    settings = DedupSettings.model_validate(overrides)
    normalizer = Normalizer()
    base = load_base(args.data, normalizer)
    items = build(base, args.n, args.seed)
    normalizer.process([it.doc for it in items])
    docs = [it.doc for it in items]

    gc.freeze()  # the harness's own objects stay out of the collector's way (see docs/dedup.md)
    elapsed = cpu = math.inf
    for _ in range(args.repeat):  # best of N: the machine is shared and noisy
        dedup = Deduplicator(settings)
        start, started = time.perf_counter(), time.process_time()
        for i in range(0, len(docs), args.batch):
            dedup.process(docs[i : i + args.batch])
        elapsed = min(elapsed, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - started)
    dup = score(items, lambda it: it.doc.duplicate_of)
    rep = score_reposts(items)
    sim = simhash_baseline(items)
    per_entry, indexed = bytes_per_entry(items, settings)
    full = settings.model_copy(update={"max_entries": 10_000})
    per_full, _ = bytes_per_entry(items, full)
    flat = flat_memory(items, settings)

    kinds = {
        k: sum(it.kind == k for it in items)
        for k in ("original", "edited", "twin", "repost", "unrelated")
    }
    print(f"base posts after cleaning: {len(base)}; stream: {len(items)} posts {kinds}")
    print(f"settings: {settings.model_dump()}\n")
    print("| method | precision | recall | recall edited | recall T/S twin | FP rate unrelated |")
    print("|---|---|---|---|---|---|")
    for name, m in (
        ("MinHash LSH + Jaccard (duplicate_of)", dup),
        ("SimHash-64 3-gram, Hamming <= 3", sim),
    ):
        print(
            f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m.get('recall_edited', 0):.4f} "
            f"| {m.get('recall_twin', 0):.4f} | {m['fp_rate_unrelated']:.4f} |"
        )
    print(f"| repost_of | {rep['precision']:.4f} | {rep['recall']:.4f} | | | |")
    print(
        f"\nspeed: {len(docs) / elapsed:,.0f} posts/s wall, {len(docs) / cpu:,.0f} posts/s of CPU time (dedup stage alone, batches of {args.batch})"
    )
    print(
        f"index: {indexed} entries, {per_entry:,.0f} bytes per entry; full at max_entries=10000: "
        f"{per_full:,.0f} bytes per entry (tracemalloc, texts and ids included)"
    )
    marks = ", ".join(f"{n}: {b / 1e6:.1f} MB" for n, b in flat[:: max(len(flat) // 5, 1)])
    print(f"max_entries=2000, traced memory after N posts: {marks}")


if __name__ == "__main__":
    main()
