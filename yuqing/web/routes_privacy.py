"""Privacy API (admins only, docs/privacy.md): the audit log, deletion of one author's posts
on request and retention of raw text.

- ``GET /api/v1/audit``: audit entries, newest first (``?since=``, ``?until=``, ``?user=``,
  ``?action=``, ``?limit=``);
- ``POST /api/v1/privacy/delete-author``: ``{"author", "source"?, "dry_run"?, "reason"?,
  "block"?}`` deletes (or counts) that author's posts, blocks the author from being
  collected again unless ``"block": false``, and logs it;
- ``GET /api/v1/privacy/blocked``: the authors no longer collected;
- ``POST /api/v1/privacy/unblock``: ``{"author", "source"?}`` collects one again (404 when
  there is no such entry) and logs it;
- ``POST /api/v1/privacy/retention``: ``{"dry_run"?}`` applies ``[privacy.retention]`` now.

The router's lifespan runs retention once a day in ``yuqing serve`` (``[privacy.retention]
daily``, when any days are set; :class:`~yuqing.privacy.retention.DailyRetention`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from yuqing.errors import UsageError
from yuqing.privacy.audit import actor_of, client_of
from yuqing.privacy.blocking import handle_of, source_of, unblock_author
from yuqing.privacy.deletion import delete_author
from yuqing.privacy.retention import DailyRetention, apply_retention
from yuqing.store.base import AUDIT_ACTIONS
from yuqing.store.url import open_store
from yuqing.web.auth import admin_only
from yuqing.web.deps import ApiError, WebState, time_param
from yuqing.web.routes_api import ERRORS, Since, State, Token, Until


@asynccontextmanager
async def _daily(app: FastAPI) -> AsyncIterator[None]:
    web: WebState = app.state.web
    retention = web.settings.privacy.retention
    job: DailyRetention | None = None
    if retention.daily and retention.active:
        job = DailyRetention(retention, lambda: open_store(web.settings.store), web.clock.now)
        job.start()
        app.state.retention_job = job
    try:
        yield
    finally:
        if job is not None:
            await run_in_threadpool(job.stop)


router = APIRouter(prefix="/api/v1", tags=["privacy"], responses=ERRORS, lifespan=_daily)


class DeleteAuthorBody(BaseModel):
    author: str = Field(min_length=1, max_length=200, description="the author handle")
    source: str | None = Field(None, max_length=200, description="only this source's posts")
    dry_run: bool = Field(False, description="only count the posts")
    reason: str = Field("", max_length=500, description="the request, for the audit log")
    block: bool = Field(True, description="also stop collecting the author's posts")


class UnblockBody(BaseModel):
    author: str = Field(min_length=1, max_length=200, description="the author handle")
    source: str | None = Field(
        None, max_length=200, description="the entry of this source (default: of every source)"
    )


class RetentionBody(BaseModel):
    dry_run: bool = Field(False, description="only count the posts")


@router.get("/audit", summary="The audit log, newest first (admin)")
@admin_only
def audit(
    state: State,
    token: Token,
    since: Since = None,
    until: Until = None,
    user: Annotated[str | None, Query(description="only this actor")] = None,
    action: Annotated[str | None, Query(description=", ".join(AUDIT_ACTIONS))] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    del token
    if action is not None and action not in AUDIT_ACTIONS:
        raise ApiError(
            400, "bad_request", f"action {action!r}: use one of {', '.join(AUDIT_ACTIONS)}"
        )
    settings = state.settings
    lo, hi = time_param("since", since, settings), time_param("until", until, settings)
    with state.store() as store:
        found = store.audit_log(since=lo, until=hi, actor=user, action=action, limit=limit)
    items = [e.as_dict() for e in found]
    return {"ok": True, "count": len(items), "items": items}


@router.post("/privacy/delete-author", summary="Delete one author's posts on request (admin)")
@admin_only
def delete_author_posts(
    request: Request, state: State, token: Token, body: DeleteAuthorBody
) -> dict[str, Any]:
    del token
    with state.store() as store:
        try:
            result = delete_author(
                store,
                body.author,
                actor=actor_of(request),
                source=body.source,
                client=client_of(request),
                dry_run=body.dry_run,
                reason=body.reason,
                block=body.block,
            )
        except UsageError as exc:
            raise ApiError(400, "bad_request", str(exc)) from exc
    return {"ok": True, **result.as_dict()}


@router.get("/privacy/blocked", summary="The authors no longer collected (admin)")
@admin_only
def blocked_authors(state: State, token: Token) -> dict[str, Any]:
    del token
    with state.store() as store:
        found = store.suppressed_authors()
    items = [e.as_dict() for e in found]
    return {"ok": True, "count": len(items), "items": items}


@router.post("/privacy/unblock", summary="Collect a blocked author's posts again (admin)")
@admin_only
def unblock(request: Request, state: State, token: Token, body: UnblockBody) -> dict[str, Any]:
    del token
    with state.store() as store:
        try:
            removed = unblock_author(
                store,
                body.author,
                actor=actor_of(request),
                source=body.source,
                client=client_of(request),
            )
        except UsageError as exc:
            raise ApiError(400, "bad_request", str(exc)) from exc
    if not removed:
        raise ApiError(404, "not_found", f"{body.author!r} is not blocked (of that source)")
    return {"ok": True, "author": handle_of(body.author), "source": source_of(body.source)}


@router.post("/privacy/retention", summary="Apply the text retention settings now (admin)")
@admin_only
def retention(request: Request, state: State, token: Token, body: RetentionBody) -> dict[str, Any]:
    del token
    with state.store() as store:
        run = apply_retention(
            store,
            state.settings.privacy.retention,
            state.clock.now(),
            dry_run=body.dry_run,
            actor=actor_of(request),
            client=client_of(request),
        )
    return {"ok": True, **run.as_dict()}
