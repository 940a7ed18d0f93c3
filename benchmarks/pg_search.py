"""Chinese substring search on PostgreSQL: the store's bigram ``tsvector`` index vs pg_trgm.

    .venv/bin/python benchmarks/pg_search.py --n 200000 [--url postgresql://postgres@127.0.0.1:5432/test]

Works in a schema of its own (``bench_<random>``, dropped at the end) of the database at
``--url`` (default: ``YUQING_TEST_POSTGRES`` or the test database). Stores N posts (Weibo
texts from ../shared/data when present, cycled, else generated ones; one post every 37 s
from 2020-01-01: 200,000 posts span 86 days, 3 month partitions) and measures:

1. the write path: ``add_documents`` (5,000 posts a transaction) and ``index_pending``
   (the bigram tsvector index), posts/s;
2. the same texts COPYed into a table with a pg_trgm GIN index (``gin_trgm_ops`` on the
   lower-cased searchable text, maintained on insert), posts/s;
3. query latency (median / p95 ms) of ~200 queries of 2, 3 and 4 CJK characters cut from
   stored posts: the 20 newest matches and the count of all matches, through the store
   (``search`` / ``count_matches``, verified, as the app calls them) and through
   ``LIKE '%q%'`` on the trigram table; whether each query finds the post it was cut from;
4. index sizes.

Prints markdown tables (docs/PERFORMANCE.md, docs/postgres.md). Figures are wall-clock
seconds of this process plus the server (both on this machine).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import statistics
import sys
import time
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg

from yuqing.models import Document
from yuqing.store.postgres import PostgresStore
from yuqing.store.url import open_store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FILES = (
    "event_covid19_weibo_hashtags/posts_sample.csv",
    "event_weibo_threads_ma2016/posts.csv",
    "event_weibo_threads_ced/posts.csv",
    "sentiment_weibo_senti_100k/dev.csv",
)
CJK_RUN = re.compile("[\u4e00-\u9fff]{4,}")
T = TypeVar("T")
Queries = dict[int, list[tuple[str, str]]]


def read_texts() -> tuple[list[str], str]:
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
    made = ["".join(rng.choices(words, k=rng.randint(10, 70)))[:200] for _ in range(20_000)]
    return made, "20,000 generated posts, cycled"


def make_docs(texts: list[str], n: int) -> list[Document]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(n):
        text = texts[i % len(texts)]
        doc = Document(
            id=str(i), source="bench", text=text, published_at=start + timedelta(seconds=37 * i)
        )
        doc.norm_text = unicodedata.normalize("NFKC", text).lower()
        docs.append(doc)
    return docs


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered) * 1000:.1f} / {p95 * 1000:.1f}"


def pick_queries(docs: list[Document], per_length: int, rng: random.Random) -> Queries:
    """length -> [(query, id of the post it was cut from)]."""
    out: dict[int, list[tuple[str, str]]] = {2: [], 3: [], 4: []}
    for length, found in out.items():
        while len(found) < per_length:
            doc = docs[rng.randrange(len(docs))]
            runs = CJK_RUN.findall(doc.norm_text)
            if runs:
                run = rng.choice(runs)
                at = rng.randrange(len(run) - length + 1)
                found.append((run[at : at + length], doc.id))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="posts to store")
    parser.add_argument("--queries", type=int, default=210, help="queries (a third per length)")
    parser.add_argument(
        "--url",
        default=os.environ.get("YUQING_TEST_POSTGRES")
        or "postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args(argv)
    texts, origin = read_texts()
    docs = make_docs(texts, args.n)
    queries = pick_queries(docs, args.queries // 3, random.Random(11))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(args.url, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        row = admin.execute(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        ).fetchone()
        trgm_schema = row[0] if row else "public"
        joiner = "&" if "?" in args.url else "?"
        url = f"{args.url}{joiner}options=-csearch_path%3D{schema}%2C{trgm_schema}"
        store = open_store(url)
        assert isinstance(store, PostgresStore)
        run(store, docs, queries, origin, args.n)
        store.close()
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
    return 0


def run(
    store: PostgresStore,
    docs: list[Document],
    queries: Queries,
    origin: str,
    n: int,
) -> None:
    conn = store._conn
    print(f"{n:,} posts ({origin}); PostgreSQL {conn.info.server_version}\n")
    batch = 5000
    write, _ = timed(lambda: [store.add_documents(docs[i : i + batch]) for i in range(0, n, batch)])
    index, _ = timed(lambda: list(iter(lambda: store.index_pending(batch), 0)))
    conn.execute(
        "CREATE TABLE trgm (pk bigint, published_at bigint, body text); "
        "CREATE INDEX trgm_body ON trgm USING gin (body gin_trgm_ops); "
        "CREATE INDEX trgm_time ON trgm (published_at, pk); CREATE INDEX trgm_pk ON trgm (pk)"
    )

    def copy_trgm() -> None:
        with conn.transaction(), conn.cursor().copy("COPY trgm FROM STDIN") as copy:
            for pk, doc in enumerate(docs, 1):
                body = f"{doc.norm_text} {doc.quoted_text} {doc.title or ''}".lower()
                at = doc.published_at
                copy.write_row((pk, None if at is None else int(at.timestamp() * 1e6), body))

    trgm, _ = timed(copy_trgm)
    conn.execute("ANALYZE")
    print("| write path | posts/s |\n|---|---|")
    print(f"| add_documents (partitioned, key table, queue) | {n / write:,.0f} |")
    print(f"| index_pending (bigram tsvector, GIN) | {n / index:,.0f} |")
    print(f"| COPY into a table with a pg_trgm GIN index | {n / trgm:,.0f} |\n")

    def like_top(pattern: str) -> list[tuple[object, ...]]:
        return conn.execute(
            "SELECT pk FROM trgm WHERE body LIKE %s ORDER BY published_at DESC, pk DESC LIMIT 20",
            (pattern,),
        ).fetchall()

    def like_count(pattern: str) -> int:
        row = conn.execute("SELECT count(*) FROM trgm WHERE body LIKE %s", (pattern,)).fetchone()
        return int(row[0]) if row else 0

    print(
        "| query | store.search top 20 | LIKE top 20 (pg_trgm) | store.count_matches "
        "| LIKE count (pg_trgm) | found own post: bigram / trgm | mean matches |"
    )
    print("|---|---|---|---|---|---|---|")
    for length, items in queries.items():
        times: dict[str, list[float]] = {"search": [], "like": [], "count": [], "like_count": []}
        own_bigram = own_trgm = matches = 0
        for query, own in items:
            pattern = f"%{query}%"
            times["search"].append(timed(lambda: store.search(query, limit=20))[0])  # noqa: B023
            times["like"].append(timed(lambda: like_top(pattern))[0])  # noqa: B023
            seconds, counted = timed(lambda: store.count_matches(query))  # noqa: B023
            times["count"].append(seconds)
            seconds, like_counted = timed(lambda: like_count(pattern))  # noqa: B023
            times["like_count"].append(seconds)
            matches += counted
            hits = store.search(query, limit=10**7) if counted else []
            own_bigram += any(h.id == own for h in hits)
            own_row = conn.execute(
                "SELECT body LIKE %s FROM trgm WHERE pk = %s", (pattern, int(own) + 1)
            ).fetchone()
            own_trgm += like_counted > 0 and own_row is not None and bool(own_row[0])
        print(
            f"| {length} characters | {summary(times['search'])} | {summary(times['like'])} | "
            f"{summary(times['count'])} | {summary(times['like_count'])} | "
            f"{own_bigram}/{len(items)} / {own_trgm}/{len(items)} | {matches / len(items):,.0f} |"
        )
    sizes = conn.execute(
        "SELECT pg_size_pretty(sum(pg_relation_size(i.indexrelid))) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'search_index_%terms%'"
    ).fetchone()
    trgm_size = conn.execute("SELECT pg_size_pretty(pg_relation_size('trgm_body'))").fetchone()
    docs_size = conn.execute(
        "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'documents'::regclass"
    ).fetchone()
    print(
        f"\nGIN sizes: bigram tsvector {sizes[0] if sizes else '?'}, pg_trgm "
        f"{trgm_size[0] if trgm_size else '?'}; documents with their indexes "
        f"{docs_size[0] if docs_size else '?'}"
    )


if __name__ == "__main__":
    sys.exit(main())
