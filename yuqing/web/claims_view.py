"""What the claim pages show: each claim with the number of recent stored posts that repeat
it (one pass over the posts for all claims), and an event's claims together with its posts
that repeat a claim debunked as false (with the debunking link).

Counting uses the same matcher as the ``claims`` pipeline stage and
``GET /api/v1/claims/{id}/posts`` (:mod:`yuqing.rumors.matcher`); an unverified claim is
matched as if decided, so that an analyst sees how far it has spread before deciding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from yuqing.models import Document
from yuqing.rumors import Claim, ClaimIndex, post_text
from yuqing.rumors import verdicts as service
from yuqing.store.base import Store

SCAN = 20_000  # most recent posts read to count matches
EVENT_POSTS = 300  # riskiest posts of an event read for false-claim repeats (raised to >= 0.9)


@dataclass(slots=True)
class ClaimRow:
    """A claim as the 辟谣 page lists it."""

    claim: Claim
    posts: int = 0  # stored posts since the window start that repeat or refute it


@dataclass(slots=True)
class EventClaims:
    """An event's claims and its posts that repeat a false claim (newest first)."""

    claims: list[Claim] = field(default_factory=list)
    repeats: list[tuple[Document, dict[str, Any]]] = field(default_factory=list)


def _matchable(claim: Claim) -> Claim:
    if claim.verdict != "unverified":
        return claim
    copy = Claim.from_dict(claim.as_dict())
    copy.verdict = "true"  # only so that the index takes it; never saved
    return copy


def claim_rows(store: Store, claims: list[Claim], since: datetime) -> list[ClaimRow]:
    """``claims`` with how many stored posts since ``since`` (the newest :data:`SCAN`)
    match each one best."""
    rows = [ClaimRow(c) for c in claims]
    if not claims:
        return rows
    index = ClaimIndex([_matchable(c) for c in claims])
    counts: dict[str, int] = {}
    for doc in store.recent_documents(since, SCAN):
        when = doc.published_at or doc.ingested_at
        if when is not None and when < since:
            continue
        match = index.match(post_text(doc.norm_text, doc.quoted_text, doc.title))
        if match is not None:
            counts[match.claim.id] = counts.get(match.claim.id, 0) + 1
    for row in rows:
        row.posts = counts.get(row.claim.id, 0)
    return rows


def event_claims(store: Store, event_id: str) -> EventClaims:
    """The claims filed under ``event_id`` and the event's posts whose stored analysis says
    they repeat a claim marked false (``analysis["claim"]``, set by the pipeline stage or a
    re-score), most recent first."""
    return claims_of(
        store, event_id, store.event_documents(event_id, order="risk", limit=EVENT_POSTS)
    )


def claims_of(store: Store, event_id: str, risky: Sequence[Document]) -> EventClaims:
    """:func:`event_claims` over the event's riskiest posts already read (``risky``: the
    event's posts in risk order, at most :data:`EVENT_POSTS` of them are looked at)."""
    found = EventClaims(claims=service.list_claims(store, event_id=event_id, limit=100))
    for doc in risky[:EVENT_POSTS]:
        info = doc.analysis.get("claim")
        false = isinstance(info, dict) and info.get("verdict") == "false"
        if false and info.get("stance", "repeats") == "repeats":  # type: ignore[union-attr]
            found.repeats.append((doc, info))  # type: ignore[arg-type]
    found.repeats.sort(
        key=lambda pair: pair[0].published_at.timestamp() if pair[0].published_at else 0.0,
        reverse=True,
    )
    return found
