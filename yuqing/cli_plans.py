"""``yuqing plans ...``: monitoring plans (监测方案) from the command line.

``list``, ``show ID`` (the plan and each source's poll health), ``add FILE.yaml`` (a plan
as YAML or JSON; ``--replace`` to change a stored one), ``delete ID`` and ``poll`` (poll
the due sources of the enabled plans through the pipeline into the store, raising
alerts; ``--once`` for one pass). Registers on the one app of :mod:`yuqing.cli`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from rich.table import Table

from yuqing.cli import _open_store, app, state
from yuqing.clock import SystemClock
from yuqing.console import out_console
from yuqing.errors import UsageError
from yuqing.plans.service import load_plan, plan_health, plan_view, save_plan

plans_app = typer.Typer(
    help="Monitoring plans (监测方案): rules, sources and who is notified.", no_args_is_help=True
)
app.add_typer(plans_app, name="plans")

PlanId = Annotated[str, typer.Argument(help="The plan id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print_json(data: Any) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


@plans_app.command("list")
def plans_list(as_json: AsJson = False) -> None:
    """The stored plans: id, name, department, rules, sources, enabled."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        plans = [load_plan(store, str(d["id"]), settings) for d in store.plans()]
    finally:
        store.close()
    found = [p for p in plans if p is not None]
    if as_json:
        _print_json([plan_view(p, settings.zone) for p in found])
        return
    table = Table("ID", "名称", "部门", "规则", "来源", "启用")
    for plan in found:
        table.add_row(
            plan.id,
            plan.name,
            plan.department or "—",
            str(len(plan.rules)),
            str(len(plan.sources)),
            "是" if plan.enabled else "否",
        )
    out_console.print(table)


@plans_app.command("show")
def plans_show(plan_id: PlanId, as_json: AsJson = False) -> None:
    """One plan and the poll health of each of its sources."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        plan = load_plan(store, plan_id, settings)
        if plan is None:
            raise UsageError(f"no plan {plan_id!r} in {settings.store}")
        health = plan_health(plan, store.plan_source_states(plan_id), settings.zone)
    finally:
        store.close()
    if as_json:
        _print_json({"plan": plan_view(plan, settings.zone), "health": health})
        return
    view = plan_view(plan, settings.zone)
    print(f"{plan.id}  {plan.name}  ({'启用' if plan.enabled else '停用'})")
    print(f"部门: {plan.department or '—'}  地域: {'、'.join(plan.regions) or '—'}")
    print(f"通知: {'、'.join(plan.notify) or '全部渠道'}")
    for rule in view["rules"]:
        print(f"规则 {rule['rule_id']}: {rule['effective_query']}")
    table = Table("来源", "类型", "间隔", "状态", "上次轮询", "失败", "下次轮询", "帖文", "错误")
    for row in health:
        table.add_row(
            row["source_id"],
            row["kind"],
            row["interval"],
            row["label"],
            (row["last_poll_at"] or "—")[:19],
            str(row["failures"]),
            (row["next_poll_at"] or "—")[:19],
            str(row["posts_fetched"]),
            row["last_error"] or "",
        )
    out_console.print(table)


def _read_plan_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc


@plans_app.command("add")
def plans_add(
    file: Annotated[Path, typer.Argument(help="The plan as YAML (or JSON), see docs/plans.md.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a stored plan with the same id.")
    ] = False,
) -> None:
    """Check a plan file and save it in the store."""
    settings = state.settings()
    data = _read_plan_file(file)
    store = _open_store(settings)
    try:
        plan, created = save_plan(
            store, data, settings, SystemClock(), create=not replace, where=str(file)
        )
    finally:
        store.close()
    polled = sum(1 for s in plan.sources if s.polled)
    print(
        f"plan {plan.id} {'saved' if created else 'replaced'}: {len(plan.rules)} rule(s), "
        f"{len(plan.sources)} source(s) ({polled} polled)"
    )


@plans_app.command("delete")
def plans_delete(plan_id: PlanId) -> None:
    """Delete a plan and the poll state of its sources."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        if not store.delete_plan(plan_id):
            raise UsageError(f"no plan {plan_id!r} in {settings.store}")
    finally:
        store.close()
    print(f"plan {plan_id} deleted")


@plans_app.command("poll")
def plans_poll(
    once: Annotated[
        bool, typer.Option("--once", help="Poll the due sources once and exit.")
    ] = False,
) -> None:
    """Poll the due sources of the enabled plans (politely: conditional GET, per-host
    limit, backoff), run new posts through the pipeline into the store and raise the
    alerts of every rule; without --once, again every plans.tick until Ctrl+C."""
    import signal

    from yuqing.plans.runner import PlanMachinery

    settings = state.settings()
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    clock = SystemClock()
    store = _open_store(settings)
    rejected = 0
    try:
        machinery = PlanMachinery(settings, store, clock, stop.wait)
        try:
            while not stop.is_set():
                report = machinery.cycle(store)
                rejected += report.ingest.rejected
                for poll in report.polls:
                    s = poll.state
                    http = f" HTTP {s.http_status}" if s.http_status else ""
                    error = f": {s.last_error}" if s.last_error else ""
                    print(
                        f"{poll.plan_id}/{poll.source_id}: {s.status}{http}, read {poll.read}, "
                        f"stored {poll.stored}{error}"
                    )
                print(report.summary(), flush=True)
                if once:
                    break
                stop.wait(settings.plans.seconds("tick"))
        finally:
            machinery.close()
    finally:
        store.close()
    if rejected:
        raise typer.Exit(3)
