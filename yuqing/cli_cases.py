"""`yuqing cases ...`: cases (处置事项) from the command line, over the configured store.

list (filters: status, overdue), show, open (from an event, an alert or a title),
transition, level, note, and check-deadlines (raise the alerts of overdue first
statements once, delivered through ``[[alerts.channels]]``). Deadlines follow the
``[cases]`` settings; "now" is the wall clock. Registered on the one app of
:mod:`yuqing.cli` (parse -> call -> print).
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from yuqing.cases.case import STATUS_LABELS, STATUSES, Case
from yuqing.cases.deadlines import DeadlinePolicy, first_statement_due, overdue, timeliness
from yuqing.cases.levels import LEVEL_LABELS
from yuqing.cases.overdue_alerts import DeadlineWatch, deadline_policy
from yuqing.cases.repository import StoreCaseRepository
from yuqing.cli import _open_store, app, state
from yuqing.clock import SystemClock
from yuqing.console import err_console, out_console
from yuqing.errors import UsageError
from yuqing.settings import Settings

cases_app = typer.Typer(help="Cases (处置事项): list, open, change, check deadlines.")
app.add_typer(cases_app, name="cases", no_args_is_help=True)

By = Annotated[
    str | None, typer.Option("--by", help="Who does it, for the action log (default: you).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _who(by: str | None) -> str:
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def case_json(case: Case, settings: Settings, policy: DeadlinePolicy) -> dict[str, Any]:
    """``Case.as_dict()`` with the deadline, overdue flag and timeliness at now."""
    now = SystemClock().now()
    on_time = timeliness(case, now, policy, tz=settings.zone)
    out = case.as_dict()
    out["due"] = first_statement_due(case, policy).isoformat()
    out["overdue"] = overdue(case, now, policy)
    out["timeliness"] = {
        "status": on_time.status,
        "margin_minutes": on_time.margin_minutes,
        "summary": on_time.summary,
    }
    return out


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


@cases_app.command("list")
def cases_list(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)}.")
    ] = None,
    only_overdue: Annotated[
        bool, typer.Option("--overdue", help="Only cases whose first statement is overdue.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Most cases to show.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Cases, newest opened first, with their first-statement deadline."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status {status!r}: use one of {', '.join(STATUSES)}")
    settings = state.settings()
    policy = deadline_policy(settings)
    store = _open_store(settings)
    try:
        found = StoreCaseRepository(store).list_cases(status, limit=max(limit, 1))
    finally:
        store.close()
    rows = [case_json(c, settings, policy) for c in found]
    if only_overdue:
        rows = [r for r in rows if r["overdue"]]
    if as_json:
        _print_json(rows)
        return
    table = Table(header_style="bold")
    for name in ("编号", "级别", "状态", "标题", "牵头", "首次通报"):
        table.add_column(name, overflow="fold")
    for row in rows:
        level = row["level"]
        table.add_row(
            row["id"],
            f"{level} {LEVEL_LABELS[level]}",
            STATUS_LABELS[row["status"]],
            row["title"],
            row.get("owner") or "",
            ("[red]" if row["overdue"] else "") + row["timeliness"]["summary"],
        )
    out_console.print(table)
    err_console.print(f"{len(rows)} case(s)")


@cases_app.command("show")
def cases_show(
    case_id: Annotated[str, typer.Argument(help="The case id.")], as_json: AsJson = False
) -> None:
    """One case: level, status, deadline, checklist, statements and the action log."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        case = StoreCaseRepository(store).get_case(case_id)
    finally:
        store.close()
    data = case_json(case, settings, deadline_policy(settings))
    if as_json:
        _print_json(data)
        return
    zone = settings.zone
    out_console.print(f"[bold]{case.title}[/]  ({case.id})")
    out_console.print(
        f"级别 {case.level} {LEVEL_LABELS[case.level]}；状态 {STATUS_LABELS[case.status]}；"
        f"牵头 {case.owner or '未指定'}；联动 {'、'.join(case.departments) or '无'}"
    )
    out_console.print(f"定级理由：{case.level_reason}")
    out_console.print(("[red]" if data["overdue"] else "") + data["timeliness"]["summary"])
    for item in case.checklist:
        mark = "x" if item.done_at else " "
        out_console.print(f"  [{mark}] {item.key} {item.text}", highlight=False)
    for statement in case.statements:
        when = (
            statement.published_at.astimezone(zone).strftime("%m-%d %H:%M")
            if statement.published_at
            else "草稿"
        )
        out_console.print(f"  通报 {statement.id}（{when}）")
    for action in case.actions:
        out_console.print(
            f"  {action.at.astimezone(zone):%m-%d %H:%M} {action.who}：{action.what}",
            highlight=False,
        )


def _change(case_id: str, change: Callable[[Case], object], as_json: bool) -> None:
    settings = state.settings()
    store = _open_store(settings)
    try:
        repo = StoreCaseRepository(store)
        case = repo.get_case(case_id)
        change(case)
        repo.update_case(case)
    finally:
        store.close()
    if as_json:
        _print_json(case_json(case, settings, deadline_policy(settings)))
    else:
        print(f"{case.id}: {case.actions[-1].what}")


@cases_app.command("open")
def cases_open(
    event: Annotated[str | None, typer.Option("--event", help="Open from this event.")] = None,
    alert: Annotated[str | None, typer.Option("--alert", help="Open from this alert.")] = None,
    title: Annotated[
        str | None, typer.Option(help="Title (default: the event's or the alert's).")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Owner (牵头负责).")] = None,
    department: Annotated[
        list[str] | None, typer.Option("--department", help="A department (联动部门).")
    ] = None,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Open a case (立案) from an event (level suggested from heat and risk), an alert or a
    title alone (level IV)."""
    from yuqing.web.cases_view import open_case

    if event is None and alert is None and not (title and title.strip()):
        raise UsageError("cases open: give --event ID, --alert ID or --title TEXT")
    settings = state.settings()
    store = _open_store(settings)
    try:
        case, _ = open_case(
            store,
            SystemClock(),
            who=_who(by),
            event_id=event,
            alert_id=alert,
            title=title,
            owner=owner,
            departments=department or [],
        )
    finally:
        store.close()
    if as_json:
        _print_json(case_json(case, settings, deadline_policy(settings)))
    else:
        print(f"{case.id}: {case.title}（{case.level} {LEVEL_LABELS[case.level]}）")


@cases_app.command("transition")
def cases_transition(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    to: Annotated[str, typer.Argument(help=f"The new status: {', '.join(STATUSES)}.")],
    note: Annotated[str, typer.Option(help="Why, for the action log.")] = "",
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Move a case along new -> assessing -> responding -> monitoring -> closed."""
    clock = SystemClock()
    _change(case_id, lambda c: c.transition(to, who=_who(by), clock=clock, note=note), as_json)


@cases_app.command("level")
def cases_level(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    level: Annotated[str, typer.Argument(help="I-IV, 1-4 or 特别重大/重大/较大/一般.")],
    reason: Annotated[str, typer.Option(help="Why the level changes (required).")] = "",
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Change a case's level, with a reason."""
    clock = SystemClock()
    _change(
        case_id, lambda c: c.change_level(level, reason=reason, who=_who(by), clock=clock), as_json
    )


@cases_app.command("note")
def cases_note(
    case_id: Annotated[str, typer.Argument(help="The case id.")],
    text: Annotated[str, typer.Argument(help="The remark.")],
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Add a remark to a case's action log."""
    clock = SystemClock()
    _change(case_id, lambda c: c.note(text, who=_who(by), clock=clock), as_json)


@cases_app.command("check-deadlines")
def cases_check_deadlines(as_json: AsJson = False) -> None:
    """Raise an alert for each case whose first statement is overdue (once per case and
    deadline), delivered through the configured alert channels."""
    from yuqing.alerts.dispatcher_setup import dispatcher_for

    settings = state.settings()
    clock = SystemClock()
    dispatcher = dispatcher_for(settings, clock=clock)
    try:
        store = _open_store(settings)
        try:
            raised = DeadlineWatch(settings, clock, submit=dispatcher.submit).check(store)
        finally:
            store.close()
    finally:
        dispatcher.close(10.0)
    stats = dispatcher.stats()
    if as_json:
        _print_json(
            {
                "raised": len(raised),
                "alerts": [a.as_payload() for a in raised],
                "delivered": stats.delivered,
                "failed": stats.failed,
            }
        )
        return
    for alert in raised:
        out_console.print(f"{alert.id} {alert.title}：{alert.reasons[0]}", highlight=False)
    print(
        f"overdue alerts raised {len(raised)}; delivered {stats.delivered}, failed {stats.failed}"
    )
