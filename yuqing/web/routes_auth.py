"""The login page (登录, 简/繁 like every page), signing in and out.

``GET /login`` shows the form (and sets the pre-login CSRF cookie the form echoes back);
``POST /login`` checks the CSRF pair, the login limit (429 after 5 failures of one
username from one address in 5 minutes), the password (argon2), then sets the session
and CSRF cookies and redirects to ``next`` (a path on this site only). ``POST /logout``
clears them. See :mod:`yuqing.web.auth` for the rules.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yuqing.privacy.audit import record_request
from yuqing.users import hash_password, needs_rehash, verify_password
from yuqing.web.auth import (
    CSRF_COOKIE,
    auth_of,
    authenticate,
    public,
    reads,
    set_csrf_cookie,
)
from yuqing.web.deps import ApiError, web_state
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_pages import render

router = APIRouter(include_in_schema=False)
_FORM_HOURS = 2  # how long the login form's CSRF cookie lives


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another host."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _form(
    request: Request,
    *,
    message: str = "",
    username: str = "",
    next_url: str = "/",
    status: int = 200,
) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        message=message,
        username=username,
        next=safe_next(next_url),
        csrf=csrf,
        login_page=True,
    )
    if request.cookies.get(CSRF_COOKIE) != csrf:
        set_csrf_cookie(
            response,
            csrf,
            secure=web_state(request).settings.web.secure_cookies,
            max_age=_FORM_HOURS * 3600,
        )
    return response


@router.get("/login", response_class=HTMLResponse)
@public
def login_page(request: Request, next: str = "/") -> Response:
    try:
        signed_in = authenticate(request) is not None
    except ApiError:
        signed_in = False
    if signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_url=next)


@router.post("/login")
@public
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    tr_message = _message(request)
    name = username.strip()
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        return _form(
            request,
            message=tr_message("页面已过期，请重新登录"),
            username=name,
            next_url=next,
            status=403,
        )
    auth = auth_of(request)
    key = (name.lower(), request.client.host if request.client else "")
    wait = auth.limiter.wait(key)
    if wait > 0:
        minutes = max(1, math.ceil(wait / 60))
        return _form(
            request,
            message=tr_message(f"登录失败次数过多，请 {minutes} 分钟后再试"),
            username=name,
            next_url=next,
            status=429,
        )
    state = web_state(request)
    with state.store() as store:
        user = store.get_user(name) if name else None
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None:
            auth.limiter.failed(key)
            reason = {"reason": "bad_password" if user else "unknown_user"}
            record_request(
                request, "login_failed", target=name, details=reason, actor=name or "-", store=store
            )
            return _form(
                request,
                message=tr_message("用户名或密码错误"),
                username=name,
                next_url=next,
                status=401,
            )
        if user.disabled:
            reason = {"reason": "disabled"}
            record_request(
                request, "login_failed", target=name, details=reason, actor=name, store=store
            )
            return _form(
                request,
                message=tr_message("该账号已停用，请联系管理员"),
                username=name,
                next_url=next,
                status=403,
            )
        auth.limiter.succeeded(key)
        record_request(request, "login", target=user.username, actor=user.username, store=store)
        store.record_login(user.username, datetime.now(UTC))
        if user.password_hash and needs_rehash(user.password_hash):
            store.set_password_hash(user.username, hash_password(password))
            user = store.get_user(user.username) or user
        response = RedirectResponse(safe_next(next), status_code=303)
        auth.start_session(response, store, user)
    return response


@router.post("/logout")
@reads
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    auth_of(request).end_session(response)
    return response


def _message(request: Request) -> Callable[[str], str]:
    """The page's translator (the form posts keep the page's language cookie)."""
    lang = pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE))
    return Translator(lang).t
