"""An event's export: its figures as the event page shows them (heat and its components,
lifecycle stage with reasons, negative share, trend counts per local hour by sentiment and
emotion, the mix of sentiment, emotion, risk and sources) and its posts, oldest first.

The figures come from :mod:`yuqing.web.views` (the page's and the API's computations, "now"
being the newest stored post), so a spreadsheet never disagrees with the dashboard.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from yuqing.events.lifecycle import STAGE_LABELS
from yuqing.exports.model import Cell, Export, ExportNotFoundError, Table
from yuqing.exports.tables import POST_HEADERS, post_row
from yuqing.models import EMOTION_LABELS, RISK_LABELS, SENTIMENT_LABELS
from yuqing.store.base import Dimension, Store

if TYPE_CHECKING:
    from yuqing.web.views import Series


def event_export(
    store: Store, event_id: str, *, zone: ZoneInfo, now: datetime, limit: int = 10_000
) -> Export:
    """Figures and posts (at most ``limit``, oldest first) of one event; an unknown id
    raises ExportNotFoundError."""
    from yuqing.web import views  # the dashboard's figures (imports FastAPI: lazily)
    from yuqing.web.i18n import HEAT_PARTS

    as_of = views.as_of(store)
    event = views.one_event(store, event_id, as_of)
    if event is None:
        raise ExportNotFoundError(f"no event {event_id!r} in the store: list events to see ids")
    r = event.rollup
    heat_rows: list[list[Cell]] = [
        [f"热度构成·{label}", round(event.heat.components.get(key, 0.0), 4)]
        for key, label in HEAT_PARTS.items()
    ]
    summary: list[list[Cell]] = [
        ["事件编号", r.id],
        ["标题", event.title],
        ["帖文数", r.posts],
        ["首次出现", r.first_seen],
        ["最近出现", r.last_seen],
        ["转发", r.reposts],
        ["评论", r.comments],
        ["点赞", r.likes],
        ["热度", round(event.heat.score, 2)],
        *heat_rows,
        ["生命周期阶段", STAGE_LABELS.get(event.lifecycle.stage, event.lifecycle.stage)],
        ["阶段依据", "；".join(event.lifecycle.reasons) or None],
        ["负面占比", round(event.negative_share, 4)],
        ["关键词", _keywords(r.stored)],
        ["数据截至", as_of],
    ]
    posts = store.event_documents(event_id, order="time", limit=limit)
    return Export(
        kind="event",
        title=f"事件：{event.title}"[:120],
        filters=[("事件编号", event_id), ("最多帖文数", str(limit))],
        tables=[
            Table("概况", ["指标", "值"], summary),
            _trend(store, event_id, zone),
            Table(
                "分布",
                ["维度", "值", "帖文数", "占比"],
                _mix(r.sentiment, r.emotion, r.risk, r.sources),
            ),
            Table("帖文", POST_HEADERS, [post_row(d) for d in posts]),
        ],
        zone=zone,
        created_at=now,
        subject=event_id,
    )


def _keywords(stored: dict[str, Any] | None) -> str | None:
    words = (stored or {}).get("keywords") or []
    out = [str(w[0]) if isinstance(w, list | tuple) else str(w) for w in words]
    return "、".join(out[:20]) or None


def _trend(store: Store, event_id: str, zone: ZoneInfo) -> Table:
    """Posts per local hour (per day for events longer than the page's hourly limit):
    all posts, then by sentiment and by emotion."""
    from yuqing.web import views

    total = views.series(store, "total", "hour", zone, event_id=event_id)
    columns: list[tuple[str, dict[datetime, int]]] = [("帖文", _by_start(total, ""))]
    parts: tuple[tuple[Dimension, str, dict[str, str]], ...] = (
        ("sentiment", "情感", SENTIMENT_LABELS),
        ("emotion", "情绪", EMOTION_LABELS),
    )
    for dimension, heading, names in parts:
        found = views.series(store, dimension, total.bucket, zone, event_id=event_id)
        for value in names:
            if value in found.values:
                columns.append((f"{heading}·{names[value]}", _by_start(found, value)))
    starts = sorted({start for _, counts in columns for start in counts})
    rows: list[list[Cell]] = [[start, *(c.get(start, 0) for _, c in columns)] for start in starts]
    first = "时间（小时）" if total.bucket == "hour" else "时间（天）"
    return Table("趋势", [first, *(name for name, _ in columns)], rows)


def _by_start(series: Series, value: str) -> dict[datetime, int]:
    counts = series.values.get(value, [0] * len(series.starts))
    return dict(zip(series.starts, counts, strict=True))


def _mix(
    sentiment: dict[str, int],
    emotion: dict[str, int],
    risk: dict[str, int],
    sources: dict[str, int],
) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for dimension, counts, names in (
        ("情感", sentiment, SENTIMENT_LABELS),
        ("情绪", emotion, EMOTION_LABELS),
        ("风险类型", risk, RISK_LABELS),
        ("来源", sources, {}),
    ):
        total = sum(counts.values())
        for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append(
                [dimension, names.get(value, value), n, round(n / total, 4) if total else 0]
            )
    return rows
