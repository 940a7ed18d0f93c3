"""`yuqing cases ...` over a real SQLite store: list (status, overdue), show, open from an
alert or a title, transition, level, note, and check-deadlines raising each overdue alert
once; errors as one line and exit status (through the real entry point)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.test_cli import run
from yuqing.alerts.alert import Alert
from yuqing.cases import new_case
from yuqing.cli import app
from yuqing.clock import ManualClock
from yuqing.errors import UsageError
from yuqing.store.url import open_store


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A store with three cases opened 5 hours ago (levels I, III, IV) and one alert."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=5))
    store = open_store(url)
    try:
        for n, level in enumerate(("I", "III", "IV"), 1):
            clock.advance(timedelta(seconds=1))
            case = new_case(
                f"事件 {n}",
                level=level,
                level_reason="手工",
                who="值班员",
                clock=clock,
                case_id=f"case-{n}",
            )
            store.save_case(case.as_dict())
        store.add_alerts(
            [
                Alert.create(
                    rule_id="canteen",
                    kind="match",
                    title="食堂｜规则命中",
                    severity="high",
                    created_at=clock.now(),
                    public_url="http://x",
                )
            ]
        )
    finally:
        store.close()
    return url


def cli(url: str, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--store", url, "cases", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_list_show_and_the_overdue_filter(url: str) -> None:
    rows = cli(url, "list", "--json")
    assert [r["id"] for r in rows] == ["case-3", "case-2", "case-1"]
    assert {r["id"]: r["overdue"] for r in rows} == {
        "case-1": True,
        "case-2": True,
        "case-3": False,
    }
    assert [r["id"] for r in cli(url, "list", "--overdue", "--json")] == ["case-2", "case-1"]
    assert cli(url, "list", "--status", "closed", "--json") == []
    assert "事件 1" in cli(url, "list")
    shown = cli(url, "show", "case-1", "--json")
    assert shown["timeliness"]["status"] == "overdue" and shown["level"] == "I"
    assert "首次通报已超过时限" in cli(url, "show", "case-1")


def test_changes_are_logged(url: str) -> None:
    cli(url, "transition", "case-1", "assessing", "--note", "开始研判", "--by", "李四")
    changed = cli(
        url, "level", "case-1", "II", "--reason", "影响范围缩小", "--by", "李四", "--json"
    )
    assert changed["status"] == "assessing" and changed["level"] == "II"
    noted = cli(url, "note", "case-1", "已联系宣传部", "--json")
    assert [a["kind"] for a in noted["actions"]] == ["opened", "status", "level", "note"]
    assert noted["actions"][1]["who"] == "李四"
    opened = cli(url, "open", "--title", "新的事项", "--owner", "宣传部", "--json")
    assert opened["level"] == "IV" and opened["owner"] == "宣传部"
    store = open_store(url)
    try:
        alert_id = store.alerts()[0].alert.id
    finally:
        store.close()
    from_alert = cli(url, "open", "--alert", alert_id, "--json")
    assert from_alert["alert_id"] == alert_id and from_alert["title"] == "食堂｜规则命中"


def test_check_deadlines_raises_each_overdue_case_once(url: str, tmp_path: Path) -> None:
    log = tmp_path / "alerts.jsonl"
    config = tmp_path / "yuqing.toml"
    config.write_text(
        f'[[alerts.channels]]\nname = "log"\nkind = "log"\npath = "{log}"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["--config", str(config), "--store", url, "cases", "check-deadlines", "--json"]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    first = json.loads(result.stdout)
    assert first["raised"] == 2 and first["delivered"] == 2
    assert {a["title"] for a in first["alerts"]} == {"首次通报超时｜事件 1", "首次通报超时｜事件 2"}
    assert {a["severity"] for a in first["alerts"]} == {"critical", "high"}
    assert cli(url, "check-deadlines", "--json")["raised"] == 0
    assert len(log.read_text(encoding="utf-8").splitlines()) == 2


def test_errors_are_one_line_with_the_exit_status(url: str, tmp_path: Path) -> None:
    missing = run(["--store", url, "cases", "show", "case-9"], tmp_path)
    assert missing.returncode == 2 and "no case 'case-9'" in missing.stderr
    for args, message in (
        (["transition", "case-1", "monitoring"], "cannot go from new to monitoring"),
        (["list", "--status", "done"], "--status 'done'"),
        (["level", "case-1", "II"], "reason"),
        (["open"], "--event ID, --alert ID or --title"),
    ):
        result = CliRunner().invoke(app, ["--store", url, "cases", *args])
        assert isinstance(result.exception, UsageError), args  # main(): exit status 2
        assert message in str(result.exception)
