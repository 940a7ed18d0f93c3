"""``yuqing retention apply``, ``yuqing privacy delete-author`` and ``yuqing audit`` through the
real command line over a real SQLite store: trends and label counts are the same before and
after retention, the old text is gone from the store and from search, and both are logged."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from yuqing.models import Document
from yuqing.store.url import open_store

NOW = datetime.now(UTC)


def cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", "--store", "sqlite:///p.db", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **env},
    )


def _doc(i: int, days: int, source: str, author: str) -> Document:
    text = f"学校食堂 第{i}条"
    return Document(
        source=source,
        id=f"{source}{i}",
        text=text,
        norm_text=text,
        author=author,
        published_at=NOW - timedelta(days=days, hours=i),
        analysis={"sentiment": "negative" if i % 2 else "neutral", "event_id": "e1"},
    )


def test_retention_and_delete_author(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    docs = [_doc(i, 100, "weibo", "alice") for i in range(4)]
    docs += [_doc(i, 100, "news", "bob") for i in range(4, 6)]
    docs += [_doc(i, 1, "weibo", "alice") for i in range(6, 8)]
    store.add_documents(docs)
    store.index_pending()
    before = (store.trend_counts("sentiment"), store.label_counts("sentiment"))
    store.close()
    env = {"YUQING_PRIVACY__RETENTION__TEXT_DAYS": "30"}

    dry = cli(["retention", "apply", "--dry-run", "--json"], tmp_path, **env)
    assert dry.returncode == 0, dry.stderr
    assert orjson.loads(dry.stdout)["removed"] == {"*": 6}
    applied = cli(["retention", "apply"], tmp_path, **env)
    assert applied.returncode == 0, applied.stderr and "6" in applied.stdout
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        assert (store.trend_counts("sentiment"), store.label_counts("sentiment")) == before
        old = store.get_document("weibo", "weibo0")
        assert old is not None and old.text == "" and old.author is None
        assert {h.id for h in store.search("食堂", limit=20)} == {"weibo6", "weibo7"}
    finally:
        store.close()

    gone = cli(["privacy", "delete-author", "alice", "--reason", "本人申请"], tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert "2" in gone.stdout  # the two young posts still had the handle
    logged = cli(["audit", "--json"], tmp_path)
    assert logged.returncode == 0, logged.stderr
    entries = orjson.loads(logged.stdout)
    assert [e["action"] for e in entries] == ["delete_author", "retention"]
    assert entries[0]["target"] == "alice" and entries[0]["client"] == "cli"
    assert entries[0]["actor"].startswith("cli:") and entries[1]["details"]["total"] == 6
    only = cli(["audit", "--action", "retention", "--since", "2000-01-01"], tmp_path)
    assert only.returncode == 0 and "retention" in only.stdout
    bad = cli(["audit", "--action", "nope"], tmp_path)
    assert bad.returncode == 2


def test_audit_rows_cannot_be_updated(tmp_path: Path) -> None:
    """The append-only trigger of migration 10 (the PostgreSQL one is the same statement
    kind: BEFORE UPDATE ... RAISE)."""
    import sqlite3

    from yuqing.privacy.audit import record

    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        record(store, "login", "zhang", client="10.0.0.1")
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "p.db")
    try:
        try:
            conn.execute("UPDATE audit_log SET actor = 'someone else'")
        except sqlite3.IntegrityError as exc:
            assert "append-only" in str(exc)
        else:
            raise AssertionError("the audit log accepted an UPDATE")
    finally:
        conn.close()
