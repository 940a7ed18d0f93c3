"""The ``store`` fixture: one fresh store per test, for every backend.

* ``sqlite``: a file under tmp_path;
* ``postgresql``: a schema of this test session's own (``t_<random>``) in the database of
  ``YUQING_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``), selected
  through the URL's ``options=-csearch_path=...``, migrated once and emptied before each
  test (creating and migrating a schema per test costs about a second; emptying it a few
  milliseconds), dropped at the end of the session. Other sessions running at the same time
  use other schemas. ``postgres_url`` gives a brand-new, unmigrated schema instead (tests of
  migrations and partitions). When the server cannot be reached the PostgreSQL tests are
  skipped with the reason, except under ``CI=true``, where they fail: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from yuqing.store.base import Store
from yuqing.store.url import open_store

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get("YUQING_TEST_POSTGRES") or DEFAULT_POSTGRES


def schema_url(base: str, schema: str) -> str:
    """``base`` with the connection's search_path set to ``schema``."""
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}', safe='')}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test server's base URL, once checked reachable (skip, or fail under CI=true)."""
    import psycopg

    base = postgres_base_url()
    try:
        with psycopg.connect(base, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = (
            f"PostgreSQL test server {base} is not reachable ({str(exc).strip()}); start it "
            "(./scripts/dev.sh test does) or set YUQING_TEST_POSTGRES"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return base


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """A new, empty schema on the server at ``base`` (its URL), dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a brand-new, empty (unmigrated) schema, dropped after the test."""
    with fresh_schema(postgres_server) as schema:
        yield schema_url(postgres_server, schema)


@pytest.fixture(scope="session")
def _postgres_session_schema(postgres_server: str) -> Iterator[tuple[str, str]]:
    """(schema, URL) of this session's migrated schema."""
    with fresh_schema(postgres_server) as schema:
        url = schema_url(postgres_server, schema)
        open_store(url).close()  # migrate once
        yield schema, url


def _empty(base: str, schema: str) -> None:
    """Delete every row of the schema's tables (not the migrations), referencing tables
    first; month partitions stay (they are empty)."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn, conn.transaction():
        tables = [
            str(name)
            for name, refs in conn.execute(
                "SELECT c.relname, EXISTS (SELECT 1 FROM pg_constraint f "
                "WHERE f.conrelid = c.oid AND f.contype = 'f') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                "AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                "AND c.relname <> 'schema_migrations' ORDER BY 2 DESC, 1",
                (schema,),
            ).fetchall()
        ]
        for table in tables:
            conn.execute(f'DELETE FROM "{schema}"."{table}"')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        schema, url = request.getfixturevalue("_postgres_session_schema")
        _empty(request.getfixturevalue("postgres_server"), schema)
    opened = open_store(url)
    yield opened
    opened.close()
