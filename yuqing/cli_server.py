"""The server-mode commands beyond ``worker``: ``reanalyze``. They register on the one app
of :mod:`yuqing.cli` (parse -> call -> print)."""

from __future__ import annotations

from typing import Annotated

import typer

from yuqing.cli import _open_store, _time_option, app, state
from yuqing.console import advance, progress_bar


@app.command()
def reanalyze(
    engine: Annotated[
        str, typer.Option("--engine", help="local (this process) or ray (a Ray cluster).")
    ] = "local",
    since: Annotated[
        str | None, typer.Option(help="Only posts published at or after this time.")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", help="Ray cluster address (ray://head:10001, auto); default: local."
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="Posts per page and transaction.")] = 1000,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
) -> None:
    """Run the analysis models again over the stored posts (after `yuqing train`) and
    write the new labels back; event ids and analysts' corrections are kept."""
    from yuqing.runtime.reanalyze import reanalyze as run_reanalyze

    settings = state.settings()
    start = _time_option("--since", since, settings)
    store = _open_store(settings)
    try:
        total = store.stats().documents
        with progress_bar("重新分析", total, enabled=progress) as bar:
            report = run_reanalyze(
                store,
                engine=engine,
                max_chars=settings.max_analysis_chars,
                batch=batch,
                since=start,
                ray_address=ray_address,
                on_progress=lambda n: advance(bar, n),
                transformer=settings.analysis.transformer,
            )
    finally:
        store.close()
    print(report.summary())
