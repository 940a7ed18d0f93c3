"""Judgement aids in briefings: what the public asks and demands (疑问与诉求,
:mod:`yuqing.judgement.demands`) and the response-strategy advice (应对策略,
:mod:`yuqing.judgement.strategy`), computed from the event's stored posts in the report's
period. Every item is cited to stored posts, so that :mod:`yuqing.reports.verify` checks
it: a question or demand to its sample posts, an advice to the sample posts of the top
questions and demands it answers (else the event's key posts).

A special report (专报) gets the whole digest and the advice; a daily or weekly report
gets the top questions of each of its top events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.cases.levels import LEVELS, aggregate_risk
from yuqing.judgement.demands import DigestItem, digest
from yuqing.judgement.strategy import EventState, advise
from yuqing.models import EMOTION_LABELS, Document
from yuqing.reports.model import AdviceItem, Briefing, Citation, ConcernItem, EventSummary
from yuqing.store.base import Store

Cite = Callable[[Document], Citation]
MAX_POSTS = 5000  # an event's posts read for the digest (oldest first)
TOP = 5  # questions and demands shown in a special report
TOP_PERIODIC = 3  # questions per event in a daily or weekly report
SAMPLES = 2  # cited posts per item
RISKY_SHARE = 0.1


def _in_window(doc: Document, since: datetime | None, until: datetime | None) -> bool:
    when = doc.published_at
    if when is None:
        return True
    return (since is None or when >= since) and (until is None or when < until)


def _posts(store: Store, event_id: str, b: Briefing) -> list[Document]:
    docs = store.event_documents(event_id, order="time", limit=MAX_POSTS)
    return [d for d in docs if _in_window(d, b.since, b.until)]


def _concern(item: DigestItem, by_key: dict[tuple[str, str], Document], cite: Cite) -> ConcernItem:
    cited: list[Citation] = []
    for sample in item.samples:
        doc = by_key.get((sample.source, sample.id))
        if doc is not None and all(c.id != doc.id or c.source != doc.source for c in cited):
            cited.append(cite(doc))
        if len(cited) == SAMPLES:
            break
    return ConcernItem(item.kind_label, item.label, item.posts, item.mentions, tuple(cited))


def _risk_type(counts: dict[str, int], posts: int) -> str:
    risky = {k: n for k, n in counts.items() if k in ("rumor", "group_incident") and n > 0}
    if not risky:
        return "ordinary"
    kind = max(sorted(risky), key=lambda k: risky[k])
    return kind if risky[kind] >= max(3, RISKY_SHARE * posts) else "ordinary"


def _state(
    event: EventSummary,
    docs: Sequence[Document],
    questions: Sequence[ConcernItem],
    demands: Sequence[ConcernItem],
    cases: Sequence[dict[str, Any]],
    now: datetime,
) -> EventState:
    """The advice's input from the briefing's own figures, posts and the event's cases."""
    emotions = Counter(str(d.analysis.get("emotion")) for d in docs)
    known = {k: n for k, n in emotions.items() if k in EMOTION_LABELS}
    total = sum(known.values())
    dominant = max(sorted(known), key=lambda k: known[k]) if total else "neutral"
    published = [
        datetime.fromisoformat(s["published_at"])
        for c in cases
        for s in c.get("statements") or []
        if isinstance(s.get("published_at"), str) and s["published_at"]
    ]
    latest = max(published) if published else None
    hours = max(0.0, (now - latest).total_seconds() / 3600) if latest is not None else None
    levels = [
        str(c["level"]) for c in cases if c.get("status") != "closed" and c.get("level") in LEVELS
    ]
    risk = aggregate_risk(docs)
    return EventState(
        stage=event.stage,  # type: ignore[arg-type]
        heat=min(100.0, max(0.0, event.heat)),
        risk_type=_risk_type(event.risk, event.posts),  # type: ignore[arg-type]
        rumor_score=risk.get("rumor", 0.0),
        group_incident_score=risk.get("group_incident", 0.0),
        dominant_emotion=dominant,
        emotions={k: round(n / total, 4) for k, n in known.items()} if total else {},
        negative_share=min(1.0, max(0.0, event.negative_share)),
        open_questions=len(questions),
        open_demands=len(demands),
        top_questions=tuple(q.label for q in questions[:5]),
        top_demands=tuple(d.label for d in demands[:5]),
        rumours=event.risk.get("rumor", 0) > 0,
        statement_published=latest is not None,
        hours_since_statement=round(hours, 2) if hours is not None else None,
        case_level=min(levels, key=LEVELS.index) if levels else None,  # type: ignore[arg-type]
    )


def fill_special_judgement(store: Store, b: Briefing, cite: Cite, zone: ZoneInfo) -> None:
    """Set ``b.questions``, ``b.demands``, ``b.advice`` (and ``b.judgement_note``) of a
    special report whose ``b.event`` is set."""
    if b.event is None:
        return
    docs = _posts(store, b.event.id, b)
    found = digest(docs, top=TOP, zone=zone)
    by_key = {(d.source, d.id): d for d in docs}
    b.questions = [_concern(i, by_key, cite) for i in found.questions[:TOP]]
    b.demands = [_concern(i, by_key, cite) for i in found.demands[:TOP]]
    b.judgement_note = found.note if not found.enough_data or not (b.questions or b.demands) else ""
    cases = store.cases(event_id=b.event.id, limit=20)
    state = _state(b.event, docs, b.questions, b.demands, cases, b.as_of)
    grounds = [c for item in [*b.questions[:2], *b.demands[:2]] for c in item.citations[:1]]
    grounds = grounds or b.key_posts[:SAMPLES]
    b.advice = [
        AdviceItem(
            a.priority, a.name, a.summary, a.reason, a.dos, a.donts, tuple(grounds[: SAMPLES * 2])
        )
        for a in advise(state)
    ]


def fill_top_questions(store: Store, b: Briefing, cite: Cite, zone: ZoneInfo) -> None:
    """Set the top questions of each event of a daily or weekly report."""
    for event in b.events:
        docs = _posts(store, event.id, b)
        found = digest(docs, top=TOP_PERIODIC, zone=zone)
        by_key = {(d.source, d.id): d for d in docs}
        event.questions = [_concern(i, by_key, cite) for i in found.questions[:TOP_PERIODIC]]
