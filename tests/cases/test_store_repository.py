"""StoreCaseRepository over a real SQLite store: the same behaviour as the in-memory
repository, plus the refusal of stale copies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.cases import (
    CaseError,
    CaseNotFoundError,
    CaseRepository,
    InMemoryCaseRepository,
    new_case,
    shipped_plans,
)
from yuqing.cases.repository import StoreCaseRepository
from yuqing.clock import ManualClock
from yuqing.store.base import Store, StoreConflictError
from yuqing.store.url import open_store

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'cases.db'}")
    yield opened
    opened.close()


@pytest.mark.parametrize("kind", ["memory", "store"])
def test_repository_behaves_like_the_in_memory_one(store: Store, kind: str) -> None:
    repo: CaseRepository = (
        InMemoryCaseRepository() if kind == "memory" else StoreCaseRepository(store)
    )
    assert isinstance(repo, CaseRepository)
    clock = ManualClock(T0)
    case = new_case(
        "食堂", level="III", level_reason="x", who="张三", clock=clock, case_id="case-1"
    )
    case.attach_plan(shipped_plans()["school-safety"], who="张三", clock=clock)
    repo.add_case(case)
    with pytest.raises(CaseError, match="already exists"):
        repo.add_case(case)
    case.transition("assessing", who="张三", clock=clock)  # not saved yet
    assert repo.get_case("case-1").status == "new"
    repo.update_case(case)
    assert repo.get_case("case-1") == case
    clock.advance(timedelta(hours=1))
    other = new_case(
        "另一起", level="IV", level_reason="x", who="张三", clock=clock, case_id="case-2"
    )
    repo.add_case(other)
    assert [c.id for c in repo.list_cases()] == ["case-2", "case-1"]
    assert [c.id for c in repo.list_cases("assessing")] == ["case-1"]
    with pytest.raises(CaseError, match="unknown status"):
        repo.list_cases("open")  # type: ignore[arg-type]
    with pytest.raises(CaseNotFoundError, match="case-9"):
        repo.get_case("case-9")
    with pytest.raises(CaseNotFoundError):
        repo.update_case(new_case("x", level="IV", level_reason="", who="a", clock=clock))


def test_store_repository_refuses_a_stale_copy(store: Store) -> None:
    repo = StoreCaseRepository(store)
    clock = ManualClock(T0)
    repo.add_case(
        new_case("食堂", level="II", level_reason="x", who="甲", clock=clock, case_id="c")
    )
    mine, theirs = repo.get_case("c"), repo.get_case("c")
    mine.set_owner("教育局", who="甲", clock=clock)
    repo.update_case(mine)
    theirs.set_owner("宣传部", who="乙", clock=clock)
    with pytest.raises(StoreConflictError, match="changed since this copy was read"):
        repo.update_case(theirs)
    assert repo.get_case("c").owner == "教育局"
    assert [c.id for c in repo.list_cases(event_id=None, limit=1)] == ["c"]
