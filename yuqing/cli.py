"""The `yuqing` command: parse -> call the library -> print. Exit status: 0 done,
1 failed, 2 usage error, 3 done but some records were rejected."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Sequence
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
) -> None:
    """Read posts into the store: normalize, de-duplicate, segment, analyse, index.

    Ends with `read R, stored S, duplicates D, rejected X` (D: records already in the store).
    Exit status 3 when some records were rejected.
    """
    from yuqing.runtime.factory import build_pipeline
    from yuqing.runtime.ingest import Ingestor

    settings = state.settings(**({"batch_size": batch_size} if batch_size else {}))
    mapping = ColumnMapping.from_options(text_column, id_column, time_column, column or [])
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
    print(f"{settings.store}: schema version {version}")


# ---------------------------------------------------------------- run
@app.command("run")
def run_monitor(
    config: Annotated[
        Path, typer.Argument(help="The yuqing.toml with [run], [monitor] and [alerts].")
    ],
    once: Annotated[bool, typer.Option("--once", help="Poll the sources once and exit.")] = False,
) -> None:
    """Run continuously: poll sources, analyse, cluster events, raise and deliver alerts."""
    from yuqing.runtime.run import run_command

    code = run_command(config, once=once)
    if code:
        raise typer.Exit(code)


# ---------------------------------------------------------------- demo, train, eval
@app.command()
def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Where the demo writes its files and store.")
    ] = Path("demo"),
    posts: Annotated[int, typer.Option("--posts", help="How many posts to generate.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed of the scenario.")] = 7,
    serve_ui: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")
    ] = True,
    host: Annotated[
        str | None, typer.Option(help="Dashboard address (default [web] host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Dashboard port (default [web] port).")] = None,
) -> None:
    """Generate a demo incident, run the whole pipeline into an SQLite store, print a
    summary, then serve the dashboard on it (Ctrl+C stops)."""
    from yuqing.demo.monitor import DemoMonitor
    from yuqing.demo.scenario import Scenario, generate, iter_jsonl
    from yuqing.demo.summary import DemoSummary
    from yuqing.models import Document
    from yuqing.runtime.factory import build_pipeline
    from yuqing.runtime.ingest import Ingestor

    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "posts.jsonl"
    with data.open("wb") as fh:
        fh.writelines(iter_jsonl(generate(posts, seed=seed)))
    db = folder / "yuqing.db"
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    token = secrets.token_urlsafe(12)  # lets the demo's pages acknowledge alerts
    settings = state.settings(store=f"sqlite:///{db}", web={"api_tokens": [token]})
    summary = DemoSummary()
    opened = _sources([str(data)], settings, "jsonl", ColumnMapping(), None)
    store = _open_store(settings)
    monitor = DemoMonitor(store, settings.public_url, Scenario().start)

    def on_batch(docs: Sequence[Document]) -> None:
        summary.add(docs)
        monitor.process(docs)

    try:
        with RejectReporter(None, several_sources=False) as reporter:
            ingestor = Ingestor(
                store,
                build_pipeline(settings, events=True),
                batch_size=200,  # alerts follow the scenario in small steps
                on_reject=reporter,
                on_batch=on_batch,
            )
            report = ingestor.run(opened)
        hits = store.search("过期食材", limit=3)
    finally:
        monitor.close()
        store.close()
    summary.events = report.events
    summary.alerts = monitor.raised
    summary.print(out_console)
    out_console.print(f"搜索“过期食材”: {store_hits(hits)}")
    out_console.print(f"数据: {data}   存储: sqlite:///{db}")
    out_console.print(f"试试: yuqing --store sqlite:///{db} search 食堂")
    print(report.summary(), flush=True)
    if serve_ui:
        from yuqing.web import serve as serve_web

        where = f"http://{host or settings.web.host}:{port or settings.web.port}/"
        out_console.print(f"舆情看板: {where}  接口令牌: {token}  (Ctrl+C 退出)")
        serve_web(settings, host, port)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default [web] host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default [web] port).")] = None,
) -> None:
    """Serve the dashboard and the REST API (/api/v1, docs at /docs) on the store."""
    from yuqing.web import serve as serve_web

    serve_web(state.settings(), host, port)


def store_hits(hits: list[Any]) -> str:
    return " | ".join(h.snippet for h in hits) or "无结果"


@app.command()
def train(
    task: Annotated[str, typer.Argument(help="sentiment, emotion or rumor.")],
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Labelled CSV files (default: the documented recipe over ../shared/data).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Artifact path (default: the packaged model).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
) -> None:
    """Train a model from labelled data and write its artifact and model card."""
    from yuqing.analysis.training import train as run_train

    card = run_train(task, data or None, out, seed=seed)
    print(card.format() if hasattr(card, "format") else card)


@app.command("eval")
def evaluate(
    task: Annotated[str, typer.Argument(help="sentiment, emotion or rumor.")],
    file: Annotated[Path, typer.Argument(help="A labelled CSV file.")],
    text_column: Annotated[
        str, typer.Option("--text-column", help="Column with the text.")
    ] = "text",
    label_column: Annotated[
        str, typer.Option("--label-column", help="Column with the label.")
    ] = "label",
) -> None:
    """Accuracy, macro-F1, per-class precision/recall and the confusion matrix of a model."""
    from yuqing.analysis.evaluation import evaluate as run_eval

    print(run_eval(task, file, text_column, label_column).format())


# ---------------------------------------------------------------- report
@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="daily, weekly or special (专报, needs --event).")],
    event: Annotated[
        str | None, typer.Option("--event", help="The event of a special report.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="docx or html.")] = "docx",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Start of the period (default: the newest stored day).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="End of the period.")] = None,
) -> None:
    """A briefing for leaders from the store, every figure and quote linked to stored posts
    and checked against the store before the file is written."""
    from yuqing.reports import report_command

    settings = state.settings()
    code = report_command(
        settings,
        kind,
        fmt,
        out,
        _time_option("--since", since, settings),
        _time_option("--until", until, settings),
        event,
    )
    if code:
        raise typer.Exit(code)


# ---------------------------------------------------------------- drill
@drill_app.command("list")
def drill_list() -> None:
    """The built-in scenarios."""
    from yuqing.drill import list_scenarios

    table = Table(header_style="bold")
    for name in ("名称", "标题", "领域", "小时", "约帖文"):
        table.add_column(name)
    for info in list_scenarios():
        table.add_row(
            info.name, info.title, info.field, f"{info.hours:g}", str(info.expected_posts)
        )
    out_console.print(table)


@drill_app.command("validate")
def drill_validate(
    path: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
) -> None:
    """Check a scenario file; errors name the line, column and key."""
    from yuqing.drill import validate_command

    code = validate_command(path)
    if code:
        raise typer.Exit(code)


@drill_app.command("run")
def drill_run(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name or a YAML file.")],
    speed: Annotated[
        float, typer.Option(help="Scenario seconds per wall second (144: 24 h in 10 min; 0: fast).")
    ] = 144.0,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 7,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the drill report here as JSON.")
    ] = None,
) -> None:
    """Replay a scenario into its own store (--store, empty) with the monitoring rules
    of the settings raising alerts on scenario time."""
    import signal
    import threading

    from yuqing.alerts.delivery import dispatcher_from_config
    from yuqing.alerts.engine import AlertEngine
    from yuqing.alerts.rules_config import rules_from_settings
    from yuqing.drill import load_scenario
    from yuqing.drill.replay import AcceleratedClock, run_drill

    settings = state.settings()
    sc = load_scenario(scenario)
    clock = AcceleratedClock(sc.start, speed)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with dispatcher_from_config(
        settings.alerts.channels, settings.alerts.delivery, clock=clock
    ) as dispatcher:
        engine = AlertEngine(rules_from_settings(settings), dispatcher, clock, settings.public_url)
        result = run_drill(
            sc,
            store_url=settings.store,
            speed=speed,
            seed=seed,
            settings=settings,
            on_batch=engine.process,
            stop_event=stop,
            out=sys.stdout,
            clock=clock,
        )
    if report is not None:
        report.write_bytes(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2))
    print(
        f"posts {result.posts}, stored {result.stored}, events {result.events}, "
        f"alerts {len(result.alerts)}, negative {result.negative}, "
        f"group_incident {result.group_incident}, rumours {result.rumours}"
    )


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
