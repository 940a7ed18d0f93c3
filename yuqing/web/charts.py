"""Plotly figures (plain dicts, drawn in the browser by the local plotly.min.js).

Only labels and numbers go into figures, never post text: plotly renders a few HTML-like
tags in its strings, and post text is untrusted. Event titles appear in HTML tables instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from yuqing.web.i18n import EMOTION, EMOTION_COLORS, SENTIMENT, SENTIMENT_COLORS, Translator
from yuqing.web.views import Series

if TYPE_CHECKING:
    from yuqing.web.ingest_health import IngestHealth

FONT = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
PALETTE = ["#2f6fb3", "#e6a23c", "#3a9d5d", "#d9534f", "#8e6bb8", "#4bb3c4", "#9aa5b1"]
SENTIMENT_ORDER = ["negative", "neutral", "positive"]


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": 12, "color": "#243447"},
        "margin": {"l": 48, "r": 16, "t": 16, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "legend": {"orientation": "h", "y": -0.2},
        "height": 300,
    }
    layout.update(extra)
    return layout


def _time_axis(series: Series) -> dict[str, Any]:
    fmt = "%m-%d %H:%M" if series.bucket == "hour" else "%Y-%m-%d"
    return {"type": "date", "tickformat": fmt, "hoverformat": fmt}


def _x(series: Series, zone: ZoneInfo) -> list[str]:
    fmt = "%Y-%m-%d %H:%M" if series.bucket == "hour" else "%Y-%m-%d"
    return [s.astimezone(zone).strftime(fmt) for s in series.starts]


def stacked_sentiment(series: Series, zone: ZoneInfo, tr: Translator) -> dict[str, Any]:
    """Volume over time, stacked by sentiment (negative at the bottom)."""
    x = _x(series, zone)
    order = [v for v in SENTIMENT_ORDER if v in series.values]
    order += [v for v in series.values if v not in order]
    data = [
        {
            "type": "bar",
            "name": tr.label(SENTIMENT, value),
            "x": x,
            "y": series.values[value],
            "marker": {"color": SENTIMENT_COLORS.get(value, "#9aa5b1")},
        }
        for value in order
    ]
    layout = _layout(
        barmode="stack",
        bargap=0.1,
        xaxis=_time_axis(series),
        yaxis={"title": {"text": tr.t("帖文数")}},
    )
    return {"data": data, "layout": layout}


def donut(counts: dict[str, int], names: dict[str, str], tr: Translator) -> dict[str, Any]:
    labels = list(counts)
    colors = [EMOTION_COLORS.get(k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(labels)]
    data = [
        {
            "type": "pie",
            "hole": 0.5,
            "labels": [tr.label(names, k) for k in labels],
            "values": [counts[k] for k in labels],
            "marker": {"colors": colors},
            "sort": False,
            "textinfo": "label+percent",
        }
    ]
    return {"data": data, "layout": _layout(showlegend=False)}


def emotion_donut(counts: dict[str, int], tr: Translator) -> dict[str, Any]:
    return donut(counts, EMOTION, tr)


def hbar(counts: dict[str, int], tr: Translator, color: str = "#2f6fb3") -> dict[str, Any]:
    """Horizontal bars, largest on top (labels are source or region names)."""
    items = list(counts.items())[::-1]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "x": [n for _, n in items],
            "y": [k for k, _ in items],
            "marker": {"color": color},
        }
    ]
    height = max(160, 28 * len(items) + 50)
    layout = _layout(height=height, margin={"l": 110, "r": 16, "t": 8, "b": 30})
    layout["xaxis"] = {"title": {"text": tr.t("帖文数")}}
    return {"data": data, "layout": layout}


def lines(series: Series, zone: ZoneInfo, names: dict[str, str], tr: Translator) -> dict[str, Any]:
    """One line per value (an event's sentiment or emotion over time)."""
    x = _x(series, zone)
    colors = {**SENTIMENT_COLORS, **EMOTION_COLORS} if names is SENTIMENT else EMOTION_COLORS
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": tr.label(names, value),
            "x": x,
            "y": counts,
            "line": {"color": colors.get(value, "#2f6fb3"), "width": 2},
            "marker": {"size": 4},
        }
        for value, counts in series.values.items()
    ]
    layout = _layout(xaxis=_time_axis(series), yaxis={"title": {"text": tr.t("帖文数")}})
    return {"data": data, "layout": layout}


def mark_times(
    figure: dict[str, Any], marks: list[tuple[datetime, str]], zone: ZoneInfo
) -> dict[str, Any]:
    """Vertical dashed lines with a label at given times (published statements on an
    event's charts), in the same local time format as the hourly x axis."""
    layout = figure["layout"]
    for when, label in marks:
        x = when.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        layout.setdefault("shapes", []).append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x,
                "x1": x,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#b52b27", "width": 1.5, "dash": "dash"},
            }
        )
        layout.setdefault("annotations", []).append(
            {
                "x": x,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": label,
                "showarrow": False,
                "xanchor": "left",
                "font": {"color": "#b52b27", "size": 11},
            }
        )
    return figure


def plain(label: str) -> str:
    """A label from the data (a source name pushed through the API) made inert for plotly,
    which reads a few HTML-like tags in strings: ``<`` and ``>`` become full-width."""
    return label.replace("<", "\uff1c").replace(">", "\uff1e")


def ingest_heatmap(health: IngestHealth, zone: ZoneInfo, tr: Translator) -> dict[str, Any]:
    """Posts per source (rows) and local hour (columns), with gap hours crossed in red."""
    x = [h.astimezone(zone).strftime("%Y-%m-%d %H:%M") for h in health.hours]
    rows = health.sources[::-1]  # the largest source on top
    y = [plain(s.source) for s in rows]
    data: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "x": x,
            "y": y,
            "z": [s.counts for s in rows],
            "colorscale": [[0, "#f4f6f9"], [0.0001, "#d6e6f5"], [1, "#2f6fb3"]],
            "hovertemplate": "%{y} %{x}<br>%{z}<extra></extra>",
            "colorbar": {"title": {"text": tr.t("帖文数")}, "thickness": 12},
        }
    ]
    gx = [x[i] for s in rows for i in s.gap_hours]
    gy = [plain(s.source) for s in rows for _ in s.gap_hours]
    if gx:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": tr.t("缺口"),
                "x": gx,
                "y": gy,
                "marker": {"symbol": "x", "color": "#d9534f", "size": 9},
                "hovertemplate": "%{y} %{x} " + tr.t("缺口") + "<extra></extra>",
            }
        )
    height = max(180, 34 * len(rows) + 90)
    layout = _layout(
        height=height,
        margin={"l": 110, "r": 16, "t": 8, "b": 50},
        xaxis={"type": "date", "tickformat": "%m-%d %H:%M", "hoverformat": "%Y-%m-%d %H:%M"},
        yaxis={"type": "category"},
        showlegend=bool(gx),
    )
    return {"data": data, "layout": layout}
