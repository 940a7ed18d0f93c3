"""The `yuqing` commands beyond the core ones: demo, serve, run, worker, report, drill,
train and eval. They register on the one app of :mod:`yuqing.cli` (parse -> call -> print)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from yuqing.cli import _time_option, app, drill_app, state
from yuqing.console import out_console


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
    scenario: Annotated[
        str, typer.Option(help="The drill scenario to play: a built-in name or a YAML file.")
    ] = "school-food-safety",
    posts: Annotated[
        int,
        typer.Option(
            "--posts", help="Keep an even sample of this many posts (default 0: all of them)."
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed of the scenario.")] = 7,
    speed: Annotated[
        float,
        typer.Option(
            help="Live replay: scenario seconds per wall second (240: the 60 hours after "
            "the start in 15 minutes; 0: as fast as possible)."
        ),
    ] = 240.0,
    head_hours: Annotated[
        float,
        typer.Option("--head-hours", help="Scenario hours ingested at once before serving."),
    ] = 12.0,
    loop: Annotated[
        bool, typer.Option("--loop", help="Start the story over when it ends (live replay).")
    ] = False,
    serve_ui: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the dashboard while the rest plays live (--no-serve: ingest it all, "
            "print the summary and exit).",
        ),
    ] = True,
    host: Annotated[
        str | None, typer.Option(help="Dashboard address (default [web] host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Dashboard port (default [web] port).")] = None,
) -> None:
    """Play a drill scenario (a school canteen incident) through the whole pipeline into an
    SQLite store: its first hours at once (summary and demo login printed), then the rest
    live while the dashboard is served (Ctrl+C stops)."""
    from datetime import timedelta

    from yuqing.demo.command import reset_store, run_demo
    from yuqing.demo.story import load_story
    from yuqing.errors import UsageError

    if speed < 0:
        raise UsageError(f"--speed must be 0 (as fast as possible) or positive, got {speed:g}")
    story = load_story(scenario, seed=seed, posts=posts, head=timedelta(hours=head_hours))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "yuqing.db"
    reset_store(db)
    token = secrets.token_urlsafe(12)  # lets the demo's pages acknowledge alerts
    # Plans are not polled on the demo's accelerated clock: it would shorten every polite
    # interval between requests to a real site by the replay's speed.
    settings = state.settings(
        store=f"sqlite:///{db}", web={"api_tokens": [token]}, plans={"poll_in_serve": False}
    )
    run_demo(
        settings,
        story,
        folder,
        console=out_console,
        token=token,
        serve=serve_ui,
        speed=speed,
        loop=loop,
        host=host,
        port=port,
    )


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
    corrections_from: Annotated[
        str | None,
        typer.Option(
            "--corrections-from",
            help="Also train on the posts analysts relabelled in this store (store URL).",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Write before/after figures on the standard sets here (JSON)."
        ),
    ] = None,
) -> None:
    """Train a model from labelled data and write its artifact and model card."""
    if corrections_from or report:
        from yuqing.corrections.model_report import format_comparison
        from yuqing.corrections.teach import train_with_corrections

        done = train_with_corrections(
            task, data or None, out, seed=seed, corrections_from=corrections_from,
            report=report, progress=lambda m: print(m, file=sys.stderr),
        )  # fmt: skip
        print(done.card)
        if done.report is not None:
            print(format_comparison(done.report))
        return
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
    linear: Annotated[
        bool,
        typer.Option(
            "--linear",
            help="Evaluate the shipped linear model even when [analysis.transformer] is set.",
        ),
    ] = False,
) -> None:
    """Accuracy, macro-F1, per-class precision/recall and the confusion matrix of a model
    (the transformer tier's for sentiment and emotion when [analysis.transformer] sets it)."""
    from yuqing.analysis.evaluation import evaluate as run_eval

    transformer = None if linear else state.settings().analysis.transformer
    print(run_eval(task, file, text_column, label_column, transformer=transformer).format())


# ---------------------------------------------------------------- worker
@app.command()
def worker(
    stream: Annotated[
        str, typer.Option("--stream", help="redis://host:6379/0?stream=...&group=...")
    ],
    consumer: Annotated[
        str | None, typer.Option(help="Consumer name in the group (default host-pid).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Entries per read and transaction.")] = 500,
    block_ms: Annotated[int, typer.Option(help="How long one read waits for entries.")] = 2000,
    once: Annotated[bool, typer.Option("--once", help="Drain what is there, then exit.")] = False,
    analysis: Annotated[bool, typer.Option(help="Run the analysis stage.")] = True,
    events: Annotated[
        bool | None, typer.Option(help="Cluster posts into events (default [run] events).")
    ] = None,
    alerts: Annotated[bool, typer.Option(help="Run the monitoring rules, raise alerts.")] = True,
) -> None:
    """Process a Redis stream in a consumer group into the store (--store): acknowledged
    only after the commit, a dead worker's entries claimed, writes idempotent; events and
    alerts as in embedded mode, committed in stream order (docs/server.md)."""
    from yuqing.streams import worker_command

    code = worker_command(
        state.settings(),
        stream,
        consumer=consumer,
        batch_size=batch_size,
        block_ms=block_ms,
        once=once,
        analysis=analysis,
        events=events,
        alerts=alerts,
    )
    if code:
        raise typer.Exit(code)


# ---------------------------------------------------------------- report
@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="daily, weekly or special (专报, needs --event).")],
    event: Annotated[
        str | None, typer.Option("--event", help="The event of a special report.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="docx, html or pdf.")] = "docx",
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
    push: Annotated[
        str | None,
        typer.Option(
            "--push", help="Send to a running server's POST /api/v1/posts (its base URL)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="YUQING_TOKEN",
            show_envvar=True,
            help="API token of --push ([web] api_tokens; default $YUQING_TOKEN).",
        ),
    ] = None,
    stream: Annotated[
        str | None,
        typer.Option("--stream", help="Publish for workers: redis://host:6379/0?stream=..."),
    ] = None,
    hold: Annotated[
        float,
        typer.Option(help="--push/--stream: minutes the drill stays open after the last post."),
    ] = 0.0,
) -> None:
    """Replay a scenario into its own store (--store, empty) with the monitoring rules
    of the settings raising alerts on scenario time; or into a running server (--push URL
    with a token, or --stream for its workers), the report's timeline then at server time
    (docs/drills.md)."""
    import signal
    import threading

    from yuqing.alerts.dispatcher_setup import dispatcher_for
    from yuqing.alerts.engine import AlertEngine
    from yuqing.alerts.rules_config import rules_from_settings
    from yuqing.drill import load_scenario
    from yuqing.drill.replay import AcceleratedClock, run_drill

    settings = state.settings()
    sc = load_scenario(scenario)
    clock = AcceleratedClock(sc.start, speed)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if push is not None or stream is not None:
        from datetime import timedelta

        from yuqing.drill.targets import run_to_target, target_for

        target = target_for(push, token, stream, stop_event=stop)
        done = run_to_target(
            sc, target, speed=speed, seed=seed, settings=settings, stop_event=stop,
            hold=timedelta(minutes=hold),
        )  # fmt: skip
        if report is not None:
            report.write_bytes(orjson.dumps(done.as_dict(), option=orjson.OPT_INDENT_2))
        print(done.summary())
        return
    with dispatcher_for(settings, clock=clock, store_log=False) as dispatcher:
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


@drill_app.command("score")
def drill_score(
    report: Annotated[Path, typer.Argument(help="The drill report JSON (drill run --report).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the score report here.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the score as JSON here.")
    ] = None,
    briefing: Annotated[
        Path | None, typer.Option("--briefing", help="The briefing the trainee submitted.")
    ] = None,
) -> None:
    """Score the trainee from the drill's store (--store): acknowledging, opening a case,
    the first statement against its deadline, its quality, the briefing."""
    from yuqing.cases.overdue_alerts import deadline_policy
    from yuqing.drill.scoring import score_command

    settings = state.settings()  # [cases] first_statement sets the statement deadline
    code = score_command(
        settings.store, report, html, json_out, briefing=briefing, policy=deadline_policy(settings)
    )
    if code:
        raise typer.Exit(code)
