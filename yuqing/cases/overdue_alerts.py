"""Overdue first statements raise an alert, once.

:func:`check_deadlines` reads the open cases from the store and, for each whose first
statement is overdue at the clock's time (:func:`yuqing.cases.deadlines.overdue` under the
``[cases]`` policy), builds an :class:`~yuqing.alerts.alert.Alert` of kind ``deadline``
(rule ``case-deadline``) and saves it with ``store.add_alerts``. The alert's id is derived
from the case and its due time, so the check can run as often as it likes, from several
processes (the run loop, ``yuqing serve``, ``yuqing cases check-deadlines``): the store
keeps one alert per case and deadline, and only a newly stored alert is delivered
(``submit``: usually a :class:`~yuqing.alerts.delivery.Dispatcher`'s). A case whose level
changes gets a new deadline, and an alert if that one passes too.

Deterministic on a :class:`~yuqing.clock.ManualClock`: "now" is the clock's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from yuqing.alerts.alert import Alert, Severity
from yuqing.cases.case import STATUSES, Case
from yuqing.cases.deadlines import (
    DeadlinePolicy,
    first_statement_due,
    format_minutes,
    overdue,
    timeliness,
)
from yuqing.cases.levels import level_label, parse_level
from yuqing.clock import Clock
from yuqing.errors import UsageError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from yuqing.settings import Settings
    from yuqing.store.base import Store

__all__ = ["RULE_ID", "DeadlineWatch", "check_deadlines", "deadline_policy", "overdue_alert"]

RULE_ID = "case-deadline"
SEVERITY: dict[str, Severity] = {"I": "critical", "II": "critical", "III": "high", "IV": "medium"}
LOG = logging.getLogger("yuqing.cases")
MAX_CASES = 10_000


def deadline_policy(settings: Settings) -> DeadlinePolicy:
    """The first-statement policy of the ``[cases]`` settings."""
    cases = settings.cases
    times = {parse_level(k): v for k, v in cases.first_statement_times().items()}
    return DeadlinePolicy(times, "first_post" if cases.deadline_start == "first_post" else "opened")


def _alert_id(case: Case, due: datetime) -> str:
    key = "\x1f".join((RULE_ID, case.id, due.astimezone(UTC).isoformat()))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def overdue_alert(
    case: Case,
    now: datetime,
    policy: DeadlinePolicy,
    public_url: str,
    *,
    tz: ZoneInfo | None = None,
) -> Alert:
    """The alert saying that ``case``'s first statement is overdue at ``now``."""
    due = first_statement_due(case, policy)
    state = timeliness(case, now, policy) if tz is None else timeliness(case, now, policy, tz=tz)
    allowed = format_minutes(policy.first_statement[case.level].total_seconds() / 60)
    reasons = [
        state.summary,
        f"级别 {level_label(case.level)}：首次通报时限 {allowed}",
        f"牵头负责：{case.owner}" if case.owner else "尚未指定牵头负责人",
    ]
    return Alert(
        id=_alert_id(case, due),
        rule_id=RULE_ID,
        kind="deadline",
        title=f"首次通报超时｜{case.title}",
        severity=SEVERITY.get(case.level, "high"),
        created_at=now,
        link=f"{public_url.rstrip('/')}/cases/{case.id}",
        event_id=case.event_id,
        reasons=reasons,
    )


def check_deadlines(
    store: Store,
    clock: Clock,
    policy: DeadlinePolicy,
    public_url: str,
    *,
    submit: Callable[[Alert], object] | None = None,
    tz: ZoneInfo | None = None,
) -> list[Alert]:
    """Raise the alerts of newly overdue first statements (see the module docstring);
    returns the alerts stored by this call (each also handed to ``submit``)."""
    now = clock.now()
    raised: list[Alert] = []
    for status in STATUSES:
        if status == "closed":
            continue
        for data in store.cases(status=status, limit=MAX_CASES):
            case = Case.from_dict(data)
            try:
                if not overdue(case, now, policy):
                    continue
                alert = overdue_alert(case, now, policy, public_url, tz=tz)
            except UsageError as exc:  # e.g. first_post deadlines of a case without an event
                LOG.warning("case %s: cannot check its deadline: %s", case.id, exc)
                continue
            if store.get_alert(alert.id) is not None:
                continue
            if store.add_alerts([alert]):
                raised.append(alert)
                if submit is not None:
                    submit(alert)
    return raised


class DeadlineWatch:
    """:func:`check_deadlines` at most once per ``[cases] check_interval`` of the clock:
    what the run loop and the web server call on every turn."""

    def __init__(
        self, settings: Settings, clock: Clock, *, submit: Callable[[Alert], object] | None = None
    ) -> None:
        self.policy = deadline_policy(settings)
        self.interval = timedelta(seconds=settings.cases.check_seconds)
        self.public_url = settings.public_url
        self.zone = settings.zone
        self.clock = clock
        self.submit = submit
        self.checked_at: datetime | None = None

    def due(self) -> bool:
        return self.checked_at is None or self.clock.now() - self.checked_at >= self.interval

    def check(self, store: Store) -> list[Alert]:
        """Check now, whatever the interval."""
        self.checked_at = self.clock.now()
        return check_deadlines(
            store, self.clock, self.policy, self.public_url, submit=self.submit, tz=self.zone
        )

    def maybe_check(self, store: Store) -> list[Alert]:
        """Check when the interval has passed since the last check (or never checked)."""
        return self.check(store) if self.due() else []
