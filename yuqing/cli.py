"""The `yuqing` command: parse -> call the library -> print. Exit status: 0 done,
1 failed, 2 usage error, 3 done but some records were rejected."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer
from rich.table import Table

from yuqing import __version__
from yuqing.console import (
    RejectReporter,
    advance,
    count_lines,
    err_console,
    out_console,
    progress_bar,
)
from yuqing.errors import UsageError, YuqingError
from yuqing.settings import Settings, load_settings
from yuqing.sources.record import ColumnMapping, parse_time
from yuqing.sources.resolve import open_sources
from yuqing.store.base import Store
from yuqing.store.url import open_store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REJECTED = 0, 1, 2, 3

app = typer.Typer(
    help="yuqing (舆情): collect, analyse and answer online public opinion in Chinese.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Store maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
drill_app = typer.Typer(help="Drills (实战演练): replay incident scenarios.", no_args_is_help=True)
app.add_typer(drill_app, name="drill")


class State:
    config: Path | None = None
    store: str | None = None
    timezone: str | None = None

    def settings(self, **overrides: Any) -> Settings:
        over: dict[str, Any] = {"store": self.store, "timezone": self.timezone, **overrides}
        return load_settings(
            self.config, overrides={k: v for k, v in over.items() if v is not None}
        )


state = State()

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store", help="Store URL, e.g. sqlite:///yuqing.db or postgresql://user@host/db."
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"yuqing {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings file (default ./yuqing.toml).")
    ] = None,
    store: StoreOpt = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Zone for naive times (default Asia/Shanghai).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Settings come from yuqing.toml < YUQING_* environment < these flags."""
    state.config, state.store, state.timezone = config, store, timezone


# ---------------------------------------------------------------- shared options
TextColumn = Annotated[
    str | None, typer.Option("--text-column", help="Input column holding the text.")
]
IdColumn = Annotated[str | None, typer.Option("--id-column", help="Input column holding the id.")]
TimeColumn = Annotated[
    str | None, typer.Option("--time-column", help="Input column holding the publication time.")
]
Columns = Annotated[
    list[str] | None,
    typer.Option("--column", help="Map a record field to an input column: field=col."),
]
Kind = Annotated[
    str | None,
    typer.Option(
        "--kind", "--format", help="Source kind: jsonl, csv, rss or page (default: from the name)."
    ),
]
Rejects = Annotated[
    Path | None,
    typer.Option(
        "--rejects", help="Write rejected records here (JSONL of line, code, reason, raw)."
    ),
]
SourceName = Annotated[
    str | None,
    typer.Option(
        "--source", help="Source name for records without one (default: file stem or host)."
    ),
]


def _open_store(settings: Settings, *, migrate: bool = True) -> Store:
    return open_store(settings.store, migrate=migrate)


def _sources(
    specs: list[str],
    settings: Settings,
    kind: str | None,
    mapping: ColumnMapping,
    source_name: str | None,
) -> list[Any]:
    if kind is not None and kind not in {"jsonl", "csv", "rss", "page"}:
        raise UsageError(f"--kind must be jsonl, csv, rss or page, not {kind!r}")
    return list(
        open_sources(
            specs,
            kind=kind,
            mapping=mapping,
            zone=settings.zone,
            max_record_bytes=settings.max_record_bytes,
            source_name=source_name,
        )
    )


def _line_total(sources: list[Any]) -> int | None:
    paths = [Path(s.key) for s in sources if Path(s.key).is_file()]
    return count_lines(paths) if len(paths) == len(sources) else None


# ---------------------------------------------------------------- ingest
@app.command()
def ingest(
    sources: Annotated[
        list[str], typer.Argument(help="Files, globs or URLs (JSONL, CSV, RSS/Atom, web pages).")
    ],
    kind: Kind = None,
    text_column: TextColumn = None,
    id_column: IdColumn = None,
    time_column: TimeColumn = None,
    column: Columns = None,
    source: SourceName = None,
    rejects: Rejects = None,
    resume: Annotated[
        bool, typer.Option(help="Resume each source after its last stored batch.")
    ] = True,
    analysis: Annotated[
        bool, typer.Option(help="Run sentiment, emotion, risk and regions (slower).")
    ] = True,
    events: Annotated[
        bool, typer.Option(help="Cluster posts into events and save them (with --analysis).")
    ] = True,
    batch_size: Annotated[
        int | None, typer.Option(help="Records per batch and transaction.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
    stream: Annotated[
        str | None,
        typer.Option(
            "--stream",
            help="Publish the records to this Redis stream for `yuqing worker` instead of storing them.",
        ),
    ] = None,
) -> None:
    """Read posts into the store: normalize, de-duplicate, segment, analyse, index.

    Ends with `read R, stored S, duplicates D, rejected X` (D: records already in the store).
    Exit status 3 when some records were rejected.
    """
    from yuqing.runtime.factory import build_pipeline
    from yuqing.runtime.ingest import Ingestor

    settings = state.settings(**({"batch_size": batch_size} if batch_size else {}))
    mapping = ColumnMapping.from_options(text_column, id_column, time_column, column or [])
    if stream is not None:
        from yuqing.streams import publish_command

        code = publish_command(
            sources,
            settings,
            stream,
            kind=kind,
            mapping=mapping,
            source_name=source,
            rejects_path=rejects,
            resume=resume,
            batch_size=batch_size,
        )
        if code:
            raise typer.Exit(code)
        return
    opened = _sources(sources, settings, kind, mapping, source)
    store = _open_store(settings)
    try:
        with (
            RejectReporter(rejects, several_sources=len(opened) > 1) as reporter,
            progress_bar("导入", _line_total(opened), enabled=progress) as bar,
        ):
            ingestor = Ingestor(
                store,
                build_pipeline(settings, analysis=analysis, events=analysis and events),
                batch_size=settings.batch_size,
                resume=resume,
                on_reject=reporter,
                on_progress=lambda _src, n: advance(bar, n),
            )
            ingestor.warm(timedelta(days=settings.dedup.window_days), settings.dedup.max_entries)
            report = ingestor.run(opened)
    finally:
        store.close()
    if report.near_duplicates or report.reposts:
        err_console.print(
            f"near-duplicates marked {report.near_duplicates}, reposts linked {report.reposts}, "
            f"{report.read / max(report.seconds, 1e-9):,.0f} records/s"
        )
    print(report.summary())
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


# ---------------------------------------------------------------- search
@app.command()
def search(
    query: Annotated[
        str, typer.Argument(help="Words to find (substring match on Simplified text).")
    ],
    since: Annotated[
        str | None, typer.Option(help="Only posts published at or after this time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only posts published before this time.")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only these sources.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most results to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per hit.")] = False,
) -> None:
    """Full-text search over stored posts, newest first; 2-character words work."""
    import time

    settings = state.settings()
    zone = settings.zone
    lo = _time_option("--since", since, settings)
    hi = _time_option("--until", until, settings)
    store = _open_store(settings)
    try:
        start = time.perf_counter()
        hits = store.search(query, since=lo, until=hi, sources=source or (), limit=limit)
        ms = (time.perf_counter() - start) * 1000
    finally:
        store.close()
    if as_json:
        for hit in hits:
            row = {
                "source": hit.source,
                "id": hit.id,
                "published_at": hit.published_at.isoformat() if hit.published_at else None,
                "author": hit.author,
                "url": hit.url,
                "snippet": hit.snippet,
                "text": hit.text,
            }
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
    else:
        table = Table(show_lines=False, header_style="bold")
        for name in ("时间", "来源", "作者", "内容"):
            table.add_column(name, overflow="fold")
        for hit in hits:
            when = (
                hit.published_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                if hit.published_at
                else ""
            )
            table.add_row(when, hit.source, hit.author or "", hit.snippet)
        out_console.print(table)
    err_console.print(f"{len(hits)} hits in {ms:.1f} ms")


def _time_option(flag: str, value: str | None, settings: Settings) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, settings.zone)
    except YuqingError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


# ---------------------------------------------------------------- analyze
@app.command()
def analyze(
    input: Annotated[str, typer.Argument(help="A JSONL or CSV file of records.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write JSONL here (default stdout).")
    ] = None,
    kind: Kind = None,
    text_column: TextColumn = None,
    id_column: IdColumn = None,
    time_column: TimeColumn = None,
    column: Columns = None,
    source: SourceName = None,
    rejects: Rejects = None,
    events: Annotated[
        bool, typer.Option("--events", help="Cluster posts into events (event_id).")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
) -> None:
    """Analyse a file without storing it: one JSON line per accepted record, in input order."""
    from yuqing.runtime.analyze import analyze as run_analyze
    from yuqing.runtime.factory import build_pipeline

    settings = state.settings()
    mapping = ColumnMapping.from_options(text_column, id_column, time_column, column or [])
    opened = _sources([input], settings, kind, mapping, source)
    pipeline = build_pipeline(settings, analysis=True, events=events)
    with (
        RejectReporter(rejects, several_sources=False) as reporter,
        progress_bar("分析", _line_total(opened), enabled=progress) as bar,
    ):
        if output is None:
            report = run_analyze(
                opened,
                pipeline,
                sys.stdout.buffer,
                batch_size=settings.batch_size,
                on_reject=reporter,
                on_progress=lambda n: advance(bar, n),
            )
        else:
            with output.open("wb") as out:
                report = run_analyze(
                    opened,
                    pipeline,
                    out,
                    batch_size=settings.batch_size,
                    on_reject=reporter,
                    on_progress=lambda n: advance(bar, n),
                )
    err_console.print(f"read {report.read}, analysed {report.written}, rejected {report.rejected}")
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


# ---------------------------------------------------------------- stats, db
@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Counts in the store: posts, duplicates, reposts, indexed, sources, time span."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        s = store.stats()
    finally:
        store.close()
    data = {
        "store": settings.store,
        "documents": s.documents,
        "duplicates": s.duplicates,
        "reposts": s.reposts,
        "indexed": s.indexed,
        "sources": s.sources,
        "first_published": s.first_published.isoformat() if s.first_published else None,
        "last_published": s.last_published.isoformat() if s.last_published else None,
        "schema_version": s.schema_version,
        **s.extra,
    }
    if as_json:
        print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title="舆情库统计", show_header=False)
    labels = {
        "store": "存储",
        "documents": "帖文",
        "duplicates": "重复",
        "reposts": "转发",
        "indexed": "已索引",
        "first_published": "最早",
        "last_published": "最晚",
        "schema_version": "模式版本",
    }
    for key, label in labels.items():
        table.add_row(label, str(data[key]))
    for name, n in sorted(s.sources.items(), key=lambda kv: -kv[1]):
        table.add_row(f"来源 {name}", str(n))
    out_console.print(table)


@db_app.command("migrate")
def db_migrate() -> None:
    """Create the store or bring its schema up to date."""
    settings = state.settings()
    store = _open_store(settings, migrate=False)
    try:
        version = store.migrate()
    finally:
        store.close()
    from yuqing.store.url import redact_url

    print(f"{redact_url(settings.store)}: schema version {version}")


# ---------------------------------------------------------------- entry point
def _fail(message: str, code: int) -> NoReturn:
    err_console.print(
        f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True
    )
    raise SystemExit(code)


def main() -> None:
    """Console script: YuqingError -> one line on stderr, exit 1 (2 for usage errors)."""
    try:
        app(standalone_mode=True)
    except UsageError as exc:
        _fail(str(exc), EXIT_USAGE)
    except YuqingError as exc:
        _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        raise SystemExit(0) from None


from yuqing import cli_admin as _admin  # noqa: E402, F401  (db backup/restore, doctor)
from yuqing import cli_cases as _cases  # noqa: E402, F401  (registers `yuqing cases`)
from yuqing import cli_claims as _claims  # noqa: E402, F401  (registers `yuqing claims`)
from yuqing import cli_export as _export  # noqa: E402, F401  (registers `yuqing export`)
from yuqing import cli_ops as _ops  # noqa: E402, F401  (registers the other commands)
from yuqing import cli_plans as _plans  # noqa: E402, F401  (registers `yuqing plans`)
from yuqing import cli_privacy as _privacy  # noqa: E402, F401  (audit, retention, privacy)
from yuqing import cli_server as _server  # noqa: E402, F401  (registers reanalyze)
from yuqing import cli_users as _users  # noqa: E402, F401  (registers `yuqing user`)
