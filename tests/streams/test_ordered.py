"""Two workers on one stream give the near-duplicates, events and alerts of one embedded
`yuqing run` over the same input: commits in stream order, replicated ordered state."""

from __future__ import annotations

import threading
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

import redis

from yuqing.clock import SystemClock
from yuqing.models import Document
from yuqing.runtime.run import run_forever
from yuqing.settings import Settings, load_settings
from yuqing.sources.record import ColumnMapping
from yuqing.store.base import Store
from yuqing.store.url import open_store
from yuqing.streams import WorkerReport, publish_command
from yuqing.streams.command import build_worker

from .conftest import write_posts

N = 600


def _config(tmp_path: Path, posts: Path) -> Path:
    config = tmp_path / "yuqing.toml"
    config.write_text(
        f"""
store = "sqlite:///{tmp_path / "embedded.db"}"
batch_size = 50

[run]
sources = ["{posts}"]

[monitor]
cooldown = "30m"

[[monitor.rules]]
id = "canteen"
name = "食堂"
query = '食堂 OR 过期'
triggers = [{{kind = "match"}}, {{kind = "count", threshold = 8, window = "6h"}},
            {{kind = "new_event", threshold = 1, min_posts = 5}}]
channels = ["log"]

[[monitor.rules]]
id = "hospital"
name = "医院"
query = '医院 sentiment:negative'
triggers = [{{kind = "count", threshold = 10, window = "2h"}}]
channels = ["log"]

[[alerts.channels]]
name = "log"
kind = "log"
path = "{tmp_path / "alerts.jsonl"}"
""",
        encoding="utf-8",
    )
    return config


def _documents(store: Store) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        doc.key: (doc.analysis, doc.duplicate_of, doc.repost_of, doc.keywords)
        for _, doc in store.documents_after(0, 100_000)
    }


def _events(store: Store) -> dict[str, Any]:
    return {r.id: (r.posts, r.stored) for r in store.event_rollups(limit=100_000)}


def _alerts(store: Store) -> list[tuple[str, str, str | None]]:
    return sorted(
        (a.alert.rule_id, a.alert.kind, a.alert.event_id) for a in store.alerts(limit=10_000)
    )


def _run_workers(settings: Settings, url: str, count: int) -> list[WorkerReport]:
    """``count`` workers in threads (each opens its own store and Redis client there)."""
    reports: list[WorkerReport] = []
    errors: list[BaseException] = []
    ready = threading.Barrier(count, timeout=60)

    def run(name: str) -> None:
        try:
            with ExitStack() as stack:
                worker = build_worker(
                    settings, url, stack, consumer=name, batch_size=50, block_ms=50
                )
                worker.parallel.process([Document(id="warm", source="warm", text="预热模型")])
                ready.wait()  # both start together, models loaded
                reports.append(worker.run(once=True))
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return reports


def test_two_workers_match_one_embedded_run(
    tmp_path: Path, stream_url: str, stream_name: str, redis_client: redis.Redis
) -> None:
    posts = tmp_path / "posts.jsonl"
    write_posts(posts, N)
    config = _config(tmp_path, posts)
    embedded = load_settings(config, environ={})
    report = run_forever(embedded, clock=SystemClock(), stop_event=threading.Event(), once=True)
    assert report.stored == N and report.alerts > 0

    server = load_settings(
        config, environ={}, overrides={"store": f"sqlite:///{tmp_path / 'server.db'}"}
    )
    open_store(server.store).close()  # the schema once, before the workers race to migrate
    publish_command(
        [str(posts)],
        server,
        stream_url,
        kind=None,
        mapping=ColumnMapping(),
        source_name=None,
        rejects_path=None,
    )
    reports = _run_workers(server, stream_url, 2)
    assert sum(r.stored for r in reports) == N
    assert all(r.stored > 0 and r.replayed > 0 for r in reports)  # they did interleave
    assert sum(r.diverged for r in reports) == 0  # every replica agreed on every event
    assert redis_client.xpending(stream_name, "workers")["pending"] == 0

    with (
        closing(open_store(embedded.store)) as one,
        closing(open_store(server.store)) as two,
    ):
        a, b = _documents(one), _documents(two)
        assert a == b
        assert sum(1 for v in a.values() if v[1] is not None) > 0  # near-duplicates marked
        assert len({v[0]["event_id"] for v in a.values()}) > 1
        assert _events(one) == _events(two)
        fired = _alerts(one)
        assert fired == _alerts(two)  # the same alerts, none twice
        assert {kind for _, kind, _ in fired} >= {"match", "count"}
        assert sum(r.alerts for r in reports) == len(fired)


def test_a_late_worker_replays_from_the_epoch(
    tmp_path: Path, stream_url: str, stream_name: str, redis_client: redis.Redis
) -> None:
    whole = tmp_path / "whole.jsonl"
    write_posts(whole, 300)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    posts, more = tmp_path / "posts.jsonl", tmp_path / "more.jsonl"
    posts.write_text("".join(lines[:200]), encoding="utf-8")
    more.write_text("".join(lines[200:]), encoding="utf-8")  # the story goes on
    config = _config(tmp_path, posts)
    server = load_settings(
        config, environ={}, overrides={"store": f"sqlite:///{tmp_path / 'server.db'}"}
    )

    def publish(path: Path) -> None:
        publish_command(
            [str(path)],
            server,
            stream_url,
            kind=None,
            mapping=ColumnMapping(),
            source_name=None,
            rejects_path=None,
        )

    publish(posts)
    (first,) = _run_workers(server, stream_url, 1)
    assert (first.stored, first.replayed) == (200, 0)
    publish(more)
    (late,) = _run_workers(server, stream_url, 1)
    assert (late.stored, late.replayed, late.diverged) == (100, 200, 0)
    with closing(open_store(server.store)) as store:
        # The late posts joined the events the first worker had formed.
        assert store.stats().documents == 300
        stored = [doc for _, doc in store.documents_after(0, 1000)]
        first_events = {d.analysis.get("event_id") for d in stored[:200]}
        late_events = {d.analysis.get("event_id") for d in stored[200:]}
        assert first_events & late_events
