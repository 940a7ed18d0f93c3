"""Latency of the dashboard and API on a large SQLite store (the issue's target: overview
page and search API p95 under 200 ms on 1,000,000 posts).

    .venv/bin/python benchmarks/web_latency.py --n 1000000 --days 30
    .venv/bin/python benchmarks/web_latency.py --store sqlite:////tmp/web-1m.db   # reuse

Builds the store once (kept at ``--store``, default under the temp folder): the demo
scenario (``--base`` posts over three days) goes through the real pipeline (normalize ...
analysis, events), then its stored posts are copied with new ids, shifted times and
per-copy event ids until there are ``--n`` posts spread over ``--days`` days, and the search
index is brought up to date. Then each request is sent ``--repeat`` times in-process through
FastAPI's TestClient (the whole ASGI stack, with the service token) after one warm-up, and
the median and p95 are printed as a markdown table. ``overview (cold cloud)`` clears the
rising-terms cache before every request: what the word cloud costs when it is recomputed
(once a minute per window in use); ``event page, panels recomputed`` clears the event
page's panel cache (yuqing.web.event_panels) before every request: the page's cost the
first time after the event changed. A second table times each store read of the overview
alone (``--parts-only``: only that table).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from yuqing.demo.scenario import generate, iter_jsonl
from yuqing.models import Document
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.base import Store
from yuqing.store.url import open_store
from yuqing.web import create_app, event_panels, wordcloud

TOKEN = "bench-token"
BATCH = 5000


def base_posts(folder: Path, n: int) -> list[Document]:
    """The demo scenario through the real pipeline, read back from its store."""
    data = folder / "base.jsonl"
    data.write_bytes(b"".join(iter_jsonl(generate(n, seed=7))))
    url = f"sqlite:///{folder / 'base.db'}"
    settings = Settings.model_validate({"store": url})
    pipeline = build_pipeline(settings, analysis=True, events=True)
    store = open_store(url)
    try:
        Ingestor(store, pipeline, batch_size=500).run(
            list(open_sources([str(data)], zone=settings.zone))
        )
        docs: list[Document] = []
        position = 0
        while page := store.documents_after(position, 5000):
            position = page[-1][0]
            docs.extend(d for _, d in page)
    finally:
        store.close()
    return docs


def _copy(doc: Document, k: int, shift: timedelta) -> Document:
    suffix = f"~{k}"
    analysis = dict(doc.analysis)
    if analysis.get("event_id"):
        analysis["event_id"] = f"{analysis['event_id']}{suffix}"
    return dataclasses.replace(
        doc,
        id=doc.id + suffix,
        published_at=doc.published_at - shift if doc.published_at else None,
        duplicate_of=doc.duplicate_of + suffix if doc.duplicate_of else None,
        repost_of=doc.repost_of + suffix if doc.repost_of else None,
        analysis=analysis,
    )


def build(store: Store, base: list[Document], n: int, days: float) -> None:
    copies = -(-n // len(base))
    span = timedelta(days=max(days - 3, 0))
    written = 0
    started = time.perf_counter()
    batch: list[Document] = []
    for k in range(copies):
        shift = span * (k / max(copies - 1, 1))
        for doc in base:
            if written >= n:
                break
            batch.append(_copy(doc, k, shift))
            written += 1
            if len(batch) >= BATCH:
                store.add_documents(batch)
                batch = []
    if batch:
        store.add_documents(batch)
    print(f"stored {written:,} posts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    started = time.perf_counter()
    while store.index_pending(50_000):
        pass
    print(f"indexed for search in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def measure(call: Callable[[], Any], repeat: int, before: Callable[[], None]) -> list[float]:
    before()
    call()  # warm-up
    times: list[float] = []
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200_000, help="posts in the store")
    parser.add_argument("--days", type=float, default=30, help="days the posts span")
    parser.add_argument("--base", type=int, default=5000, help="demo posts through the pipeline")
    parser.add_argument("--repeat", type=int, default=30, help="requests per endpoint")
    parser.add_argument("--store", help="a store URL; built when it has no posts")
    parser.add_argument(
        "--parts-only", action="store_true", help="only the overview's store reads, one by one"
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="web-latency-"))
    url = args.store or f"sqlite:///{folder / 'web.db'}"
    store = open_store(url)
    try:
        if store.stats().documents == 0:
            base = base_posts(folder, args.base)
            build(store, base, args.n, args.days)
        posts = store.stats().documents
        sample = store.latest_documents(limit=1)[0]
        assert sample.published_at is not None
        since = sample.published_at - timedelta(days=3)
        event = store.event_rollups(since=since, limit=1)[0].id
    finally:
        store.close()
    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}})
    if args.parts_only:
        breakdown(url, settings, args.repeat)
        return 0
    app = create_app(settings)
    client = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})

    def get(path: str) -> Callable[[], Any]:
        def call() -> Any:
            answer = client.get(path)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
            return answer

        return call

    keep = lambda: None  # noqa: E731
    cold = wordcloud.cache.clear
    panels = event_panels.cache_of(app.state).clear
    cases: list[tuple[str, str, Callable[[], None]]] = [
        ("overview page (3 days)", "/", keep),
        ("overview page (3 days), cold cloud", "/", cold),
        ("overview page (1 day)", "/?days=1", keep),
        ("search API, 2 characters (食堂)", "/api/v1/search?q=食堂", keep),
        ("search API, 4 characters (过期食材)", "/api/v1/search?q=过期食材", keep),
        ("search API, two terms (食堂 家长)", "/api/v1/search?q=食堂%20家长", keep),
        ("rising terms API (24 h), cold", "/api/v1/terms/rising", cold),
        ("event page", f"/events/{event}", keep),
        ("event page, panels recomputed", f"/events/{event}", panels),
        ("spreaders API", f"/api/v1/events/{event}/spreaders", keep),
        ("repost tree API", f"/api/v1/events/{event}/repost-tree", keep),
        ("post page", f"/posts/{sample.source}/{sample.id}", keep),
        ("ingest health page (7 days)", "/health/ingest", keep),
    ]
    print(f"\n{posts:,} posts over {args.days:g} days, {args.repeat} requests each ({url})\n")
    print("| request | median ms | p95 ms |")
    print("|---|---|---|")
    for name, path, before in cases:
        times = measure(get(path), args.repeat, before)
        print(f"| {name} | {statistics.median(times):.0f} | {p95(times):.0f} |", flush=True)
    client.close()
    breakdown(url, settings, args.repeat)
    return 0


def breakdown(url: str, settings: Settings, repeat: int) -> None:
    """What the overview (3 days) spends its time on: each store read it makes, alone."""
    from yuqing.web import views

    zone = settings.zone
    store = open_store(url)
    try:
        now = views.as_of(store)
        since = now - timedelta(days=3)
        parts: list[tuple[str, Callable[[], Any]]] = [
            ("as_of (newest post)", lambda: views.as_of(store)),
            (
                "volume by sentiment (hourly series)",
                lambda: views.series(store, "sentiment", "hour", zone, since=since),
            ),
        ]
        for dim in ("total", "emotion", "sentiment", "source", "region", "risk"):
            parts.append((f"label_counts({dim})", lambda d=dim: store.label_counts(d, since=since)))  # type: ignore[misc]
        parts += [
            ("hot events (10)", lambda: views.hot_events(store, now, since=since, limit=10)),
            (
                "rising terms, uncached",
                lambda: wordcloud.rising_terms(store, now, wordcloud.window_for(3)),
            ),
        ]
        print("\n| overview part (store reads, 3 days) | median ms | p95 ms |")
        print("|---|---|---|")
        for name, call in parts:
            times = measure(call, max(5, repeat // 3), lambda: None)
            print(f"| {name} | {statistics.median(times):.0f} | {p95(times):.0f} |", flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    raise SystemExit(main())
