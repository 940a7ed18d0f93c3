"""First-statement deadlines, overdue cases and items, timeliness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.cases import (
    Case,
    DeadlinePolicy,
    first_statement_due,
    new_case,
    overdue,
    overdue_items,
    shipped_plans,
    timeliness,
    timeliness_report,
)
from yuqing.clock import ManualClock
from yuqing.errors import UsageError

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


def _case(
    clock: ManualClock, level: str, case_id: str = "c1", first: datetime | None = None
) -> Case:
    return new_case(
        "事件",
        level=level,
        level_reason="x",
        who="值班员",
        clock=clock,
        case_id=case_id,
        event_first_seen=first,
    )


@pytest.mark.parametrize(("level", "hours"), [("I", 1), ("II", 2), ("III", 4), ("IV", 24)])
def test_default_deadlines(level: str, hours: int) -> None:
    case = _case(ManualClock(T0), level)
    assert first_statement_due(case) == T0 + timedelta(hours=hours)


def test_configurable_and_from_first_post() -> None:
    clock = ManualClock(T0)
    case = _case(clock, "II", first=T0 - timedelta(minutes=90))
    policy = DeadlinePolicy.from_hours({"II": 3})
    assert first_statement_due(case, policy) == T0 + timedelta(hours=3)
    from_post = DeadlinePolicy.from_hours({"II": 3}, start="first_post")
    assert first_statement_due(case, from_post) == T0 + timedelta(minutes=90)
    no_event = _case(clock, "II", case_id="c2")
    with pytest.raises(UsageError, match="no event first-post time"):
        first_statement_due(no_event, from_post)
    with pytest.raises(UsageError, match="positive"):
        DeadlinePolicy.from_hours({"I": 0})
    with pytest.raises(UsageError, match="unknown case level"):
        DeadlinePolicy.from_hours({"V": 1})


def test_overdue_follows_the_clock() -> None:
    clock = ManualClock(T0)
    case = _case(clock, "I")
    clock.advance(timedelta(minutes=59))
    assert not overdue(case, clock.now())
    clock.advance(timedelta(minutes=2))
    assert overdue(case, clock.now())
    statement = case.add_statement("通报", who="张三", clock=clock)
    case.publish_statement(statement.id, who="张三", clock=clock)
    assert not overdue(case, clock.now())  # late, but no longer overdue
    t = timeliness(case, clock.now())
    assert t.status == "late" and t.margin_minutes == -1.0 and t.minutes_late == 1.0
    assert "超时 1 分钟" in t.summary
    with pytest.raises(UsageError, match="timezone-aware"):
        overdue(case, datetime(2026, 3, 5))  # noqa: DTZ001


def test_overdue_items() -> None:
    clock = ManualClock(T0)
    case = _case(clock, "III")
    case.attach_plan(shipped_plans()["food-safety"], who="张三", clock=clock)
    clock.advance(timedelta(minutes=45))
    assert [i.item_id for i in overdue_items(case, clock.now())] == ["verify"]
    case.tick("verify", who="张三", clock=clock)
    assert overdue_items(case, clock.now()) == []
    clock.advance(timedelta(minutes=30))
    assert {i.item_id for i in overdue_items(case, clock.now())} == {"treatment", "seal"}


def test_timeliness_report() -> None:
    clock = ManualClock(T0)
    early = _case(clock, "II", "early")
    late = _case(clock, "I", "late")
    pending = _case(clock, "IV", "pending")
    waiting = _case(clock, "III", "overdue")
    clock.advance(timedelta(minutes=35))
    s = early.add_statement("通报", who="a", clock=clock)
    early.publish_statement(s.id, who="a", clock=clock)
    clock.advance(timedelta(hours=4, minutes=30))
    s = late.add_statement("通报", who="a", clock=clock)
    late.publish_statement(s.id, who="a", clock=clock, at=T0 + timedelta(minutes=80))
    report = timeliness_report([early, late, pending, waiting], clock.now())
    assert [(t.case_id, t.status) for t in report] == [
        ("overdue", "overdue"),
        ("pending", "pending"),
        ("late", "late"),
        ("early", "on_time"),
    ]
    by_id = {t.case_id: t for t in report}
    assert by_id["early"].minutes_early == 85 and by_id["early"].published_at == T0 + timedelta(
        minutes=35
    )
    assert "提前 1 小时 25 分钟" in by_id["early"].summary
    assert by_id["late"].minutes_late == 20
    assert by_id["overdue"].margin_minutes == -65 and "超过时限" in by_id["overdue"].summary
    assert by_id["pending"].status == "pending" and "还有" in by_id["pending"].summary
