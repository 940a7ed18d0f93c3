"""REST API v1 under ``/api/v1/``: posts (list, search, push), events, trends, stats.

Every answer is JSON; errors are ``{"ok": false, "error": {"code", "message", "details"}}``
with the right status (see :mod:`yuqing.web.app`). Times in answers are ISO 8601 in the
configured zone; ``since`` is inclusive and ``until`` exclusive.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from yuqing.errors import UsageError
from yuqing.models import SearchHit
from yuqing.store.base import DIMENSIONS, Dimension, Store
from yuqing.web import views
from yuqing.web.auth import public
from yuqing.web.deps import ApiError, WebState, time_param, usage_error, web_state
from yuqing.web.highlight import snippet_html
from yuqing.web.i18n import to_simplified
from yuqing.web.push import push_lifespan

bearer = HTTPBearer(auto_error=False, description="An API token from web.api_tokens")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    ok: Literal[False] = False
    error: ErrorDetail


class PushBody(BaseModel):
    """A batch of input records (DESIGN.md input record) under ``posts``; a bare JSON array
    of records is accepted too."""

    posts: list[Any] = Field(description="input records: text (required), id, source, ...")


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 413, 422, 500)
}

# its lifespan closes the push alerts' dispatcher at shutdown
router = APIRouter(prefix="/api/v1", tags=["api v1"], responses=ERRORS, lifespan=push_lifespan)

State = Annotated[WebState, Depends(web_state)]
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
Since = Annotated[
    str | None, Query(description="at or after this time (ISO 8601; naive = configured zone)")
]
Until = Annotated[str | None, Query(description="before this time")]
Sources = Annotated[list[str] | None, Query(alias="source", description="only these sources")]
Limit = Annotated[int, Query(ge=1, le=200, description="most items to return")]


def _hit_dict(hit: SearchHit, query: str, store: Store, state: WebState) -> dict[str, Any]:
    zone = state.settings.zone
    doc = store.get_document(hit.source, hit.id)
    out = (
        views.document_dict(doc, zone) if doc is not None else {"source": hit.source, "id": hit.id}
    )
    out["snippet"] = hit.snippet
    out["snippet_html"] = str(snippet_html(hit.snippet, query))
    return out


def _search(
    state: WebState,
    q: str,
    since: str | None,
    until: str | None,
    sources: list[str] | None,
    limit: int,
) -> dict[str, Any]:
    settings = state.settings
    lo = time_param("since", since, settings)
    hi = time_param("until", until, settings)
    query = to_simplified(q)
    with state.store() as store:
        try:
            hits = store.search(query, since=lo, until=hi, sources=sources or (), limit=limit)
        except UsageError as exc:
            raise usage_error(exc) from exc
        items = [_hit_dict(hit, query, store, state) for hit in hits]
    return {"ok": True, "query": query, "count": len(items), "items": items}


@router.get("/health", summary="Liveness: the app answers and the store opens")
@public  # monitors call it without signing in
def health(state: State) -> dict[str, Any]:
    with state.store() as store:
        version = store.stats().schema_version
    return {"ok": True, "schema_version": version}


@router.get("/posts", summary="Latest posts, or posts matching q (newest first)")
def list_posts(
    request: Request,
    state: State,
    token: Token,
    q: Annotated[str | None, Query(description="words to find (substring match)")] = None,
    since: Since = None,
    until: Until = None,
    source: Sources = None,
    limit: Limit = 20,
) -> dict[str, Any]:
    del token
    if q is not None and q.strip():
        return _search(state, q, since, until, source, limit)
    settings = state.settings
    lo = time_param("since", since, settings)
    hi = time_param("until", until, settings)
    with state.store() as store:
        docs = store.latest_documents(since=lo, until=hi, sources=source or (), limit=limit)
    items = [views.document_dict(d, settings.zone) for d in docs]
    return {"ok": True, "count": len(items), "items": items}


@router.get("/search", summary="Full-text search with highlighted snippets")
def search(
    request: Request,
    state: State,
    token: Token,
    q: Annotated[str, Query(min_length=1, description="words to find; all must occur")],
    since: Since = None,
    until: Until = None,
    source: Sources = None,
    limit: Limit = 20,
) -> dict[str, Any]:
    del token
    return _search(state, q, since, until, source, limit)


@router.post("/posts", summary="Push a batch of posts through the pipeline (idempotent)")
def push_posts(
    request: Request,
    state: State,
    token: Token,
    body: Annotated[list[Any] | PushBody, Body(description='records, or {"posts": records}')],
) -> dict[str, Any]:
    del token
    records = body.posts if isinstance(body, PushBody) else body
    limit = state.settings.web.max_push
    if len(records) > limit:
        raise ApiError(
            413,
            "batch_too_large",
            f"{len(records)} records in one push; send at most {limit} (web.max_push)",
        )
    with state.store() as store:
        return state.push.push(store, records).as_dict()


@router.get("/events", summary="Events active in the window, hottest first")
def list_events(
    request: Request,
    state: State,
    token: Token,
    since: Since = None,
    until: Until = None,
    limit: Limit = 20,
) -> dict[str, Any]:
    del token
    settings = state.settings
    lo = time_param("since", since, settings)
    hi = time_param("until", until, settings)
    with state.store() as store:
        now = views.as_of(store)
        events = views.hot_events(store, now, since=lo, until=hi, limit=limit)
    return {
        "ok": True,
        "as_of": now.astimezone(settings.zone).isoformat(),
        "count": len(events),
        "items": [e.as_dict(settings.zone) for e in events],
    }


@router.get("/events/{event_id}", summary="One event: summary, lifecycle, key posts, risk")
def get_event(request: Request, state: State, token: Token, event_id: str) -> dict[str, Any]:
    del token
    zone = state.settings.zone
    with state.store() as store:
        now = views.as_of(store)
        event = views.one_event(store, event_id, now)
        if event is None:
            raise ApiError(404, "not_found", f"no event {event_id!r} in the store")
        key_posts = store.event_documents(event_id, order="engagement", limit=10)
        risky = store.event_documents(event_id, order="risk", limit=5)
        trend = views.series(store, "sentiment", "hour", zone, event_id=event_id)
    out = event.as_dict(zone)
    out.update(
        ok=True,
        as_of=now.astimezone(zone).isoformat(),
        first_post=views.document_dict(event.first_post, zone) if event.first_post else None,
        key_posts=[views.document_dict(d, zone) for d in key_posts],
        risk_posts=[views.document_dict(d, zone) for d in risky],
        trend=trend.as_dict(zone),
    )
    return out


@router.get("/trends", summary="Posts per hour or day, by a dimension, cut in the configured zone")
def trends(
    request: Request,
    state: State,
    token: Token,
    dimension: Annotated[Dimension, Query(description=f"one of {', '.join(DIMENSIONS)}")] = "total",
    bucket: Annotated[Literal["hour", "day"], Query()] = "hour",
    since: Since = None,
    until: Until = None,
    event: Annotated[str | None, Query(description="only this event's posts")] = None,
    top: Annotated[int | None, Query(ge=1, le=100, description="keep the largest values")] = None,
) -> dict[str, Any]:
    del token
    settings = state.settings
    lo = time_param("since", since, settings)
    hi = time_param("until", until, settings)
    if lo is not None and hi is not None and hi <= lo:
        raise ApiError(400, "bad_window", "until must be later than since")
    with state.store() as store:
        found = views.series(
            store, dimension, bucket, settings.zone, since=lo, until=hi, event_id=event, top=top
        )
    return {"ok": True, **found.as_dict(settings.zone)}


@router.get("/stats", summary="Counts: posts, sources, labels, time span")
def stats(request: Request, state: State, token: Token) -> dict[str, Any]:
    del token
    zone = state.settings.zone
    with state.store() as store:
        s = store.stats()
        labels = {
            dim: store.label_counts(dim, limit=20)
            for dim in ("sentiment", "emotion", "risk", "region")
        }
        events = len(store.label_counts("event", limit=1_000_000))
    return {
        "ok": True,
        "documents": s.documents,
        "duplicates": s.duplicates,
        "reposts": s.reposts,
        "indexed": s.indexed,
        "events": events,
        "sources": s.sources,
        "first_published": s.first_published.astimezone(zone).isoformat()
        if s.first_published
        else None,
        "last_published": s.last_published.astimezone(zone).isoformat()
        if s.last_published
        else None,
        "schema_version": s.schema_version,
        **labels,
    }
