"""Recording claims and verdicts in the store, and applying them to stored posts.

The verbs the API and the CLI share: :func:`add_claim`, :func:`mark_claim`,
:func:`edit_claim` read and save through the store (a stale copy is refused with
:class:`~yuqing.store.base.StoreConflictError`) and then :func:`rescore_stored`
re-applies *all* decided claims to the stored posts of the last ``days``: a post that now
repeats a debunked claim is raised, one whose claim was re-marked true or unverified gets
its model score back. :func:`claim_posts` lists the recent stored posts that match one
claim (whatever its verdict: useful before deciding).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yuqing.clock import Clock
from yuqing.models import Document
from yuqing.rumors.claim import Claim, ClaimError, ClaimNotFoundError, new_claim
from yuqing.rumors.matcher import ClaimIndex, ClaimMatch, apply_match, post_text
from yuqing.store.base import Store

__all__ = [
    "RescoreReport",
    "add_claim",
    "claim_posts",
    "edit_claim",
    "get_claim",
    "list_claims",
    "mark_claim",
    "rescore_stored",
]

PAGE = 1000
RECENT_SCAN = 50_000  # most recent posts that claim_posts reads


@dataclass(slots=True)
class RescoreReport:
    """What :func:`rescore_stored` did: posts read in the window, posts that match a
    decided claim now, and posts whose stored analysis changed."""

    scanned: int = 0
    matched: int = 0
    changed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"scanned": self.scanned, "matched": self.matched, "changed": self.changed}


def get_claim(store: Store, claim_id: str) -> Claim:
    data = store.get_claim(claim_id)
    if data is None:
        raise ClaimNotFoundError(f"no claim {claim_id!r}: list the claims to see their ids")
    return Claim.from_dict(data)


def list_claims(
    store: Store, *, verdict: str | None = None, event_id: str | None = None, limit: int = 500
) -> list[Claim]:
    return [
        Claim.from_dict(c) for c in store.claims(verdict=verdict, event_id=event_id, limit=limit)
    ]


def _decided(store: Store) -> list[Claim]:
    return [
        *list_claims(store, verdict="false", limit=10_000),
        *list_claims(store, verdict="true", limit=10_000),
    ]


def _in_window(doc: Document, since: datetime) -> bool:
    """Published since ``since`` (ingested, for a post without a publication time; one
    with neither counts as recent)."""
    when = doc.published_at or doc.ingested_at
    return when is None or when >= since


def rescore_stored(
    store: Store,
    since: datetime,
    *,
    claims: Iterable[Claim] | None = None,
    page: int = PAGE,
    **effect: Any,
) -> RescoreReport:
    """Apply the decided ``claims`` (default: all stored) to the stored posts published
    since ``since`` (ingested, when a post has no time), saving the analyses that change.
    Pages through the stored history in storage order (``documents_after``). ``effect``: keyword
    arguments of :func:`~yuqing.rumors.matcher.apply_match` (``raise_to``, thresholds)."""
    index = ClaimIndex(_decided(store) if claims is None else claims)
    report = RescoreReport()
    position = 0
    while True:
        rows = store.documents_after(position, page)
        if not rows:
            return report
        position = rows[-1][0]
        updates: list[tuple[str, str, dict[str, Any]]] = []
        for _, doc in rows:
            if not _in_window(doc, since) or not isinstance(doc.analysis.get("risk"), dict):
                continue
            report.scanned += 1
            match = index.match(post_text(doc.norm_text, doc.quoted_text, doc.title))
            report.matched += match is not None
            if apply_match(doc.analysis, match, **effect):
                updates.append((doc.source, doc.id, doc.analysis))
        if updates:
            report.changed += store.update_analysis(updates)


def claim_posts(
    store: Store, claim: Claim, since: datetime, *, limit: int = 100
) -> list[tuple[Document, ClaimMatch]]:
    """Stored posts since ``since`` (the newest :data:`RECENT_SCAN` read) that match this
    claim, newest first, at most ``limit``; unverified claims too."""
    decided = claim if claim.verdict != "unverified" else _as_decided(claim)
    index = ClaimIndex([decided])
    found: list[tuple[Document, ClaimMatch]] = []
    for doc in store.recent_documents(since, RECENT_SCAN):
        if not _in_window(doc, since):
            continue
        match = index.match(post_text(doc.norm_text, doc.quoted_text, doc.title))
        if match is not None:
            found.append((doc, ClaimMatch(claim, match.score, match.how, match.stance)))
    found.reverse()  # recent_documents gives the newest last
    return found[:limit]


def _as_decided(claim: Claim) -> Claim:
    copy = Claim.from_dict(claim.as_dict())
    copy.verdict = "true"  # only so that the index takes it; never saved
    return copy


def add_claim(
    store: Store,
    statement: str,
    *,
    who: str,
    clock: Clock,
    days: float,
    verdict: str = "unverified",
    evidence_url: str | None = None,
    note: str = "",
    key_phrases: Iterable[str] = (),
    event_id: str | None = None,
    claim_id: str | None = None,
    **effect: Any,
) -> tuple[Claim, RescoreReport | None]:
    """Record a new claim; a decided one is applied to the stored posts of ``days``."""
    claim = new_claim(
        statement,
        who=who,
        clock=clock,
        verdict=verdict,
        evidence_url=evidence_url,
        note=note,
        key_phrases=key_phrases,
        event_id=event_id,
        claim_id=claim_id,
    )
    if store.get_claim(claim.id) is not None:
        raise ClaimError(f"claim {claim.id} already exists; mark or edit it instead")
    store.save_claim(claim.as_dict())
    report = None
    if claim.verdict != "unverified":
        report = rescore_stored(store, clock.now() - timedelta(days=days), **effect)
    return claim, report


def mark_claim(
    store: Store,
    claim_id: str,
    verdict: str,
    *,
    evidence_url: str | None,
    who: str,
    clock: Clock,
    days: float,
    note: str | None = None,
    **effect: Any,
) -> tuple[Claim, RescoreReport]:
    """Give a stored claim a verdict and apply the verdicts to the stored posts of ``days``."""
    claim = get_claim(store, claim_id)
    claim.mark(verdict, evidence_url=evidence_url, who=who, clock=clock, note=note)
    store.save_claim(claim.as_dict())
    return claim, rescore_stored(store, clock.now() - timedelta(days=days), **effect)


def edit_claim(
    store: Store,
    claim_id: str,
    *,
    who: str,
    clock: Clock,
    days: float,
    statement: str | None = None,
    key_phrases: Iterable[str] | None = None,
    note: str | None = None,
    event_id: str | None = None,
    rescore: bool = True,
    **effect: Any,
) -> tuple[Claim, RescoreReport | None]:
    """Change a claim's statement, key phrases, note or event; when what it matches may
    have changed and it is decided, the stored posts of ``days`` are scored again (unless
    ``rescore`` is False: the caller marks a verdict next, which scores them)."""
    claim = get_claim(store, claim_id)
    claim.edit(
        who=who,
        clock=clock,
        statement=statement,
        key_phrases=key_phrases,
        note=note,
        event_id=event_id,
    )
    store.save_claim(claim.as_dict())
    rematch = statement is not None or key_phrases is not None
    report = None
    if rescore and rematch and claim.verdict != "unverified":
        report = rescore_stored(store, clock.now() - timedelta(days=days), **effect)
    return claim, report
