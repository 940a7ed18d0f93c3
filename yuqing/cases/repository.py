"""Where cases are kept: the :class:`CaseRepository` protocol, an in-memory one and
one over the store.

:class:`StoreCaseRepository` keeps a case in the store (``Store.save_case``: the JSON of
:meth:`Case.as_dict` beside indexed columns; a stale copy is refused with
:class:`~yuqing.store.base.StoreConflictError`). :class:`InMemoryCaseRepository` keeps
copies, never the caller's object, so that it behaves like a real store: a change counts
only once it is saved with :meth:`update_case`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from yuqing.cases.case import STATUSES, Case, CaseError, CaseNotFoundError, CaseStatus

if TYPE_CHECKING:
    from yuqing.store.base import Store

__all__ = ["CaseRepository", "InMemoryCaseRepository", "StoreCaseRepository"]


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
        _check_status(status)
        cases = [Case.from_dict(d) for d in self._cases.values()]
        if status is not None:
            cases = [c for c in cases if c.status == status]
        return sorted(cases, key=lambda c: (c.opened_at, c.id), reverse=True)


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise CaseError(f"unknown status {status!r}; statuses are {', '.join(STATUSES)}")


class StoreCaseRepository:
    """A :class:`CaseRepository` over a :class:`~yuqing.store.base.Store` (one table of
    cases). ``update_case`` of a copy that someone else changed and saved since it was
    read raises :class:`~yuqing.store.base.StoreConflictError` and writes nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add_case(self, case: Case) -> None:
        if self.store.get_case(case.id) is not None:
            raise CaseError(f"case {case.id} already exists; use update_case to change it")
        self.store.save_case(case.as_dict())

    def get_case(self, case_id: str) -> Case:
        data = self.store.get_case(case_id)
        if data is None:
            raise CaseNotFoundError(f"no case {case_id!r}: list the cases to see their ids")
        return Case.from_dict(data)

    def update_case(self, case: Case) -> None:
        if self.store.get_case(case.id) is None:
            raise CaseNotFoundError(f"no case {case.id!r} to update: add it first")
        self.store.save_case(case.as_dict())

    def list_cases(
        self,
        status: CaseStatus | None = None,
        *,
        event_id: str | None = None,
        alert_id: str | None = None,
        limit: int = 500,
    ) -> list[Case]:
        """Cases, newest opened first (at most ``limit``), optionally only those with
        ``status``, of one event or of one alert."""
        _check_status(status)
        found = self.store.cases(status=status, event_id=event_id, alert_id=alert_id, limit=limit)
        return [Case.from_dict(d) for d in found]
