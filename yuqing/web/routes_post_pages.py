"""Pages: one post (``/posts/{source}/{id}``, 帖文详情) and ingest health
(``/health/ingest``, 采集健康). Rendered with the console's templates and language
switch (:func:`yuqing.web.routes_pages.render`); post text, handles and hops are escaped
by autoescape, never marked safe."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from yuqing.web import charts, ingest_health, post_view, views
from yuqing.web.deps import WebState, now_utc
from yuqing.web.i18n import COOKIE, Translator, pick_lang
from yuqing.web.routes_pages import error_page, render

router = APIRouter(include_in_schema=False)
HEALTH_WINDOWS = (1, 3, 7, 14, 30)
LAG_WARNING_HOURS = 1.0  # the newest post this far behind the wall clock is pointed out


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def _tr(request: Request) -> Translator:
    return Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))


@router.get("/posts/{source}/{post_id:path}", response_class=HTMLResponse)
def post_page(request: Request, source: str, post_id: str) -> Response:
    state = _state(request)
    with state.store() as store:
        detail = post_view.post_detail(store, source, post_id)
    if detail is None:
        return error_page(request, 404, _tr(request).t("没有这条帖文") + f"：{source}/{post_id}")
    return render(request, "post.html", detail=detail, doc=detail.doc)


@router.get("/health/ingest", response_class=HTMLResponse)
def ingest_health_page(
    request: Request,
    days: Annotated[int, Query(ge=1, le=ingest_health.MAX_DAYS)] = ingest_health.DAYS,
    min_expected: Annotated[float, Query(gt=0, le=10_000)] = ingest_health.MIN_EXPECTED,
) -> Response:
    state = _state(request)
    zone = state.settings.zone
    with state.store() as store:
        end = views.as_of(store)
        health = ingest_health.ingest_health(store, zone, end, days=days, min_expected=min_expected)
    lag_hours = (now_utc() - end).total_seconds() / 3600
    return render(
        request,
        "ingest_health.html",
        health=health,
        days=days,
        windows=HEALTH_WINDOWS,
        now=end,
        lag_hours=lag_hours,
        lag_warning=lag_hours > LAG_WARNING_HOURS,
        figure=charts.ingest_heatmap(health, zone, _tr(request)),
    )
