"""Server-mode throughput: Redis stream -> 1 or 2 worker processes -> one store.

For each setting (analysis off / on) it publishes N posts to a fresh stream, starts K
worker processes (each loads its models first, then all start together on a signal), and
times from that signal until the stream is drained and every worker has exited. Workers
run the whole server path: per-post stages in parallel, then the turnstile, the ordered
dedup + event clustering (analysis on) and the commit (docs/server.md). The reference
beside it is embedded ingest (one process, the same pipeline) over the same file in the
same run. Prints a markdown table.

    .venv/bin/python benchmarks/stream_workers.py --n 20000
    .venv/bin/python benchmarks/stream_workers.py --n 20000 --store postgresql \
        --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/stream_workers.py --n 10000 --analysis on --repeat 3 \
        [--no-events]

Posts come from benchmarks/pipeline.py's generator: real texts from ../shared/data (the
demo generator when absent) with 10 % lightly edited copies, so the near-duplicate
counts show what per-worker de-duplication misses with two workers.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import redis

from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import load_settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store
from yuqing.streams.publisher import Publisher
from yuqing.streams.url import parse_stream_url

HERE = Path(__file__).resolve().parent

RUNNER = """
import sys, orjson
from contextlib import ExitStack
from yuqing.models import Document
from yuqing.settings import load_settings
from yuqing.streams.command import build_worker
store_url, url, name, analysis, batch, events = sys.argv[1:7]
settings = load_settings(environ={}, overrides={"store": store_url})
with ExitStack() as stack:
    worker = build_worker(settings, url, stack, consumer=name, batch_size=int(batch),
                          analysis=analysis == "1", events=events == "1", alerts=False,
                          block_ms=100)
    if analysis == "1":  # load the models before the clock starts
        worker.parallel.process([Document(id="warm", source="warm", text="预热一下模型")])
    print("ready", flush=True)
    sys.stdin.readline()
    report = worker.run(once=True)
print(orjson.dumps({"stored": report.stored, "dups": report.near_duplicates,
                    "received": report.received, "waited": report.waited,
                    "replayed": report.replayed, "diverged": report.diverged,
                    "cpu": report.cpu, "turn_cpu": report.turn_cpu,
                    "replay_cpu": report.replay_cpu}).decode(),
      flush=True)
"""


def _fresh_store(kind: str, tmp: Path, name: str, pg: str) -> str:
    """A new empty store: an SQLite file, or a new PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'{name}.db'}"
    import psycopg

    db = f"yuqing_bench_{name}_{uuid.uuid4().hex[:6]}".replace("-", "_")
    with psycopg.connect(pg.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    return pg.rsplit("/", 1)[0] + f"/{db}"


def _posts(path: Path, n: int) -> None:
    spec = importlib.util.spec_from_file_location("bench_pipeline", HERE / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_posts(path, n)


def run_workers(
    posts: Path,
    tmp: Path,
    redis_url: str,
    workers: int,
    analysis: bool,
    batch: int,
    store_url: str,
    events: bool,
) -> dict[str, float]:
    stream = f"bench-yuqing:{uuid.uuid4().hex[:8]}"
    url = f"{redis_url}?stream={stream}&backlog=1000000"
    target = parse_stream_url(url)
    client = redis.Redis.from_url(target.redis_url)
    settings = load_settings(environ={}, overrides={"store": store_url})
    open_store(store_url).close()
    try:
        Publisher(client, target).run(open_sources([str(posts)], zone=settings.zone))
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    RUNNER,
                    store_url,
                    url,
                    f"w{i}",
                    str(int(analysis)),
                    str(batch),
                    str(int(events)),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(workers)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        start = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [orjson.loads(proc.communicate()[0]) for proc in procs]
        seconds = time.perf_counter() - start
    finally:
        keys = list(client.scan_iter(match=f"{stream}*"))
        if keys:
            client.delete(*keys)
        client.close()
    stored = sum(r["stored"] for r in results)
    return {
        "seconds": seconds,
        "stored": stored,
        "dups": sum(r["dups"] for r in results),
        "waited": sum(r["waited"] for r in results),
        "diverged": sum(r["diverged"] for r in results),
        "cpu": sum(r["cpu"] for r in results),
        "turn_cpu": sum(r["turn_cpu"] for r in results),
        "replay_cpu": sum(r["replay_cpu"] for r in results),
    }


def run_embedded(
    posts: Path, analysis: bool, batch: int, store_url: str, events: bool
) -> dict[str, float]:
    settings = load_settings(environ={}, overrides={"store": store_url})
    store = open_store(store_url)
    pipeline = build_pipeline(settings, analysis=analysis, events=analysis and events)
    if analysis:
        from yuqing.models import Document

        pipeline.process([Document(id="warm", source="warm", text="预热一下模型")])
        pipeline = build_pipeline(settings, analysis=analysis, events=analysis and events)
    report = Ingestor(store, pipeline, batch_size=batch).run(
        open_sources([str(posts)], zone=settings.zone)
    )
    store.close()
    return {"seconds": report.seconds, "stored": report.stored, "dups": report.near_duplicates}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500, help="entries per worker batch")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--analysis", choices=("both", "on", "off"), default="both")
    ap.add_argument(
        "--events",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="cluster events (with analysis); --no-events measures the per-post part",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run 1 and 2 workers back to back this many times; the table gives medians "
        "(posts/s, turn wait, and the median of the per-pair 2-vs-1 ratios)",
    )
    args = ap.parse_args()
    rows: list[str] = []
    cpu_rows: list[str] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        posts = tmp / "posts.jsonl"
        _posts(posts, args.n)
        settings = {"both": (False, True), "on": (True,), "off": (False,)}[args.analysis]
        for analysis in settings:
            name = f"embedded-{int(analysis)}"
            base = run_embedded(
                posts,
                analysis,
                args.batch,
                _fresh_store(args.store, tmp, name, args.pg),
                args.events,
            )
            embedded = args.n / base["seconds"]
            line = f"| {'on' if analysis else 'off'} | embedded ingest (reference) | "
            rows.append(line + f"{embedded:,.0f} | | | | {base['dups']:,.0f} |")
            runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
            for attempt in range(args.repeat):  # 1 and 2 workers back to back, repeated
                for workers in (1, 2):
                    store = _fresh_store(
                        args.store, tmp, f"w{workers}-{int(analysis)}-{attempt}", args.pg
                    )
                    got = run_workers(
                        posts, tmp, args.redis, workers, analysis, args.batch, store, args.events
                    )
                    assert got["stored"] == args.n and got["diverged"] == 0, got
                    got["rate"] = args.n / got["seconds"]
                    runs[workers].append(got)
                    print(
                        f"run {attempt + 1}: {workers} worker(s) {got['rate']:,.0f} posts/s, "
                        f"waited {got['waited']:.1f} s, CPU ms/post: all "
                        f"{got['cpu'] * 1000 / args.n:.2f}, in turns "
                        f"{got['turn_cpu'] * 1000 / args.n:.2f} (replay "
                        f"{got['replay_cpu'] * 1000 / args.n:.2f})",
                        file=sys.stderr,
                    )
            rate = {k: statistics.median(r["rate"] for r in v) for k, v in runs.items()}
            ratios = [b["rate"] / a["rate"] for a, b in zip(runs[1], runs[2], strict=True)]
            for workers in (1, 2):
                cpu = {
                    k: statistics.median(r[k] * 1000 / args.n for r in runs[workers])
                    for k in ("cpu", "turn_cpu")
                }
                # on idle cores: one core per worker, and one turn chain at a time
                idle = min(workers * 1000 / cpu["cpu"], 1000 / cpu["turn_cpu"])
                cpu_rows.append(
                    f"| {'on' if analysis else 'off'} | {workers} | {cpu['cpu']:.2f} | "
                    f"{cpu['turn_cpu']:.2f} | {idle:,.0f} |"
                )
                waited = statistics.median(r["waited"] for r in runs[workers])
                scale = f"{statistics.median(ratios):.2f}x" if workers == 2 else "1.00x"
                rows.append(
                    f"| {'on' if analysis else 'off'} | {workers} worker"
                    f"{'s' if workers > 1 else ''} | {rate[workers]:,.0f} | {scale} | "
                    f"{rate[workers] / workers:,.0f} | {waited:.1f} | "
                    f"{runs[workers][0]['dups']:,.0f} |"
                )
            print(f"analysis {'on' if analysis else 'off'} done", file=sys.stderr)
    events = "on" if args.events else "off"
    print(
        f"{args.n:,} posts, batch {args.batch}, store {args.store}, events {events}, "
        f"Redis on localhost, medians of {args.repeat} run(s)\n"
    )
    print(
        "| analysis | mode | posts/s | scaling vs 1 worker | per worker | "
        "turn wait s (sum) | near-duplicates marked |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\nCPU per post (medians; the bound assumes a free core per worker and one turn "
        "chain):\n\n| analysis | workers | CPU ms/post, all workers | of which in turns "
        "(serialized) | bound on idle cores, posts/s |\n|---|---|---|---|---|"
    )
    print("\n".join(cpu_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
