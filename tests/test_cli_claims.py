"""`yuqing claims ...` over a real SQLite store filled by the real pipeline: add, mark
with evidence (stored posts re-scored), list, posts; bad verdicts refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.rumors.conftest import PIYAO
from yuqing.cli import app
from yuqing.errors import UsageError
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store


@pytest.fixture
def url(tmp_path: Path) -> str:
    path = tmp_path / "posts.jsonl"
    texts = ["網傳喝自來水會致癌，快轉發", "今天天气很好"]
    path.write_text(
        "".join(
            json.dumps({"id": str(n), "text": t, "source": "weibo"}, ensure_ascii=False) + "\n"
            for n, t in enumerate(texts)
        ),
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = Settings.model_validate({"store": url})
    store = open_store(url)
    try:
        Ingestor(store, build_pipeline(settings)).run(
            list(open_sources([str(path)], zone=settings.zone))
        )
    finally:
        store.close()
    return url


def cli(url: str, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--store", url, "claims", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_add_mark_list_and_posts(url: str) -> None:
    added = cli(url, "add", "喝自来水会致癌", "--id", "c-1", "--phrase", "自来水", "--json")
    assert added["claim"]["verdict"] == "unverified" and added["rescored"] is None
    assert added["claim"]["key_phrases"] == ["自来水"]
    marked = cli(url, "mark", "c-1", "false", "--evidence", PIYAO, "--by", "核查员", "--json")
    assert marked["claim"]["verdict"] == "false" and marked["claim"]["marked_by"] == "核查员"
    assert marked["rescored"] == {"scanned": 2, "matched": 1, "changed": 1}
    store = open_store(url)
    try:
        doc = store.get_document("weibo", "0")
    finally:
        store.close()
    assert doc is not None and doc.analysis["risk"]["rumor"] == 0.9
    assert doc.analysis["claim"]["evidence"] == PIYAO
    assert [c["id"] for c in cli(url, "list", "--verdict", "false", "--json")] == ["c-1"]
    assert "不实（已辟谣）" in cli(url, "list")
    posts = cli(url, "posts", "c-1", "--days", "3650", "--json")
    assert [(p["id"], p["stance"]) for p in posts] == [("0", "repeats")]


def test_bad_verdicts_are_refused(url: str) -> None:
    cli(url, "add", "某地要封城", "--id", "c-2")
    for args, message in (
        (["mark", "c-2", "false"], "evidence link"),
        (["mark", "c-2", "maybe"], "use one of"),
        (["mark", "c-9", "unverified"], "no claim 'c-9'"),
        (["list", "--verdict", "maybe"], "--verdict 'maybe'"),
        (["add", "某地要封城", "--verdict", "true", "--evidence", "ftp://x"], "not an http"),
    ):
        result = CliRunner().invoke(app, ["--store", url, "claims", *args])
        assert isinstance(result.exception, UsageError), (args, result.output)
        assert message in str(result.exception)
