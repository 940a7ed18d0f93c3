"""Write and search-index rates of the SQLite store, bigram index vs FTS5 trigram.

    .venv/bin/python benchmarks/search_index.py --n 100000

Reads the Weibo texts in ../shared/data when present (cycled up to N), else generates
posts. Measures rows/s of (a) ``add_documents`` alone, (b) an FTS5 ``trigram`` index on
norm_text, (c) the store's bigram index (``index_pending``), and writes with indexing after
each batch; then the latency of ~200 queries of 2, 3 and 4 CJK characters cut from stored
posts, and whether each query finds the post it was cut from. Prints markdown tables.
Figures are wall-clock and CPU seconds of this process (the CPU figure is steadier on a
shared machine).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from yuqing.models import Document
from yuqing.store.searchtext import query_terms
from yuqing.store.sqlite import SQLiteStore
from yuqing.store.url import open_store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = (
    "event_covid19_weibo_hashtags/posts_sample.csv",
    "event_covid19_weibo_hashtags/clustering_by_hashtag.csv",
    "event_weibo_threads_ma2016/posts.csv",
    "event_weibo_threads_ced/posts.csv",
    "sentiment_weibo_senti_100k/dev.csv",
)
CJK_RUN = re.compile("[\u4e00-\u9fff]{4,}")


def read_texts() -> tuple[list[str], str]:
    """Texts of the shared Weibo files, or generated ones when the folder is absent."""
    texts: list[str] = []
    for name in FILES:
        path = DATA / name
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                texts.extend(row["text"] for row in csv.DictReader(handle) if row.get("text"))
    if texts:
        return texts, f"{len(texts):,} Weibo texts from ../shared/data, cycled"
    rng = random.Random(7)
    words = [
        "".join(chr(rng.randint(0x4E00, 0x4E00 + 2500)) for _ in range(rng.choice((1, 2, 2, 3))))
        for _ in range(5000)
    ]
    for _ in range(20_000):
        texts.append("".join(rng.choices(words, k=rng.randint(10, 70)))[:200])
    return texts, "20,000 generated posts, cycled"


def make_docs(texts: list[str], n: int) -> list[Document]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(n):
        text = texts[i % len(texts)]
        norm = unicodedata.normalize("NFKC", text)
        docs.append(
            Document(
                id=str(i),
                source="bench",
                text=text,
                norm_text=norm,
                published_at=start + timedelta(seconds=37 * i),
                content_hash=hashlib.blake2b(norm.encode(), digest_size=8).hexdigest(),
            )
        )
    return docs


class Clock:
    """Wall and CPU seconds of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def fresh(folder: Path, name: str) -> SQLiteStore:
    store = open_store(f"sqlite:///{folder / name}")
    assert isinstance(store, SQLiteStore)
    return store


def rate(n: int, clock: Clock) -> str:
    return f"{n / clock.wall:,.0f} | {n / clock.cpu:,.0f}"


def sizes(store: SQLiteStore) -> dict[str, int]:
    rows = store._conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    return {name: size for name, size in rows}


def queries(docs: list[Document], count: int, rng: random.Random) -> Iterator[tuple[str, int]]:
    """(query, 1-based pk of the post it was cut from) for lengths 2, 3, 4."""
    for length in (2, 3, 4):
        made = 0
        while made < count // 3:
            pk = rng.randrange(len(docs))
            runs = CJK_RUN.findall(docs[pk].norm_text)
            if not runs:
                continue
            run = rng.choice(runs)
            at = rng.randrange(len(run) - length + 1)
            made += 1
            yield run[at : at + length], pk + 1


def summarize(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered) * 1000:.2f} / {p95 * 1000:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="posts to store")
    parser.add_argument("--batch", type=int, default=5000, help="posts per transaction")
    parser.add_argument("--queries", type=int, default=210, help="queries (a third per length)")
    args = parser.parse_args(argv)
    texts, origin = read_texts()
    docs = make_docs(texts, args.n)
    mean_len = sum(len(d.text) for d in docs) / len(docs)
    print(f"{args.n:,} posts ({origin}; mean {mean_len:.0f} chars), batches of {args.batch:,}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}\n")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = fresh(folder, "main.db")
        with Clock() as write:
            for b in range(0, len(docs), args.batch):
                store.add_documents(docs[b : b + args.batch])
        with Clock() as bigram:
            indexed = 0
            while count := store.index_pending(10_000):
                indexed += count
        conn = store._conn
        conn.execute(
            "CREATE VIRTUAL TABLE tri USING fts5(norm_text, content='documents', "
            "content_rowid='pk', tokenize='trigram')"
        )
        with Clock() as trigram:
            for b in range(0, len(docs), 10_000):
                conn.execute("BEGIN")
                conn.execute(
                    "INSERT INTO tri (rowid, norm_text) SELECT pk, norm_text FROM documents "
                    "WHERE pk > ? AND pk <= ?",
                    (b, b + 10_000),
                )
                conn.execute("COMMIT")
        both = fresh(folder, "both.db")
        with Clock() as combined:
            for b in range(0, len(docs), args.batch):
                both.add_documents(docs[b : b + args.batch])
                both.index_pending(args.batch)
        both.close()
        size = sizes(store)
        fts_size = {
            "bigram": sum(v for k, v in size.items() if k.startswith("search_index")),
            "trigram": sum(v for k, v in size.items() if k.startswith("tri")),
            "documents": sum(
                v
                for k, v in size.items()
                if k.startswith(("documents", "sqlite_autoindex_documents"))
            ),
        }

        print("| step | rows/s (wall) | rows/s (CPU) |")
        print("|---|---|---|")
        print(f"| (a) add_documents, writes only | {rate(len(docs), write)} |")
        print(f"| (b) FTS5 trigram index on norm_text (SQL only) | {rate(len(docs), trigram)} |")
        print(f"| (c) bigram index, index_pending | {rate(indexed, bigram)} |")
        print(f"| (a)+(c) add then index each batch | {rate(len(docs), combined)} |")
        print()
        print("| table | MB on disk |")
        print("|---|---|")
        for name, value in fts_size.items():
            print(f"| {name} | {value / 1e6:.1f} |")
        print()

        rng = random.Random(11)
        qs = list(queries(docs, args.queries, rng))
        found_sql = {
            "bigram": "SELECT 1 FROM search_index WHERE search_index MATCH ? AND rowid = ?",
            "trigram MATCH": "SELECT 1 FROM tri WHERE tri MATCH ? AND rowid = ?",
            "trigram LIKE": "SELECT 1 FROM tri WHERE norm_text LIKE ? AND rowid = ?",
        }
        top_sql = {
            "trigram MATCH": "SELECT d.pk FROM tri JOIN documents d ON d.pk = tri.rowid "
            "WHERE tri MATCH ? ORDER BY d.published_at DESC LIMIT 20",
            "trigram LIKE": "SELECT d.pk FROM tri JOIN documents d ON d.pk = tri.rowid "
            "WHERE tri.norm_text LIKE ? ORDER BY d.published_at DESC LIMIT 20",
        }
        arg: dict[str, Callable[[str], str]] = {
            "bigram": query_terms,
            "trigram MATCH": lambda q: f'"{q}"',
            "trigram LIKE": lambda q: f"%{q}%",
        }
        print("| index | query chars | median / p95 ms (top 20, newest first) | found own post |")
        print("|---|---|---|---|")
        for name in ("bigram", "trigram MATCH", "trigram LIKE"):
            for length in (2, 3, 4):
                times: list[float] = []
                found = 0
                subset = [(q, pk) for q, pk in qs if len(q) == length]
                for q, pk in subset:
                    start = time.perf_counter()
                    if name == "bigram":
                        store.search(q, limit=20)
                    else:
                        conn.execute(top_sql[name], (arg[name](q),)).fetchall()
                    times.append(time.perf_counter() - start)
                    found += (
                        conn.execute(found_sql[name], (arg[name](q), pk)).fetchone() is not None
                    )
                print(f"| {name} | {length} | {summarize(times)} | {found}/{len(subset)} |")
        print()

        # Exactness: count_matches against a Python substring scan, on a few queries.
        norms = [d.norm_text.lower() for d in docs]
        exact = 0
        sample = qs[:: max(1, len(qs) // 30)]
        for q, _ in sample:
            exact += store.count_matches(q) == sum(q in t for t in norms)
        print(f"count_matches equals a full substring scan for {exact}/{len(sample)} queries")
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
