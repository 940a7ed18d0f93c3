"""Briefings for leaders (日报, 周报, 专报) as DOCX and HTML, every claim linked to stored
items and checked against the store before a file is written. See docs/reports.md.

    briefing = build_briefing(store, settings, kind="daily", since=None, until=None)
    verify(store, briefing)            # every quote, event and number against the store
    render(briefing, "docx", Path("日报.docx"))
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

from yuqing.errors import UsageError
from yuqing.reports.briefing import build_briefing, headline_values, period_for
from yuqing.reports.model import KINDS, Briefing, Citation, EventSummary, Figure, Kind, RiskPost
from yuqing.reports.verify import CitationError, Verification, check, verify
from yuqing.settings import Settings

Format = Literal["docx", "html", "pdf"]
FORMATS: tuple[str, ...] = get_args(Format)

__all__ = [
    "FORMATS",
    "KINDS",
    "Briefing",
    "Citation",
    "CitationError",
    "EventSummary",
    "Figure",
    "Format",
    "Kind",
    "RiskPost",
    "Verification",
    "build_briefing",
    "check",
    "default_out",
    "headline_values",
    "period_for",
    "render",
    "report_command",
    "verify",
]


def render(briefing: Briefing, fmt: str, out_path: Path) -> Path:
    """Write ``briefing`` as ``fmt`` (docx, html or pdf) to ``out_path``; return the path."""
    if fmt == "docx":
        from yuqing.reports.render_docx import render_docx

        return render_docx(briefing, out_path)
    if fmt == "html":
        from yuqing.reports.render_html import render_html

        try:
            out_path.write_text(render_html(briefing), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report to {out_path}: {exc}") from exc
        return out_path
    if fmt == "pdf":
        from yuqing.reports.render_pdf import render_pdf

        return render_pdf(briefing, out_path)
    raise UsageError(f"report --format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def default_out(briefing: Briefing, fmt: str) -> Path:
    """``yuqing-daily-20261122.docx``, ``yuqing-special-<event>.html``, ... in the working folder."""
    if briefing.kind == "special":
        tag = briefing.event_id or "event"
    elif briefing.since is not None:
        tag = briefing.since.astimezone(ZoneInfo(briefing.zone)).strftime("%Y%m%d")
    else:
        tag = "all"
    return Path(f"yuqing-{briefing.kind}-{tag}.{fmt}")


def report_command(
    settings: Settings,
    kind: str,
    fmt: str,
    out: Path | None,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None,
) -> int:
    """``yuqing report``: build the briefing from the configured store, check it against the
    store, write it, print the path and a one-line summary on stderr; return 0. Errors are
    raised as YuqingError (UsageError for bad arguments, CitationError when the check fails)."""
    from yuqing.store.url import open_store

    if kind not in KINDS:
        raise UsageError(f"report kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if fmt not in FORMATS:
        raise UsageError(f"report --format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    store = open_store(settings.store)
    try:
        briefing = build_briefing(
            store, settings, kind=cast(Kind, kind), since=since, until=until, event_id=event_id
        )
        result = check(store, briefing)
    finally:
        store.close()
    path = render(briefing, fmt, out if out is not None else default_out(briefing, fmt))
    print(path)
    print(
        f"{briefing.title}: {briefing.period}; checked {result.citations} quotes, "
        f"{result.events} events, {result.figures} figures against the store",
        file=sys.stderr,
    )
    return 0
