"""Fixtures for the stream tests: a real Redis (database 15, a unique stream per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from yuqing.demo.scenario import generate

REDIS_URL = os.environ.get("YUQING_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        message = f"no Redis server at {REDIS_URL} ({exc}); start redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture
def stream_name(redis_client: redis.Redis) -> Iterator[str]:
    """A stream name unique to the test; its keys are deleted afterwards."""
    name = f"test-yuqing:{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(match=f"{name}*"))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def stream_url(stream_name: str) -> str:
    return f"{REDIS_URL}?stream={stream_name}&group=workers"


def write_posts(
    path: Path, n: int, *, bad_at: dict[int, str] | None = None
) -> list[tuple[str, str]]:
    """``n`` demo posts as JSONL (unique ids, many repeated texts); ``bad_at`` inserts raw
    lines at the given 1-based line numbers. Returns the (source, id) keys written."""
    records = generate(n)
    lines = [orjson.dumps(r).decode() for r in records]
    for line_no, raw in sorted((bad_at or {}).items()):
        lines.insert(line_no - 1, raw)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [(str(r["source"]), str(r["id"])) for r in records]


PG_URL = os.environ.get("YUQING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped afterwards); skips while the
    PostgreSQL store is not available or no server answers (fails in CI)."""
    from yuqing.errors import StoreError
    from yuqing.store.url import open_store

    try:
        open_store(PG_URL).close()
    except StoreError as exc:
        message = f"PostgreSQL store at {PG_URL} not usable: {exc}"
        if os.environ.get("CI") == "true" and "arrives with server mode" not in str(exc):
            pytest.fail(message)
        pytest.skip(message)
    import psycopg

    name = f"yuqing_stream_{uuid.uuid4().hex[:10]}"
    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def server_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The server-mode store URL: an SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.db'}"
    else:
        yield from postgres_url()
