"""The level suggestion table and opening a case from an event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.cases import (
    LevelTable,
    aggregate_risk,
    open_case_from_event,
    parse_level,
    suggest_level,
)
from yuqing.clock import ManualClock
from yuqing.errors import UsageError
from yuqing.events.heat import EventStats, heat
from yuqing.models import Document


@pytest.mark.parametrize(
    ("heat_score", "rumor", "group", "level"),
    [
        (90.0, 0.0, 0.0, "I"),
        (85.0, 0.0, 0.0, "I"),
        (84.9, 0.0, 0.0, "II"),
        (70.0, 0.0, 0.0, "II"),
        (55.0, 0.0, 0.0, "III"),
        (49.9, 0.0, 0.0, "IV"),
        (10.0, 0.0, 0.7, "III"),  # a call to gather raises one level
        (10.0, 0.65, 0.0, "III"),  # a likely rumour raises one level
        (10.0, 0.9, 0.9, "II"),  # both: two levels
        (75.0, 0.0, 0.8, "I"),
        (95.0, 0.9, 0.9, "I"),  # never above I
        (50.0, 0.59, 0.59, "III"),  # just under the risk thresholds
    ],
)
def test_table(heat_score: float, rumor: float, group: float, level: str) -> None:
    suggestion = suggest_level(heat_score, {"rumor": rumor, "group_incident": group})
    assert suggestion.level == level
    assert "热度指数" in suggestion.reason and f"建议级别：{level}" in suggestion.reason


def test_reason_names_the_raise() -> None:
    reason = suggest_level(60.0, {"rumor": 0.1, "group_incident": 0.72}).reason
    assert "群体性事件风险 0.72 ≥ 0.60，上调一级至 II（重大）" in reason
    assert "谣言风险 0.10 < 0.60，不调整" in reason


def test_missing_or_junk_risk_counts_as_zero() -> None:
    assert suggest_level(20.0, None).level == "IV"
    assert "热度指数 20.0 < 50，基础级别 IV（一般）" in suggest_level(20.0, None).reason
    assert suggest_level(20.0, {"rumor": "high", "group_incident": float("nan")}).level == "IV"


def test_custom_table_and_bad_tables() -> None:
    table = LevelTable(heat_thresholds=(50, 30, 10))
    assert suggest_level(31, {}, table).level == "II"
    with pytest.raises(UsageError):
        LevelTable(heat_thresholds=(30, 50, 10))
    with pytest.raises(UsageError):
        LevelTable(rumor_threshold=0)


@pytest.mark.parametrize(
    ("given", "level"), [("ii", "II"), (3, "III"), ("一般", "IV"), (" I ", "I")]
)
def test_parse_level(given: object, level: str) -> None:
    assert parse_level(given) == level


def _doc(i: int, rumor: float, group: float) -> Document:
    doc = Document(id=str(i), source="weibo", text="x")
    doc.analysis["risk"] = {"rumor": rumor, "group_incident": group, "type": "ordinary"}
    return doc


def test_aggregate_risk_is_mean_of_top_three() -> None:
    docs = [_doc(i, 0.1, 0.0) for i in range(50)] + [_doc(99, 0.9, 0.3)]
    docs.append(Document(id="no-analysis", source="weibo", text="y"))
    risk = aggregate_risk(docs)
    assert risk == {"rumor": pytest.approx((0.9 + 0.1 + 0.1) / 3, abs=1e-3), "group_incident": 0.1}
    assert aggregate_risk([]) == {"rumor": 0.0, "group_incident": 0.0}


def test_open_case_from_event() -> None:
    start = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    clock = ManualClock(start + timedelta(hours=3))
    stats = EventStats(
        posts=5000,
        reposts=20000,
        comments=8000,
        likes=40000,
        sources={"weibo": 4000, "news": 900, "gov.cn": 100},
        hourly=[100, 200, 1500, 3200],
        negative=3500,
        with_sentiment=5000,
        first_seen=start,
        last_seen=start + timedelta(hours=3),
    )
    risk = {"rumor": 0.2, "group_incident": 0.7}
    case = open_case_from_event(
        stats, risk, title="某地化工厂异味", who="值班员", clock=clock, event_id="ev-9"
    )
    expected = suggest_level(heat(stats).score, risk)
    assert case.level == expected.level and case.level_reason == expected.reason
    assert case.event_first_seen == start and case.opened_at == clock.now()
    assert case.event_id == "ev-9" and case.id.startswith("case-20260305-")
    assert case.actions[0].kind == "opened" and expected.reason in case.actions[0].what
