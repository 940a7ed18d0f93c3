"""Scoring a drill from its store: a diligent trainee scores high, an idle one low."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from yuqing.alerts.alert import Alert
from yuqing.cases.case import new_case
from yuqing.clock import ManualClock
from yuqing.drill.replay import DrillReport, TimelineEntry
from yuqing.drill.scoring import render_html, score_command, score_drill
from yuqing.errors import UsageError
from yuqing.store.base import Store
from yuqing.store.url import open_store

START = datetime.fromisoformat("2026-11-20T07:30:00+08:00")
GOOD = (
    "关于鄞州实验中学食堂学生身体不适的情况通报\n"
    "11月20日12时，鄞州实验中学食堂午餐后，12名学生出现腹痛症状。"
    "感谢社会各界和广大网民的关注与监督，我们深表歉意。\n"
    "区教育局已成立联合调查组，已封存留样食品并送检，学生已全部送医观察。\n"
    "区教育局将于11月21日18时前通报调查进展。\n"
    "鄞州区教育局\n2026年11月20日"
)


def report() -> DrillReport:
    end = START + timedelta(hours=48)
    return DrillReport(
        scenario="school-food-safety",
        title="鄞州某中学食堂过期食材事件",
        seed=7,
        speed=0,
        store_url="sqlite:///x.db",
        started_at=START,
        ended_at=end,
        timeline=[
            TimelineEntry(START, "start", "演练开始"),
            TimelineEntry(START + timedelta(hours=14), "rumour", "谣言注入"),
            TimelineEntry(end, "end", "演练结束"),
        ],
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite:///{tmp_path / 'drill.db'}")
    alert = Alert.create(
        rule_id="food",
        kind="risk",
        title="食堂食品安全舆情",
        severity="high",
        created_at=START + timedelta(hours=10),
        public_url="http://localhost:8000",
    )
    opened.add_alerts([alert])
    return opened


def diligent(store: Store) -> None:
    """Acknowledge within 10 minutes, open a case 30 minutes later, publish a good
    statement 2 hours after opening (level III: 4 hours allowed)."""
    alert = store.alerts()[0].alert
    clock = ManualClock(alert.created_at + timedelta(minutes=10))
    store.acknowledge_alert(alert.id, "学员", clock.now())
    clock.advance(timedelta(minutes=30))
    case = new_case(
        "鄞州实验中学食堂事件", level="III", level_reason="演练", who="学员", clock=clock,
        alert_id=alert.id,
    )  # fmt: skip
    clock.advance(timedelta(minutes=20))
    case.transition("assessing", who="学员", clock=clock)
    clock.advance(timedelta(minutes=60))
    statement = case.add_statement(GOOD, who="学员", clock=clock)
    clock.advance(timedelta(minutes=40))
    case.publish_statement(statement.id, who="学员", clock=clock, channel="官方微博")
    store.save_case(case.as_dict())


def test_diligent_trainee_scores_high(store: Store, tmp_path: Path) -> None:
    diligent(store)
    briefing = tmp_path / "briefing.html"
    briefing.write_text("<p>简报</p>", encoding="utf-8")
    score = score_drill(store, report(), briefing=briefing)
    assert score.component("acknowledge").points == 20
    assert score.component("case").points == 20
    assert score.component("timeliness").status == "按时"
    check = score.component("check")
    assert check.data["passed"] >= 3
    assert score.component("briefing").status == "已提交"
    assert score.total >= 85, score.as_dict()
    kinds = [e.kind for e in score.timeline]
    for kind in ("start", "acknowledge", "case", "status", "response", "briefing", "end"):
        assert kind in kinds
    assert [e.at for e in score.timeline] == sorted(e.at for e in score.timeline)


def test_idle_trainee_scores_low(store: Store) -> None:
    score = score_drill(store, report().as_dict())
    statuses = {c.key: c.status for c in score.components}
    assert statuses["acknowledge"] == "未确认"
    assert statuses["case"] == "未立案"
    assert statuses["timeliness"] == "未发布"
    assert statuses["briefing"] == "未提交"
    assert score.total == 0 and score.grade == "不合格"
    html = render_html(score)
    for word in ("未确认", "未立案", "未发布", "未提交", "总分 0 / 100"):
        assert word in html


def test_actions_after_now_do_not_count(store: Store) -> None:
    diligent(store)
    # scored two hours into the case: nothing published yet
    opened = store.alerts()[0].alert.created_at + timedelta(minutes=40)
    early = score_drill(store, report(), now=opened + timedelta(hours=1))
    assert early.component("timeliness").status == "未发布"
    assert "response" not in [e.kind for e in early.timeline]


def test_score_command_writes_json_and_html(store: Store, tmp_path: Path) -> None:
    diligent(store)
    report_json = tmp_path / "report.json"
    report_json.write_text(json.dumps(report().as_dict(), ensure_ascii=False), encoding="utf-8")
    html, out_json, out = tmp_path / "score.html", tmp_path / "score.json", io.StringIO()
    store.close()
    url = f"sqlite:///{tmp_path / 'drill.db'}"
    assert score_command(url, report_json, html, out_json, out=out) == 0
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["max_total"] == 100 and len(data["components"]) == 5
    page = html.read_text(encoding="utf-8")
    for label in ("确认预警", "立案", "首次通报时效", "通报质量", "提交简报", "时间线"):
        assert label in page
    assert "得分" in out.getvalue()
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(UsageError, match="not JSON"):
        score_command(url, broken, None, None, out=out)


def test_score_uses_the_cases_first_statement_settings(store: Store, tmp_path: Path) -> None:
    """``yuqing drill score`` reads ``[cases] first_statement``: the diligent trainee's
    statement, 2 hours after opening a level III case, is on time by default (4 hours) and
    late when the settings allow 1 hour."""
    from typer.testing import CliRunner

    from yuqing.cli import app

    diligent(store)
    store.close()
    url = f"sqlite:///{tmp_path / 'drill.db'}"
    report_json = tmp_path / "report.json"
    report_json.write_text(json.dumps(report().as_dict(), ensure_ascii=False), encoding="utf-8")
    config = tmp_path / "yuqing.toml"
    config.write_text('[cases.first_statement]\nIII = "1h"\n', encoding="utf-8")
    scored = {}
    for name, args in (("default", []), ("strict", ["--config", str(config)])):
        out_json = tmp_path / f"{name}.json"
        command = [
            *args,
            "--store",
            url,
            "drill",
            "score",
            str(report_json),
            "--json",
            str(out_json),
        ]
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, (result.output, result.exception)
        data = json.loads(out_json.read_text(encoding="utf-8"))
        scored[name] = {c["key"]: c for c in data["components"]}
    assert scored["default"]["timeliness"]["status"] == "按时"
    assert scored["strict"]["timeliness"]["status"] == "超时"
