"""The 辟谣/核实 claims page: every claim with its verdict, evidence link and how many recent
stored posts repeat it, and a form (analysts) that records a claim or marks a verdict with
its evidence link through ``POST /api/v1/claims`` and ``PUT /api/v1/claims/{id}``
(static/claims.js, the signed-in session with its CSRF header). Viewers see the list; the
form answers them 当前账号无权执行此操作. An event's claims are on the event page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from yuqing.rumors import VERDICT_LABELS, VERDICTS
from yuqing.rumors import verdicts as service
from yuqing.web import claims_view, views
from yuqing.web.deps import ApiError, WebState, web_state
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_pages import render

router = APIRouter(include_in_schema=False)
LIST_SIZE = 200
JS_TEXT = (
    "当前账号无权执行此操作",
    "请先登录",
    "操作失败",
    "已保存",
    "请填写说法",
    "判定为属实或不实时需填写证据链接",
)


def page_labels(request: Request) -> dict[str, Any]:
    """UI strings for the page scripts, in the page's script."""
    tr = Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))
    return {"text": {s: tr.t(s) for s in JS_TEXT}}


@router.get("/claims", response_class=HTMLResponse)
def claims_page(
    request: Request,
    verdict: str = "",
    event: str = "",
    days: Annotated[int, Query(ge=1, le=365)] = 7,
) -> Response:
    if verdict and verdict not in VERDICTS:
        raise ApiError(400, "bad_request", f"verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    state: WebState = web_state(request)
    with state.store() as store:
        found = service.list_claims(
            store, verdict=verdict or None, event_id=event or None, limit=LIST_SIZE
        )
        since = views.as_of(store) - timedelta(days=days)
        rows = claims_view.claim_rows(store, found, since)
    principal = getattr(request.state, "principal", None)
    return render(
        request,
        "claims.html",
        rows=rows,
        verdicts=VERDICT_LABELS,
        verdict_filter=verdict,
        event_filter=event,
        days=days,
        can_write=principal is not None and principal.allows("analyst"),
        labels=page_labels(request),
    )
