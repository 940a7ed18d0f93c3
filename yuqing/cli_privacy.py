"""``yuqing audit``, ``yuqing retention apply`` and ``yuqing privacy delete-author|blocked|
unblock``: the audit log, retention of raw text, deletion of one author's posts and the list
of authors no longer collected (docs/privacy.md). Registers on the one app of
:mod:`yuqing.cli`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from yuqing.cli import _open_store, app, state
from yuqing.console import out_console
from yuqing.errors import UsageError, YuqingError
from yuqing.privacy.audit import CLI_CLIENT, cli_actor
from yuqing.privacy.blocking import handle_of, source_of, unblock_author
from yuqing.privacy.deletion import delete_author
from yuqing.privacy.retention import apply_retention
from yuqing.settings import Settings
from yuqing.sources.record import parse_time
from yuqing.store.base import AUDIT_ACTIONS

retention_app = typer.Typer(
    help="Retention (保存期限): remove the raw text of old posts, keep aggregates.",
    no_args_is_help=True,
)
privacy_app = typer.Typer(
    help="Personal information (个人信息): deletion and blocking of an author on request.",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")
app.add_typer(privacy_app, name="privacy")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Only count; change nothing.")]


def _print_json(data: Any) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _time(name: str, value: str | None, settings: Settings) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return parse_time(int(text) if text.isdigit() else text, settings.zone)
    except (ValueError, YuqingError) as exc:
        raise UsageError(f"{name}: {value!r} is not a time; use ISO 8601 (2026-11-20)") from exc


@app.command("audit")
def audit(
    since: Annotated[
        str | None, typer.Option("--since", help="From this time (ISO 8601; local zone).")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this actor.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help=f"Only this action: {', '.join(AUDIT_ACTIONS)}.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most entries.")] = 100,
    as_json: AsJson = False,
) -> None:
    """The audit log (审计日志), newest first: logins, exports, deletions, user changes."""
    settings = state.settings()
    if action is not None and action not in AUDIT_ACTIONS:
        raise UsageError(f"--action {action!r}: use one of {', '.join(AUDIT_ACTIONS)}")
    start = _time("--since", since, settings)
    store = _open_store(settings)
    try:
        found = store.audit_log(since=start, actor=user, action=action, limit=limit)
    finally:
        store.close()
    if as_json:
        _print_json([e.as_dict() for e in found])
        return
    table = Table("时间", "操作", "操作人", "来源地址", "对象", "详情", header_style="bold")
    for entry in found:
        table.add_row(
            entry.at.astimezone(settings.zone).isoformat(timespec="seconds"),
            entry.action,
            entry.actor,
            entry.client,
            entry.target,
            orjson.dumps(entry.details).decode() if entry.details else "",
        )
    out_console.print(table)


@retention_app.command("apply")
def retention_apply(dry_run: DryRun = False, as_json: AsJson = False) -> None:
    """Remove the raw text and personal fields of posts past [privacy.retention]."""
    settings = state.settings()
    retention = settings.privacy.retention
    if not retention.active:
        out_console.print(
            "未设置保存期限：[privacy.retention] text_days 或 sources（docs/privacy.md）"
        )
        return
    store = _open_store(settings)
    try:
        run = apply_retention(
            store,
            retention,
            datetime.now(UTC),
            dry_run=dry_run,
            actor=cli_actor(),
            client=CLI_CLIENT,
        )
    finally:
        store.close()
    if as_json:
        _print_json(run.as_dict())
        return
    verb = "将删除原文" if dry_run else "已删除原文"
    for name, count in run.removed.items():
        label = "其他来源" if name == "*" else name
        out_console.print(f"{label}：{verb} {count} 条（发布早于 {run.cutoffs[name]}）")


@privacy_app.command("delete-author")
def privacy_delete_author(
    handle: Annotated[str, typer.Argument(help="The author handle (作者账号).")],
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source's posts.")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="The request, for the audit log.")] = "",
    keep_collecting: Annotated[
        bool,
        typer.Option(
            "--keep-collecting",
            help="Only delete: do not block the author (new posts are stored again).",
        ),
    ] = False,
    dry_run: DryRun = False,
) -> None:
    """Delete every stored post of one author (on the person's request), block the author
    from being collected again, and log it."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        result = delete_author(
            store,
            handle,
            actor=cli_actor(),
            source=source,
            client=CLI_CLIENT,
            dry_run=dry_run,
            reason=reason,
            block=not keep_collecting,
        )
    finally:
        store.close()
    verb = "将删除" if dry_run else "已删除"
    where = f"（来源 {result.source}）" if result.source else ""
    out_console.print(f"{result.author}{where}：{verb} {result.deleted} 条帖文")
    if result.blocked:
        out_console.print("已停止采集该作者（yuqing privacy unblock 可恢复）")


@privacy_app.command("blocked")
def privacy_blocked(as_json: AsJson = False) -> None:
    """The authors no longer collected (停止采集): handle, source, who asked, when, why."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        found = store.suppressed_authors()
    finally:
        store.close()
    if as_json:
        _print_json([e.as_dict() for e in found])
        return
    if not found:
        out_console.print("没有停止采集的作者")
        return
    table = Table("作者", "来源", "操作人", "时间", "原因", header_style="bold")
    for entry in found:
        table.add_row(
            entry.author,
            entry.source or "全部来源",
            entry.actor,
            entry.at.astimezone(settings.zone).isoformat(timespec="seconds"),
            entry.reason,
        )
    out_console.print(table)


@privacy_app.command("unblock")
def privacy_unblock(
    handle: Annotated[str, typer.Argument(help="The author handle (作者账号).")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="The entry of this source (default: of every source)."),
    ] = None,
) -> None:
    """Collect an author's posts again (remove an entry of `privacy blocked`) and log it."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        removed = unblock_author(store, handle, actor=cli_actor(), source=source, client=CLI_CLIENT)
    finally:
        store.close()
    chosen = source_of(source)
    where = f"（来源 {chosen}）" if chosen else ""
    name = handle_of(handle)
    if not removed:
        raise UsageError(f"{name}{where} is not blocked; see yuqing privacy blocked")
    out_console.print(f"{name}{where}：已恢复采集")
