"""Per-department data scope of alerts (:mod:`yuqing.privacy.scope`): which stored alerts a
scoped user sees.

An alert belongs to what raised it, read from its rule id (and, for deadlines, its link):

- ``plan:<plan id>:<rule id>`` (:func:`yuqing.plans.rules.plan_rule_id`): the plan's. A
  scoped user sees it when it sees the plan (the plan's owner ``department`` is its own); a
  plan without a department, or one deleted since, belongs to no department, so only
  unscoped users see its alerts (as for the plan itself).
- ``case-deadline`` (:mod:`yuqing.cases.overdue_alerts`): the case named by its link
  (``.../cases/<case id>``). Seen when the case is (its owner or a joint-response
  department is the user's); a case without departments, or gone, only by the unscoped.
- ``digest`` (:mod:`yuqing.alerts.digest`): lists every rule's alerts, so only unscoped
  users see one (digests are delivered, not stored, today).
- Every other rule (yuqing.toml ``[[monitor.rules]]``, rules saved through
  ``/api/v1/rules``): **shared**, the office's common monitoring; everyone sees them.

:func:`visible_alerts` reads ``store.alerts`` page by page (newest first) and keeps what
the scope sees, so that a limit counts visible alerts; a rule id filter that decides by
itself (a plan rule, a shared rule) reads one query. Plans and cases are looked up once per
:class:`AlertVisibility` (one per request, or per poll of the alert stream).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from yuqing.alerts.alert import Alert
from yuqing.alerts.digest import RULE_ID as DIGEST_RULE
from yuqing.cases.overdue_alerts import RULE_ID as DEADLINE_RULE
from yuqing.plans.rules import PLAN_RULE_PREFIX as PLAN_PREFIX
from yuqing.privacy.scope import Scope
from yuqing.store.base import AlertStatus, Store, StoredAlert

#: Rule ids (and the prefix) that belong to the system: a saved rule may not take them.
RESERVED_RULE_IDS = frozenset({DEADLINE_RULE, DIGEST_RULE})
PAGE = 1000  # alerts read per query while filtering
MAX_SCAN = 50_000  # at most this many alerts are read to fill one filtered list
_CASE_LINK = re.compile(r"/cases/([^/?#]+)/?$")

Owner = Literal["plan", "case", "digest", "shared"]


def alert_owner(rule_id: str, link: str = "") -> tuple[Owner, str | None]:
    """What an alert belongs to: ``("plan", plan id)``, ``("case", case id or None)``,
    ``("digest", None)`` or ``("shared", None)``."""
    if rule_id.startswith(PLAN_PREFIX):
        plan_id = rule_id[len(PLAN_PREFIX) :].partition(":")[0]
        return "plan", plan_id
    if rule_id == DEADLINE_RULE:
        found = _CASE_LINK.search(link)
        return "case", found.group(1) if found else None
    if rule_id == DIGEST_RULE:
        return "digest", None
    return "shared", None


def reserved_rule_id(rule_id: str) -> bool:
    """Whether ``rule_id`` is one of the system's (a plan rule, deadlines, digests)."""
    return rule_id.startswith(PLAN_PREFIX) or rule_id in RESERVED_RULE_IDS


class AlertVisibility:
    """Whether one scope sees stored alerts, with the plans and cases it looked up cached."""

    def __init__(self, scope: Scope, store: Store) -> None:
        self.scope = scope
        self._store = store
        self._plans: dict[str, bool] = {}
        self._cases: dict[str, bool] = {}

    def _plan(self, plan_id: str) -> bool:
        if plan_id not in self._plans:
            data = self._store.get_plan(plan_id)
            self._plans[plan_id] = data is not None and self.scope.sees_plan(data)
        return self._plans[plan_id]

    def _case(self, case_id: str) -> bool:
        if case_id not in self._cases:
            data = self._store.get_case(case_id)
            self._cases[case_id] = data is not None and self.scope.sees_case(data)
        return self._cases[case_id]

    def rule_verdict(self, rule_id: str) -> bool | None:
        """Whether every alert of ``rule_id`` is seen (True) or none is (False); None when
        it depends on the alert (deadline alerts: on their case)."""
        if not self.scope.restricted:
            return True
        owner, key = alert_owner(rule_id)
        if owner == "plan":
            return key is not None and self._plan(key)
        if owner == "case":
            return None
        return owner == "shared"

    def sees(self, stored: StoredAlert | Alert) -> bool:
        """Whether the scope sees this alert (see the module docstring)."""
        alert = stored.alert if isinstance(stored, StoredAlert) else stored
        verdict = self.rule_verdict(alert.rule_id)
        if verdict is not None:
            return verdict
        _, case_id = alert_owner(alert.rule_id, alert.link)
        return case_id is not None and self._case(case_id)


def visible_alerts(
    store: Store,
    scope: Scope,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    status: AlertStatus | None = None,
    rule_id: str | None = None,
    limit: int = 100,
) -> list[StoredAlert]:
    """``store.alerts(...)`` as ``scope`` sees them: newest first, up to ``limit`` visible
    alerts, reading at most :data:`MAX_SCAN` stored ones for a scoped user."""

    def query(lo: datetime | None, hi: datetime | None, n: int) -> list[StoredAlert]:
        return store.alerts(since=lo, until=hi, status=status, rule_id=rule_id, limit=n)

    check = AlertVisibility(scope, store)
    verdict = check.rule_verdict(rule_id) if rule_id is not None else None
    if not scope.restricted or verdict is True:
        return query(since, until, limit)
    if verdict is False or limit <= 0:
        return []
    kept: list[StoredAlert] = []
    seen: set[str] = set()

    def take(found: list[StoredAlert]) -> bool:
        """Keep the unseen visible ones of ``found``; True once ``limit`` are kept."""
        for stored in found:
            if stored.alert.id in seen:
                continue
            seen.add(stored.alert.id)
            if check.sees(stored):
                kept.append(stored)
                if len(kept) >= limit:
                    return True
        return False

    hi = until
    while len(seen) < MAX_SCAN:
        page = query(since, hi, PAGE)
        if take(page) or len(page) < PAGE:
            break
        # alerts of the page's oldest instant may go on past the page (the order is
        # created_at, then seq): read that instant whole, then go strictly older
        oldest = min(stored.alert.created_at for stored in page)
        if take(query(oldest, oldest + timedelta(microseconds=1), MAX_SCAN)):
            break
        hi = oldest
    return kept


def alert_filter(scope: Scope, store: Store) -> Callable[[StoredAlert], bool]:
    """A predicate over stored alerts for ``scope`` (everything for the unscoped)."""
    if not scope.restricted:
        return _everything
    return AlertVisibility(scope, store).sees


def _everything(_: Any) -> bool:
    return True
