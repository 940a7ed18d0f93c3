"""The judgement aids of one event, as the event page and the API show them: the
question/demand digest (:mod:`yuqing.judgement.demands`), the coordinated-posting signals
(:mod:`yuqing.judgement.coordination`) and the response-strategy advice
(:mod:`yuqing.judgement.strategy`), computed from the event's stored posts.

The event's state for the advice is read from what the event page already shows (its
lifecycle stage, heat, negative share and risk counts), the posts (dominant emotion, risk
scores) and its cases (a published statement, the level of an open case), so that the
page's figures and the advice's reasons agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.analysis.emotion import EMOTIONS
from yuqing.cases.levels import LEVELS, aggregate_risk
from yuqing.judgement.coordination import CoordinationReport, coordination
from yuqing.judgement.demands import Digest, digest
from yuqing.judgement.strategy import Advice, EventState, advise
from yuqing.models import Document
from yuqing.store.base import Store
from yuqing.web.views import EventView

MAX_POSTS = 5000  # the oldest posts of an event read for the aids (all of most events)
TOP = 10  # lines of the digest per group
CASES = 20  # the event's cases read for the advice
RISKY_SHARE = 0.1  # a risk type held by this share of the posts (and >= 3) is the event's


@dataclass(slots=True)
class Judgement:
    """The three aids of one event and the state the advice read."""

    posts: int  # the posts read
    digest: Digest
    coordination: CoordinationReport
    state: EventState
    advice: list[Advice]

    def advice_dict(self) -> dict[str, Any]:
        return {
            "posts_used": self.posts,
            "state": state_dict(self.state),
            "advice": [a.as_dict() for a in self.advice],
        }


def event_posts(store: Store, event_id: str, limit: int = MAX_POSTS) -> list[Document]:
    """The event's stored posts, oldest first (at most ``limit``)."""
    return store.event_documents(event_id, order="time", limit=limit)


def event_digest(docs: Sequence[Document], zone: ZoneInfo) -> Digest:
    """What the public asks and demands (an honest "not enough data" under 20 posts)."""
    return digest(docs, top=TOP, zone=zone)


def event_coordination(docs: Sequence[Document]) -> CoordinationReport:
    """Coordinated-posting signals (not computed under the library's 30 posts)."""
    return coordination(docs)


def _risk_type(counts: Mapping[str, int], posts: int) -> str:
    risky = {k: n for k, n in counts.items() if k in ("rumor", "group_incident") and n > 0}
    if not risky:
        return "ordinary"
    kind = max(sorted(risky), key=lambda k: risky[k])
    return kind if risky[kind] >= max(3, RISKY_SHARE * posts) else "ordinary"


def _emotions(counts: Mapping[str, int]) -> tuple[str, dict[str, float]]:
    known = {k: n for k, n in counts.items() if k in EMOTIONS and n > 0}
    total = sum(known.values())
    if not total:
        return "neutral", {}
    shares = {k: round(n / total, 4) for k, n in known.items()}
    dominant = max(sorted(known), key=lambda k: known[k])
    return dominant, shares


def _statement_times(cases: Sequence[Mapping[str, Any]]) -> list[datetime]:
    times: list[datetime] = []
    for case in cases:
        for statement in case.get("statements") or []:
            when = statement.get("published_at")
            if isinstance(when, str) and when:
                times.append(datetime.fromisoformat(when))
            elif isinstance(when, datetime):
                times.append(when)
    return times


def _case_level(cases: Sequence[Mapping[str, Any]]) -> str | None:
    """The highest level among the event's open cases (I is highest)."""
    levels = [
        str(c.get("level"))
        for c in cases
        if c.get("status") != "closed" and c.get("level") in LEVELS
    ]
    return min(levels, key=LEVELS.index) if levels else None


def event_state(
    event: EventView,
    docs: Sequence[Document],
    found: Digest,
    cases: Sequence[Mapping[str, Any]],
    now: datetime,
    *,
    risk: Mapping[str, float] | None = None,
) -> EventState:
    """The state the advice reads, from the event's figures, posts, digest and cases
    (``risk``: ``aggregate_risk(docs)`` when already computed)."""
    rollup = event.rollup
    if risk is None:
        risk = aggregate_risk(docs)
    dominant, shares = _emotions(rollup.emotion)
    published = _statement_times(cases)
    latest = max(published) if published else None
    hours = max(0.0, (now - latest).total_seconds() / 3600) if latest is not None else None
    return EventState(
        stage=event.lifecycle.stage,
        heat=min(100.0, max(0.0, float(event.heat.score))),
        risk_type=_risk_type(rollup.risk, rollup.posts),  # type: ignore[arg-type]
        rumor_score=risk.get("rumor", 0.0),
        group_incident_score=risk.get("group_incident", 0.0),
        dominant_emotion=dominant,
        emotions=shares,
        negative_share=min(1.0, max(0.0, event.negative_share)),
        open_questions=len(found.questions),
        open_demands=len(found.demands),
        top_questions=tuple(item.label for item in found.questions[:5]),
        top_demands=tuple(item.label for item in found.demands[:5]),
        rumours=rollup.risk.get("rumor", 0) > 0,
        statement_published=latest is not None,
        hours_since_statement=round(hours, 2) if hours is not None else None,
        case_level=_case_level(cases),  # type: ignore[arg-type]
    )


def state_dict(state: EventState) -> dict[str, Any]:
    """The state as JSON (the fields, tuples as lists)."""
    out = state.values()
    return {
        "stage": out["stage"],
        "heat": round(float(out["heat"]), 2),
        "risk_type": out["risk_type"],
        "rumor_score": out["rumor_score"],
        "group_incident_score": out["group_incident_score"],
        "dominant_emotion": out["dominant_emotion"],
        "emotions": dict(state.emotions),
        "negative_share": round(float(out["negative_share"]), 4),
        "open_questions": out["open_questions"],
        "open_demands": out["open_demands"],
        "top_questions": list(state.top_questions),
        "top_demands": list(state.top_demands),
        "rumours": out["rumours"],
        "casualties": out["casualties"],
        "statement_published": out["statement_published"],
        "hours_since_statement": out["hours_since_statement"],
        "case_level": out["case_level"],
    }


def judge(store: Store, event: EventView, now: datetime, zone: ZoneInfo) -> Judgement:
    """All three aids of ``event`` from its stored posts and cases."""
    docs = event_posts(store, event.id)
    found = event_digest(docs, zone)
    report = event_coordination(docs)
    cases = store.cases(event_id=event.id, limit=CASES)
    return assemble(event, len(docs), found, report, aggregate_risk(docs), cases, now)


def assemble(
    event: EventView,
    posts: int,
    found: Digest,
    report: CoordinationReport,
    risk: Mapping[str, float],
    cases: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Judgement:
    """The judgement from the parts computed over the event's ``posts`` posts read (the
    digest, coordination report and ``aggregate_risk``), its cases and ``now``."""
    state = event_state(event, (), found, cases, now, risk=risk)
    return Judgement(
        posts=posts, digest=found, coordination=report, state=state, advice=advise(state)
    )


__all__ = [
    "MAX_POSTS",
    "Judgement",
    "assemble",
    "event_coordination",
    "event_digest",
    "event_posts",
    "event_state",
    "judge",
    "state_dict",
]
