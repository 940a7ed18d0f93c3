"""The admins' pages: 用户 (``/users``: every user with role, department, disabled and last
sign-in; create a user, change role or department, disable or enable, issue an API token
shown once) and 审计 (``/audit``: the audit log with filters). Both are ``@admin_only``:
anybody else gets the 403 page. Changes go through the users API (``/api/v1/users``, the
session's CSRF header, static/admin.js); the audit page reads what ``GET /api/v1/audit``
answers, with the same filters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from yuqing.store.base import AUDIT_ACTIONS
from yuqing.users import ROLE_LABELS
from yuqing.web.auth import admin_only
from yuqing.web.deps import WebState, web_state
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_pages import render
from yuqing.web.routes_privacy import audit
from yuqing.web.routes_users import user_dict

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 200
ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "export": "导出",
    "user_create": "创建用户",
    "user_change": "修改用户",
    "role_change": "变更角色",
    "user_disable": "停用用户",
    "plan_delete": "删除方案",
    "delete_author": "删除作者帖文",
    "retention": "原文保留期清理",
    "block_author": "停止采集作者",
    "unblock_author": "恢复采集作者",
}
JS_TEXT = (
    "当前账号无权执行此操作",
    "请先登录",
    "操作失败",
    "已保存",
    "新令牌（只显示这一次，请立即复制）",
    "确定停用用户",
    "确定启用用户",
)


def _labels(request: Request) -> dict[str, Any]:
    tr = Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))
    return {"text": {s: tr.t(s) for s in JS_TEXT}}


@router.get("/users", response_class=HTMLResponse)
@admin_only
def users_page(request: Request) -> Response:
    state: WebState = web_state(request)
    with state.store() as store:
        users = [user_dict(u) for u in store.users()]
    for user in users:
        for key in ("created_at", "last_login_at"):
            user[key] = datetime.fromisoformat(user[key]) if user[key] else None
    return render(request, "users.html", users=users, roles=ROLE_LABELS, labels=_labels(request))


@router.get("/audit", response_class=HTMLResponse)
@admin_only
def audit_page(
    request: Request,
    since: str = "",
    until: str = "",
    user: str = "",
    action: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = AUDIT_PAGE,
) -> Response:
    state: WebState = web_state(request)
    answer = audit(
        state, None, since or None, until or None, user.strip() or None, action or None, limit
    )
    entries = answer["items"]
    for entry in entries:
        entry["at"] = datetime.fromisoformat(entry["at"])
    return render(
        request,
        "audit.html",
        entries=entries,
        actions={a: ACTION_LABELS.get(a, a) for a in AUDIT_ACTIONS},
        filters={"since": since, "until": until, "user": user, "action": action},
        limit=limit,
    )
