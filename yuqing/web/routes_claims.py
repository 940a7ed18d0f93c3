"""REST API v1 of claims (辟谣, docs/rumors.md): record a claim, give it a verdict (true,
false, unverified) with the evidence link, list and read claims, and list the stored posts
that repeat one.

Reads follow the API's token rule; every change needs a token. A verdict (or an edit of
what a decided claim matches) is applied at once to the stored posts of the last
``[rumors] rescore_days`` (answered as ``rescored``: posts read, matching, changed); the
running pipeline picks it up within ``[rumors] refresh``. Errors have the API's one shape:
404 unknown claim, 409 a copy changed meanwhile, 422 an invalid claim or verdict (a
``false`` or ``true`` verdict without an http(s) evidence link).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from yuqing.errors import ConfigError, UsageError
from yuqing.models import Document
from yuqing.rumors import VERDICT_LABELS, VERDICTS, Claim, ClaimMatch, ClaimNotFoundError
from yuqing.rumors import verdicts as service
from yuqing.settings import Settings
from yuqing.store.base import StoreConflictError
from yuqing.web.deps import ApiError, acting_user
from yuqing.web.routes_api import ERRORS, Limit, State, Token

router = APIRouter(prefix="/api/v1", tags=["claims"], responses={**ERRORS, 409: ERRORS[400]})
Who = Field(None, max_length=80, description="who gives the verdict (default: the signed-in user)")
Phrases = Field(None, max_length=10, description="key phrases every repeat contains")


class ClaimBody(BaseModel):
    """A new claim; ``verdict`` false or true needs ``evidence_url``."""

    statement: str = Field(min_length=1, max_length=500, description="what is being said")
    key_phrases: list[str] | None = Phrases
    verdict: str = Field("unverified", description=", ".join(VERDICTS))
    evidence_url: str | None = Field(None, max_length=2000, description="debunking or statement")
    note: str = Field("", max_length=2000)
    event_id: str | None = Field(None, max_length=200)
    id: str | None = Field(None, max_length=80, description="default: claim-YYYYMMDD-xxxxxx")
    by: str | None = Who


class ClaimChange(BaseModel):
    """A verdict (``verdict`` with ``evidence_url``) and/or an edit of the other fields."""

    verdict: str | None = Field(None, description=", ".join(VERDICTS))
    evidence_url: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)
    statement: str | None = Field(None, min_length=1, max_length=500)
    key_phrases: list[str] | None = Phrases
    event_id: str | None = Field(None, max_length=200)
    by: str | None = Who


@contextmanager
def claim_errors() -> Iterator[None]:
    """Claim errors as API errors with the domain's message."""
    try:
        yield
    except ClaimNotFoundError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except StoreConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    except (UsageError, ConfigError) as exc:
        raise ApiError(422, "invalid_claim", str(exc)) from exc


def claim_dict(claim: Claim, settings: Settings) -> dict[str, Any]:
    """A claim as the API answers it: ``Claim.as_dict()`` plus labels and local times."""
    out = claim.as_dict()
    out["verdict_label"] = VERDICT_LABELS[claim.verdict]
    out["marked_at_local"] = claim.marked_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    return out


def post_dict(doc: Document, match: ClaimMatch, settings: Settings) -> dict[str, Any]:
    risk = doc.analysis.get("risk") if isinstance(doc.analysis.get("risk"), dict) else None
    return {
        "source": doc.source,
        "id": doc.id,
        "text": doc.text,
        "url": doc.url,
        "author": doc.author,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "published_local": (
            doc.published_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
            if doc.published_at
            else None
        ),
        "score": match.score,
        "how": match.how,
        "stance": match.stance,
        "risk": risk,
        "claim": doc.analysis.get("claim"),
    }


def _effect(settings: Settings) -> dict[str, Any]:
    return {"raise_to": settings.rumors.raise_to}


@router.get("/claims", summary="Claims (说法) with their verdicts, most recently changed first")
def list_claims(
    request: Request,
    state: State,
    token: Token,
    verdict: Annotated[str | None, Query(description=", ".join(VERDICTS))] = None,
    event_id: Annotated[str | None, Query(description="only this event's claims")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    del token
    if verdict is not None and verdict not in VERDICTS:
        raise ApiError(400, "bad_request", f"verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    with state.store() as store, claim_errors():
        found = service.list_claims(store, verdict=verdict, event_id=event_id, limit=limit)
    items = [claim_dict(c, state.settings) for c in found]
    return {"ok": True, "count": len(items), "items": items}


@router.post("/claims", summary="Record a claim, with a verdict if known", status_code=201)
def add_claim(request: Request, state: State, token: Token, body: ClaimBody) -> dict[str, Any]:
    del token
    settings = state.settings
    with state.store() as store, claim_errors():
        claim, report = service.add_claim(
            store,
            body.statement,
            who=acting_user(request, body.by),
            clock=state.clock,
            days=settings.rumors.rescore_days,
            verdict=body.verdict,
            evidence_url=body.evidence_url,
            note=body.note,
            key_phrases=body.key_phrases or (),
            event_id=body.event_id,
            claim_id=body.id,
            **_effect(settings),
        )
    return {
        "ok": True,
        "claim": claim_dict(claim, settings),
        "rescored": report.as_dict() if report else None,
    }


@router.get("/claims/{claim_id}", summary="One claim with its verdict history")
def get_claim(request: Request, state: State, token: Token, claim_id: str) -> dict[str, Any]:
    del token
    with state.store() as store, claim_errors():
        claim = service.get_claim(store, claim_id)
    return {"ok": True, "claim": claim_dict(claim, state.settings)}


@router.put("/claims/{claim_id}", summary="Mark a verdict (with evidence) and/or edit a claim")
def change_claim(
    request: Request, state: State, token: Token, claim_id: str, body: ClaimChange
) -> dict[str, Any]:
    del token
    settings = state.settings
    edits = {
        k: getattr(body, k)
        for k in ("statement", "key_phrases", "event_id")
        if getattr(body, k) is not None
    }
    if body.verdict is None and not edits and body.note is None:
        raise ApiError(422, "invalid_request", "send a verdict, an edit, or both")
    days, effect, who = (
        settings.rumors.rescore_days,
        _effect(settings),
        acting_user(request, body.by),
    )
    report = None
    with state.store() as store, claim_errors():
        if edits or (body.note is not None and body.verdict is None):
            claim, report = service.edit_claim(
                store,
                claim_id,
                who=who,
                clock=state.clock,
                days=days,
                note=body.note if body.verdict is None else None,
                rescore=body.verdict is None,
                **edits,
                **effect,
            )
        if body.verdict is not None:
            claim, report = service.mark_claim(
                store,
                claim_id,
                body.verdict,
                evidence_url=body.evidence_url,
                note=body.note,
                who=who,
                clock=state.clock,
                days=days,
                **effect,
            )
    return {
        "ok": True,
        "claim": claim_dict(claim, settings),
        "rescored": report.as_dict() if report else None,
    }


@router.get("/claims/{claim_id}/posts", summary="Stored posts that repeat (or refute) a claim")
def claim_posts(
    request: Request,
    state: State,
    token: Token,
    claim_id: str,
    days: Annotated[float, Query(gt=0, le=365, description="posts of this many days")] = 7,
    limit: Limit = 50,
) -> dict[str, Any]:
    del token
    settings = state.settings
    with state.store() as store, claim_errors():
        claim = service.get_claim(store, claim_id)
        since = state.clock.now() - timedelta(days=days)
        found = service.claim_posts(store, claim, since, limit=limit)
    items = [post_dict(doc, match, settings) for doc, match in found]
    return {"ok": True, "claim": claim_dict(claim, settings), "count": len(items), "items": items}
