"""The 监测方案 page (``/plans``): the plans with each source's poll health (last poll,
status, failures, next poll, posts fetched), and a form that creates or edits a plan,
checking each rule's query as one types with ``POST /api/v1/rules/test`` (syntax, a test
text, matches among recent posts). Writes go through the plans API (:mod:`yuqing.web.routes_plans`)
with the page's session (CSRF header) or an API token kept in the tab. Ingest health of all
sources is on ``/health/ingest``, linked from here. A signed-in user subscribes to a
plan's alerts here too (我的订阅: at once, or in an hourly or daily digest, on a configured
channel) through ``/api/v1/users/me/subscriptions``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from yuqing.alerts.alert import SEVERITY_LABELS
from yuqing.alerts.rules_config import channel_names
from yuqing.plans.plan import SOURCE_KINDS, PlanError
from yuqing.plans.service import HEALTH_LABELS, load_plan, plan_health, plan_view
from yuqing.privacy.scope import EVERYTHING, Scope, request_scope
from yuqing.store.base import SUBSCRIPTION_MODES
from yuqing.web.auth import Principal
from yuqing.web.deps import WebState
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_pages import render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"rss": "RSS/Atom 订阅", "page": "网页", "files": "文件", "push": "推送接口"}
assert set(KIND_LABELS) == set(SOURCE_KINDS)
JS_TEXT = (
    "语法正确",
    "匹配",
    "条，已检查最近",
    "条帖文",
    "文本命中",
    "文本未命中",
    "已保存",
    "已删除",
    "确定删除方案",
    "当前账号无权执行此操作",
    "请先登录",
    "令牌无效或无权限",
    "操作失败",
    "删除",
    "名称",
    "表达式",
    "级别",
    "测试文本（可选）",
    "地址",
    "文件路径或通配符",
    "推送来源名",
    "来源名（可选）",
    "间隔",
    "类型",
    "已订阅",
    "已退订",
)
MODE_LABELS = {"immediate": "即时推送", "hourly": "每小时汇总", "daily": "每日汇总"}
assert set(MODE_LABELS) == set(SUBSCRIPTION_MODES)


def _plans(state: WebState, zone: Any, scope: Scope = EVERYTHING) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with state.store() as store:
        for data in store.plans():
            if not scope.sees_plan(data):
                continue
            try:
                plan = load_plan(store, str(data["id"]), state.settings)
            except PlanError:
                continue
            if plan is None:
                continue
            view = plan_view(plan, zone)
            view["sources_health"] = plan_health(plan, store.plan_source_states(plan.id), zone)
            out.append(view)
    return out


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request) -> Response:
    state: WebState = request.app.state.web
    tr = Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))
    zone = state.settings.zone
    plans = _plans(state, zone, request_scope(request))
    labels = {
        "text": {s: tr.t(s) for s in JS_TEXT},
        "severity": {k: tr.t(v) for k, v in SEVERITY_LABELS.items()},
        "kinds": {k: tr.t(v) for k, v in KIND_LABELS.items()},
        "default_interval": state.settings.plans.default_interval,
    }
    me: Principal | None = getattr(request.state, "principal", None)
    subscriber = me.username if me is not None and me.via != "service" else None
    subscriptions: dict[str, dict[str, Any]] = {}
    if subscriber is not None:
        with state.store() as store:
            subscriptions = {
                s.plan_id: s.as_dict() for s in store.subscriptions(username=subscriber)
            }
    return render(
        request,
        "plans.html",
        plans=plans,
        subscriber=subscriber,
        subscriptions=subscriptions,
        mode_labels=MODE_LABELS,
        channels=channel_names(state.settings.alerts.channels),
        health_labels=HEALTH_LABELS,
        kind_labels=KIND_LABELS,
        labels=labels,
    )
