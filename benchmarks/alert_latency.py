"""Alert latency from ingest acceptance to delivery at a local webhook, under a sustained
offered rate.

    .venv/bin/python benchmarks/alert_latency.py --rate 1000 --seconds 20

A source offers ``--batch`` posts every ``batch/rate`` seconds (50 posts every 50 ms at
1,000 posts/s). Each batch goes through the real ingest path: ``Ingestor`` -> the
pipeline (normalize, dedup, segment, keywords; ``--analysis on`` adds sentiment, emotion,
risk and regions) -> the SQLite store (WAL, FTS index kept up to date) -> ``on_batch`` ->
``AlertEngine`` (``--rules`` match rules through the Aho-Corasick matcher, a
``--cooldown`` each) -> ``Dispatcher`` -> a signed webhook POST to a
``ThreadingHTTPServer`` on 127.0.0.1 in the same process (it shares the GIL: pessimistic).

Latency of an alert = its arrival at the receiver - the moment the batch holding its
newest sample post was offered (its scheduled time: when ingest falls behind, the backlog
counts). Posts: Weibo texts from ../shared/data when present (else generated), a share
``--match`` of them carrying one rule's keyword. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from yuqing.alerts.channels import WebhookChannel
from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.engine import AlertEngine
from yuqing.alerts.rules_config import load_rules
from yuqing.clock import SystemClock
from yuqing.models import Cursor, Document
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.base import SourceBatch
from yuqing.store.url import open_store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WEIBO = DATA / "sentiment_weibo_senti_100k" / "dev.csv"


def texts(n: int, rng: random.Random) -> list[str]:
    if WEIBO.is_file():
        with WEIBO.open(encoding="utf-8") as handle:
            found = [row["text"] for row in csv.DictReader(handle) if row.get("text")]
        if found:
            return [rng.choice(found) for _ in range(n)]
    words = [
        "学校",
        "食堂",
        "医院",
        "交通",
        "天气",
        "房价",
        "地铁",
        "政府",
        "公园",
        "警方",
        "通报",
        "网友",
        "视频",
        "事故",
        "活动",
    ]
    return ["，".join(rng.choices(words, k=12)) for _ in range(n)]


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.arrivals.append((time.perf_counter(), orjson.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class PacedSource:
    """Offers ``batch`` posts every ``batch / rate`` seconds for ``seconds``."""

    key = "bench://paced"

    def __init__(self, posts: list[str], rate: float, batch: int, seconds: float) -> None:
        self.posts = posts
        self.interval = batch / rate
        self.batch = batch
        self.count = int(rate * seconds) // batch
        self.offered: dict[str, float] = {}
        self.lag = 0.0

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        begin = time.perf_counter()
        for b in range(self.count):
            due = begin + b * self.interval
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            self.lag = max(self.lag, -wait)
            now = datetime.now(UTC)
            out = SourceBatch(read=self.batch)
            for i in range(self.batch):
                n = b * self.batch + i
                ident = f"b{n}"
                self.offered[ident] = due
                out.documents.append(
                    Document(id=ident, source="weibo", text=self.posts[n], published_at=now)
                )
            yield out


def run(args: argparse.Namespace, analysis: bool) -> dict[str, Any]:
    rng = random.Random(7)
    total = int(args.rate * args.seconds)
    posts = texts(total, rng)
    for i in range(total):
        if rng.random() < args.match:
            posts[i] = f"{posts[i]} 监测词{rng.randrange(args.rules)}号"
    tables = [
        {"id": f"r{i}", "query": f"监测词{i}号", "cooldown": args.cooldown}
        for i in range(args.rules)
    ]
    receiver = Receiver()
    clock = SystemClock()
    dispatcher = Dispatcher(
        [WebhookChannel(receiver.url, "bench-secret", name="hook")], clock=clock
    )
    engine = AlertEngine(load_rules(tables), dispatcher, clock, "http://127.0.0.1:8000")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate({"store": f"sqlite:///{tmp}/bench.db"})
        store = open_store(settings.store)
        pipeline = build_pipeline(settings, analysis=analysis)
        pipeline.process([Document(id="warm", source="x", text="预热 监测词1号")])  # load models

        def on_batch(docs: Sequence[Document]) -> None:
            engine.process(docs)

        source = PacedSource(posts, args.rate, args.batch, args.seconds)
        ingestor = Ingestor(store, pipeline, batch_size=args.batch, resume=False, on_batch=on_batch)
        start = time.perf_counter()
        report = ingestor.run([source])
        elapsed = time.perf_counter() - start
        dispatcher.close(30)
        store.close()
    receiver.server.shutdown()
    latencies = []
    for at, payload in receiver.arrivals:
        offered = [source.offered[s["id"]] for s in payload["samples"] if s["id"] in source.offered]
        if offered:
            latencies.append(at - max(offered))
    latencies.sort()

    def pick(q: float) -> float:
        return latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))]

    return {
        "analysis": "on" if analysis else "off",
        "posts": report.read,
        "rate": report.read / elapsed,
        "alerts": len(latencies),
        "p50": pick(0.5) * 1000 if latencies else float("nan"),
        "p99": pick(0.99) * 1000 if latencies else float("nan"),
        "max": latencies[-1] * 1000 if latencies else float("nan"),
        "mean": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        "lag": source.lag * 1000,
        "failed": dispatcher.stats().failed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="posts offered per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=50, help="posts per offered batch")
    parser.add_argument("--rules", type=int, default=300)
    parser.add_argument("--match", type=float, default=0.1, help="share of posts that match a rule")
    parser.add_argument("--cooldown", default="5s", help="cooldown of each rule")
    parser.add_argument("--analysis", choices=("on", "off", "both"), default="both")
    args = parser.parse_args(argv)
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.analysis]
    rows = [run(args, analysis) for analysis in modes]
    print(
        f"\n{args.rate:g} posts/s offered for {args.seconds:g} s in batches of {args.batch}, "
        f"{args.rules} rules (cooldown {args.cooldown}), {args.match:.0%} of posts matching\n"
    )
    print(
        "| analysis | posts | sustained posts/s | alerts delivered | p50 | p99 | max | worst source lag | failed |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['analysis']} | {r['posts']:,} | {r['rate']:,.0f} | {r['alerts']:,} | "
            f"{r['p50']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms | {r['lag']:.0f} ms | {r['failed']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
