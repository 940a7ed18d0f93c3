"""Deadlines: when the first statement of a case is due, what is overdue, timeliness.

The first statement is due a level-dependent time after the case was opened (default
I 1 h, II 2 h, III 4 h, IV 24 h: :data:`DEFAULT_FIRST_STATEMENT`), or after the event's
first post when the policy says so (``start="first_post"``: the clock of 黄金4小时 starts
when the public first hears of it, not when the office notices). "Now" is always given by
the caller, from the injected Clock, so drills and tests run on scenario time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from yuqing.cases.case import Case, ChecklistItem
from yuqing.cases.levels import LEVELS, Level, parse_level
from yuqing.errors import UsageError

__all__ = [
    "DEFAULT_FIRST_STATEMENT",
    "DeadlinePolicy",
    "Timeliness",
    "first_statement_due",
    "format_minutes",
    "overdue",
    "overdue_items",
    "timeliness",
    "timeliness_report",
]

DEFAULT_FIRST_STATEMENT: dict[Level, timedelta] = {
    "I": timedelta(hours=1),
    "II": timedelta(hours=2),
    "III": timedelta(hours=4),
    "IV": timedelta(hours=24),
}
DeadlineStart = Literal["opened", "first_post"]
TimelinessStatus = Literal["on_time", "late", "pending", "overdue"]
_SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """How long each level has for its first statement, and where the clock starts."""

    first_statement: Mapping[Level, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_FIRST_STATEMENT)
    )
    start: DeadlineStart = "opened"

    def __post_init__(self) -> None:
        missing = [level for level in LEVELS if level not in self.first_statement]
        if missing:
            raise UsageError(
                f"DeadlinePolicy.first_statement: no time for level(s) {', '.join(missing)}"
            )
        for level, delta in self.first_statement.items():
            if delta <= timedelta(0):
                raise UsageError(f"DeadlinePolicy: level {level} needs a positive time")
        if self.start not in ("opened", "first_post"):
            raise UsageError(
                f"DeadlinePolicy.start must be opened or first_post, not {self.start!r}"
            )

    @classmethod
    def from_hours(
        cls, hours: Mapping[str, float], *, start: DeadlineStart = "opened"
    ) -> DeadlinePolicy:
        """A policy from ``{"I": 1, "II": 2, ...}`` (hours; e.g. a settings table);
        levels left out keep their defaults."""
        mapping = dict(DEFAULT_FIRST_STATEMENT)
        for key, value in hours.items():
            mapping[parse_level(key)] = timedelta(hours=float(value))
        return cls(mapping, start)


def _now(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise UsageError("deadlines: now must be timezone-aware (take it from the Clock)")
    return now.astimezone(UTC)


def first_statement_due(case: Case, policy: DeadlinePolicy | None = None) -> datetime:
    """When the case's first statement is due under ``policy``."""
    pol = policy or DeadlinePolicy()
    if pol.start == "first_post":
        if case.event_first_seen is None:
            raise UsageError(
                f"case {case.id} has no event first-post time: open it from an event, or "
                "count deadlines from the opening time (start='opened')"
            )
        start = case.event_first_seen
    else:
        start = case.opened_at
    return start + pol.first_statement[case.level]


def overdue(case: Case, now: datetime, policy: DeadlinePolicy | None = None) -> bool:
    """True when no statement has been published and the first-statement deadline has
    passed. A case whose statement went out late is not overdue now (timeliness says
    it was late); a closed case is never overdue."""
    when = _now(now)
    if case.status == "closed" or case.first_published_at is not None:
        return False
    return when > first_statement_due(case, policy)


def overdue_items(case: Case, now: datetime) -> list[ChecklistItem]:
    """Open checklist items whose due time has passed."""
    when = _now(now)
    if case.status == "closed":
        return []
    return [
        i for i in case.checklist if i.done_at is None and i.due_at is not None and when > i.due_at
    ]


def format_minutes(minutes: float) -> str:
    """``"1 小时 5 分钟"``, ``"35 分钟"``, ``"2 天 3 小时"``: a duration for people."""
    total = round(abs(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {mins} 分钟" if mins else f"{hours} 小时"
    return f"{mins} 分钟"


@dataclass(frozen=True, slots=True)
class Timeliness:
    """Timeliness of one case's first statement.

    ``margin_minutes`` is due minus published (positive: early, negative: late); while
    nothing is published it is due minus now (negative: overdue).
    """

    case_id: str
    level: Level
    due: datetime
    published_at: datetime | None
    margin_minutes: float
    status: TimelinessStatus
    summary: str  # Chinese, for pages and briefings

    @property
    def minutes_early(self) -> float:
        return max(0.0, self.margin_minutes) if self.published_at else 0.0

    @property
    def minutes_late(self) -> float:
        return max(0.0, -self.margin_minutes)


def timeliness(
    case: Case, now: datetime, policy: DeadlinePolicy | None = None, *, tz: ZoneInfo = _SHANGHAI
) -> Timeliness:
    """How the case stands against its first-statement deadline at ``now``."""
    due = first_statement_due(case, policy)
    published = case.first_published_at
    due_text = due.astimezone(tz).strftime("%m-%d %H:%M")
    if published is not None:
        margin = (due - published).total_seconds() / 60
        status: TimelinessStatus = "on_time" if margin >= 0 else "late"
        word = "提前" if margin >= 0 else "超时"
        summary = f"首次通报于 {published.astimezone(tz):%m-%d %H:%M} 发布，较时限（{due_text}）{word} {format_minutes(margin)}"
    else:
        margin = (due - _now(now)).total_seconds() / 60
        if margin >= 0:
            status = "pending"
            summary = f"尚未发布首次通报，距时限（{due_text}）还有 {format_minutes(margin)}"
        else:
            status = "overdue"
            summary = f"首次通报已超过时限（{due_text}）{format_minutes(margin)} 未发布"
    return Timeliness(case.id, case.level, due, published, round(margin, 1), status, summary)


def timeliness_report(
    cases: Iterable[Case], now: datetime, policy: DeadlinePolicy | None = None
) -> list[Timeliness]:
    """Timeliness of each case, most urgent first: overdue, pending (least time left
    first), then late and on time."""
    order = {"overdue": 0, "pending": 1, "late": 2, "on_time": 3}
    rows = [timeliness(case, now, policy) for case in cases]
    return sorted(rows, key=lambda t: (order[t.status], t.margin_minutes, t.case_id))
