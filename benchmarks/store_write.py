"""CPU cost of the SQLite store's write (``add_documents``) on analysed posts.

    .venv/bin/python benchmarks/store_write.py --n 50000 --repeat 3
    .venv/bin/python benchmarks/store_write.py --n 50000 --profile   # cProfile, top 25

The demo scenario (``--base`` posts) goes through the real pipeline with analysis and
events once (cached under the temp folder), its stored posts are copied with new ids and
per-copy event ids (as ``benchmarks/web_latency.py`` builds its stores) up to ``--n``
posts, and they are written in time order in batches of ``--batch`` to a fresh SQLite
store, ``--repeat`` times. Printed: posts per CPU-second of the writes (process CPU time,
so a loaded machine does not change it much), best and all runs.
"""

from __future__ import annotations

import argparse
import cProfile
import pickle
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_latency import _copy, base_posts

from yuqing.models import Document
from yuqing.store.url import open_store

_FAR = datetime.max.replace(tzinfo=UTC)


def posts(base: int, n: int) -> list[Document]:
    cache = Path(tempfile.gettempdir()) / f"yuqing-store-write-base-{base}.pickle"
    if cache.exists():
        docs: list[Document] = pickle.loads(cache.read_bytes())
    else:
        with tempfile.TemporaryDirectory() as folder:
            docs = base_posts(Path(folder), base)
        cache.write_bytes(pickle.dumps(docs))
    out: list[Document] = []
    k = 0
    while len(out) < n:
        out += [_copy(doc, k, timedelta(0)) for doc in docs]
        k += 1
    out = out[:n]
    out.sort(key=lambda d: d.published_at or _FAR)
    return out


def write_once(docs: list[Document], batch: int, profile: cProfile.Profile | None) -> float:
    """CPU seconds of writing ``docs`` to a fresh store."""
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/w.db")
        try:
            spent = 0.0
            for start in range(0, len(docs), batch):
                chunk = docs[start : start + batch]
                began = time.process_time()
                if profile is not None:
                    profile.enable()
                store.add_documents(chunk)
                if profile is not None:
                    profile.disable()
                spent += time.process_time() - began
        finally:
            store.close()
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--base", type=int, default=10_000, help="demo posts analysed once")
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    docs = posts(args.base, args.n)
    if args.profile:
        profile = cProfile.Profile()
        write_once(docs, args.batch, profile)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        return 0
    rates = [len(docs) / write_once(docs, args.batch, None) for _ in range(args.repeat)]
    print(
        f"{len(docs):,} posts, batches of {args.batch:,}: best {max(rates):,.0f} posts per "
        f"CPU-second ({', '.join(f'{r:,.0f}' for r in rates)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
