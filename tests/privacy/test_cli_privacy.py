"""``yuqing retention apply``, ``yuqing privacy delete-author|blocked|unblock`` and ``yuqing
audit`` through the real command line over a real SQLite store: trends and label counts are
the same before and after retention, the old text is gone from the store and from search, a
deleted author's posts are not stored again when the same file is ingested again (unless
``--keep-collecting`` or unblocked), and all of it is logged."""

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
    assert entries[0]["details"] == {
        "source": None,
        "deleted": 2,
        "blocked": True,
        "reason": "本人申请",
    }
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


POSTS = [
    {"id": "w1", "source": "weibo", "author": "alice", "text": "学校食堂饭菜太贵了"},
    {"id": "w2", "source": "weibo", "author": "bob", "text": "学校食堂今天排队很长"},
    {"id": "w3", "source": "weibo", "author": "alice", "text": "食堂的菜又涨价了"},
    {"id": "n1", "source": "news", "author": "alice", "text": "本报讯 学校食堂涨价引关注"},
    {"id": "n2", "source": "news", "author": "carol", "text": "记者走访多所学校食堂"},
]


def _authors(tmp_path: Path) -> list[tuple[str, str, str | None]]:
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        return sorted(
            (d.source, d.id, d.author) for d in store.recent_documents(NOW - timedelta(days=1), 100)
        )
    finally:
        store.close()


def _ingest(tmp_path: Path) -> str:
    done = cli(
        ["ingest", "posts.jsonl", "--no-resume", "--no-analysis", "--rejects", "rejects.jsonl"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_deleted_author_is_not_collected_again(tmp_path: Path) -> None:
    lines = [{**p, "published_at": NOW.isoformat()} for p in POSTS]
    (tmp_path / "posts.jsonl").write_bytes(b"\n".join(orjson.dumps(p) for p in lines) + b"\n")
    assert _ingest(tmp_path) == "read 5, stored 5, duplicates 0, rejected 0"
    gone = cli(["privacy", "delete-author", "@alice", "--reason", "本人申请"], tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert "已删除 3 条" in gone.stdout and "已停止采集" in gone.stdout

    # The same file again: alice's posts are dropped, never written to the rejects file.
    assert _ingest(tmp_path) == "read 5, stored 0, duplicates 2, rejected 0, blocked 3"
    assert [a for _, _, a in _authors(tmp_path)] == ["carol", "bob"]
    rejects = tmp_path / "rejects.jsonl"
    assert not rejects.exists() or "alice" not in rejects.read_text(encoding="utf-8")

    listed = cli(["privacy", "blocked", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    [entry] = orjson.loads(listed.stdout)
    assert (entry["author"], entry["source"], entry["reason"]) == ("alice", None, "本人申请")
    assert entry["actor"].startswith("cli:")
    table = cli(["privacy", "blocked"], tmp_path)
    assert "alice" in table.stdout and "全部来源" in table.stdout

    # Unblocking needs the entry's own source; an unknown entry is a usage error.
    wrong = cli(["privacy", "unblock", "alice", "--source", "news"], tmp_path)
    assert wrong.returncode == 2 and "not blocked" in wrong.stderr
    back = cli(["privacy", "unblock", "alice"], tmp_path)
    assert back.returncode == 0, back.stderr
    assert orjson.loads(cli(["privacy", "blocked", "--json"], tmp_path).stdout) == []
    assert _ingest(tmp_path) == "read 5, stored 3, duplicates 2, rejected 0"

    # --keep-collecting only deletes; a block of one source leaves the others collected.
    kept = cli(["privacy", "delete-author", "alice", "--keep-collecting"], tmp_path)
    assert kept.returncode == 0 and "已停止采集" not in kept.stdout
    assert _ingest(tmp_path) == "read 5, stored 3, duplicates 2, rejected 0"
    one = cli(["privacy", "delete-author", "alice", "--source", "news"], tmp_path)
    assert one.returncode == 0, one.stderr
    assert _ingest(tmp_path) == "read 5, stored 0, duplicates 4, rejected 0, blocked 1"
    assert ("news", "n1", "alice") not in _authors(tmp_path)
    assert ("weibo", "w1", "alice") in _authors(tmp_path)
    assert cli(["privacy", "unblock", "alice", "--source", "news"], tmp_path).returncode == 0

    entries = orjson.loads(cli(["audit", "--json"], tmp_path).stdout)
    assert [e["action"] for e in entries] == [
        "unblock_author",
        "delete_author",
        "delete_author",
        "unblock_author",
        "delete_author",
    ]
    assert [e["details"].get("blocked") for e in entries if e["action"] == "delete_author"] == [
        True,
        False,
        True,
    ]
    assert entries[0]["details"] == {"source": "news"} and entries[3]["details"] == {"source": None}
    assert all(e["target"] == "alice" and e["client"] == "cli" for e in entries)
