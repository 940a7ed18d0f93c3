"""Contract tests of cases in the store (every backend): the whole case as
``Case.as_dict()`` round-trips, lists filter and sort, stale copies are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.cases import STATUSES, Case, new_case, shipped_plans
from yuqing.clock import ManualClock
from yuqing.errors import StoreError
from yuqing.store.base import CASE_STATUSES, Store, StoreConflictError

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


def make_case(clock: ManualClock, n: int, **kw: Any) -> Case:
    return new_case(
        f"食堂事件 {n}",
        level=kw.pop("level", "III"),
        level_reason="手工立案",
        who="张三",
        clock=clock,
        case_id=f"case-{n}",
        **kw,
    )


def test_save_and_get_round_trip_the_whole_case(store: Store) -> None:
    clock = ManualClock(T0)
    case = make_case(clock, 1, event_id="ev-1", owner="宣传部")
    case.attach_plan(shipped_plans()["food-safety"], who="张三", clock=clock)
    clock.advance(timedelta(minutes=5))
    case.tick(case.checklist[0].key, who="李四", clock=clock, note="已核实")
    case.add_statement("关于某事的情况通报", who="张三", clock=clock)
    assert store.save_case(case.as_dict()) is True
    stored = store.get_case("case-1")
    assert stored is not None
    assert Case.from_dict(stored) == case
    assert json.loads(json.dumps(stored)) == case.as_dict()
    assert store.get_case("case-9") is None


def test_update_is_accepted_when_read_from_the_stored_copy(store: Store) -> None:
    clock = ManualClock(T0)
    case = make_case(clock, 1)
    store.save_case(case.as_dict())
    again = Case.from_dict(store.get_case("case-1") or {})
    clock.advance(timedelta(minutes=1))
    again.transition("assessing", who="李四", clock=clock)
    assert store.save_case(again.as_dict()) is False
    assert (store.get_case("case-1") or {})["status"] == "assessing"
    assert store.save_case(again.as_dict()) is False  # saving the same copy twice is fine


def test_lost_update_is_refused_and_nothing_is_written(store: Store) -> None:
    clock = ManualClock(T0)
    store.save_case(make_case(clock, 1).as_dict())
    first = Case.from_dict(store.get_case("case-1") or {})
    second = Case.from_dict(store.get_case("case-1") or {})
    clock.advance(timedelta(minutes=1))
    first.transition("assessing", who="甲", clock=clock)
    store.save_case(first.as_dict())
    second.set_owner("乙的部门", who="乙", clock=clock)  # read before first was saved
    with pytest.raises(StoreConflictError, match=r"case-1 was changed.*status by 甲"):
        store.save_case(second.as_dict())
    kept = Case.from_dict(store.get_case("case-1") or {})
    assert kept.status == "assessing" and kept.owner is None
    older = make_case(ManualClock(T0), 1).as_dict()  # an older copy: fewer actions
    with pytest.raises(StoreConflictError):
        store.save_case(older)
    assert isinstance(StoreConflictError("x"), StoreError)


def test_store_statuses_are_the_case_statuses() -> None:
    assert CASE_STATUSES == STATUSES


def test_cases_filter_by_status_event_alert_newest_first(store: Store) -> None:
    clock = ManualClock(T0)
    for n in range(1, 6):
        clock.advance(timedelta(hours=1))
        case = make_case(clock, n, event_id="ev-a" if n % 2 else "ev-b", alert_id=f"al-{n}")
        if n == 3:
            case.transition("assessing", who="张三", clock=clock)
        store.save_case(case.as_dict())
    assert [c["id"] for c in store.cases()] == [f"case-{n}" for n in (5, 4, 3, 2, 1)]
    assert [c["id"] for c in store.cases(limit=2)] == ["case-5", "case-4"]
    assert [c["id"] for c in store.cases(status="assessing")] == ["case-3"]
    assert [c["id"] for c in store.cases(status="new", event_id="ev-a")] == ["case-5", "case-1"]
    assert [c["id"] for c in store.cases(alert_id="al-2")] == ["case-2"]
    assert store.cases(event_id="ev-none") == []
    with pytest.raises(StoreError, match="status 'open'"):
        store.cases(status="open")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("id"), "no 'id'"),
        (lambda d: d.update(level="V"), "level 'V'"),
        (lambda d: d.update(status="done"), "status 'done'"),
        (lambda d: d.update(opened_at="2026-03-05T04:00:00"), "no time zone"),
        (lambda d: d.update(opened_at="soon"), "not an ISO 8601 time"),
        (lambda d: d.update(title=""), "no 'title'"),
    ],
)
def test_broken_records_are_refused(store: Store, change: Any, message: str) -> None:
    data = make_case(ManualClock(T0), 1).as_dict()
    change(data)
    with pytest.raises(StoreError, match=message):
        store.save_case(data)
    assert store.cases() == []
