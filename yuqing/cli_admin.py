"""Administration commands: ``yuqing db backup``, ``yuqing db restore`` and ``yuqing doctor``.
They register on the app of :mod:`yuqing.cli` (parse -> call -> print); the work is done
by :mod:`yuqing.store.backup` and :mod:`yuqing.doctor`. See docs/operations.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from yuqing.cli import EXIT_FAILED, app, db_app, state
from yuqing.console import err_console


def _mib(size: int) -> str:
    return f"{size / 1048576:,.1f} MiB"


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Back up the store while it is in use: SQLite's online backup API (a plain SQLite
    file), or pg_dump --format=custom for PostgreSQL."""
    from yuqing.store.backup import backup_store

    settings = state.settings()
    info = backup_store(settings.store, file, overwrite=force)
    print(
        f"{settings.store}: backed up to {info.path} "
        f"({info.backend}, schema version {info.schema_version}, {_mib(info.size)})"
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="Backup file made by `yuqing db backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that is not empty.")
    ] = False,
) -> None:
    """Restore a backup into the store, then migrate it to this version's schema. Refuses a
    store that is not empty (unless --force) and a backup newer than this yuqing."""
    from yuqing.store.backup import restore_store

    settings = state.settings()
    info = restore_store(settings.store, file, force=force)
    after = "not migrated" if info.schema_version is None else f"now {info.schema_version}"
    print(
        f"{settings.store}: restored {file} ({info.backend}, "
        f"backup schema version {info.backup_version}, {after})"
    )
    if info.note:
        err_console.print(info.note, highlight=False, soft_wrap=True)


@app.command()
def doctor(
    stream: Annotated[
        str | None,
        typer.Option("--stream", help="Also check this Redis stream URL (redis://host:6379/0)."),
    ] = None,
    min_free: Annotated[
        float, typer.Option("--min-free-gb", help="Warn below this much free disk space.")
    ] = 1.0,
) -> None:
    """Check the installation and say what to fix: Python, models, store and schema, Redis,
    CJK fonts, WeasyPrint, Chromium, disk space, settings. Exit 1 when a required check
    fails (✗); warnings (!) do not fail."""
    from yuqing.doctor import render, run_checks

    results = run_checks(
        state.config, state.store, stream=stream, min_free_bytes=int(min_free * 1024**3)
    )
    for line in render(results):
        print(line)
    if any(r.failed for r in results):
        raise typer.Exit(EXIT_FAILED)
