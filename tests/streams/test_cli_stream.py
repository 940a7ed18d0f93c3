"""`yuqing ingest --stream` and `yuqing worker` through the real CLI, real Redis, real SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import redis

from tests.streams.conftest import REDIS_URL
from yuqing.store.url import open_store


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )


def test_publish_then_worker(tmp_path: Path, redis_client: redis.Redis, stream_name: str) -> None:
    posts = [
        {
            "id": str(i),
            "text": f"第{i}条：宁波某小区停车费上涨，业主要求公开账目",
            "published_at": 1763600000 + i,
        }
        for i in range(50)
    ]
    lines = [json.dumps(p, ensure_ascii=False) for p in posts] + ["{broken"]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    url = f"{REDIS_URL}?stream={stream_name}&group=workers"
    pub = run(["ingest", "in.jsonl", "--stream", url], tmp_path)
    assert pub.returncode == 3, pub.stderr  # one broken line
    assert "line 51: " in pub.stderr
    assert "published 50" in pub.stdout
    work = run(["--store", "sqlite:///w.db", "worker", "--stream", url, "--once"], tmp_path)
    assert work.returncode == 0, work.stderr
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        assert store.stats().documents == 50
        doc = store.get_document("in", "7")
        assert doc is not None and doc.analysis.get("sentiment") is not None
    finally:
        store.close()


def test_embedded_and_server_cli_give_the_same_analysis_and_events(
    tmp_path: Path, redis_client: redis.Redis, stream_name: str, server_store: str
) -> None:
    """`ingest --events` into SQLite vs `ingest --stream` + `worker` (SQLite and PostgreSQL)."""
    from tests.streams.conftest import write_posts

    write_posts(tmp_path / "in.jsonl", 300)
    embedded = run(["--store", "sqlite:///e.db", "ingest", "in.jsonl", "--events"], tmp_path)
    assert embedded.returncode == 0, embedded.stderr
    url = f"{REDIS_URL}?stream={stream_name}&group=workers"
    pub = run(["ingest", "in.jsonl", "--stream", url], tmp_path)
    assert pub.returncode == 0, pub.stderr
    work = run(["--store", server_store, "worker", "--stream", url, "--once"], tmp_path)
    assert work.returncode == 0, work.stderr
    one, two = open_store(f"sqlite:///{tmp_path / 'e.db'}"), open_store(server_store)
    try:
        a = {d.key: d for _, d in one.documents_after(0, 10_000)}
        b = {d.key: d for _, d in two.documents_after(0, 10_000)}
        assert a.keys() == b.keys() and len(a) == 300
        for key, doc in a.items():
            other = b[key]
            assert doc.analysis == other.analysis, key  # labels and event_id
            assert (doc.duplicate_of, doc.repost_of) == (other.duplicate_of, other.repost_of)
        assert len({d.analysis["event_id"] for d in a.values()}) > 1
        events_a = {r.id: (r.posts, r.stored) for r in one.event_rollups(limit=10_000)}
        events_b = {r.id: (r.posts, r.stored) for r in two.event_rollups(limit=10_000)}
        assert events_a == events_b
    finally:
        one.close()
        two.close()
