"""Where cases are kept: the :class:`CaseRepository` protocol and an in-memory one.

The store (SQLite/PostgreSQL) implements the same four verbs later; it can keep a case
as the JSON of :meth:`Case.as_dict` beside a few indexed columns (id, status, level,
event_id, opened_at). :class:`InMemoryCaseRepository` keeps copies, never the caller's
object, so that it behaves like a real store: a change counts only once it is saved
with :meth:`update_case`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from yuqing.cases.case import STATUSES, Case, CaseError, CaseNotFoundError, CaseStatus

__all__ = ["CaseRepository", "InMemoryCaseRepository"]


@runtime_checkable
class CaseRepository(Protocol):
    """The verbs that cases need from a store."""

    def add_case(self, case: Case) -> None:
        """Store a new case; an existing id raises CaseError."""
        ...

    def get_case(self, case_id: str) -> Case:
        """The case with this id; raises CaseNotFoundError."""
        ...

    def update_case(self, case: Case) -> None:
        """Save a changed case; an unknown id raises CaseNotFoundError."""
        ...

    def list_cases(self, status: CaseStatus | None = None) -> list[Case]:
        """Cases, newest opened first, optionally only those with ``status``."""
        ...


class InMemoryCaseRepository:
    """A :class:`CaseRepository` in a dict, for tests and embedded use without a store."""

    def __init__(self) -> None:
        self._cases: dict[str, dict[str, object]] = {}

    def add_case(self, case: Case) -> None:
        if case.id in self._cases:
            raise CaseError(f"case {case.id} already exists; use update_case to change it")
        self._cases[case.id] = case.as_dict()

    def get_case(self, case_id: str) -> Case:
        data = self._cases.get(case_id)
        if data is None:
            raise CaseNotFoundError(f"no case {case_id!r}: list the cases to see their ids")
        return Case.from_dict(data)

    def update_case(self, case: Case) -> None:
        if case.id not in self._cases:
            raise CaseNotFoundError(f"no case {case.id!r} to update: add it first")
        self._cases[case.id] = case.as_dict()

    def list_cases(self, status: CaseStatus | None = None) -> list[Case]:
        if status is not None and status not in STATUSES:
            raise CaseError(f"unknown status {status!r}; statuses are {', '.join(STATUSES)}")
        cases = [Case.from_dict(d) for d in self._cases.values()]
        if status is not None:
            cases = [c for c in cases if c.status == status]
        return sorted(cases, key=lambda c: (c.opened_at, c.id), reverse=True)
