"""Ingest throughput: JSONL -> parse -> normalize -> dedup -> segment -> store (+ search index).

One process. Prints posts/s for the write path, the search-index rate, the combined rate,
the time per stage, and peak RSS sampled as the run goes (to show memory stays flat).

    .venv/bin/python benchmarks/pipeline.py --n 100000
    .venv/bin/python benchmarks/pipeline.py --n 200000 --analysis   # with the models

Posts come from ../shared/data (Weibo/COVID texts, cycled with suffixes so none repeat
exactly) when present, else from the demo generator.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from yuqing.models import Document
from yuqing.pipeline.stage import Pipeline
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor, IngestReport
from yuqing.settings import load_settings
from yuqing.sources.record import ColumnMapping
from yuqing.sources.resolve import open_sources
from yuqing.store.base import Store
from yuqing.store.url import open_store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def base_texts() -> list[str]:
    """Distinct real texts of 20-200 characters from every dataset in ../shared/data
    (about 180,000), else the demo generator's."""
    from yuqing.pipeline.idf_build import read_texts, source_files

    seen: set[str] = set()
    texts: list[str] = []
    if DATA.exists():
        for path in source_files(DATA):
            for text in read_texts(path):
                text = text.strip()
                if 20 <= len(text) <= 200 and text not in seen:
                    seen.add(text)
                    texts.append(text)
    if not texts:
        from yuqing.demo.scenario import generate

        texts = [r["text"] for r in generate(5000)]
    random.Random(2).shuffle(texts)
    return texts


def write_posts(path: Path, n: int, dup_share: float = 0.1) -> None:
    """N posts: distinct real texts with ``dup_share`` lightly edited copies of recent
    posts, as a real stream has."""
    rng = random.Random(1)
    texts = base_texts()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    recent: list[str] = []
    with path.open("wb") as fh:
        for i in range(n):
            if recent and rng.random() < dup_share:
                chars = list(rng.choice(recent))
                chars.insert(rng.randrange(len(chars) + 1), rng.choice("啊呀!的了"))
                text = "".join(chars)
            else:  # past the real texts, cycled copies carry a counter (and are near-dups)
                text = texts[i % len(texts)]
                if i >= len(texts):
                    text = f"{text} {i // len(texts)}"
            recent.append(text)
            if len(recent) > 1000:
                recent.pop(rng.randrange(len(recent)))
            rec = {
                "id": f"p{i}",
                "text": text,
                "source": "weibo",
                "author": f"u{rng.randrange(50_000)}",
                "published_at": (start + timedelta(seconds=i * 5)).isoformat(),
                "reposts": rng.randrange(100),
            }
            fh.write(orjson.dumps(rec) + b"\n")


class TimedIngestor(Ingestor):
    """An Ingestor that also keeps the CPU time of search indexing (to leave it out of
    the write path's CPU time)."""

    index_cpu = 0.0

    def _index(self, report: IngestReport | None, store: Store | None = None) -> int:
        start = time.process_time()
        try:
            return super()._index(report, store)
        finally:
            self.index_cpu += time.process_time() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument(
        "--analysis", action="store_true", help="include sentiment/emotion/risk/regions"
    )
    ap.add_argument(
        "--index",
        choices=["inline", "after"],
        default="inline",
        help="index for search after each batch, or all after the writes",
    )
    ap.add_argument(
        "--threads",
        choices=["1", "2"],
        default="2",
        help="2: commit and index on a writer thread beside the pipeline",
    )
    ap.add_argument(
        "--no-keywords",
        action="store_true",
        help="leave out the keywords stage (the issue's chain: normalize, dedup, segment, store)",
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        posts = Path(tmp) / "posts.jsonl"
        write_posts(posts, args.n)
        settings = load_settings(environ={}, overrides={"store": f"sqlite:///{tmp}/bench.db"})
        store = open_store(settings.store, migrate=True)
        rss: list[tuple[int, float]] = []
        done = 0

        def sample(docs: Sequence[Document]) -> None:
            nonlocal done
            done += len(docs)
            if not rss or done - rss[-1][0] >= args.n // 10:
                rss.append((done, peak_rss_mb()))

        pipeline = build_pipeline(settings, analysis=args.analysis)
        if args.no_keywords:
            pipeline = Pipeline([st for st in pipeline.stages if st.name != "keywords"])
        ingestor = TimedIngestor(
            store,
            pipeline,
            batch_size=args.batch,
            index_every=1 if args.index == "inline" else 0,
            on_batch=sample,
            open_writer=(lambda: open_store(settings.store, migrate=False))
            if args.threads == "2"
            else None,
        )
        sources = open_sources(
            [str(posts)],
            kind="jsonl",
            mapping=ColumnMapping(),
            zone=settings.zone,
            max_record_bytes=settings.max_record_bytes,
            source_name=None,
        )
        load_before = os.getloadavg()[0]
        t0, cpu0 = time.perf_counter(), time.process_time()
        report = ingestor.run(sources)
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        load_after = os.getloadavg()[0]
        store.close()

    write_s = report.seconds - report.index_seconds
    print(
        f"| posts | {report.read:,} (stored {report.stored:,}, near-dup {report.near_duplicates:,}) |"
    )
    names = ", ".join(report.stage_seconds)
    print(f"| write path (parse, {names}, store) | {report.read / write_s:,.0f} posts/s |")
    write_cpu = (cpu - ingestor.index_cpu) / max(report.read, 1) * 1e6
    print(f"| write path CPU time (this process, user + system) | {write_cpu:.1f} µs a post |")
    print(
        f"| search indexing ({args.index}) | {report.indexed / max(report.index_seconds, 1e-9):,.0f} posts/s |"
    )
    print(f"| end to end incl. index | {report.read / total:,.0f} posts/s |")
    for name, sec in report.stage_seconds.items():
        cpu_us = pipeline.cpu_timings.get(name, 0.0) / max(report.read, 1) * 1e6
        print(
            f"| stage {name} | {report.read / max(sec, 1e-9):,.0f} posts/s ({cpu_us:.1f} µs CPU) |"
        )
    print("| peak RSS by posts done | " + ", ".join(f"{n:,}: {mb:.0f} MB" for n, mb in rss) + " |")
    print(f"| peak RSS | {peak_rss_mb():.0f} MB |")
    print(f"| load average (1 min) before / after | {load_before:.2f} / {load_after:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
