"""REST API v1 of monitoring plans (监测方案), the ``/plans`` page, and the serve poller.

- ``GET /api/v1/monitoring-plans``: the plans (``?department=``, ``?enabled=``), each with a health
  summary of its sources;
- ``POST /api/v1/monitoring-plans``: create one (201; 409 when the id is taken);
- ``GET /api/v1/monitoring-plans/{id}``, ``PUT`` (create or replace), ``DELETE``;
- ``GET /api/v1/monitoring-plans/{id}/health``: per-source poll state: last poll, status, HTTP
  status, failures in a row, next poll, last error, posts fetched.

The path is ``monitoring-plans`` because ``GET /api/v1/plans`` already lists the contingency
plans (预案) that cases attach (:mod:`yuqing.web.routes_cases`).

The body is the plan as JSON (docs/plans.md; the same keys as a plan YAML file). A plan
that does not check out is a 400 naming the field (``invalid_plan``); one that carries
something secret-looking (a password, a token, a robot URL with its key) is a 400
``secret_refused``: secrets live in the environment or the secrets file, plans name
channels by id. Authorization is the app's (reads need a viewer, writes an analyst);
nothing here checks tokens itself.

The router's lifespan starts the plans poller of ``yuqing serve``
(:class:`~yuqing.plans.runner.BackgroundPoller`, when ``[plans] poll_in_serve``), kept on
``app.state.plans_poller``; a saved plan wakes it, so a new plan's sources are polled at
once. The ``/plans`` page lives in :mod:`yuqing.web.routes_plan_pages` and is included here,
so that the app includes one router for all of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from yuqing.plans.errors import PlanError, PlanExistsError, PlanSecretError
from yuqing.plans.plan import Plan
from yuqing.plans.runner import BackgroundPoller, poller_of
from yuqing.plans.service import load_plan, plan_health, plan_view, save_plan
from yuqing.privacy.audit import record_request
from yuqing.privacy.guards import guard_plan, scoped_plan_body
from yuqing.privacy.scope import request_scope
from yuqing.store.base import Store
from yuqing.web.deps import ApiError, WebState
from yuqing.web.routes_api import ERRORS, State, Token
from yuqing.web.routes_plan_pages import router as pages

PLAN_EXAMPLE: dict[str, Any] = {
    "id": "campus-food",
    "name": "校园食品安全",
    "department": "市教育局宣传处",
    "regions": ["宁波市"],
    "notify": ["duty-robot"],
    "rules": [{"id": "canteen", "name": "食堂食品安全", "query": "食堂 AND (过期 OR 变质)"}],
    "sources": [{"kind": "rss", "url": "https://edu.example.org/feed.xml", "interval": "15m"}],
}
PlanBody = Annotated[
    dict[str, Any],
    Body(
        description="the plan: name, rules, sources, regions, notify (channel ids), "
        "enabled, department (docs/plans.md)",
        examples=[PLAN_EXAMPLE],
    ),
]


@asynccontextmanager
async def _poller(app: FastAPI) -> AsyncIterator[None]:
    web: WebState = app.state.web
    poller: BackgroundPoller | None = None
    if web.settings.plans.poll_in_serve:
        poller = BackgroundPoller(web.settings, web.clock)
        poller.start()
        app.state.plans_poller = poller
    try:
        yield
    finally:
        if poller is not None:
            await run_in_threadpool(poller.stop)
            app.state.plans_poller = None


router = APIRouter(lifespan=_poller)
api = APIRouter(prefix="/api/v1", tags=["plans"], responses=ERRORS)


def _plan_error(exc: PlanError) -> ApiError:
    if isinstance(exc, PlanSecretError):
        return ApiError(400, "secret_refused", str(exc), {"path": exc.path})
    if isinstance(exc, PlanExistsError):
        return ApiError(409, "plan_exists", str(exc))
    return ApiError(400, "invalid_plan", str(exc))


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["health"]] = counts.get(row["health"], 0) + 1
    return {"sources": len(rows), "by_health": counts}


@api.get("/monitoring-plans", summary="Monitoring plans, with a health summary of their sources")
def list_plans(
    request: Request,
    state: State,
    token: Token,
    department: Annotated[str | None, Query(description="only this owner department")] = None,
    enabled: Annotated[bool | None, Query(description="only enabled (or disabled) plans")] = None,
) -> dict[str, Any]:
    del token
    zone = state.settings.zone
    items: list[dict[str, Any]] = []
    scope = request_scope(request)
    with state.store() as store:
        for data in store.plans(enabled=enabled, department=department):
            if not scope.sees_plan(data):
                continue
            try:
                plan = load_plan(store, str(data["id"]), state.settings)
            except PlanError:
                continue
            if plan is None:
                continue
            view = plan_view(plan, zone)
            view["health"] = _summary(plan_health(plan, store.plan_source_states(plan.id), zone))
            items.append(view)
    return {"ok": True, "count": len(items), "items": items}


def _save(
    request: Request, state: WebState, body: Any, *, plan_id: str | None, create: bool
) -> tuple[dict[str, Any], bool]:
    try:
        with state.store() as store:
            plan, created = save_plan(
                store, body, state.settings, state.clock, plan_id=plan_id, create=create
            )
    except PlanError as exc:
        raise _plan_error(exc) from exc
    poller = poller_of(request.app.state)
    if poller is not None:
        poller.wake()
    return plan_view(plan, state.settings.zone), created


@api.post("/monitoring-plans", summary="Create a monitoring plan", status_code=201)
def create_plan(request: Request, state: State, token: Token, body: PlanBody) -> dict[str, Any]:
    del token
    body = scoped_plan_body(request, body)
    view, _ = _save(request, state, body, plan_id=None, create=True)
    return {"ok": True, "created": True, "plan": view}


@api.get("/monitoring-plans/{plan_id}", summary="One monitoring plan, with its sources' health")
def get_plan(request: Request, state: State, token: Token, plan_id: str) -> dict[str, Any]:
    del token
    guard_plan(request, state, plan_id)
    zone = state.settings.zone
    with state.store() as store:
        plan = _load(store, plan_id, state)
        health = plan_health(plan, store.plan_source_states(plan_id), zone)
    return {"ok": True, "plan": plan_view(plan, zone), "health": health}


@api.put("/monitoring-plans/{plan_id}", summary="Create or replace a monitoring plan")
def put_plan(
    request: Request,
    response: Response,
    state: State,
    token: Token,
    plan_id: str,
    body: PlanBody,
) -> dict[str, Any]:
    del token
    guard_plan(request, state, plan_id)
    body = scoped_plan_body(request, body)
    view, created = _save(request, state, body, plan_id=plan_id, create=False)
    response.status_code = 201 if created else 200
    return {"ok": True, "created": created, "plan": view}


@api.delete("/monitoring-plans/{plan_id}", summary="Delete a monitoring plan and its poll state")
def delete_plan(request: Request, state: State, token: Token, plan_id: str) -> dict[str, Any]:
    del token
    guard_plan(request, state, plan_id)
    with state.store() as store:
        deleted = store.delete_plan(plan_id)
        if deleted:
            record_request(request, "plan_delete", target=plan_id, store=store)
    if not deleted:
        raise ApiError(404, "not_found", f"no plan {plan_id!r}")
    return {"ok": True, "deleted": plan_id}


@api.get("/monitoring-plans/{plan_id}/health", summary="Poll health of each source of a plan")
def plan_sources_health(
    request: Request, state: State, token: Token, plan_id: str
) -> dict[str, Any]:
    del token
    guard_plan(request, state, plan_id)
    zone = state.settings.zone
    with state.store() as store:
        plan = _load(store, plan_id, state)
        rows = plan_health(plan, store.plan_source_states(plan_id), zone)
    poller = poller_of(request.app.state)
    return {
        "ok": True,
        "plan_id": plan_id,
        "enabled": plan.enabled,
        "sources": rows,
        "summary": _summary(rows),
        "poller": {
            "running": poller is not None,
            "last_error": poller.last_error if poller is not None else None,
        },
    }


def _load(store: Store, plan_id: str, state: WebState) -> Plan:
    try:
        plan = load_plan(store, plan_id, state.settings)
    except PlanError as exc:
        raise ApiError(
            500, "broken_plan", f"plan {plan_id!r} is stored but unreadable: {exc}"
        ) from exc
    if plan is None:
        raise ApiError(404, "not_found", f"no plan {plan_id!r}")
    return plan


router.include_router(api)
router.include_router(pages)
