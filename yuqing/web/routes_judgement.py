"""REST API v1, the judgement aids of one event (see :mod:`yuqing.web.judgement_view`):

- ``GET /api/v1/events/{id}/digest``: what the public asks (疑问) and demands (诉求);
- ``GET /api/v1/events/{id}/coordination``: coordinated-posting signals (信号，不是结论);
- ``GET /api/v1/events/{id}/advice``: response strategies for the event's state.

An unknown event is a 404 in the API's error shape; an event with too few posts gets the
libraries' own "not enough data" answer (``enough_data: false`` and a note), not an error.
Reads need a token only when tokens are configured, as for the other reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from yuqing.judgement.strategy import advise
from yuqing.store.base import Store
from yuqing.web import judgement_view as jv
from yuqing.web import views
from yuqing.web.deps import ApiError, WebState
from yuqing.web.routes_api import ERRORS, State, Token

router = APIRouter(prefix="/api/v1", tags=["api v1"], responses=ERRORS)


@contextmanager
def _event(
    request: Request, state: WebState, token: Token, event_id: str
) -> Iterator[tuple[Store, views.EventView, datetime]]:
    """The open store, the event (ApiError 404 when unknown) and the data's "now"."""
    del request, token
    with state.store() as store:
        now = views.as_of(store)
        event = views.one_event(store, event_id, now)
        if event is None:
            raise ApiError(404, "not_found", f"no event {event_id!r} in the store")
        yield store, event, now


@router.get(
    "/events/{event_id}/digest",
    summary="What the public asks and demands about an event (疑问与诉求), ranked",
)
def event_digest(request: Request, state: State, token: Token, event_id: str) -> dict[str, Any]:
    zone = state.settings.zone
    with _event(request, state, token, event_id) as (store, event, _):
        docs = jv.event_posts(store, event.id)
    return {"ok": True, "event_id": event_id} | jv.event_digest(docs, zone).as_dict()


@router.get(
    "/events/{event_id}/coordination",
    summary="Coordinated-posting signals in an event's posts (a signal, not a verdict)",
)
def event_coordination(
    request: Request, state: State, token: Token, event_id: str
) -> dict[str, Any]:
    with _event(request, state, token, event_id) as (store, event, _):
        docs = jv.event_posts(store, event.id)
    return {"ok": True, "event_id": event_id} | jv.event_coordination(docs).as_dict()


@router.get(
    "/events/{event_id}/advice",
    summary="Response strategies (抢先, 屈尊, 隐寓, 平顺, 感化) for an event's state",
)
def event_advice(request: Request, state: State, token: Token, event_id: str) -> dict[str, Any]:
    zone = state.settings.zone
    with _event(request, state, token, event_id) as (store, event, now):
        docs = jv.event_posts(store, event.id)
        cases = store.cases(event_id=event.id, limit=20)
    found = jv.event_digest(docs, zone)
    event_state = jv.event_state(event, docs, found, cases, now)
    return {
        "ok": True,
        "event_id": event_id,
        "posts_used": len(docs),
        "state": jv.state_dict(event_state),
        "advice": [a.as_dict() for a in advise(event_state)],
    }
