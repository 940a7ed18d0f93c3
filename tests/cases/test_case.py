"""Case status flow, action log, checklist, statements and the repository."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.cases import (
    TRANSITIONS,
    Case,
    CaseError,
    CaseNotFoundError,
    CaseRepository,
    CaseTransitionError,
    ClosedCaseError,
    InMemoryCaseRepository,
    new_case,
    shipped_plans,
)
from yuqing.clock import ManualClock
from yuqing.errors import UsageError

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def case(clock: ManualClock) -> Case:
    return new_case(
        "某某中学食堂学生身体不适",
        level="III",
        level_reason="手工立案",
        who="张三",
        clock=clock,
        case_id="case-1",
        event_id="ev-1",
        departments=["区教育局", "区市场监管局", "区教育局"],
    )


def test_new_case_logs_opening(case: Case) -> None:
    assert case.status == "new"
    assert case.opened_at == T0
    assert case.departments == ["区教育局", "区市场监管局"]
    [action] = case.actions
    assert (action.at, action.who, action.kind) == (T0, "张三", "opened")
    assert "事件 ev-1" in action.what and "III（较大）" in action.what


def test_full_status_flow_is_logged(case: Case, clock: ManualClock) -> None:
    for status in ("assessing", "responding", "monitoring", "responding", "monitoring", "closed"):
        clock.advance(timedelta(minutes=10))
        case.transition(status, who="李四", clock=clock)
        assert case.status == status
        assert case.actions[-1].at == clock.now()
        assert case.actions[-1].details["after"] == status
    assert case.closed_at == clock.now()
    assert [a.kind for a in case.actions].count("status") == 6


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), "responding"),
        ((), "monitoring"),
        (("assessing",), "monitoring"),
        (("assessing", "responding"), "closed"),
        (("assessing", "responding"), "new"),
        (("closed",), "assessing"),
        ((), "archived"),
    ],
)
def test_invalid_transitions_raise(
    case: Case, clock: ManualClock, path: tuple[str, ...], bad: str
) -> None:
    for status in path:
        case.transition(status, who="李四", clock=clock)
    before = (case.status, len(case.actions))
    with pytest.raises(CaseTransitionError) as info:
        case.transition(bad, who="李四", clock=clock)
    assert isinstance(info.value, UsageError)
    assert case.id in str(info.value) and bad in str(info.value)
    assert (case.status, len(case.actions)) == before  # nothing changed


def test_every_status_has_transitions() -> None:
    assert set(TRANSITIONS) == {"new", "assessing", "responding", "monitoring", "closed"}


def test_level_change_needs_reason_and_is_logged(case: Case, clock: ManualClock) -> None:
    with pytest.raises(CaseError, match="reason"):
        case.change_level("II", reason="  ", who="王五", clock=clock)
    clock.advance(timedelta(minutes=5))
    case.change_level("2", reason="出现人员伤亡", who="王五", clock=clock)
    assert case.level == "II" and case.level_reason == "出现人员伤亡"
    action = case.actions[-1]
    assert action.kind == "level" and action.who == "王五" and action.at == clock.now()
    assert action.details == {"before": "III", "after": "II", "reason": "出现人员伤亡"}
    with pytest.raises(UsageError, match="unknown case level"):
        case.change_level("V", reason="x", who="王五", clock=clock)


def test_plan_ticks_are_logged(case: Case, clock: ManualClock) -> None:
    plan = shipped_plans()["food-safety"]
    case.attach_plan(plan, who="张三", clock=clock)
    assert len(case.checklist) == len(plan.items)
    assert case.checklist[0].due_at == T0 + timedelta(minutes=30)
    with pytest.raises(CaseError, match="already attached"):
        case.attach_plan(plan, who="张三", clock=clock)
    clock.advance(timedelta(minutes=20))
    item = case.tick("seal", who="赵六", clock=clock, note="留样 12 份")
    assert (item.done_at, item.done_by) == (clock.now(), "赵六")
    assert (
        case.actions[-1].kind == "tick" and case.actions[-1].details["item"] == "food-safety/seal"
    )
    with pytest.raises(CaseError, match="already done"):
        case.tick("food-safety/seal", who="赵六", clock=clock)
    with pytest.raises(CaseError, match="no checklist item"):
        case.tick("nope", who="赵六", clock=clock)
    case.untick("seal", who="赵六", clock=clock, reason="误操作")
    assert case.checklist_item("seal").done_at is None
    assert case.actions[-1].kind == "untick"


def test_item_in_two_plans_must_be_named(case: Case, clock: ManualClock) -> None:
    plans = shipped_plans()
    case.attach_plan(plans["food-safety"], who="张三", clock=clock)
    case.attach_plan(plans["school-safety"], who="张三", clock=clock)
    with pytest.raises(CaseError, match="several plans"):
        case.tick("verify", who="张三", clock=clock)
    assert case.tick("school-safety/verify", who="张三", clock=clock).plan_id == "school-safety"


def test_statements_and_closed_case(case: Case, clock: ManualClock) -> None:
    draft = case.add_statement("情况通报……", who="张三", clock=clock)
    clock.advance(timedelta(hours=1))
    case.publish_statement(draft.id, who="张三", clock=clock, channel="官方微博")
    assert case.first_published_at == clock.now()
    with pytest.raises(CaseError, match="already published"):
        case.publish_statement(draft.id, who="张三", clock=clock)
    with pytest.raises(CaseError, match="future"):
        later = case.add_statement("续报", who="张三", clock=clock)
        case.publish_statement(later.id, who="张三", clock=clock, at=clock.now() + timedelta(1))
    case.transition("assessing", who="张三", clock=clock)
    case.transition("closed", who="张三", clock=clock, note="误报")
    snapshot = case.as_dict()
    for change in (
        lambda: case.add_statement("再次通报", who="张三", clock=clock),
        lambda: case.change_level("I", reason="x", who="张三", clock=clock),
        lambda: case.add_department("公安局", who="张三", clock=clock),
        lambda: case.set_owner("公安局", who="张三", clock=clock),
    ):
        with pytest.raises(ClosedCaseError, match="closed"):
            change()
    assert case.as_dict() == snapshot  # nothing lost, nothing changed
    case.note("结案后补记：家长已认可处理结果", who="张三", clock=clock)
    assert case.actions[-1].kind == "note"


def test_round_trip_and_repository(case: Case, clock: ManualClock) -> None:
    case.attach_plan(shipped_plans()["school-safety"], who="张三", clock=clock)
    case.tick("verify", who="张三", clock=clock)
    case.add_statement("通报", who="张三", clock=clock)
    assert Case.from_dict(json.loads(json.dumps(case.as_dict()))) == case

    repo = InMemoryCaseRepository()
    assert isinstance(repo, CaseRepository)
    repo.add_case(case)
    with pytest.raises(CaseError, match="already exists"):
        repo.add_case(case)
    case.transition("assessing", who="张三", clock=clock)  # not saved yet
    assert repo.get_case("case-1").status == "new"
    repo.update_case(case)
    assert repo.get_case("case-1").status == "assessing"
    clock.advance(timedelta(hours=1))
    other = new_case(
        "另一起", level="IV", level_reason="x", who="张三", clock=clock, case_id="case-2"
    )
    repo.add_case(other)
    assert [c.id for c in repo.list_cases()] == ["case-2", "case-1"]
    assert [c.id for c in repo.list_cases("assessing")] == ["case-1"]
    with pytest.raises(CaseNotFoundError, match="case-9"):
        repo.get_case("case-9")
    with pytest.raises(CaseNotFoundError):
        repo.update_case(new_case("x", level="IV", level_reason="", who="a", clock=clock))


def test_broken_record_is_a_clear_error() -> None:
    with pytest.raises(CaseError, match="case record 'c' is broken"):
        Case.from_dict({"id": "c", "title": "t", "level": "I"})


def test_naive_clock_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001
