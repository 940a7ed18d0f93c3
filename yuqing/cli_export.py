"""``yuqing export search|event|alerts|cases``: write search results, an event's posts and
figures, alerts or cases to an Excel (.xlsx) or CSV file, with the filters used written
into the file. A thin shell over :mod:`yuqing.exports` (docs/operations.md#exports)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from yuqing.cli import _open_store, _time_option, app, state
from yuqing.settings import Settings
from yuqing.store.base import Store

if TYPE_CHECKING:  # yuqing.exports loads openpyxl: only when a command runs
    from yuqing.exports import Export

export_app = typer.Typer(
    help="Export search results, an event, alerts or cases to Excel or CSV.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

Out = Annotated[
    Path | None,
    typer.Option(
        "--out", "-o", help="File to write (default: a name like yuqing-search-....xlsx)."
    ),
]
Format = Annotated[
    str | None,
    typer.Option("--format", help="xlsx or csv (default: from --out's extension, else xlsx)."),
]
Limit = Annotated[int, typer.Option("--limit", help="Most rows to export.")]
Since = Annotated[str | None, typer.Option(help="Only items at or after this time.")]
Until = Annotated[str | None, typer.Option(help="Only items before this time.")]


def _write(
    build: Callable[[Store, Settings, datetime], Export], out: Path | None, fmt: str | None
) -> None:
    from yuqing.exports import format_for, render

    settings = state.settings()
    kind = format_for(out, fmt)
    store = _open_store(settings)
    try:
        export = build(store, settings, datetime.now(UTC))
    finally:
        store.close()
    target = out or Path(export.filename(kind))
    target.write_bytes(render(export, kind))
    print(f"{target}: {export.title}, {export.rows} rows ({kind})")


@export_app.command("search")
def export_search(
    query: Annotated[str, typer.Argument(help="Words to find (as `yuqing search`).")],
    since: Since = None,
    until: Until = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only these sources.")
    ] = None,
    limit: Limit = 1000,
    out: Out = None,
    format: Format = None,
) -> None:
    """Search results in full (newest first), one post a row."""
    from yuqing.exports import search_export

    def build(store: Store, settings: Settings, now: datetime) -> Export:
        return search_export(
            store,
            query,
            zone=settings.zone,
            now=now,
            since=_time_option("--since", since, settings),
            until=_time_option("--until", until, settings),
            sources=source or (),
            limit=limit,
        )

    _write(build, out, format)


@export_app.command("event")
def export_event(
    event_id: Annotated[str, typer.Argument(help="The event's id (as in its page's URL).")],
    limit: Annotated[int, typer.Option("--limit", help="Most posts to export.")] = 10_000,
    out: Out = None,
    format: Format = None,
) -> None:
    """An event's figures (summary with heat and lifecycle, hourly trend by sentiment and
    emotion, the mix of labels and sources) and its posts, oldest first."""
    from yuqing.exports import event_export

    def build(store: Store, settings: Settings, now: datetime) -> Export:
        return event_export(store, event_id, zone=settings.zone, now=now, limit=limit)

    _write(build, out, format)


@export_app.command("alerts")
def export_alerts(
    since: Since = None,
    until: Until = None,
    status: Annotated[str | None, typer.Option("--status", help="new or acknowledged.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's alerts.")] = None,
    limit: Limit = 1000,
    out: Out = None,
    format: Format = None,
) -> None:
    """Stored alerts, newest first."""
    from yuqing.exports import alerts_export

    def build(store: Store, settings: Settings, now: datetime) -> Export:
        return alerts_export(
            store,
            zone=settings.zone,
            now=now,
            since=_time_option("--since", since, settings),
            until=_time_option("--until", until, settings),
            status=status,
            rule_id=rule,
            limit=limit,
        )

    _write(build, out, format)


@export_app.command("cases")
def export_cases(
    status: Annotated[
        str | None,
        typer.Option("--status", help="new, assessing, responding, monitoring or closed."),
    ] = None,
    event: Annotated[str | None, typer.Option("--event", help="Only this event's cases.")] = None,
    limit: Limit = 1000,
    out: Out = None,
    format: Format = None,
) -> None:
    """Cases, newest opened first, with their first-statement deadline and timeliness now."""
    from yuqing.exports import cases_export

    def build(store: Store, settings: Settings, now: datetime) -> Export:
        return cases_export(
            store, zone=settings.zone, now=now, status=status, event_id=event, limit=limit
        )

    _write(build, out, format)
