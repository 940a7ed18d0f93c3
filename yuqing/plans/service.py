"""Saving and reading plans, and their sources' health: what the API, the page and the CLI
share. Every save checks the whole plan (:func:`~yuqing.plans.rules.check_plan`), refuses
secrets, and stamps ``created_at`` (kept from the stored plan) and ``updated_at`` from
the injected clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.clock import Clock
from yuqing.plans.errors import PlanExistsError
from yuqing.plans.plan import Plan, plan_from_dict
from yuqing.plans.rules import check_plan, effective_query, plan_rule_id
from yuqing.settings import Settings
from yuqing.store.base import SourcePollState, Store

__all__ = [
    "HEALTH_LABELS",
    "PlanExistsError",
    "load_plan",
    "plan_health",
    "plan_view",
    "save_plan",
]

HEALTH_LABELS = {
    "ok": "正常",
    "not_modified": "无更新",
    "error": "失败",
    "pending": "待轮询",
    "push": "推送接收",
    "disabled": "方案已停用",
}


def save_plan(
    store: Store,
    data: Mapping[str, Any],
    settings: Settings,
    clock: Clock,
    *,
    plan_id: str | None = None,
    create: bool = False,
    where: str = "plan",
) -> tuple[Plan, bool]:
    """Check and save a plan given as a dict; return it and whether it is new. ``create``
    refuses an id already stored (PlanExistsError); ``plan_id`` is the id of a PUT."""
    plan = plan_from_dict(
        data, where=where, default_interval=settings.plans.default_interval, plan_id=plan_id
    )
    check_plan(plan, settings)
    stored = store.get_plan(plan.id)
    if create and stored is not None:
        raise PlanExistsError(
            f"plan {plan.id!r} already exists; change it with PUT /api/v1/monitoring-plans/{plan.id} "
            "or choose another id"
        )
    now = clock.now()
    plan.created_at = _time(stored.get("created_at")) if stored else None
    plan.created_at = plan.created_at or now
    plan.updated_at = now
    created = store.save_plan(plan.as_dict())
    return plan, created


def load_plan(store: Store, plan_id: str, settings: Settings) -> Plan | None:
    """The stored plan of this id, read back (None when there is none)."""
    data = store.get_plan(plan_id)
    if data is None:
        return None
    return plan_from_dict(data, default_interval=settings.plans.default_interval)


def _time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
    return when if when is not None and when.tzinfo is not None else None


def _local(when: datetime | None, zone: ZoneInfo) -> str | None:
    return when.astimezone(zone).isoformat() if when is not None else None


def plan_health(plan: Plan, states: list[SourcePollState], zone: ZoneInfo) -> list[dict[str, Any]]:
    """One row per source: what it is and how its polling goes (``health`` is ok,
    not_modified, error, pending: never polled, push: not polled, or disabled)."""
    by_id = {s.source_id: s for s in states}
    rows: list[dict[str, Any]] = []
    for source in plan.sources:
        state = by_id.get(source.id)
        if not source.polled:
            health = "push"
        elif not plan.enabled:
            health = "disabled"
        elif state is None or state.status is None:
            health = "pending"
        else:
            health = state.status
        rows.append(
            {
                "source_id": source.id,
                "kind": source.kind,
                "target": source.target,
                "name": source.name,
                "interval": source.interval,
                "health": health,
                "label": HEALTH_LABELS[health],
                "last_poll_at": _local(state.last_poll_at, zone) if state else None,
                "next_poll_at": _local(state.next_poll_at, zone) if state else None,
                "http_status": state.http_status if state else None,
                "failures": state.failures if state else 0,
                "last_error": state.last_error if state else None,
                "posts_fetched": state.posts_fetched if state else 0,
                "last_posts": state.last_posts if state else 0,
                "conditional": bool(state and (state.etag or state.last_modified)),
            }
        )
    return rows


def plan_view(plan: Plan, zone: ZoneInfo) -> dict[str, Any]:
    """The plan as the API answers it: its dict, plus each rule's engine id and effective
    query (narrowed to the regions)."""
    out = plan.as_dict()
    for rule, row in zip(plan.rules, out["rules"], strict=True):
        row["rule_id"] = plan_rule_id(plan.id, rule.id)
        row["effective_query"] = effective_query(plan, rule)
    for key in ("created_at", "updated_at"):
        when = getattr(plan, key)
        out[key] = _local(when, zone)
    return out
