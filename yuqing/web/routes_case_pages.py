"""The 案件 pages: the list of cases (level, status, owner, deadline, overdue, timeliness)
and one case (event link, level with its reason, status buttons, plan checklist with ticks,
action log, the statement editor with a live four-principle check, publish, the effect
summary). Simplified by default, 繁體 through ``?lang=zh-Hant``.

Pages read openly, as the other pages do; every change goes through the REST API
(``/api/v1/cases/...``) with the API token that the page keeps in the tab's
``sessionStorage`` (static/cases.js). The one page data endpoint, ``POST
/cases/{id}/check``, is a read: it checks a text as one types and changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from yuqing.cases import (
    LEVEL_LABELS,
    LEVELS,
    STATUS_LABELS,
    STATUSES,
    CaseNotFoundError,
    check_statement,
)
from yuqing.cases.repository import StoreCaseRepository
from yuqing.privacy.scope import request_scope
from yuqing.web import cases_view
from yuqing.web.auth import reads
from yuqing.web.deps import ApiError, WebState
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_cases import policy
from yuqing.web.routes_pages import error_page, render

router = APIRouter(include_in_schema=False)
LIST_SIZE = 200
JS_TEXT = (
    "当前账号无权执行此操作",
    "请先登录",
    "令牌无效或无权限",
    "操作失败",
    "检查中",
    "通过",
    "未通过",
    "四项原则全部通过",
    "请先输入通报内容",
    "已保存草稿",
    "确定发布这份通报",
    "请填写调整理由",
)


class CheckBody(BaseModel):
    text: str = Field(max_length=20_000)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def _translator(request: Request) -> Translator:
    return Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))


def _labels(tr: Translator) -> dict[str, Any]:
    return {
        "text": {s: tr.t(s) for s in JS_TEXT},
        "status": {k: tr.t(v) for k, v in STATUS_LABELS.items()},
    }


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, status: str = "") -> Response:
    state = _state(request)
    tr = _translator(request)
    chosen = status if status in STATUSES else None
    now = state.clock.now()
    scope = request_scope(request)
    with state.store() as store:
        found = StoreCaseRepository(store).list_cases(
            status=chosen,
            limit=5000 if scope.restricted else LIST_SIZE,
        )
    found = [c for c in found if scope.sees_case(c)][:LIST_SIZE]
    rows = [cases_view.case_dict(c, now, state.settings.zone, policy(state)) for c in found]
    return render(
        request,
        "cases.html",
        cases=rows,
        status_filter=chosen or "",
        statuses=STATUS_LABELS,
        level_labels=LEVEL_LABELS,
        labels=_labels(tr),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str) -> Response:
    state = _state(request)
    tr = _translator(request)
    now = state.clock.now()
    effect: dict[str, Any] | None = None
    effect_error = ""
    with state.store() as store:
        try:
            case = StoreCaseRepository(store).get_case(case_id)
            if not request_scope(request).sees_case(case):  # another department's
                raise CaseNotFoundError(case_id)
        except CaseNotFoundError:
            return error_page(request, 404, tr.t("没有这个案件") + f"：{case_id}")
        if case.event_id and case.first_published_at is not None:
            try:
                effect = cases_view.effect_dict(
                    cases_view.case_effect(store, case, now), state.settings.zone
                )
            except ApiError as exc:
                effect_error = exc.message
    view = cases_view.case_dict(case, now, state.settings.zone, policy(state))
    plans = cases_view.plans()
    return render(
        request,
        "case.html",
        case=view,
        plans=[p for p in plans.values() if p.id not in case.plan_ids],
        plan_names={p.id: p.name for p in plans.values()},
        levels=LEVELS,
        level_labels=LEVEL_LABELS,
        statuses=STATUS_LABELS,
        effect=effect,
        effect_error=effect_error,
        labels=_labels(tr),
    )


@router.post("/cases/{case_id}/check")
@reads  # changes nothing: viewers may check a text too
def case_check(request: Request, case_id: str, body: CheckBody) -> Response:
    """The four-principle check of a text for the statement editor (changes nothing)."""
    state = _state(request)
    with state.store() as store:
        try:
            case = StoreCaseRepository(store).get_case(case_id)
            if not request_scope(request).sees_case(case):  # another department's
                raise CaseNotFoundError(f"no case {case_id!r}: list the cases to see their ids")
        except CaseNotFoundError as exc:
            error = ApiError(404, "not_found", str(exc))
            return JSONResponse(error.body(), status_code=error.status)
    found = check_statement(body.text, case=case, now=state.clock.now(), policy=policy(state))
    return JSONResponse({"ok": True, "check": cases_view.check_dict(found)})
