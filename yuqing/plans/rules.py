"""A plan's keyword rules as the alert engine's :class:`~yuqing.alerts.rules_config.MonitorRule` s.

Choice (docs/plans.md): plan rules are **loaded by the alert engine** beside yuqing.toml's
``[[monitor.rules]]`` and the rules saved through ``/api/v1/rules``, not copied into the
saved rules, because a plan says who is notified (``notify``: channel ids) and a saved
rule has no channels; and because the plan stays the one place its rules are edited.
Each rule's id is ``plan:<plan id>:<rule id>``, so alerts name their plan, and the query
is the rule's query narrowed to the plan's regions::

    (rule query) AND (region:宁波市 OR region:330200)

A plan's rules check every post the engine sees (the plan's own sources and all others),
like any monitoring rule. :class:`PlanRuleSync` lets a running engine follow plans saved,
changed, disabled or deleted since the last poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from yuqing.alerts.rule_syntax import And, Node, Or, format, parse
from yuqing.alerts.rules_config import MonitorRule, channel_names, load_rules
from yuqing.errors import ConfigError
from yuqing.plans.plan import Plan, PlanError, PlanRule, check_plan_against, plan_from_dict
from yuqing.settings import Settings
from yuqing.store.base import Store

__all__ = [
    "PLAN_RULE_PREFIX",
    "PlanRuleSync",
    "check_plan",
    "effective_query",
    "plan_monitor_rules",
    "plan_rule_id",
    "stored_plans",
]

PLAN_RULE_PREFIX = "plan:"


def plan_rule_id(plan_id: str, rule_id: str) -> str:
    """The engine's (and the alerts') id of a plan rule."""
    return f"{PLAN_RULE_PREFIX}{plan_id}:{rule_id}"


def effective_query(plan: Plan, rule: PlanRule) -> str:
    """The rule's query, narrowed to the plan's regions (canonical text)."""
    node = parse(rule.query)
    if not plan.regions:
        return format(node)
    filters: list[Node] = [
        parse(f'region:"{r}"' if not r.isdigit() else f"region:{r}") for r in plan.regions
    ]
    region: Node = filters[0] if len(filters) == 1 else Or(tuple(filters))
    children = node.children if isinstance(node, And) else (node,)
    return format(And((*children, region)))


def _tables(plan: Plan) -> list[dict[str, Any]]:
    tables: list[dict[str, Any]] = []
    for rule in plan.rules:
        table: dict[str, Any] = {
            "id": plan_rule_id(plan.id, rule.id),
            "name": f"{plan.name}·{rule.name}",
            "query": effective_query(plan, rule),
            "triggers": [dict(t) for t in rule.triggers],
            "severity": rule.severity,
            "channels": list(plan.notify),
        }
        if rule.cooldown is not None:
            table["cooldown"] = rule.cooldown
        tables.append(table)
    return tables


def plan_monitor_rules(plan: Plan, settings: Settings) -> list[MonitorRule]:
    """The engine's rules of an enabled plan (none for a disabled one); PlanError names
    the plan and rule when a trigger or channel is wrong."""
    if not plan.enabled:
        return []
    try:
        return load_rules(
            _tables(plan),
            default_cooldown=settings.monitor.cooldown,
            channel_names=channel_names(settings.alerts.channels),
        )
    except ConfigError as exc:
        raise PlanError(f"plan {plan.id!r}: {exc}") from exc


def check_plan(plan: Plan, settings: Settings) -> None:
    """Every check of a plan, including those that need the settings (channels, the
    shortest interval, the triggers); PlanError says what and where."""
    check_plan_against(
        plan,
        channels=channel_names(settings.alerts.channels),
        min_interval_seconds=settings.plans.seconds("min_interval"),
    )
    if not plan.enabled:  # still check the rules of a plan saved disabled
        plan = plan_from_dict({**plan.as_dict(), "enabled": True})
    plan_monitor_rules(plan, settings)


def stored_plans(store: Store, settings: Settings) -> list[Plan]:
    """The plans in the store, read back (a record that no longer reads is skipped)."""
    plans: list[Plan] = []
    for data in store.plans():
        try:
            plans.append(plan_from_dict(data, default_interval=settings.plans.default_interval))
        except PlanError:
            continue
    return plans


class PlanRuleSync:
    """What changed among the plans' rules since the last call: ``changes(store)`` returns
    (rules to add or replace, rule ids to remove); the first call returns every rule of
    every enabled plan. A plan whose rules fail their checks is reported in ``errors``
    and left as it was in the engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._seen: dict[str, tuple[bytes, list[str]]] = {}
        self.errors: list[str] = []

    def changes(self, store: Store) -> tuple[list[MonitorRule], list[str]]:
        self.errors = []
        plans = {p.id: p for p in stored_plans(store, self.settings)}
        add: list[MonitorRule] = []
        remove: list[str] = []
        for plan_id in [p for p in self._seen if p not in plans]:
            remove += self._seen.pop(plan_id)[1]
        for plan_id, plan in plans.items():
            print_ = _fingerprint(plan)
            before = self._seen.get(plan_id)
            if before is not None and before[0] == print_:
                continue
            try:
                rules = plan_monitor_rules(plan, self.settings)
            except PlanError as exc:
                self.errors.append(str(exc))
                continue
            ids = [r.id for r in rules]
            if before is not None:
                remove += [i for i in before[1] if i not in ids]
            self._seen[plan_id] = (print_, ids)
            add += rules
        return add, remove


def _fingerprint(plan: Plan) -> bytes:
    data = plan.as_dict()
    keep: Sequence[str] = ("enabled", "name", "regions", "notify", "rules")
    return orjson.dumps({k: data[k] for k in keep}, option=orjson.OPT_SORT_KEYS)
