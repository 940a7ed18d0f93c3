"""Bring a running AlertEngine's rules in step with rules kept in the store: the saved rules
(yuqing.store.saved_rules.RuleSync) and the monitoring plans' rules
(yuqing.plans.rules.PlanRuleSync) report their changes the same way, and every process that
runs an engine (`yuqing run`, `yuqing serve`'s plan poller and push alerts) applies them
with :func:`apply_rule_changes`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from yuqing.errors import ConfigError

if TYPE_CHECKING:
    from yuqing.alerts.engine import AlertEngine
    from yuqing.alerts.rules_config import MonitorRule
    from yuqing.store.base import Store


class RuleChanges(Protocol):
    """What changed among some stored rules since the last call, and the rules that failed
    their checks (skipped; the engine keeps its previous version of them)."""

    errors: list[str]

    def changes(self, store: Store) -> tuple[Sequence[MonitorRule], Sequence[str]]: ...


def apply_rule_changes(sync: RuleChanges, store: Store, engine: AlertEngine) -> list[str]:
    """Remove the deleted rules, add or replace the changed ones; return the warnings (the
    sync's errors, and each rule the engine refused, which is skipped)."""
    add, remove = sync.changes(store)
    warnings = list(sync.errors)
    if remove:
        engine.update_rules(remove=list(remove))
    for rule in add:
        try:
            engine.update_rules(add=[rule])
        except ConfigError as exc:
            warnings.append(str(exc))
    return warnings
