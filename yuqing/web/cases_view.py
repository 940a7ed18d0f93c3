"""What the case API and the case pages share: opening a case from an event, an alert or
a title; a case as JSON with its deadline, timeliness and overdue items; the four-principle
check and the statement effect as JSON; the shipped plans; and the translation of case
errors into API errors (404 unknown, 409 a move the flow or a closed case refuses, 409 a
stale copy, 422 any other invalid change).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.cases import (
    LEVEL_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    Case,
    CaseNotFoundError,
    CaseTransitionError,
    Check,
    ClosedCaseError,
    DeadlinePolicy,
    Effect,
    Plan,
    aggregate_risk,
    first_statement_due,
    new_case,
    open_case_from_event,
    overdue,
    overdue_items,
    shipped_plans,
    statement_effect,
    timeliness,
)
from yuqing.cases.repository import StoreCaseRepository
from yuqing.clock import Clock
from yuqing.errors import ConfigError, UsageError
from yuqing.store.base import Store, StoreConflictError
from yuqing.web import views
from yuqing.web.deps import ApiError

RISK_POSTS = 30  # the riskiest posts of an event that its risk is aggregated from
EFFECT_POSTS = 50_000  # the most posts of an event that a statement's effect reads


@contextmanager
def case_errors() -> Iterator[None]:
    """Case errors as API errors with the domain's message (which says what to do)."""
    try:
        yield
    except CaseNotFoundError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except CaseTransitionError as exc:
        raise ApiError(409, "invalid_transition", str(exc)) from exc
    except ClosedCaseError as exc:
        raise ApiError(409, "case_closed", str(exc)) from exc
    except StoreConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    except (UsageError, ConfigError) as exc:
        raise ApiError(422, "invalid_case_change", str(exc)) from exc


@lru_cache(maxsize=1)
def plans() -> dict[str, Plan]:
    """The contingency plans: the shipped ones (a ``plans_dir`` setting will add the
    user's own once it exists)."""
    return shipped_plans()


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "category": plan.category,
        "description": plan.description,
        "items": [
            {
                "id": i.id,
                "text": i.text,
                "department": i.department,
                "due_minutes": i.due.total_seconds() / 60 if i.due is not None else None,
            }
            for i in plan.items
        ],
    }


def _local(when: datetime | None, zone: ZoneInfo) -> str | None:
    return when.astimezone(zone).isoformat() if when is not None else None


def case_dict(case: Case, now: datetime, zone: ZoneInfo, policy: DeadlinePolicy) -> dict[str, Any]:
    """``Case.as_dict()`` plus labels, the allowed next statuses, the first-statement
    deadline, timeliness, overdue and the overdue checklist items at ``now``."""
    out = case.as_dict()
    late_items = {i.key for i in overdue_items(case, now)}
    for item, raw in zip(case.checklist, out["checklist"], strict=True):
        raw["key"] = item.key
        raw["overdue"] = item.key in late_items
    on_time = timeliness(case, now, policy, tz=zone)
    out.update(
        level_label=LEVEL_LABELS[case.level],
        status_label=STATUS_LABELS[case.status],
        next_statuses=list(TRANSITIONS[case.status]),
        due=_local(first_statement_due(case, policy), zone),
        overdue=overdue(case, now, policy),
        overdue_items=sorted(late_items),
        timeliness={
            "status": on_time.status,
            "margin_minutes": round(on_time.margin_minutes, 1),
            "published_at": _local(on_time.published_at, zone),
            "summary": on_time.summary,
        },
        checklist_done=sum(1 for i in case.checklist if i.done_at is not None),
    )
    return out


def check_dict(check: Check) -> dict[str, Any]:
    return {
        "passed": check.passed,
        "results": [
            {
                "name": r.name,
                "label": r.label,
                "passed": r.passed,
                "explanation": r.explanation,
                "evidence": list(r.evidence),
            }
            for r in check.results
        ],
        "failures": [f.as_dict() for f in check.failures],
        "summary": check.summary(),
    }


def effect_dict(effect: Effect, zone: ZoneInfo) -> dict[str, Any]:
    def side(w: Any) -> dict[str, Any]:
        return {
            "start": _local(w.start, zone),
            "end": _local(w.end, zone),
            "volume": w.volume,
            "per_hour": round(w.per_hour, 2),
            "negative_share": round(w.negative_share, 4),
            "emotions": {k: round(v, 4) for k, v in w.emotions.items()},
            "top_emotion": w.top_emotion,
        }

    return {
        "published_at": _local(effect.published_at, zone),
        "before": side(effect.before),
        "after": side(effect.after),
        "volume_change": None if effect.volume_change is None else round(effect.volume_change, 4),
        "negative_share_delta": round(effect.negative_share_delta, 4),
        "emotion_delta": {k: round(v, 4) for k, v in effect.emotion_delta.items()},
        "partial": effect.partial,
        "skipped": effect.skipped,
        "summary": effect.summary,
    }


def open_case(
    store: Store,
    clock: Clock,
    *,
    who: str,
    event_id: str | None = None,
    alert_id: str | None = None,
    title: str | None = None,
    owner: str | None = None,
    departments: Sequence[str] = (),
) -> tuple[Case, dict[str, Any] | None]:
    """Open and save a case from an event, an alert (and its event, if it has one) or a
    title; return it with the suggestion's figures (heat, risk) when an event was given.
    An unknown event or alert is an ApiError 404 and nothing is saved; an alert whose
    event has no stored posts opens a case from the alert alone (the event id kept)."""
    alert_event: str | None = None
    if alert_id is not None:
        stored = store.get_alert(alert_id)
        if stored is None:
            raise ApiError(404, "not_found", f"no alert {alert_id!r} in the store")
        if event_id is None:
            alert_event = stored.alert.event_id
        title = title or stored.alert.title
    suggestion: dict[str, Any] | None = None
    rollups = []
    if alert_event is not None:
        rollups = store.event_rollups(ids=[alert_event], limit=1)
        event_id = alert_event if rollups else None
    elif event_id is not None:
        rollups = store.event_rollups(ids=[event_id], limit=1)
        if not rollups:
            raise ApiError(404, "not_found", f"no event {event_id!r} in the store")
    if event_id is not None:
        now = views.as_of(store)
        view = views.event_view(store, rollups[0], now)
        stats = views.event_stats(rollups[0], now)
        risk = aggregate_risk(store.event_documents(event_id, order="risk", limit=RISK_POSTS))
        with case_errors():
            case = open_case_from_event(
                stats,
                risk,
                title=title or view.title,
                who=who,
                clock=clock,
                event_id=event_id,
                alert_id=alert_id,
                owner=owner,
                departments=departments,
            )
        suggestion = {
            "heat": round(view.heat.score, 1),
            "risk": risk,
            "level": case.level,
            "reason": case.level_reason,
        }
    else:
        if not title or not title.strip():
            raise ApiError(
                422,
                "invalid_request",
                "a case needs an event_id, an alert_id or a title",
            )
        reason = (
            f"预警关联的事件 {alert_event} 暂无入库帖文，无法据热度定级"
            if alert_event
            else "手工立案，未关联事件"
        ) + "，默认 IV（一般）；请按实际情况调整级别"
        with case_errors():
            case = new_case(
                title,
                level="IV",
                level_reason=reason,
                who=who,
                clock=clock,
                event_id=alert_event,
                alert_id=alert_id,
                owner=owner,
                departments=departments,
            )
    with case_errors():
        StoreCaseRepository(store).add_case(case)
    return case, suggestion


def case_effect(
    store: Store,
    case: Case,
    now: datetime,
    *,
    statement_id: str | None = None,
    window: timedelta = timedelta(hours=6),
) -> Effect:
    """The effect of the case's statement (the first published one by default) on its
    event's stored posts. 422 when the case has no event or nothing is published."""
    if case.event_id is None:
        raise ApiError(422, "no_event", f"case {case.id} has no event: no posts to measure")
    with case_errors():
        published = (
            [case.statement(statement_id)]
            if statement_id
            else [s for s in case.statements if s.published_at is not None]
        )
    first = min(
        (s for s in published if s.published_at is not None),
        key=lambda s: s.published_at or now,
        default=None,
    )
    if first is None or first.published_at is None:
        raise ApiError(
            422,
            "not_published",
            f"case {case.id}: no published statement yet; publish one to measure its effect",
        )
    docs = store.event_documents(case.event_id, order="time", limit=EFFECT_POSTS)
    with case_errors():
        return statement_effect(docs, first.published_at, window, now=now)
