"""`yuqing claims ...`: rumour verdicts (辟谣) from the command line (docs/rumors.md).

add (a claim, with a verdict and evidence link if known), list, mark (a verdict with its
evidence link), posts (the stored posts that repeat a claim). A verdict is applied at once
to the stored posts of the last ``[rumors] rescore_days``; the running pipeline picks it up
within ``[rumors] refresh``. Registered on the one app of :mod:`yuqing.cli`.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from yuqing.cli import _open_store, app, state
from yuqing.cli_cases import By, _who
from yuqing.clock import SystemClock
from yuqing.console import err_console, out_console
from yuqing.errors import UsageError
from yuqing.rumors import VERDICT_LABELS, VERDICTS, Claim
from yuqing.rumors import verdicts as service
from yuqing.rumors.verdicts import RescoreReport

claims_app = typer.Typer(help="Rumour verdicts (辟谣): claims marked true, false or unverified.")
app.add_typer(claims_app, name="claims", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Evidence = Annotated[
    str | None,
    typer.Option("--evidence", help="URL of the debunking or official statement."),
]
Note = Annotated[str | None, typer.Option(help="A note on the verdict.")]


def _print(claim: Claim, report: RescoreReport | None, as_json: bool) -> None:
    if as_json:
        data: dict[str, Any] = {
            "claim": claim.as_dict(),
            "rescored": report.as_dict() if report else None,
        }
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    print(f"{claim.id}: {VERDICT_LABELS[claim.verdict]} 「{claim.statement}」")
    if report is not None:
        err_console.print(
            f"stored posts re-scored: read {report.scanned}, matching {report.matched}, "
            f"changed {report.changed}"
        )


@claims_app.command("add")
def claims_add(
    statement: Annotated[str, typer.Argument(help="What is being said, in a sentence.")],
    phrase: Annotated[
        list[str] | None,
        typer.Option("--phrase", help="A key phrase that every repeat contains."),
    ] = None,
    verdict: Annotated[str, typer.Option(help=", ".join(VERDICTS))] = "unverified",
    evidence: Evidence = None,
    note: Note = None,
    event: Annotated[str | None, typer.Option("--event", help="The event it belongs to.")] = None,
    claim_id: Annotated[
        str | None, typer.Option("--id", help="Claim id (default claim-YYYYMMDD-xxxxxx).")
    ] = None,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Record a claim; a true or false verdict needs --evidence."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        claim, report = service.add_claim(
            store,
            statement,
            who=_who(by),
            clock=SystemClock(),
            days=settings.rumors.rescore_days,
            verdict=verdict,
            evidence_url=evidence,
            note=note or "",
            key_phrases=phrase or (),
            event_id=event,
            claim_id=claim_id,
            raise_to=settings.rumors.raise_to,
        )
    finally:
        store.close()
    _print(claim, report, as_json)


@claims_app.command("list")
def claims_list(
    verdict: Annotated[str | None, typer.Option(help=", ".join(VERDICTS))] = None,
    event: Annotated[str | None, typer.Option("--event", help="Only this event's.")] = None,
    limit: Annotated[int, typer.Option(help="Most claims to show.")] = 100,
    as_json: AsJson = False,
) -> None:
    """Claims, most recently changed first."""
    if verdict is not None and verdict not in VERDICTS:
        raise UsageError(f"--verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    settings = state.settings()
    store = _open_store(settings)
    try:
        found = service.list_claims(store, verdict=verdict, event_id=event, limit=max(limit, 1))
    finally:
        store.close()
    if as_json:
        rows = [c.as_dict() for c in found]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table(header_style="bold")
    for name in ("编号", "结论", "说法", "依据", "标注"):
        table.add_column(name, overflow="fold")
    for claim in found:
        when = claim.marked_at.astimezone(settings.zone).strftime("%m-%d %H:%M")
        table.add_row(
            claim.id,
            VERDICT_LABELS[claim.verdict],
            claim.statement,
            claim.evidence_url or "",
            f"{claim.marked_by} {when}",
        )
    out_console.print(table)
    err_console.print(f"{len(found)} claim(s)")


@claims_app.command("mark")
def claims_mark(
    claim_id: Annotated[str, typer.Argument(help="The claim id.")],
    verdict: Annotated[str, typer.Argument(help=", ".join(VERDICTS))],
    evidence: Evidence = None,
    note: Note = None,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """Give a claim a verdict (true and false need --evidence); the stored posts of the
    last rumors.rescore_days days are scored again."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        claim, report = service.mark_claim(
            store,
            claim_id,
            verdict,
            evidence_url=evidence,
            note=note,
            who=_who(by),
            clock=SystemClock(),
            days=settings.rumors.rescore_days,
            raise_to=settings.rumors.raise_to,
        )
    finally:
        store.close()
    _print(claim, report, as_json)


@claims_app.command("posts")
def claims_posts(
    claim_id: Annotated[str, typer.Argument(help="The claim id.")],
    days: Annotated[float, typer.Option(help="Posts of this many days.")] = 7,
    limit: Annotated[int, typer.Option(help="Most posts to show.")] = 20,
    as_json: AsJson = False,
) -> None:
    """Stored posts that repeat (or refute) a claim, newest first."""
    settings = state.settings()
    store = _open_store(settings)
    try:
        claim = service.get_claim(store, claim_id)
        since = SystemClock().now() - timedelta(days=days)
        found = service.claim_posts(store, claim, since, limit=max(limit, 1))
    finally:
        store.close()
    if as_json:
        rows = [
            {
                "source": d.source,
                "id": d.id,
                "text": d.text,
                "url": d.url,
                "published_at": d.published_at.isoformat() if d.published_at else None,
                "score": m.score,
                "stance": m.stance,
                "risk": d.analysis.get("risk"),
            }
            for d, m in found
        ]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for doc, match in found:
        stance = "转述" if match.stance == "repeats" else "驳斥"
        out_console.print(
            f"{doc.source}/{doc.id} [{stance} {match.score:.2f}] {doc.text[:80]}", highlight=False
        )
    err_console.print(f"{len(found)} post(s)")
