"""A briefing as one self-contained HTML file (Jinja2, ``templates/briefing.html``).

Charts are embedded as ``data:image/png;base64`` URIs so that the file can be mailed or
archived alone. Autoescape is on: post text, authors and reasons are shown as stored and
never interpreted as HTML.
"""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from yuqing.reports.casework import alert_summary
from yuqing.reports.model import NO_DATA, QUOTE_CHARS, SENTIMENT, Briefing, Chart


def _environment(zone: ZoneInfo) -> Environment:
    env = Environment(
        loader=PackageLoader("yuqing.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(when: datetime | None) -> str:
        return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else "—"

    def png(chart: Chart) -> str:
        return base64.b64encode(chart.png).decode("ascii")

    env.globals.update(
        local=local,
        png=png,
        mix=mix,
        alert_summary=alert_summary,
        sentiment=SENTIMENT,
        no_data=NO_DATA,
        quote_chars=QUOTE_CHARS,
    )
    return env


def mix(counts: dict[str, int], names: dict[str, str]) -> str:
    """``负面 12 · 中性 3`` in the order of ``names``, then any other values."""
    order = [k for k in names if k in counts] + [k for k in counts if k not in names]
    return " · ".join(f"{names.get(k, k)} {counts[k]}" for k in order) or NO_DATA


def render_html(briefing: Briefing) -> str:
    """The briefing as an HTML document (UTF-8 text)."""
    env = _environment(ZoneInfo(briefing.zone))
    return env.get_template("briefing.html").render(b=briefing)
