"""REST API v1, what the dashboard's newer panels show:

- ``GET /api/v1/terms/rising``: terms whose share of posts rose most (:mod:`yuqing.web.wordcloud`);
- ``GET /api/v1/events/{id}/spreaders``: the event's top spreaders (:mod:`yuqing.web.spreaders`);
- ``GET /api/v1/events/{id}/repost-tree``: who reposted whom (:mod:`yuqing.web.repost_tree`);
- ``GET /api/v1/posts/{source}/{id}``: one post with its analysis, event, duplicates and
  repost chain (:mod:`yuqing.web.post_view`);
- ``GET /api/v1/health/ingest``: posts per source per hour with gaps flagged
  (:mod:`yuqing.web.ingest_health`).

Every route needs a signed-in viewer (a session or an API token, see :mod:`yuqing.web.auth`);
errors are the API's JSON shape (404 for an unknown event or post).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from yuqing.store.base import Store
from yuqing.web import ingest_health, post_view, repost_tree, spreaders, views, wordcloud
from yuqing.web.deps import ApiError, now_utc
from yuqing.web.routes_api import ERRORS, State, bearer

# Who may call is checked app-wide before a route runs (yuqing.web.auth: GET needs a viewer);
# the bearer dependency only declares the token scheme in the OpenAPI schema.
router = APIRouter(
    prefix="/api/v1", tags=["api v1"], responses=ERRORS, dependencies=[Depends(bearer)]
)


def _event_exists(store: Store, event_id: str) -> None:
    if not store.event_rollups(ids=[event_id], limit=1):
        raise ApiError(404, "not_found", f"no event {event_id!r} in the store")


@router.get("/terms/rising", summary="Rising terms: share of posts now against the window before")
def rising_terms(
    state: State,
    hours: Annotated[
        int, Query(ge=1, le=24 * 30, description="length of the recent window in hours")
    ] = 24,
    limit: Annotated[int, Query(ge=1, le=200, description="most terms to return")] = 40,
    min_posts: Annotated[
        int, Query(ge=1, le=1000, description="least recent posts carrying a term")
    ] = wordcloud.MIN_POSTS,
    sample: Annotated[
        int, Query(ge=50, le=20_000, description="most posts read per window")
    ] = wordcloud.SAMPLE,
) -> dict[str, Any]:
    with state.store() as store:
        end = views.as_of(store)
        found = wordcloud.cached_rising_terms(
            store, end, timedelta(hours=hours), sample=sample, min_posts=min_posts, top=limit
        )
    return {"ok": True} | found.as_dict(state.settings.zone)


@router.get("/events/{event_id}/spreaders", summary="An event's top spreaders (handles only)")
def event_spreaders(
    state: State,
    event_id: str,
    limit: Annotated[int, Query(ge=1, le=100, description="most authors to return")] = 10,
) -> dict[str, Any]:
    with state.store() as store:
        _event_exists(store, event_id)
        found, read = spreaders.event_spreaders(store, event_id, top=limit)
    zone = state.settings.zone
    return {
        "ok": True,
        "event_id": event_id,
        "posts_read": read,
        "items": [s.as_dict(zone) for s in found],
    }


@router.get("/events/{event_id}/repost-tree", summary="Who reposted whom in an event (capped)")
def event_repost_tree(
    state: State,
    event_id: str,
    max_nodes: Annotated[
        int, Query(ge=1, le=2000, description="most users in the tree returned")
    ] = repost_tree.MAX_NODES,
) -> dict[str, Any]:
    with state.store() as store:
        _event_exists(store, event_id)
        tree = repost_tree.event_tree(store, event_id, max_nodes=max_nodes)
    return {"ok": True, "event_id": event_id} | tree.as_dict()


@router.get("/posts/{source}/{post_id:path}", summary="One post: analysis, event, duplicates")
def get_post(state: State, source: str, post_id: str) -> dict[str, Any]:
    with state.store() as store:
        detail = post_view.post_detail(store, source, post_id)
    if detail is None:
        raise ApiError(404, "not_found", f"no post {post_id!r} from source {source!r}")
    return {"ok": True} | detail.as_dict(state.settings.zone)


@router.get("/health/ingest", summary="Posts per source per hour, collection gaps flagged")
def get_ingest_health(
    state: State,
    days: Annotated[
        int, Query(ge=1, le=ingest_health.MAX_DAYS, description="days back from the newest post")
    ] = ingest_health.DAYS,
    min_expected: Annotated[
        float,
        Query(gt=0, le=10_000, description="least expected posts for an empty hour to be a gap"),
    ] = ingest_health.MIN_EXPECTED,
) -> dict[str, Any]:
    zone = state.settings.zone
    with state.store() as store:
        end = views.as_of(store)
        health = ingest_health.ingest_health(store, zone, end, days=days, min_expected=min_expected)
    out = {"ok": True} | health.as_dict(zone)
    out["lag_seconds"] = round((now_utc() - end).total_seconds())
    return out
