"""Publisher and worker against a real Redis and real SQLite files."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import orjson
import pytest
import redis
from typer.testing import CliRunner

from yuqing.errors import StoreError
from yuqing.runtime.factory import build_pipeline
from yuqing.settings import Settings, load_settings
from yuqing.sources.record import ColumnMapping
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store
from yuqing.streams import Publisher, Worker, parse_stream_url, publish_command, worker_command
from yuqing.streams.entry import FIELD

from .conftest import write_posts


def settings_for(db: Path) -> Settings:
    return load_settings(None, overrides={"store": f"sqlite:///{db}"})


def publish(path: Path, settings: Settings, url: str, rejects: Path | None = None) -> int:
    return publish_command(
        [str(path)],
        settings,
        url,
        kind=None,
        mapping=ColumnMapping(),
        source_name=None,
        rejects_path=rejects,
    )


def test_publish_rejects_then_one_worker_stores_all_once(
    tmp_path: Path,
    stream_url: str,
    stream_name: str,
    redis_client: redis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    posts = tmp_path / "posts.jsonl"
    ids = write_posts(posts, 300, bad_at={4: "{not json", 10: '{"id": "no-text"}'})
    settings = settings_for(tmp_path / "s.db")
    rejects = tmp_path / "rejects.jsonl"

    assert publish(posts, settings, stream_url, rejects) == 3
    out, err = capsys.readouterr()
    assert out.strip() == "read 302, published 300, rejected 2"
    assert "line 4: not valid JSON" in err and "line 10: no 'text' field" in err
    assert [orjson.loads(x)["line"] for x in rejects.read_text().splitlines()] == [4, 10]
    assert redis_client.xlen(stream_name) == 300

    assert worker_command(settings, stream_url, consumer="w1", batch_size=64, once=True) == 0
    out, _ = capsys.readouterr()
    assert out.strip() == "processed 300, stored 300, duplicates 0, rejected 0, claimed 0"
    assert redis_client.xlen(stream_name) == 0  # stored entries are deleted
    assert redis_client.xpending(stream_name, "workers")["pending"] == 0
    with closing(open_store(settings.store)) as store:
        assert store.stats().documents == 300
        for source, id_ in ids[:20]:
            doc = store.get_document(source, id_)
            assert doc is not None and doc.analysis["sentiment"] in {
                "positive",
                "neutral",
                "negative",
            }

    # The cursor makes a rerun publish nothing; without resume, the worker stores nothing new.
    assert publish(posts, settings, stream_url) == 0
    assert capsys.readouterr().out.strip() == "read 0, published 0, rejected 0"
    publish_command(
        [str(posts)],
        settings,
        stream_url,
        kind=None,
        mapping=ColumnMapping(),
        source_name=None,
        rejects_path=None,
        resume=False,
    )
    capsys.readouterr()
    assert worker_command(settings, stream_url, consumer="w2", once=True) == 0
    assert capsys.readouterr().out.strip() == (
        "processed 300, stored 0, duplicates 300, rejected 0, claimed 0"
    )
    with closing(open_store(settings.store)) as store:
        assert store.stats().documents == 300


def test_resumed_publish_continues_after_the_cursor(
    tmp_path: Path, stream_url: str, stream_name: str, redis_client: redis.Redis
) -> None:
    posts = tmp_path / "posts.jsonl"
    write_posts(posts, 50)
    settings = settings_for(tmp_path / "s.db")
    target = parse_stream_url(stream_url)
    source = open_sources([str(posts)], zone=settings.zone)
    first = Publisher(redis_client, target, batch_size=20)
    # Publish only the first batch (as if killed after it), then run again.
    batches = source[0].batches(20)
    batch = next(batches)
    first._publish(source[0].key, batch.documents, batch.cursor)
    report = Publisher(redis_client, target, batch_size=20).run(source)
    assert (report.read, report.published) == (30, 30)
    assert redis_client.xlen(stream_name) == 50


def test_backpressure_waits_and_reports(
    tmp_path: Path, stream_name: str, redis_client: redis.Redis
) -> None:
    posts = tmp_path / "posts.jsonl"
    write_posts(posts, 30)
    url = f"redis://127.0.0.1:6379/15?stream={stream_name}&backlog=10"
    settings = settings_for(tmp_path / "s.db")
    sources = open_sources([str(posts)], zone=settings.zone)
    publisher = Publisher(
        redis_client, parse_stream_url(url), batch_size=10, wait_timeout=0.3, poll_seconds=0.05
    )
    with pytest.raises(StoreError, match="start workers"):
        publisher.run(sources)
    assert redis_client.xlen(stream_name) == 10  # one batch in, then it waited


def test_bad_entries_are_rejected_not_retried(
    tmp_path: Path,
    stream_url: str,
    stream_name: str,
    redis_client: redis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    redis_client.xadd(stream_name, {"other": "x"})
    redis_client.xadd(stream_name, {FIELD: b"{broken"})
    body = {"v": 1, "record": {"id": "a", "source": "s", "text": "  "}, "line": 7}
    redis_client.xadd(stream_name, {FIELD: orjson.dumps(body)})
    settings = settings_for(tmp_path / "s.db")
    assert worker_command(settings, stream_url, consumer="w", once=True) == 3
    out, err = capsys.readouterr()
    assert out.strip() == "processed 3, stored 0, duplicates 0, rejected 3, claimed 0"
    assert "line 7: the text is blank" in err
    assert redis_client.xlen(stream_name) == 0
    assert redis_client.xlen(f"{stream_name}:dead") == 3


def test_worn_out_entries_go_to_the_dead_stream(
    tmp_path: Path, stream_url: str, stream_name: str, redis_client: redis.Redis
) -> None:
    posts = tmp_path / "posts.jsonl"
    write_posts(posts, 5)
    settings = settings_for(tmp_path / "s.db")
    target = parse_stream_url(stream_url)
    Publisher(redis_client, target).run(open_sources([str(posts)], zone=settings.zone))
    # Consumers that take the entries and die, twice over (two deliveries each).
    redis_client.xreadgroup("workers", "ghost", {stream_name: ">"}, count=10)
    redis_client.xautoclaim(stream_name, "workers", "ghost2", 0, count=10)
    with closing(open_store(settings.store)) as store:
        worker = Worker(
            redis_client,
            target,
            store,
            build_pipeline(settings, analysis=False),
            consumer="w",
            claim_idle_ms=0,
            max_deliveries=2,
            on_reject=None,
        )
        report = worker.run(once=True)
    assert (report.rejected, report.stored, report.claimed) == (5, 0, 5)
    assert redis_client.xlen(f"{stream_name}:dead") == 5


def test_embedded_and_stream_modes_give_the_same_labels(
    tmp_path: Path, stream_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from yuqing.cli import app

    posts = tmp_path / "posts.jsonl"
    ids = write_posts(posts, 400)
    embedded = tmp_path / "embedded.db"
    result = CliRunner().invoke(
        app, ["--store", f"sqlite:///{embedded}", "ingest", str(posts), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    server = settings_for(tmp_path / "server.db")
    assert publish(posts, server, stream_url) == 0
    assert worker_command(server, stream_url, consumer="w", batch_size=128, once=True) == 0
    capsys.readouterr()
    with (
        closing(open_store(f"sqlite:///{embedded}")) as one,
        closing(open_store(server.store)) as two,
    ):
        assert one.stats().documents == two.stats().documents == 400
        marked = 0
        for source, id_ in ids:
            a, b = one.get_document(source, id_), two.get_document(source, id_)
            assert a is not None and b is not None
            a.analysis.pop("event_id", None)  # embedded ingest also clusters events
            b.analysis.pop("event_id", None)
            assert a.analysis == b.analysis, id_
            assert (a.keywords, a.tokens, a.norm_text) == (b.keywords, b.tokens, b.norm_text)
            # One worker sees the posts in the published order: the same duplicate groups.
            assert (a.duplicate_of, a.repost_of) == (b.duplicate_of, b.repost_of)
            assert (a.published_at, a.ingested_at is not None) == (b.published_at, True)
            marked += a.duplicate_of is not None
        assert marked > 0


def test_worker_drops_blocked_authors(
    tmp_path: Path,
    stream_url: str,
    stream_name: str,
    redis_client: redis.Redis,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Posts of an author on the suppression list are acknowledged, counted as blocked and
    kept nowhere: not in the store, not in the dead stream."""
    from yuqing.privacy.blocking import block_author

    posts = tmp_path / "posts.jsonl"
    lines = [
        {"id": str(i), "source": "weibo", "author": a, "text": f"食堂第{i}次涨价"}
        for i, a in enumerate(["alice", "bob", "alice", "carol"])
    ]
    posts.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    settings = settings_for(tmp_path / "s.db")
    with closing(open_store(settings.store)) as store:
        block_author(store, "alice", actor="cli:test", reason="本人申请")
    assert publish(posts, settings, stream_url) == 0
    capsys.readouterr()
    assert worker_command(settings, stream_url, consumer="w", once=True) == 0
    assert capsys.readouterr().out.strip() == (
        "processed 4, stored 2, duplicates 0, rejected 0, claimed 0, blocked 2"
    )
    assert redis_client.xlen(stream_name) == 0
    assert redis_client.exists(f"{stream_name}:dead") == 0
    with closing(open_store(settings.store)) as store:
        assert store.stats().documents == 2
        assert store.get_document("weibo", "0") is None
        assert store.get_document("weibo", "1") is not None
