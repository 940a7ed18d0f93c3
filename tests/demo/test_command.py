"""`yuqing demo --no-serve`: the whole story at once, the summary and the login printed,
and the command returns (for scripts and tests)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tests.demo.conftest import documents
from yuqing.cli import app
from yuqing.errors import UsageError
from yuqing.store.url import open_store


def test_no_serve_ingests_the_whole_story_and_exits(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(folder), "--posts", "150", "--no-serve"], env={"COLUMNS": "120"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "演示场景：鄞州某中学食堂过期食材事件" in out
    assert "read 150, stored 150, duplicates 0, rejected 0" in out
    assert re.search(r"看板登录: 用户名 admin\s+密码 \S+", out)
    assert "舆情看板" not in out  # nothing served
    url = f"sqlite:///{folder / 'yuqing.db'}"
    assert documents(url) == 150
    assert len((folder / "posts.jsonl").read_text(encoding="utf-8").splitlines()) == 150
    store = open_store(url)
    try:
        assert store.alerts(limit=1), "the demo rules raised alerts"
        assert store.get_user("admin") is not None
    finally:
        store.close()


def test_bad_speed_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path), "--speed", "-1"])
    assert isinstance(result.exception, UsageError)  # `yuqing` exits 2 with its message
    assert "--speed" in str(result.exception)
    assert not (tmp_path / "yuqing.db").exists()
