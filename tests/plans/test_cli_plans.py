"""``yuqing plans add|poll --once|show`` as a user runs them (a subprocess, so each call
costs an interpreter start: few calls), against a feed served by the test and a JSONL
file glob."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.plans.conftest import FeedServer, rss


def yuqing(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", "--config", str(cwd / "yuqing.toml"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plans_cli(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.feeds["/food.xml"] = rss("教育新闻", [("a1", "某校食堂使用过期食材")])
    (tmp_path / "yuqing.toml").write_text(
        'store = "sqlite:///plans.db"\n[run]\nanalysis = false\nevents = false\n'
        '[[alerts.channels]]\nkind = "log"\nname = "duty"\npath = "alerts.jsonl"\n',
        encoding="utf-8",
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(
        json.dumps(
            {"id": "f1", "text": "食堂过期食材问题再曝光", "source": "inbox"}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "plan.yaml").write_text(
        f"""id: campus-food
name: 校园食品安全
department: 宣传处
notify: [duty]
rules:
  - id: canteen
    query: 食堂 AND 过期
sources:
  - id: food
    kind: rss
    url: {feed_server.url("/food.xml")}
    interval: 5m
  - id: inbox
    kind: files
    path: {inbox}/*.jsonl
    interval: 1m
""",
        encoding="utf-8",
    )
    added = yuqing(["plans", "add", "plan.yaml"], tmp_path)
    assert added.returncode == 0, added.stderr
    assert "plan campus-food saved: 1 rule(s), 2 source(s) (2 polled)" in added.stdout

    polled = yuqing(["plans", "poll", "--once"], tmp_path)
    assert polled.returncode == 0, polled.stderr
    assert "campus-food/food: ok HTTP 200, read 1, stored 1" in polled.stdout
    assert "campus-food/inbox: ok, read 1, stored 1" in polled.stdout
    assert (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").count("plan:campus-food:canteen")

    shown = yuqing(["plans", "show", "campus-food", "--json"], tmp_path)
    health = {row["source_id"]: row for row in json.loads(shown.stdout)["health"]}
    assert health["food"]["health"] == "ok" and health["food"]["posts_fetched"] == 1
    again = yuqing(["plans", "add", "plan.yaml"], tmp_path)  # a usage error: exit 2
    assert again.returncode == 2 and "already exists" in again.stderr


def test_list_and_delete_in_process(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from yuqing.cli import app

    config = tmp_path / "yuqing.toml"
    config.write_text(f'store = "sqlite:///{tmp_path / "p.db"}"\n', encoding="utf-8")
    (tmp_path / "p.yaml").write_text(
        "id: p1\nname: 方案一\nrules: [{query: 食堂}]\nsources: [{kind: push, name: wx}]\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    base = ["--config", str(config), "plans"]
    assert runner.invoke(app, [*base, "add", str(tmp_path / "p.yaml")]).exit_code == 0
    listed = runner.invoke(app, [*base, "list", "--json"])
    assert [p["id"] for p in json.loads(listed.stdout)] == ["p1"]
    assert runner.invoke(app, [*base, "delete", "p1"]).exit_code == 0
    assert json.loads(runner.invoke(app, [*base, "list", "--json"]).stdout) == []
