"""A case (处置事项): one incident being handled, from opening to closing.

A :class:`Case` has a level (I-IV) with its reason, an owner and the departments
involved (多部门联动), a status that moves along

    new -> assessing -> responding -> monitoring -> closed

(``monitoring -> responding`` when the story flares up again; ``new`` and ``assessing``
may close directly, for a false alarm), a checklist copied from the attached contingency
plans, its statements, and an action log: every change is logged with the time from the
injected :class:`~yuqing.clock.Clock`, who did it and what.

A closed case is read-only: changing it raises :class:`ClosedCaseError` and changes
nothing. Cases are plain data; :meth:`Case.as_dict` / :meth:`Case.from_dict` give the
JSON shape that a store persists.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from yuqing.cases.levels import Level, LevelTable, level_label, parse_level, suggest_level
from yuqing.cases.plans import Plan
from yuqing.clock import Clock
from yuqing.errors import UsageError
from yuqing.events.heat import EventStats, HeatConfig, heat

__all__ = [
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Action",
    "Case",
    "CaseError",
    "CaseNotFoundError",
    "CaseStatus",
    "CaseTransitionError",
    "ChecklistItem",
    "ClosedCaseError",
    "Statement",
    "new_case",
    "open_case_from_event",
]

CaseStatus = Literal["new", "assessing", "responding", "monitoring", "closed"]
STATUSES: tuple[CaseStatus, ...] = ("new", "assessing", "responding", "monitoring", "closed")
STATUS_LABELS: dict[CaseStatus, str] = {
    "new": "新建",
    "assessing": "研判中",
    "responding": "处置中",
    "monitoring": "跟踪监测",
    "closed": "已结案",
}
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    "new": ("assessing", "closed"),
    "assessing": ("responding", "closed"),
    "responding": ("monitoring",),
    "monitoring": ("responding", "closed"),
    "closed": (),
}


class CaseError(UsageError):
    """A case operation that cannot be done as asked."""


class CaseTransitionError(CaseError):
    """A status change that the case flow does not allow."""


class ClosedCaseError(CaseError):
    """A change to a closed case."""


class CaseNotFoundError(CaseError):
    """No case with the given id."""


def _aware(when: datetime, what: str) -> datetime:
    if when.tzinfo is None:
        raise UsageError(f"{what} must be timezone-aware, got {when.isoformat()}")
    return when.astimezone(UTC)


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    return _aware(datetime.fromisoformat(str(value)), "a stored case time")


@dataclass(slots=True)
class Action:
    """One line of the action log."""

    at: datetime
    who: str
    kind: str  # opened, status, level, owner, department, plan, tick, untick, statement, publish, note
    what: str  # a Chinese sentence for people
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ChecklistItem:
    """A plan item copied into a case: the plan file may change, the case keeps what it
    was given. ``due_at`` is the case's opening time plus the item's offset."""

    plan_id: str
    item_id: str
    text: str
    department: str | None = None
    due_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.plan_id}/{self.item_id}"


@dataclass(slots=True)
class Statement:
    """A statement of the case: a draft until it is published (``published_at`` set)."""

    id: str
    text: str
    drafted_at: datetime
    drafted_by: str
    published_at: datetime | None = None
    published_by: str | None = None
    channel: str = ""  # where it was published: 官方微博, 官网, 新闻发布会 ...


@dataclass(slots=True)
class Case:
    """One case. Change it through its methods, which check and log; see the module
    docstring for the flow."""

    id: str
    title: str
    level: Level
    level_reason: str
    opened_at: datetime
    opened_by: str
    event_id: str | None = None
    alert_id: str | None = None
    event_first_seen: datetime | None = None  # the event's first post, for deadlines
    owner: str | None = None
    departments: list[str] = field(default_factory=list)
    status: CaseStatus = "new"
    checklist: list[ChecklistItem] = field(default_factory=list)
    plan_ids: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    closed_at: datetime | None = None

    # -- logging and guards ----------------------------------------------------------

    def log(self, clock: Clock, who: str, kind: str, what: str, **details: Any) -> Action:
        """Append an action at the clock's time. ``note`` actions may be added on a
        closed case (a remark after the fact); nothing else may."""
        if not who.strip():
            raise CaseError(f"case {self.id}: an action needs who did it")
        action = Action(_aware(clock.now(), "clock time"), who, kind, what, dict(details))
        self.actions.append(action)
        return action

    def _open_guard(self, doing: str) -> None:
        if self.status == "closed":
            raise ClosedCaseError(
                f"case {self.id} is closed: cannot {doing}. Closed cases are kept as they "
                "were; open a new case if the story comes back"
            )

    # -- status, level, people -------------------------------------------------------

    def transition(self, to: CaseStatus | str, *, who: str, clock: Clock, note: str = "") -> None:
        """Move to status ``to`` if the flow allows it, else raise CaseTransitionError."""
        if to not in STATUSES:
            raise CaseTransitionError(
                f"case {self.id}: unknown status {to!r}; statuses are {', '.join(STATUSES)}"
            )
        target = to
        allowed = TRANSITIONS[self.status]
        if target not in allowed:
            options = ", ".join(allowed) if allowed else "none (the case is closed)"
            raise CaseTransitionError(
                f"case {self.id}: cannot go from {self.status} to {target}; allowed next: {options}"
            )
        before = self.status
        what = f"状态由「{STATUS_LABELS[before]}」变更为「{STATUS_LABELS[target]}」"
        self.log(
            clock,
            who,
            "status",
            what + (f"：{note}" if note else ""),
            before=before,
            after=target,
            note=note,
        )
        self.status = target
        if target == "closed":
            self.closed_at = self.actions[-1].at

    def change_level(self, level: Level | str, *, reason: str, who: str, clock: Clock) -> None:
        """Set the level; a reason is required and logged with the old and new level."""
        self._open_guard("change its level")
        new = parse_level(level)
        if not reason.strip():
            raise CaseError(f"case {self.id}: changing the level needs a reason")
        old = self.level
        self.log(
            clock,
            who,
            "level",
            f"级别由 {level_label(old)} 调整为 {level_label(new)}：{reason.strip()}",
            before=old,
            after=new,
            reason=reason.strip(),
        )
        self.level = new
        self.level_reason = reason.strip()

    def set_owner(self, owner: str, *, who: str, clock: Clock) -> None:
        self._open_guard("change its owner")
        if not owner.strip():
            raise CaseError(f"case {self.id}: the owner must not be empty")
        self.log(
            clock,
            who,
            "owner",
            f"牵头负责：{owner.strip()}",
            before=self.owner,
            after=owner.strip(),
        )
        self.owner = owner.strip()

    def add_department(self, department: str, *, who: str, clock: Clock) -> None:
        """Add a department to the joint response (多部门联动); adding one twice is a no-op."""
        self._open_guard("add a department")
        name = department.strip()
        if not name:
            raise CaseError(f"case {self.id}: a department name must not be empty")
        if name in self.departments:
            return
        self.departments.append(name)
        self.log(clock, who, "department", f"联动部门：{name}", department=name)

    def note(self, text: str, *, who: str, clock: Clock) -> Action:
        """A free remark in the action log (allowed on a closed case too)."""
        if not text.strip():
            raise CaseError(f"case {self.id}: a note must not be empty")
        return self.log(clock, who, "note", text.strip())

    # -- plans and checklist -----------------------------------------------------------

    def attach_plan(self, plan: Plan, *, who: str, clock: Clock) -> None:
        """Copy a plan's items into the checklist; due times count from ``opened_at``."""
        self._open_guard("attach a plan")
        if plan.id in self.plan_ids:
            raise CaseError(f"case {self.id}: plan {plan.id!r} is already attached")
        for item in plan.items:
            due = self.opened_at + item.due if item.due is not None else None
            self.checklist.append(ChecklistItem(plan.id, item.id, item.text, item.department, due))
        self.plan_ids.append(plan.id)
        self.log(
            clock, who, "plan", f"启用预案「{plan.name}」（{len(plan.items)} 项）", plan_id=plan.id
        )

    def checklist_item(self, item_id: str, plan_id: str | None = None) -> ChecklistItem:
        """The checklist item ``item_id`` (``plan/item`` or a bare item id if unique)."""
        if plan_id is None and "/" in item_id:
            plan_id, item_id = item_id.split("/", 1)
        found = [i for i in self.checklist if i.item_id == item_id and plan_id in (None, i.plan_id)]
        if not found:
            raise CaseError(
                f"case {self.id}: no checklist item {item_id!r}"
                + (f" in plan {plan_id!r}" if plan_id else "")
                + f"; items: {', '.join(i.key for i in self.checklist) or 'none (attach a plan)'}"
            )
        if len(found) > 1:
            raise CaseError(
                f"case {self.id}: item {item_id!r} is in several plans "
                f"({', '.join(i.plan_id for i in found)}); name it as plan/item"
            )
        return found[0]

    def tick(
        self, item_id: str, *, who: str, clock: Clock, note: str = "", plan_id: str | None = None
    ) -> ChecklistItem:
        """Mark a checklist item done (logged). Ticking a done item again is an error."""
        self._open_guard("tick a checklist item")
        item = self.checklist_item(item_id, plan_id)
        if item.done_at is not None:
            raise CaseError(f"case {self.id}: item {item.key} is already done ({item.done_by})")
        action = self.log(
            clock,
            who,
            "tick",
            f"完成：{item.text}" + (f"（{note}）" if note else ""),
            item=item.key,
            note=note,
        )
        item.done_at, item.done_by, item.note = action.at, who, note
        return item

    def untick(
        self, item_id: str, *, who: str, clock: Clock, reason: str, plan_id: str | None = None
    ) -> ChecklistItem:
        """Reopen a checklist item ticked by mistake; needs a reason (logged)."""
        self._open_guard("reopen a checklist item")
        item = self.checklist_item(item_id, plan_id)
        if item.done_at is None:
            raise CaseError(f"case {self.id}: item {item.key} is not done")
        if not reason.strip():
            raise CaseError(f"case {self.id}: reopening item {item.key} needs a reason")
        self.log(
            clock,
            who,
            "untick",
            f"撤销完成：{item.text}：{reason.strip()}",
            item=item.key,
            reason=reason.strip(),
        )
        item.done_at, item.done_by, item.note = None, None, ""
        return item

    # -- statements ----------------------------------------------------------------

    def add_statement(self, text: str, *, who: str, clock: Clock) -> Statement:
        """Record a draft statement (logged)."""
        self._open_guard("add a statement")
        if not text.strip():
            raise CaseError(f"case {self.id}: a statement must not be empty")
        statement = Statement(
            id=f"{self.id}-s{len(self.statements) + 1}",
            text=text,
            drafted_at=_aware(clock.now(), "clock time"),
            drafted_by=who,
        )
        self.statements.append(statement)
        self.log(
            clock,
            who,
            "statement",
            f"起草通报 {statement.id}（{len(text)} 字）",
            statement=statement.id,
        )
        return statement

    def statement(self, statement_id: str) -> Statement:
        for statement in self.statements:
            if statement.id == statement_id:
                return statement
        raise CaseError(
            f"case {self.id}: no statement {statement_id!r}; statements: "
            f"{', '.join(s.id for s in self.statements) or 'none'}"
        )

    def publish_statement(
        self,
        statement_id: str,
        *,
        who: str,
        clock: Clock,
        at: datetime | None = None,
        channel: str = "",
    ) -> Statement:
        """Record that a statement was published, now or at ``at`` (when it is recorded
        after the fact; not in the future)."""
        self._open_guard("publish a statement")
        statement = self.statement(statement_id)
        if statement.published_at is not None:
            raise CaseError(f"case {self.id}: statement {statement_id} is already published")
        now = _aware(clock.now(), "clock time")
        when = now if at is None else _aware(at, "the publication time")
        if when > now:
            raise CaseError(f"case {self.id}: publication time {when.isoformat()} is in the future")
        statement.published_at, statement.published_by, statement.channel = when, who, channel
        where = f"于{channel}" if channel else ""
        self.log(
            clock,
            who,
            "publish",
            f"{where}发布通报 {statement.id}",
            statement=statement.id,
            published_at=when.isoformat(),
        )
        return statement

    @property
    def first_published_at(self) -> datetime | None:
        """When the first statement went out, if any."""
        times = [s.published_at for s in self.statements if s.published_at is not None]
        return min(times) if times else None

    # -- persistence shape -----------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times ISO 8601 UTC); :meth:`from_dict` reads it back."""
        out = _dump(self)
        out["checklist"] = [_dump(i) for i in self.checklist]
        out["statements"] = [_dump(s) for s in self.statements]
        out["actions"] = [_dump(a) for a in self.actions]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Case:
        """Read :meth:`as_dict`'s shape back; a broken record raises CaseError."""
        try:
            values = _load(cls, data)
            values["level"] = parse_level(values["level"])
            if values.get("status", "new") not in STATUSES:
                raise ValueError(f"unknown status {values['status']!r}")
            values["checklist"] = [
                ChecklistItem(**_load(ChecklistItem, i)) for i in values.get("checklist", [])
            ]
            values["statements"] = [
                Statement(**_load(Statement, s)) for s in values.get("statements", [])
            ]
            values["actions"] = [Action(**_load(Action, a)) for a in values.get("actions", [])]
            for key in ("departments", "plan_ids"):
                values[key] = [str(v) for v in values.get(key, [])]
            return cls(**values)
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise CaseError(f"case record {data.get('id', '?')!r} is broken: {exc!r}") from exc


def _dump(obj: Any) -> dict[str, Any]:
    """A dataclass's own fields as a dict, times as ISO 8601, lists and dicts copied."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list | dict):
            value = copy.deepcopy(value)
        out[f.name] = value
    return out


def _load(kind: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``kind`` from ``data``, times parsed back (fields named ``*_at``,
    ``at`` and ``event_first_seen``); unknown keys are ignored, missing required ones
    raise TypeError in the constructor."""
    names = {f.name for f in fields(kind)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            continue
        if key == "at" or key.endswith("_at") or key == "event_first_seen":
            value = _time(value)
        out[key] = copy.deepcopy(value) if isinstance(value, list | dict) else value
    return out


def new_case_id(clock: Clock) -> str:
    """``case-YYYYMMDD-xxxxxx``: the opening date (UTC) and 6 random hex digits."""
    return f"case-{clock.now().astimezone(UTC):%Y%m%d}-{uuid.uuid4().hex[:6]}"


def new_case(
    title: str,
    *,
    level: Level | str,
    level_reason: str,
    who: str,
    clock: Clock,
    case_id: str | None = None,
    event_id: str | None = None,
    alert_id: str | None = None,
    event_first_seen: datetime | None = None,
    owner: str | None = None,
    departments: Iterable[str] = (),
) -> Case:
    """Open a case by hand (logged as the first action)."""
    if not title.strip():
        raise CaseError("a case needs a title")
    if not who.strip():
        raise CaseError("a case needs who opened it")
    now = _aware(clock.now(), "clock time")
    first = _aware(event_first_seen, "event_first_seen") if event_first_seen else None
    parsed = parse_level(level)
    case = Case(
        id=case_id or new_case_id(clock),
        title=title.strip(),
        level=parsed,
        level_reason=level_reason,
        opened_at=now,
        opened_by=who,
        event_id=event_id,
        alert_id=alert_id,
        event_first_seen=first,
        owner=owner.strip() if owner else None,
        departments=list(dict.fromkeys(d.strip() for d in departments if d.strip())),
    )
    source = f"事件 {event_id}" if event_id else (f"预警 {alert_id}" if alert_id else "手工")
    case.log(
        clock,
        who,
        "opened",
        f"立案（来源：{source}），级别 {level_label(parsed)}：{level_reason}",
        level=parsed,
        event_id=event_id,
        alert_id=alert_id,
    )
    return case


def open_case_from_event(
    stats: EventStats,
    risk: Mapping[str, Any] | None,
    *,
    title: str,
    who: str,
    clock: Clock,
    event_id: str | None = None,
    alert_id: str | None = None,
    case_id: str | None = None,
    owner: str | None = None,
    departments: Iterable[str] = (),
    heat_config: HeatConfig | None = None,
    level_table: LevelTable | None = None,
) -> Case:
    """Open a case for an event: the level is suggested from the event's heat
    (:func:`yuqing.events.heat.heat` of ``stats``) and ``risk`` (``rumor`` and
    ``group_incident`` scores, e.g. from :func:`yuqing.cases.levels.aggregate_risk`),
    with the table's Chinese reason; ``stats.first_seen`` is kept for deadlines that
    count from the event's first post."""
    score = heat(stats, heat_config).score
    suggestion = suggest_level(score, risk, level_table)
    return new_case(
        title,
        level=suggestion.level,
        level_reason=suggestion.reason,
        who=who,
        clock=clock,
        case_id=case_id,
        event_id=event_id,
        alert_id=alert_id,
        event_first_seen=stats.first_seen,
        owner=owner,
        departments=departments,
    )
