"""SQLite-specific behaviour: URLs, pragmas, migrations, crash safety, search terms."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.errors import MigrationError, StoreError, StoreURLError, UsageError
from yuqing.models import Document
from yuqing.store.migrations import LATEST, apply_migrations
from yuqing.store.searchtext import END_MARK, FTS_TOKENIZER, index_terms, query_terms
from yuqing.store.sqlite import SQLiteStore, make_snippet
from yuqing.store.url import open_store

REPO = Path(__file__).resolve().parents[2]


def sqlite_store(url: str, *, migrate: bool = True) -> SQLiteStore:
    store = open_store(url, migrate=migrate)
    assert isinstance(store, SQLiteStore)
    return store


# -- URLs -------------------------------------------------------------------------------


def test_relative_url_is_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with sqlite_store("sqlite:///sub/y.db") as store:
        assert store.stats().schema_version == LATEST
    assert (tmp_path / "sub" / "y.db").is_file()


def test_absolute_and_memory_urls(tmp_path: Path) -> None:
    with sqlite_store(f"sqlite:///{tmp_path}/abs.db") as store:
        assert store.path == f"{tmp_path}/abs.db"
    assert (tmp_path / "abs.db").is_file()
    with sqlite_store("sqlite:///:memory:") as memory:
        memory.add_documents([Document(id="1", source="s", text="t")])
        assert memory.stats().documents == 1


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "yuqing.db", "sqlite://", "sqlite:///", "sqlite:///x.db?mode=ro", ""]
)
def test_bad_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(StoreURLError, match=r"sqlite:////absolute/path\.db"):
        open_store(url)


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreURLError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/nope/y.db")


# -- pragmas and migrations -------------------------------------------------------------


def test_wal_mode_and_pragmas(tmp_path: Path) -> None:
    with sqlite_store(f"sqlite:///{tmp_path}/w.db") as store:
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrate_upgrades_an_older_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    with sqlite_store(url, migrate=False) as old:
        assert old.schema_version() == 0
        assert apply_migrations(old._conn, url, target=1) == 1
        old.add_documents([Document(id="1", source="s", text="酒店", norm_text="酒店")])
    with sqlite_store(url, migrate=False) as store:
        assert store.schema_version() == 1
        assert store.migrate() == LATEST
        assert store.migrate() == LATEST  # idempotent
        assert store.index_pending() == 1
        assert [hit.id for hit in store.search("酒店")] == ["1"]
        applied = store._conn.execute("SELECT version FROM schema_migrations").fetchall()
        assert [v for (v,) in applied] == list(range(1, LATEST + 1))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    with sqlite_store(url) as store:
        store._conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)"
        )
    with pytest.raises(MigrationError, match="newer than this yuqing knows"):
        open_store(url)


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a database"):
        open_store(f"sqlite:///{path}")


# -- crash safety -----------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from yuqing.models import Cursor, Document
    from yuqing.store.url import open_store

    store = open_store(sys.argv[1])
    total = 0
    for batch in range(100_000):
        docs = [Document(id=f"{batch}-{i}", source="s", text="武汉" * 50) for i in range(500)]
        total += store.add_documents(docs, Cursor("f", batch, (batch + 1) * 500)).stored
        print(total, flush=True)
    """
)


def test_kill_9_loses_nothing_committed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert proc.stdout is not None
    reported = [int(proc.stdout.readline()) for _ in range(5)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    reported += [int(line) for line in proc.stdout.read().split()]
    assert proc.returncode == -signal.SIGKILL
    with sqlite_store(url) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = store.stats().documents
        assert max(reported) <= stored
        assert stored % 500 == 0  # whole batches only
        cursor = store.get_cursor("f")
        assert cursor is not None and cursor.line == stored  # cursor moved with its batch


# -- search terms -----------------------------------------------------------------------


def test_index_terms() -> None:
    m = END_MARK
    assert index_terms("武汉大学") == f"武汉 汉大 大学 学{m}"
    assert index_terms("新增17例，iPhone") == f"新增 增{m} 17 例{m} iphone"
    assert index_terms("🙂 !!") == ""


def test_query_terms_quote_everything() -> None:
    assert query_terms("武汉") == '"武汉"'
    assert query_terms("学") == '"学"*'
    assert query_terms("武汉 iPhone") == '"武汉" AND "iphone"*'
    assert query_terms("手机abc") == f'"手机 机{END_MARK} abc"*'
    with pytest.raises(UsageError):
        query_terms('" * -')


def test_snippet_window() -> None:
    text = "前" * 100 + "酒店" + "后" * 100
    snippet = make_snippet(["酒店"], [text])
    assert snippet is not None and "【酒店】" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert 55 <= len(snippet) <= 66
    assert make_snippet(["酒店", "没有"], [text]) is None


def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        f"""CREATE VIRTUAL TABLE t USING fts5(terms, content='', tokenize="{FTS_TOKENIZER}")"""
    )
    return conn


ALPHABET = "武汉大学酒店，a1 Bé"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=30), st.data())
def test_every_substring_is_found(text: str, data: st.DataObject) -> None:
    """No false negatives: a substring starting at a word start is always matched."""
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    word = text[start:end]
    if (
        start > 0
        and text[start - 1].isalnum()
        and text[start].isalnum()
        and not ("\u4e00" <= text[start] <= "\u9fff")
    ):
        return  # Latin words are matched from their start only (documented)
    try:
        query = query_terms(word)
    except UsageError:
        return
    conn = fts()
    conn.execute("INSERT INTO t (rowid, terms) VALUES (1, ?)", (index_terms(text),))
    assert conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,)).fetchall() == [(1,)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_any_query_is_valid_fts5(query: str) -> None:
    conn = fts()
    conn.execute("INSERT INTO t (rowid, terms) VALUES (1, ?)", (index_terms(query),))
    try:
        expression = query_terms(query)
    except UsageError:
        return
    conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()
