"""REST API v1 downloads of exports (:mod:`yuqing.exports`): search results, an event's
posts and figures, alerts and cases as Excel (``format=xlsx``, the default) or CSV
(``format=csv``, UTF-8 with a byte-order mark), with the filters written into the file.

Each answer is the file itself with ``Content-Disposition: attachment`` and a file name
such as ``yuqing-search-20261120-0930.xlsx``. Exports are reads: like every route they are
authorized before they run (:mod:`yuqing.web.auth`: a session or an API token; a viewer may
export), so the page links work for a signed-in user. Errors have the API's one shape (400
a bad filter, 404 an unknown event).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from yuqing.errors import UsageError
from yuqing.exports import (
    MEDIA_TYPES,
    Export,
    ExportNotFoundError,
    alerts_export,
    cases_export,
    event_export,
    render,
    search_export,
)
from yuqing.privacy.audit import record_request
from yuqing.privacy.scope import request_scope
from yuqing.store.base import AlertStatus
from yuqing.web.deps import ApiError, time_param
from yuqing.web.i18n import to_simplified
from yuqing.web.routes_api import ERRORS, Since, Sources, State, Token, Until

router = APIRouter(prefix="/api/v1/export", tags=["exports"], responses=ERRORS)

Format = Annotated[
    Literal["xlsx", "csv"], Query(description="xlsx (Excel) or csv (UTF-8 with BOM)")
]
Rows = Annotated[int, Query(ge=1, le=10_000, description="most rows to export")]
FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in MEDIA_TYPES.values()}, "description": "the file"}
}


def _download(export: Export, fmt: str, request: Request) -> Response:
    name = export.filename(fmt)
    details = {"format": fmt, "rows": export.rows, "filters": dict(export.filters)}
    target = f"{export.kind}/{export.subject}" if export.subject else export.kind
    record_request(request, "export", target=target, details=details)
    return Response(
        content=render(export, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _bad(exc: UsageError) -> ApiError:
    if isinstance(exc, ExportNotFoundError):
        return ApiError(404, "not_found", str(exc))
    return ApiError(400, "bad_request", str(exc))


@router.get("/search", summary="Search results as a file", responses=FILE)
def export_search(
    request: Request,
    state: State,
    token: Token,
    q: Annotated[str, Query(min_length=1, description="words to find; all must occur")],
    since: Since = None,
    until: Until = None,
    source: Sources = None,
    limit: Rows = 1000,
    format: Format = "xlsx",
) -> Response:
    del token
    settings = state.settings
    lo, hi = time_param("since", since, settings), time_param("until", until, settings)
    with state.store() as store:
        try:
            export = search_export(
                store,
                to_simplified(q.strip()),
                zone=settings.zone,
                now=state.clock.now(),
                since=lo,
                until=hi,
                sources=[s for s in source or () if s],  # the search page sends source=
                limit=limit,
            )
        except UsageError as exc:
            raise _bad(exc) from exc
    return _download(export, format, request)


@router.get("/events/{event_id}", summary="An event's figures and posts as a file", responses=FILE)
def export_event(
    request: Request,
    state: State,
    token: Token,
    event_id: str,
    limit: Annotated[int, Query(ge=1, le=50_000, description="most posts")] = 10_000,
    format: Format = "xlsx",
) -> Response:
    del token
    with state.store() as store:
        try:
            export = event_export(
                store, event_id, zone=state.settings.zone, now=state.clock.now(), limit=limit
            )
        except UsageError as exc:
            raise _bad(exc) from exc
    return _download(export, format, request)


@router.get("/alerts", summary="Alerts as a file, newest first", responses=FILE)
def export_alerts(
    request: Request,
    state: State,
    token: Token,
    since: Since = None,
    until: Until = None,
    status: Annotated[AlertStatus | None, Query(description="new or acknowledged")] = None,
    rule_id: Annotated[str | None, Query(description="only this rule's alerts")] = None,
    limit: Rows = 1000,
    format: Format = "xlsx",
) -> Response:
    del token
    settings = state.settings
    lo, hi = time_param("since", since, settings), time_param("until", until, settings)
    with state.store() as store:
        try:
            export = alerts_export(
                store,
                zone=settings.zone,
                now=state.clock.now(),
                since=lo,
                until=hi,
                status=status,
                rule_id=rule_id,
                limit=limit,
                scope=request_scope(request),  # a department's own and the shared alerts
            )
        except UsageError as exc:
            raise _bad(exc) from exc
    return _download(export, format, request)


@router.get("/cases", summary="Cases as a file, newest opened first", responses=FILE)
def export_cases(
    request: Request,
    state: State,
    token: Token,
    status: Annotated[str | None, Query(description="new, assessing, ... or closed")] = None,
    event_id: Annotated[str | None, Query(description="only this event's cases")] = None,
    limit: Rows = 1000,
    format: Format = "xlsx",
) -> Response:
    del token
    with state.store() as store:
        try:
            export = cases_export(
                store,
                zone=state.settings.zone,
                now=state.clock.now(),
                status=status,
                event_id=event_id,
                limit=limit,
                visible=request_scope(request).sees_case,  # a department's own cases
            )
        except UsageError as exc:
            raise _bad(exc) from exc
    return _download(export, format, request)
