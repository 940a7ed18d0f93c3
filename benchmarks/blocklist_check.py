"""Cost of the blocked-author check that ingest makes once per batch (docs/privacy.md).

    .venv/bin/python benchmarks/blocklist_check.py --batch 2000 --sizes 0 100 1000

For each suppression-list size, a fresh SQLite store gets that many entries (half of one
source, half of every source), and ``BlocklistCache.current(store).split(batch)`` (what
``Ingestor.run`` does after the existing-key check: the list's mark, the list itself only
when it changed, then the split) runs over a batch of ``--batch`` posts of other authors,
so every post is looked up and kept. Printed: the best of 5 timings of ``--loops`` calls,
per batch and per post.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime

from yuqing.models import Document
from yuqing.privacy.blocking import BlocklistCache
from yuqing.store.base import SuppressedAuthor
from yuqing.store.url import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 100, 1000])
    parser.add_argument("--loops", type=int, default=200)
    args = parser.parse_args()
    batch = [
        Document(source="weibo", id=str(i), text="x", norm_text="x", author=f"user{i}")
        for i in range(args.batch)
    ]
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            store = open_store(f"sqlite:///{folder}/b.db")
            try:
                now = datetime.now(UTC)
                for i in range(size):
                    source = None if i % 2 else "weibo"
                    store.suppress_author(SuppressedAuthor(f"blocked{i}", source, "bench", now))
                cache = BlocklistCache()
                cache.current(store)
                runs = []
                for _ in range(5):
                    start = time.perf_counter()
                    for _ in range(args.loops):
                        cache.current(store).split(batch)
                    runs.append((time.perf_counter() - start) / args.loops)
            finally:
                store.close()
        best = min(runs)
        print(
            f"list of {size:5d}: {best * 1e6:8.1f} us a batch of {args.batch}, "
            f"{best / args.batch * 1e6:.3f} us a post"
        )


if __name__ == "__main__":
    main()
