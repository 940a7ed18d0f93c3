"""REST API v1 of corrections (yuqing.corrections): relabel a post, merge events, split posts
out of an event, mark an alert a false alarm, and read the corrections log.

Corrections change what every view shows, so they need the analyst role: the app-wide
:func:`yuqing.web.auth.authorize` lets POST routes through only for analysts and admins,
and the log names the signed-in user (a service token of ``web.api_tokens``, which has no
user, may name the person with ``by``). Reading the log needs a viewer. Errors have the
API's one shape: 400 a bad correction, 404 an unknown target, 401/403 from authorization.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from yuqing.corrections import (
    CorrectionError,
    CorrectionNotFoundError,
    mark_false_alarm,
    merge_events,
    relabel_post,
    split_event,
)
from yuqing.privacy.guards import guard_alert
from yuqing.store.base import CORRECTION_KINDS, Correction
from yuqing.web import alerts_view, views
from yuqing.web.auth import principal_of
from yuqing.web.deps import ApiError, WebState
from yuqing.web.routes_api import ERRORS, Limit, State, Token

router = APIRouter(prefix="/api/v1", tags=["corrections"], responses=ERRORS)

Sentiment = Literal["positive", "neutral", "negative"]
Emotion = Literal["joy", "anger", "sadness", "fear", "surprise", "neutral"]
RiskType = Literal["ordinary", "group_incident", "rumor"]


class Who(BaseModel):
    by: str | None = Field(
        None,
        max_length=80,
        description="who corrects (only with a service token of web.api_tokens)",
    )
    note: str = Field("", max_length=2000, description="why (kept in the corrections log)")


class LabelsBody(Who):
    """Give one or more of the three labels."""

    sentiment: Sentiment | None = None
    emotion: Emotion | None = None
    risk: RiskType | None = Field(None, description="the risk type")


class MergeBody(Who):
    into: str = Field(min_length=1, max_length=80, description="the event that stays")
    events: list[str] = Field(min_length=1, max_length=100, description="events merged into it")


class PostKey(BaseModel):
    source: str = Field(min_length=1, max_length=200)
    id: str = Field(min_length=1, max_length=500)


class SplitBody(Who):
    posts: list[PostKey] = Field(min_length=1, max_length=10_000)
    title: str | None = Field(None, max_length=200, description="title of the new event")


def _who(request: Request, by: str | None) -> str:
    """The person: the signed-in user; for a service token of ``web.api_tokens`` (no user of
    its own), ``by`` of the body when given."""
    principal = principal_of(request)
    if principal.via == "service" and by and by.strip():
        return by.strip()
    return principal.username


def _api_error(exc: CorrectionError) -> ApiError:
    if isinstance(exc, CorrectionNotFoundError):
        return ApiError(404, "not_found", str(exc))
    return ApiError(400, "bad_correction", str(exc))


def _logged(c: Correction, state: WebState) -> dict[str, Any]:
    out = c.as_dict()
    out["at"] = c.at.astimezone(state.settings.zone).isoformat()
    return out


@router.post(
    "/posts/{source}/{doc_id:path}/labels",
    summary="Relabel a post's sentiment, emotion or risk type (analyst)",
)
def relabel(
    request: Request, state: State, token: Token, source: str, doc_id: str, body: LabelsBody
) -> dict[str, Any]:
    del token
    who = _who(request, body.by)
    given = {f: v for f in ("sentiment", "emotion", "risk") if (v := getattr(body, f))}
    if not given:
        raise ApiError(400, "bad_correction", "give sentiment, emotion or risk")
    at = state.clock.now()
    logged: list[dict[str, Any]] = []
    with state.store() as store:
        try:
            for field, value in given.items():
                done = relabel_post(
                    store, source, doc_id, field, value, by=who, at=at, note=body.note
                )
                logged.append(_logged(done.correction, state))
        except CorrectionError as exc:
            raise _api_error(exc) from exc
        doc = store.get_document(source, doc_id)
    assert doc is not None
    post = views.document_dict(doc, state.settings.zone)
    post["corrected"] = doc.analysis.get("corrected")
    return {"ok": True, "post": post, "corrections": logged}


def _events_answer(state: WebState, change: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "moved": change.moved,
        "events": [e.as_dict() for e in change.events],
        "correction": _logged(change.correction, state),
    }


@router.post("/events/merge", summary="Merge events into one (analyst)")
def merge(request: Request, state: State, token: Token, body: MergeBody) -> dict[str, Any]:
    del token
    who = _who(request, body.by)
    with state.store() as store:
        try:
            change = merge_events(
                store, body.into, body.events, by=who, at=state.clock.now(), note=body.note
            )
        except CorrectionError as exc:
            raise _api_error(exc) from exc
    return _events_answer(state, change)


@router.post("/events/{event_id}/split", summary="Split posts out into a new event (analyst)")
def split(
    request: Request, state: State, token: Token, event_id: str, body: SplitBody
) -> dict[str, Any]:
    del token
    who = _who(request, body.by)
    with state.store() as store:
        try:
            change = split_event(
                store,
                event_id,
                [(p.source, p.id) for p in body.posts],
                by=who,
                at=state.clock.now(),
                note=body.note,
                title=body.title,
            )
        except CorrectionError as exc:
            raise _api_error(exc) from exc
    return _events_answer(state, change)


@router.post("/alerts/{alert_id}/false-alarm", summary="Mark an alert a false alarm (analyst)")
def false_alarm(
    request: Request,
    state: State,
    token: Token,
    alert_id: str,
    body: Annotated[Who | None, Body()] = None,
) -> dict[str, Any]:
    del token
    guard_alert(request, state, alert_id)  # another department's alert is 404
    given = body or Who(by=None, note="")
    who = _who(request, given.by)
    with state.store() as store:
        try:
            done = mark_false_alarm(store, alert_id, by=who, at=state.clock.now(), note=given.note)
        except CorrectionError as exc:
            raise _api_error(exc) from exc
    zone = state.settings.zone
    return {
        "ok": True,
        "changed": done.correction is not None,
        "alert": alerts_view.alert_dict(done.alert, zone),
        "correction": _logged(done.correction, state) if done.correction else None,
    }


@router.get("/corrections", summary="The corrections log, newest first")
def list_corrections(
    request: Request,
    state: State,
    token: Token,
    kind: Annotated[
        str | None, Query(description=f"only this kind: {', '.join(CORRECTION_KINDS)}")
    ] = None,
    target: Annotated[
        str | None, Query(description="only corrections of this post (source/id), event or alert")
    ] = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    del token
    if kind is not None and kind not in CORRECTION_KINDS:
        raise ApiError(
            400, "bad_request", f"kind {kind!r} is not one of {', '.join(CORRECTION_KINDS)}"
        )
    with state.store() as store:
        found = store.corrections(kind=kind, target=target, limit=limit)
    items = [_logged(c, state) for c in found]
    return {"ok": True, "count": len(items), "items": items}
