"""The 预警 alerts inbox, one alert, and the 规则 rules page (Simplified by default, 繁體
through ``?lang=zh-Hant``), plus the two page data endpoints their scripts read.

Like every page they need a signed-in user (yuqing/web/auth.py): viewers read,
acknowledging an alert or saving a rule goes through the REST API with the session (and its
CSRF header) or an API token, and needs an analyst. The page data endpoints are reads:
``/alerts/stream`` (server-sent events, as ``/api/v1/alerts/stream``; an ``EventSource``
cannot send a token) and ``/rules/preview`` (syntax check and matches, as
``POST /api/v1/rules/test``). The inbox, the stream and one alert follow the signed-in
user's department scope (:mod:`yuqing.privacy.alert_scope`): another department's alert
is left out of the inbox and the stream and answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from yuqing.alerts.alert import KIND_LABELS, SEVERITY_LABELS
from yuqing.alerts.rule_syntax import RuleSyntaxError
from yuqing.privacy.alert_scope import AlertVisibility, visible_alerts
from yuqing.privacy.scope import request_scope
from yuqing.store.base import ALERT_STATUSES, AlertStatus
from yuqing.web import alerts_view
from yuqing.web.deps import WebState, error_body
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_pages import error_page, render

router = APIRouter(include_in_schema=False)
INBOX_SIZE = 100
STATUS_FILTERS = {"": "全部", "new": "未确认", "acknowledged": "已确认", "false_alarm": "误报"}
JS_TEXT = (
    "确认",
    "已确认",
    "规则",
    "查看事件",
    "原因",
    "样本帖文",
    "合并",
    "次",
    "当前账号无权执行此操作",
    "请先登录",
    "令牌无效或无权限",
    "操作失败",
    "语法正确",
    "匹配",
    "条，已检查最近",
    "条帖文",
    "文本命中",
    "文本未命中",
    "已保存",
    "已删除",
    "确定删除规则",
    "实时",
    "连接中断，重连中",
    "暂无匹配帖文",
    "立案",
)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def _translator(request: Request) -> Translator:
    return Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))


def _labels(tr: Translator) -> dict[str, Any]:
    """UI strings for the page scripts, in the page's script."""
    return {
        "text": {s: tr.t(s) for s in JS_TEXT},
        "severity": {k: tr.t(v) for k, v in SEVERITY_LABELS.items()},
        "kind": {k: tr.t(v) for k, v in KIND_LABELS.items()},
    }


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, status: str = "", rule: str = "") -> Response:
    state = _state(request)
    tr = _translator(request)
    chosen = cast(AlertStatus, status) if status in ALERT_STATUSES else None
    with state.store() as store:
        found = visible_alerts(
            store, request_scope(request), status=chosen, rule_id=rule or None, limit=INBOX_SIZE
        )
        last = store.last_alert_seq()
        rules = sorted(
            {r.id for r in store.rules()} | {str(t.get("id")) for t in state.settings.monitor.rules}
        )
    return render(
        request,
        "alerts.html",
        alerts=found,
        status_filter=chosen or "",
        rule=rule,
        rules=rules,
        filters=STATUS_FILTERS,
        last_seq=last,
        labels=_labels(tr),
    )


@router.get("/alerts/stream")
async def alerts_stream(
    request: Request, after: Annotated[int | None, Query(ge=0)] = None
) -> StreamingResponse:
    state = _state(request)
    return StreamingResponse(
        alerts_view.alert_events(request, state, alerts_view.start_seq(request, after)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: str) -> Response:
    state = _state(request)
    tr = _translator(request)
    with state.store() as store:
        found = store.get_alert(alert_id)
        if found is not None and not AlertVisibility(request_scope(request), store).sees(found):
            found = None  # another department's alert: as if it did not exist
        deliveries = store.deliveries(alert_id=alert_id, limit=50) if found else []
    if found is None:
        return error_page(request, 404, tr.t("没有这条预警") + f"：{alert_id}")
    return render(request, "alert.html", stored=found, deliveries=deliveries, labels=_labels(tr))


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request) -> Response:
    state = _state(request)
    tr = _translator(request)
    zone = state.settings.zone
    with state.store() as store:
        stored = [alerts_view.rule_dict(r, zone) for r in store.rules()]
    return render(
        request,
        "rules.html",
        rules=stored + alerts_view.config_rules(state.settings),
        labels=_labels(tr),
    )


@router.get("/rules/preview")
def rules_preview(
    request: Request,
    q: Annotated[str, Query(max_length=4000)] = "",
    text: Annotated[str | None, Query(max_length=10_000)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> Response:
    """Syntax check and matches on the newest stored posts, for the rule editor."""
    if not q.strip():
        return JSONResponse(error_body("bad_request", "empty query", None), status_code=400)
    state = _state(request)
    with state.store() as store:
        try:
            found = alerts_view.preview_rule(store, q, state.settings.zone, text=text, limit=limit)
        except RuleSyntaxError as exc:
            error = alerts_view.syntax_error(exc)
            return JSONResponse(error.body(), status_code=error.status)
    return JSONResponse(found)
