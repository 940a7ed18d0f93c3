"""Per-department data scope (数据范围): who sees which monitoring plans and cases.

- A user **with a department** who is not an admin is *scoped*: it sees the monitoring
  plans whose owner ``department`` is its own, and the cases whose departments include its
  own. A case's departments are its owner (牵头负责) and its joint-response departments
  (联动部门, ``Case.departments``). Plans and cases that name no department belong to no
  department, so only unscoped users see them.
- **Admins, users without a department and the service token** (``web.api_tokens``) see
  everything.

Departments compare as written, after trimming spaces (they are free text, set by an admin
with ``yuqing user set --department``). What a scoped user cannot see is answered as if it
did not exist (404), so ids of other departments' cases do not leak; lists are filtered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import Request

    from yuqing.cases import Case


def _clean(name: object) -> str:
    return str(name).strip() if name is not None else ""


@dataclass(frozen=True, slots=True)
class Scope:
    """What one principal may see: ``department`` None sees everything."""

    department: str | None = None

    @property
    def restricted(self) -> bool:
        return self.department is not None

    def sees(self, departments: Iterable[object]) -> bool:
        """Whether an item owned by ``departments`` is in scope."""
        if self.department is None:
            return True
        return any(_clean(d) == self.department for d in departments)

    def sees_plan(self, plan: Mapping[str, Any] | Any) -> bool:
        """A plan as stored (``Plan.as_dict()``) or a :class:`~yuqing.plans.plan.Plan`."""
        department = plan.get("department") if isinstance(plan, Mapping) else plan.department
        return self.sees([department])

    def sees_case(self, case: Case | Mapping[str, Any]) -> bool:
        """A :class:`~yuqing.cases.Case` or its ``as_dict()``."""
        return self.sees(case_departments(case))

    def own(self, departments: Iterable[str], owner: str | None = None) -> list[str]:
        """``departments`` with this scope's department added when neither they nor the
        ``owner`` name it: what a scoped user opens stays visible to it."""
        found = [d for d in departments if _clean(d)]
        if self.department is not None and not self.sees([owner, *found]):
            found.append(self.department)
        return found


EVERYTHING = Scope()


def case_departments(case: Case | Mapping[str, Any]) -> list[str]:
    """The departments a case belongs to: its owner and its joint-response departments."""
    if isinstance(case, Mapping):
        owner, departments = case.get("owner"), case.get("departments") or []
    else:
        owner, departments = case.owner, case.departments
    return [d for d in (_clean(x) for x in [owner, *departments]) if d]


def scope_for(role: str, department: str | None) -> Scope:
    """The scope of a user of this role and department (admins are never scoped)."""
    name = _clean(department)
    if role == "admin" or not name:
        return EVERYTHING
    return Scope(name)


def request_scope(request: Request) -> Scope:
    """The scope of the request's principal (set by :func:`yuqing.web.auth.authorize`);
    a request without one (a public route) is unscoped: public routes show no data."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return EVERYTHING
    return scope_for(principal.role, principal.department)
