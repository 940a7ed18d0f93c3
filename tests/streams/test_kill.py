"""Two worker processes, one killed with SIGKILL mid-stream: every post is stored exactly
once and analysed (the survivor XAUTOCLAIMs the dead worker's pending entries)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import redis

from yuqing.settings import load_settings
from yuqing.sources.record import ColumnMapping
from yuqing.store.url import open_store
from yuqing.streams import publish_command

from .conftest import write_posts

RUNNER = """
import sys
from yuqing.settings import load_settings
from yuqing.streams import worker_command
settings = load_settings(None, overrides={"store": sys.argv[1]})
sys.exit(worker_command(settings, sys.argv[2], consumer=sys.argv[3], batch_size=50,
                        block_ms=100, claim_idle_ms=800))
"""


def _start(store: str, url: str, consumer: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, store, url, consumer],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _pending_of(client: redis.Redis, stream: str, consumer: str) -> int:
    for info in client.xinfo_consumers(stream, "workers"):
        if info["name"] in (consumer, consumer.encode()):
            return int(info["pending"])
    return 0


def test_sigkill_mid_stream_loses_nothing_and_stores_once(
    tmp_path: Path,
    stream_url: str,
    stream_name: str,
    redis_client: redis.Redis,
    server_store: str,
) -> None:
    """On SQLite and on PostgreSQL (``server_store``)."""
    posts = tmp_path / "posts.jsonl"
    keys = write_posts(posts, 4000)
    store_url = server_store
    settings = load_settings(None, overrides={"store": store_url})
    open_store(store_url).close()  # the schema once, before two processes race to migrate
    publish_command(
        [str(posts)],
        settings,
        stream_url,
        kind=None,
        mapping=ColumnMapping(),
        source_name=None,
        rejects_path=None,
    )
    assert redis_client.xlen(stream_name) == 4000

    victim = _start(store_url, stream_url, "victim", tmp_path)
    survivor = _start(store_url, stream_url, "survivor", tmp_path)
    try:
        # Kill the victim while it holds a batch it has not acknowledged.
        _wait(lambda: redis_client.xlen(stream_name) < 3900, 30, "some progress")
        _wait(lambda: _pending_of(redis_client, stream_name, "victim") > 0, 30, "victim busy")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        time.sleep(0.3)  # let Redis run whatever the victim had already sent
        held = _pending_of(redis_client, stream_name, "victim")
        _wait(
            lambda: (
                redis_client.xlen(stream_name) == 0
                and redis_client.xpending(stream_name, "workers")["pending"] == 0
            ),
            60,
            "the survivor to drain the stream",
        )
        survivor.send_signal(signal.SIGTERM)
        out, err = survivor.communicate(timeout=20)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert victim.returncode == -signal.SIGKILL
    assert survivor.returncode == 0, err
    assert "stopping after the current batch" in err
    claimed = int(out.strip().rsplit("claimed ", 1)[1])
    assert claimed >= held > 0  # the survivor took over what the victim held

    with closing(open_store(store_url)) as store:
        assert store.stats().documents == len(keys) == len(set(keys))
        for source, id_ in keys:
            doc = store.get_document(source, id_)
            assert doc is not None, (source, id_)
            assert doc.analysis["sentiment"] in {"positive", "neutral", "negative"}
            assert "emotion" in doc.analysis and "risk" in doc.analysis
