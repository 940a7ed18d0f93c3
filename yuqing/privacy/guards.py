"""Data-scope checks for the web routes of plans, cases and alerts
(:mod:`yuqing.privacy.scope`, :mod:`yuqing.privacy.alert_scope`): one call per route,
answering what a scoped user may not see as 404, as if it did not exist, and refusing to
give another department's name to what it creates (403)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from yuqing.privacy.alert_scope import AlertVisibility
from yuqing.privacy.scope import Scope, request_scope
from yuqing.web.deps import ApiError, WebState

if TYPE_CHECKING:
    from fastapi import Request


def case_not_found(case_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no case {case_id!r}: list the cases to see their ids")


def plan_not_found(plan_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no plan {plan_id!r}")


def alert_not_found(alert_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no alert {alert_id!r} in the store")


def guard_alert(request: Request, state: WebState, alert_id: str) -> None:
    """404 when ``alert_id`` names a stored alert outside the principal's scope."""
    scope = request_scope(request)
    if not scope.restricted:
        return
    with state.store() as store:
        stored = store.get_alert(alert_id)
        if stored is not None and not AlertVisibility(scope, store).sees(stored):
            raise alert_not_found(alert_id)


def guard_case(request: Request, state: WebState) -> None:
    """404 when the route's ``case_id`` names a case outside the principal's scope."""
    case_id = request.path_params.get("case_id")
    scope = request_scope(request)
    if case_id is None or not scope.restricted:
        return
    with state.store() as store:
        data = store.get_case(str(case_id))
    if data is not None and not scope.sees_case(data):
        raise case_not_found(str(case_id))


def guard_plan(request: Request, state: WebState, plan_id: str) -> None:
    """404 when ``plan_id`` names a stored plan outside the principal's scope."""
    scope = request_scope(request)
    if not scope.restricted:
        return
    with state.store() as store:
        data = store.get_plan(plan_id)
    if data is not None and not scope.sees_plan(data):
        raise plan_not_found(plan_id)


def scoped_plan_body(request: Request, body: Any) -> Any:
    """A plan body as a scoped user may save it: without a department it gets the user's;
    with another department it is refused (403)."""
    scope: Scope = request_scope(request)
    if not scope.restricted or not isinstance(body, dict):
        return body
    department = body.get("department")
    if department is None or not str(department).strip():
        return {**body, "department": scope.department}
    if not scope.sees([department]):
        raise ApiError(
            403,
            "out_of_scope",
            f"department {department!r}: you may only save plans of {scope.department!r}",
        )
    return body
