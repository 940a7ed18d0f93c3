"""`yuqing db backup`, `yuqing db restore` and `yuqing doctor` end to end on real stores:
backup then restore gives the same search results (also while a writer is busy); restore
refuses a non-empty store (unless --force), a newer backup and the wrong kind of file, and
migrates an older one; PostgreSQL through pg_dump/pg_restore; doctor on a good and a
broken setup."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.exports.conftest import fill_store
from tests.store.test_upgrade import load_fixture, manifest
from yuqing.doctor import check_chromium, check_fonts, check_python, check_store
from yuqing.errors import MigrationError, StoreURLError
from yuqing.models import Document
from yuqing.store.backup import BackupError, backup_store, restore_store
from yuqing.store.base import Store
from yuqing.store.migrations import LATEST
from yuqing.store.url import open_store

PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0?stream=yuqing:doctor-test"
QUERIES = ("食堂", "过期食材", "学生")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("YUQING_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store filled by the real pipeline: posts, events, alerts and a case."""
    return fill_store(tmp_path_factory.mktemp("admin"), posts=150)


def answers(url: str) -> dict[str, object]:
    """What a reader sees: search hits (in order, with their text), events, alerts, cases."""
    store = open_store(url)
    try:
        return {
            "search": {
                q: [(h.source, h.id, h.snippet, h.text) for h in store.search(q, limit=1000)]
                for q in QUERIES
            },
            "documents": store.stats().documents,
            "events": [(r.id, r.posts) for r in store.event_rollups(limit=100)],
            "alerts": [(s.alert.id, s.status) for s in store.alerts(limit=100)],
            "cases": store.cases(limit=100),
        }
    finally:
        store.close()


def test_backup_then_restore_gives_the_same_search_results(filled: str, tmp_path: Path) -> None:
    backup = tmp_path / "yuqing.bak"
    done = run(["--store", filled, "db", "backup", str(backup)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"schema version {LATEST}" in done.stdout
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    done = run(["--store", restored, "db", "restore", str(backup)], tmp_path)
    assert done.returncode == 0, done.stderr
    before = answers(filled)
    assert all(before["search"].values())  # type: ignore[attr-defined]
    assert answers(restored) == before


def test_backup_refuses_to_overwrite_without_force(filled: str, tmp_path: Path) -> None:
    backup = tmp_path / "taken.bak"
    backup.write_text("keep me")
    done = run(["--store", filled, "db", "backup", str(backup)], tmp_path)
    assert done.returncode == 2 and "already exists" in done.stderr
    assert backup.read_text() == "keep me"
    assert backup_store(filled, backup, overwrite=True).schema_version == LATEST
    assert backup.read_bytes()[:16] == b"SQLite format 3\x00"


def test_restore_refuses_a_store_that_is_not_empty(filled: str, tmp_path: Path) -> None:
    backup = tmp_path / "a.bak"
    backup_store(filled, backup)
    target = f"sqlite:///{tmp_path / 'busy.db'}"
    store = open_store(target)
    try:
        doc = Document(
            id="x1", source="local", text="本地已有的帖文", published_at=datetime.now(UTC)
        )
        store.add_documents([doc])
    finally:
        store.close()
    done = run(["--store", target, "db", "restore", str(backup)], tmp_path)
    assert done.returncode == 1
    assert "is not empty" in done.stderr and "--force" in done.stderr
    store = open_store(target)
    try:
        assert store.stats().documents == 1  # untouched
    finally:
        store.close()
    info = restore_store(target, backup, force=True)
    assert info.schema_version == LATEST
    assert answers(target) == answers(filled)  # the local post is gone: replaced


def test_restore_checks_the_backup(filled: str, tmp_path: Path) -> None:
    newer = tmp_path / "newer.bak"
    backup_store(filled, newer)
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", (LATEST + 1,))
    conn.commit()
    conn.close()
    target = f"sqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(MigrationError, match=f"schema version {LATEST + 1}, newer than"):
        restore_store(target, newer)
    assert not (tmp_path / "new.db").exists()
    junk = tmp_path / "junk.bak"
    junk.write_text("not a backup at all")
    with pytest.raises(BackupError, match="neither a SQLite backup nor a pg_dump"):
        restore_store(target, junk)
    pg_like = tmp_path / "pg.bak"
    pg_like.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 32)
    with pytest.raises(BackupError, match=r"is a postgresql backup and .* a sqlite store"):
        restore_store(target, pg_like)
    with pytest.raises(BackupError, match="no store file"):
        backup_store(f"sqlite:///{tmp_path / 'absent.db'}", tmp_path / "x.bak")


def test_restore_replaces_a_broken_store_with_force(filled: str, tmp_path: Path) -> None:
    backup = tmp_path / "good.bak"
    backup_store(filled, backup)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"\x00garbage" * 1000)
    target = f"sqlite:///{broken}"
    with pytest.raises(BackupError, match=r"cannot read the store .* pass --force"):
        restore_store(target, backup)
    assert restore_store(target, backup, force=True).schema_version == LATEST
    assert answers(target) == answers(filled)


def test_restore_migrates_an_older_backup(tmp_path: Path) -> None:
    """The previous release's store, backed up as a SQLite file, restores into this version."""
    old = manifest("release-0.1.0")
    release_url = load_fixture("release-0.1.0", tmp_path)
    backup = tmp_path / "release.bak"
    shutil.copy(release_url.removeprefix("sqlite:///"), backup)
    target = f"sqlite:///{tmp_path / 'upgraded.db'}"
    info = restore_store(target, backup)
    assert (info.backup_version, info.schema_version) == (old["schema_version"], LATEST)
    store = open_store(target)
    try:
        hits = sorted(f"{h.source}/{h.id}" for h in store.search("食堂", limit=1000))
    finally:
        store.close()
    assert hits == sorted(old["search"]["食堂"])


def test_backup_while_a_writer_is_busy(filled: str, tmp_path: Path) -> None:
    """Online backup: copies made while another connection keeps committing are each a
    consistent store (whole batches only) that restores and searches."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    shutil.copy(filled.removeprefix("sqlite:///"), tmp_path / "busy.db")
    base = open_store(url)
    start = base.stats().documents
    base.close()
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        store = open_store(url)
        try:
            n = 0
            when = datetime(2026, 11, 25, tzinfo=UTC)
            while not stop.is_set() and n < 400:
                batch = [
                    Document(
                        id=f"w{n}-{i}",
                        source="writer",
                        text=f"并发写入 {n} {i}",
                        published_at=when + timedelta(seconds=n),
                    )
                    for i in range(10)
                ]
                store.add_documents(batch)
                n += 1
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            store.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        counts = []
        for k in range(3):
            backup = tmp_path / f"copy{k}.bak"
            backup_store(url, backup)
            restored = f"sqlite:///{tmp_path / f'restored{k}.db'}"
            restore_store(restored, backup)
            store = open_store(restored)
            try:
                n = store.stats().documents
                assert store.search("食堂", limit=5)
            finally:
                store.close()
            assert (n - start) % 10 == 0  # whole batches only
            counts.append(n)
    finally:
        stop.set()
        writer.join()
    assert not errors
    assert counts == sorted(counts)


# -- PostgreSQL ---------------------------------------------------------------------------


def _psql(statement: str, url: str = PG) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the test database (dropped afterwards)."""
    import psycopg

    try:
        psycopg.connect(PG, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG} is not reachable: {exc}")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed (apt install postgresql-client)")
    name = f"yq_backup_{uuid.uuid4().hex[:8]}"
    _psql(f"CREATE SCHEMA {name}")
    yield name
    _psql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def _schema_url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


def _pg_store(url: str) -> Store | None:
    try:
        return open_store(url)
    except StoreURLError:
        return None  # the PostgreSQL store is not installed


def test_postgresql_store_backup_and_restore(pg_schema: str, tmp_path: Path) -> None:
    """Store level: posts in a PostgreSQL store, backed up with pg_dump; restore refuses the
    non-empty store, --force replaces it (same search results), a newer archive is refused."""
    url = _schema_url(pg_schema)
    store = _pg_store(url)
    if store is None:
        pytest.skip(
            "the PostgreSQL store is not available: open_store(postgresql://...) "
            "refuses; test_pg_dump_and_pg_restore_round_trip covers the programs"
        )
    try:
        texts = ["食堂饭菜过期", "学生食堂整改", "天气晴朗"]
        docs = [
            Document(
                id=f"p{i}",
                source="weibo",
                text=text,
                norm_text=text,
                published_at=datetime(2026, 11, 20, i, tzinfo=UTC),
            )
            for i, text in enumerate(texts)
        ]
        store.add_documents(docs)
        store.index_pending()
        before = [(h.source, h.id) for h in store.search("食堂", limit=10)]
    finally:
        store.close()
    assert len(before) == 2
    backup = tmp_path / "pg.dump"
    done = run(["--store", url, "db", "backup", str(backup)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert backup.read_bytes()[:5] == b"PGDMP"
    with pytest.raises(BackupError, match="is not empty"):
        restore_store(url, backup)
    store = open_store(url)
    try:
        store.add_documents([Document(id="later", source="weibo", text="备份之后的食堂帖文")])
    finally:
        store.close()
    info = restore_store(url, backup, force=True)
    assert info.backend == "postgresql" and info.schema_version == info.backup_version
    store = open_store(url)
    try:
        assert [(h.source, h.id) for h in store.search("食堂", limit=10)] == before
        assert store.get_document("weibo", "later") is None
    finally:
        store.close()
    _psql(f"INSERT INTO {pg_schema}.schema_migrations VALUES (999, 'future', 0)")
    future = tmp_path / "future.dump"
    backup_store(url, future)
    with pytest.raises(MigrationError, match="schema version 999, newer than"):
        restore_store(url, future, force=True)


def test_pg_dump_and_pg_restore_round_trip(pg_schema: str, tmp_path: Path) -> None:
    """Without the PostgreSQL store: pg_dump/pg_restore on a schema shaped like a store
    (version read from the archive, non-empty refused, --force replaces)."""
    url = _schema_url(pg_schema)
    store = _pg_store(url)
    if store is not None:
        store.close()
        pytest.skip("the PostgreSQL store is available: the store-level test covers this")
    _psql(
        f"CREATE TABLE {pg_schema}.schema_migrations (version int PRIMARY KEY, name text, "
        f"applied_at bigint); INSERT INTO {pg_schema}.schema_migrations VALUES (1, 'a', 0), "
        f"(2, 'b', 0); CREATE TABLE {pg_schema}.documents (pk serial PRIMARY KEY, text text); "
        f"INSERT INTO {pg_schema}.documents (text) VALUES ('食堂过期'), ('学生就医')"
    )
    backup = tmp_path / "schema.dump"
    assert backup_store(url, backup).schema_version == 2
    with pytest.raises(BackupError, match="is not empty"):
        restore_store(url, backup)
    _psql(f"INSERT INTO {pg_schema}.documents (text) VALUES ('备份之后')")
    info = restore_store(url, backup, force=True)
    assert info.backup_version == 2 and info.schema_version is None and info.note
    import psycopg

    with psycopg.connect(PG) as conn:
        rows = conn.execute(f"SELECT text FROM {pg_schema}.documents ORDER BY pk").fetchall()
    assert [r[0] for r in rows] == ["食堂过期", "学生就医"]


# -- doctor -------------------------------------------------------------------------------


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS.split("?")[0], socket_timeout=2).ping())
    except redis.RedisError:
        return False


def test_doctor_on_a_good_setup(filled: str, tmp_path: Path) -> None:
    args = ["--store", filled, "doctor"]
    if _redis_up():
        args += ["--stream", REDIS]
    done = run(args, tmp_path)
    lines = done.stdout.splitlines()
    failed = [line for line in lines if line.startswith("✗")]
    assert done.returncode == (1 if failed else 0), done.stdout
    for name in (
        "Python",
        "设置",
        "模型",
        "存储",
        "Redis",
        "CJK 字体",
        "WeasyPrint",
        "Chromium",
        "磁盘",
    ):
        assert any(name in line for line in lines[:-1]), name
    assert next(line for line in lines if "存储" in line).startswith("✓")
    assert f"schema version {LATEST} (current)" in done.stdout
    assert next(line for line in lines if "模型" in line).startswith("✓")
    assert next(line for line in lines if "设置" in line).startswith("✓")
    assert "项通过" in lines[-1]
    environment = {"CJK 字体", "WeasyPrint"}  # machine-dependent: each says how to fix it
    assert all(any(n in line for n in environment) and "修复" in line for line in failed)


def test_doctor_on_a_broken_setup(tmp_path: Path) -> None:
    (tmp_path / "yuqing.toml").write_text("batch_size = 0\n", encoding="utf-8")
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    done = run(
        [
            "--store",
            f"sqlite:///{broken}",
            "doctor",
            "--stream",
            "redis://127.0.0.1:1/0?stream=x",
            "--min-free-gb",
            "100000000",
        ],
        tmp_path,
    )
    assert done.returncode == 1, done.stdout
    by_name = {line.split()[1]: line for line in done.stdout.splitlines()[:-1]}
    for name in ("设置", "存储", "Redis", "磁盘"):
        assert by_name[name].startswith("✗"), by_name[name]
        assert "修复：" in by_name[name]
    assert "batch_size" in by_name["设置"]
    assert by_name["Python"].startswith("✓")


def test_doctor_store_states(tmp_path: Path) -> None:
    missing = check_store(f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.status == "warn" and "no store yet" in missing.detail
    assert not (tmp_path / "none.db").exists()  # doctor changes nothing
    newer = tmp_path / "newer.db"
    open_store(f"sqlite:///{newer}").close()
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'future', 0)", (LATEST + 5,))
    conn.commit()
    conn.close()
    found = check_store(f"sqlite:///{newer}")
    assert found.failed and "newer than this yuqing" in found.detail
    assert "upgrade yuqing" in found.fix
    conn = sqlite3.connect(newer)
    conn.execute("DELETE FROM schema_migrations WHERE version > 2")
    conn.commit()
    conn.close()
    older = check_store(f"sqlite:///{newer}")
    assert older.status == "warn" and "yuqing db migrate" in older.fix


def test_doctor_checks_alone() -> None:
    assert check_python((3, 10)).failed and not check_python((3, 12)).failed
    assert check_fonts(lambda args: "").failed
    found = check_fonts(lambda args: "Noto Sans CJK SC,Noto Sans CJK SC Regular\n")
    assert found.status == "ok" and "Noto Sans CJK SC" in found.detail
    absent = check_chromium(Path("/nonexistent/chromium"))
    assert absent.status == "warn" and not absent.failed and "apt install chromium" in absent.fix
