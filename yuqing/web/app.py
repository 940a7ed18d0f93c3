"""The FastAPI application: ``create_app(settings)`` and ``serve(settings, host, port)``.

Every route needs a signed-in user (a session cookie or an API token) and a role, checked
by the app-wide dependency :func:`yuqing.web.auth.authorize` before the route runs; so each
router included here gets it without asking. A route's need comes from its method (GET:
viewer, POST/PUT/PATCH/DELETE: analyst) unless its endpoint says otherwise (``@reads``,
``@writes``, ``@admin_only``, ``@public`` from :mod:`yuqing.web.auth`). Login and users:
:mod:`yuqing.web.routes_auth`, :mod:`yuqing.web.routes_users`.

Routes: the pages (:mod:`yuqing.web.routes_pages`), the REST API v1
(:mod:`yuqing.web.routes_api`; an event's judgement aids in
:mod:`yuqing.web.routes_judgement`), static files (``/static``, with plotly.min.js served from
the installed ``plotly`` package: no CDN), the OpenAPI schema at ``/openapi.json`` and the
interactive docs at ``/docs``.

Errors: under ``/api/`` every error is ``{"ok": false, "error": {"code", "message",
"details"}}`` with the right status (400 bad parameters, 401/403 tokens, 404, 413, 422 an
invalid body, 500 a failure, with no internals in the message); pages get an HTML page.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from yuqing import __version__
from yuqing.clock import Clock
from yuqing.errors import ConfigError, StoreError, UsageError, YuqingError
from yuqing.settings import Settings
from yuqing.web.auth import Auth, LoginRequiredError, authorize, public
from yuqing.web.deps import ApiError, WebState, error_body

STATIC = Path(__file__).parent / "static"


def _plotly_js() -> Path:
    """plotly.min.js as shipped inside the ``plotly`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ConfigError("the plotly package is not installed: pip install plotly")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


log = logging.getLogger("yuqing.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid_request",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, code: str, message: str, details: Any = None) -> Response:
    if _is_api(request):
        return JSONResponse(error_body(code, message, details), status_code=status)
    from yuqing.web.routes_pages import error_page

    return error_page(request, status, message)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, exc: LoginRequiredError) -> Response:
        if _is_api(request):
            return JSONResponse(exc.body(), status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/%')}", status_code=303)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = jsonable_encoder(exc.errors(), custom_encoder={Exception: str})
        for item in details:
            item.pop("input", None)  # do not echo (possibly large) request bodies back
            item.pop("url", None)
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in details[:5])
        return _error(request, 422, "invalid_request", f"invalid request: {where}", details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else code
        if exc.status_code == 404:
            message = f"nothing at {request.url.path}"
        return _error(request, exc.status_code, code, message)

    @app.exception_handler(UsageError)
    async def usage(request: Request, exc: UsageError) -> Response:
        return _error(request, 400, "bad_request", str(exc))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        log.error("store error on %s: %s", request.url.path, exc)
        return _error(request, 500, "store_error", "the store failed; see the server log")

    @app.exception_handler(YuqingError)
    async def yuqing_error(request: Request, exc: YuqingError) -> Response:
        log.error("error on %s: %s", request.url.path, exc)
        return _error(request, 500, "internal", str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        return _error(request, 500, "internal", "internal error; see the server log")


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The web console and API over ``settings.store``; nothing is opened until a request
    (the first one migrates the schema). ``clock`` (default: the wall clock) times case
    actions and deadlines; tests and drills pass a ManualClock."""
    from yuqing.web import (
        routes_alerts,
        routes_api,
        routes_auth,
        routes_cases,
        routes_judgement,
        routes_pages,
        routes_subscriptions,
        routes_users,
    )
    from yuqing.web.routes_alert_pages import router as alert_pages
    from yuqing.web.routes_case_pages import router as case_pages

    app = FastAPI(
        title="yuqing 舆情 API",
        version=__version__,
        description="REST API v1 of yuqing: push posts, search, events, trends, statistics, "
        "alerts (list, acknowledge, a server-sent event stream), monitoring rules, and "
        "cases (立案, status, plans, statements with the four-principle check, effect), "
        "an event's judgement aids (questions and demands, coordination signals, advice). "
        "Send `Authorization: Bearer <token>`: a personal token (`yuqing user token NAME`) or "
        "a service token of web.api_tokens; viewers read, analysts also write, admins also "
        "manage users (docs/security.md). Errors: "
        '`{"ok": false, "error": {"code", "message", "details"}}`.',
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(authorize)],  # every route, including routers added below
    )
    app.state.web = WebState(settings, clock)
    app.state.auth = Auth(settings)
    plotly_path = _plotly_js()
    _install_errors(app)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    @public
    def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_path,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(routes_auth.router)
    app.include_router(routes_users.router)
    app.include_router(routes_subscriptions.router)  # /api/v1/users/me/subscriptions
    app.include_router(routes_api.router)
    app.include_router(routes_judgement.router)
    app.include_router(routes_alerts.router)
    app.include_router(routes_pages.router)
    app.include_router(alert_pages)
    app.include_router(routes_cases.router)
    app.include_router(case_pages)
    from yuqing.web.routes_export import router as export_router

    app.include_router(export_router)
    from yuqing.web.routes_insights import router as insights_router
    from yuqing.web.routes_post_pages import router as post_pages

    app.include_router(insights_router)
    app.include_router(post_pages)
    from yuqing.web.routes_corrections import router as corrections_router

    app.include_router(corrections_router)
    from yuqing.web.routes_claims import router as claims_router
    from yuqing.web.routes_deadlines import router as deadlines_router

    app.include_router(claims_router)
    app.include_router(deadlines_router)
    from yuqing.web.routes_plans import router as plans_router  # its lifespan: the plans poller

    app.include_router(plans_router)
    from yuqing.web.routes_privacy import router as privacy_router  # audit, deletion, retention

    app.include_router(privacy_router)
    from yuqing.web.routes_admin_pages import router as admin_pages  # /users, /audit
    from yuqing.web.routes_claim_pages import router as claim_pages  # /claims

    app.include_router(admin_pages)
    app.include_router(claim_pages)
    return app


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the app with uvicorn until interrupted (host and port default to ``[web]``)."""
    import uvicorn

    hint = first_admin_hint(settings)
    if hint:
        print(hint, file=sys.stderr, flush=True)
    uvicorn.run(
        create_app(settings),
        host=host or settings.web.host,
        port=port or settings.web.port,
        log_level="info",
    )


def first_admin_hint(settings: Settings) -> str | None:
    """What to do when the store has no users yet (nobody could sign in); None otherwise."""
    from yuqing.store.url import open_store

    store = open_store(settings.store)
    try:
        if store.users():
            return None
    finally:
        store.close()
    return (
        "还没有任何用户，无法登录看板。先创建管理员：\n"
        "  yuqing user add admin --role admin\n"
        "（接口也可用 web.api_tokens 中的令牌访问）"
    )


__all__ = ["create_app", "first_admin_hint", "serve"]
