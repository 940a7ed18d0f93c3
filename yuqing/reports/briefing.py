"""Briefings (日报, 周报, 专报) gathered from the store into a typed :class:`Briefing` (model.py).

Nothing in a briefing is written by hand or by a model: every number is a store count over
the report's period (:func:`headline_values`, which ``verify.py`` recomputes), every quoted
post is the first :data:`QUOTE_CHARS` characters of a stored text, and every quote is kept
as a :class:`Citation` (source, id, quote, link) so that :func:`yuqing.reports.verify.verify`
can check it against the store. Links use the ``public_url`` setting:
``{public_url}/events/{id}`` for events and ``{public_url}/posts/{source}/{id}`` for posts.

Heat and lifecycle are computed as the dashboard does (``yuqing.events.heat`` and
``yuqing.events.lifecycle`` over the event's hourly counts in the period), "now" being the
end of the period or the newest stored post, whichever is earlier. ``yuqing.web.views``
is not imported: importing it loads the FastAPI app.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from yuqing.cases.overdue_alerts import deadline_policy
from yuqing.errors import UsageError
from yuqing.events.heat import EventStats, heat
from yuqing.events.lifecycle import stage
from yuqing.events.trends import day_of, day_start, hour_start, hour_starts
from yuqing.models import Document
from yuqing.reports import charts
from yuqing.reports.casework import fill_alerts_and_cases
from yuqing.reports.judgement import fill_special_judgement, fill_top_questions
from yuqing.reports.model import (
    KINDS,
    NO_DATA,
    QUOTE_CHARS,
    SENTIMENT,
    SENTIMENT_COLORS,
    TITLES,
    Briefing,
    Chart,
    Citation,
    EventSummary,
    Figure,
    Kind,
    RiskPost,
)
from yuqing.settings import Settings
from yuqing.store.base import EventRollup, Store

TOP_EVENTS = 5
POSTS_PER_EVENT = 3
RISK_POSTS = 6
KEY_POSTS = 5
_ALL = 1_000_000_000  # "no limit" for label_counts
_HOUR = timedelta(hours=1)


# -- periods ------------------------------------------------------------------------------


def as_of(store: Store) -> datetime:
    """The newest stored post's time, never later than the wall clock (as the dashboard)."""
    wall = datetime.now(UTC)
    newest = store.latest_documents(limit=1)
    last = newest[0].published_at if newest else None
    return min(last, wall) if last is not None else wall


def period_for(
    kind: Kind, zone: ZoneInfo, since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The report's window. Daily: one local day; weekly: seven local days; given only
    ``since`` or ``until``, the other end follows; given neither, the period ends with the
    local day of ``now``. A special report keeps what it is given (None: the whole event)."""
    for name, when in (("since", since), ("until", until)):
        if when is not None and when.tzinfo is None:
            raise UsageError(f"report --{name} {when!r} has no time zone; pass an aware time")
    if kind == "special":
        out = (since, until)
    else:
        days = 1 if kind == "daily" else 7
        if since is None and until is None:
            until = day_start(day_of(now, zone) + timedelta(days=1), zone).astimezone(UTC)
        if since is None:
            assert until is not None
            since = until - timedelta(days=days)
        if until is None:
            until = since + timedelta(days=days)
        out = (since.astimezone(UTC), until.astimezone(UTC))
    if out[0] is not None and out[1] is not None and out[1] <= out[0]:
        raise UsageError(f"report period: --until {out[1]} must be after --since {out[0]}")
    return out


def _local(when: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return when.astimezone(zone).strftime(fmt) if when else "—"


def _period_text(since: datetime | None, until: datetime | None, zone: ZoneInfo) -> str:
    if since is None and until is None:
        return "事件全程"
    start, end = _local(since, zone), _local(until, zone)
    if until is None:
        return f"{start} 起（{zone.key}）"
    if since is None:
        return f"{end} 前（{zone.key}）"
    return f"{start} 至 {end}（{zone.key}，含起点不含终点）"


# -- counts -------------------------------------------------------------------------------


def headline_values(
    store: Store,
    *,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None = None,
) -> dict[str, float]:
    """The headline numbers as store counts: posts, negative posts, posts with a sentiment,
    negative share, risk posts (group-incident or rumour) and, without ``event_id``, events."""

    def counts(dimension: Literal["total", "sentiment", "risk"]) -> dict[str, int]:
        return store.label_counts(
            dimension, since=since, until=until, event_id=event_id, limit=_ALL
        )

    posts = sum(counts("total").values())
    sentiment = counts("sentiment")
    risk = counts("risk")
    labelled = sum(sentiment.values())
    values: dict[str, float] = {
        "posts": posts,
        "negative": sentiment.get("negative", 0),
        "labelled": labelled,
        "negative_share": sentiment.get("negative", 0) / labelled if labelled else 0.0,
        "risk_posts": risk.get("group_incident", 0) + risk.get("rumor", 0),
    }
    if event_id is None:
        values["events"] = len(store.label_counts("event", since=since, until=until, limit=_ALL))
    return values


class _Links:
    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def post(self, source: str, id: str) -> str:
        return f"{self.base}/posts/{quote(source, safe='')}/{quote(id, safe='')}"

    def event(self, id: str) -> str:
        return f"{self.base}/events/{quote(id, safe='')}"

    def api(self, path: str, **params: str | None) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base}/api/v1/{path}" + (f"?{query}" if query else "")


def cite(doc: Document, links: _Links) -> Citation:
    """The citation of a stored post: its first :data:`QUOTE_CHARS` characters, exactly."""
    return Citation(
        source=doc.source,
        id=doc.id,
        quote=doc.text[:QUOTE_CHARS],
        length=len(doc.text),
        link=links.post(doc.source, doc.id),
        url=doc.url,
        author=doc.author,
        published_at=doc.published_at,
    )


def _in_window(doc: Document, since: datetime | None, until: datetime | None) -> bool:
    t = doc.published_at
    if t is None:
        return since is None and until is None
    return (since is None or t >= since) and (until is None or t < until)


def _distinct(docs: list[Document], n: int) -> list[Document]:
    """The first ``n`` documents with distinct own text (copies say nothing new)."""
    seen: set[str] = set()
    out: list[Document] = []
    for doc in docs:
        key = doc.norm_text or doc.text
        if key not in seen:
            seen.add(key)
            out.append(doc)
            if len(out) == n:
                break
    return out


# -- events -------------------------------------------------------------------------------


def _summary(
    store: Store,
    rollup: EventRollup,
    now: datetime,
    links: _Links,
    window: tuple[datetime | None, datetime | None],
) -> EventSummary:
    counts = dict(rollup.hourly)
    hourly: list[tuple[datetime, int]] = []
    if rollup.hourly:
        start, end = rollup.hourly[0][0], max(now, rollup.hourly[-1][0])
        while start <= end:
            hourly.append((start, counts.get(start, 0)))
            start += _HOUR
        hourly = hourly[-24 * 30 :]
    stats = EventStats(
        posts=rollup.posts,
        reposts=rollup.reposts,
        comments=rollup.comments,
        likes=rollup.likes,
        sources=rollup.sources,
        hourly=[n for _, n in hourly],
        negative=rollup.sentiment.get("negative", 0),
        with_sentiment=sum(rollup.sentiment.values()),
        first_seen=rollup.first_seen,
        last_seen=rollup.last_seen,
    )
    life = stage(hourly, now)
    first = store.event_documents(rollup.id, order="time", limit=1)
    title = rollup.title or ((first[0].norm_text or first[0].text)[:80] if first else rollup.id)
    engaged = store.event_documents(rollup.id, order="engagement", limit=200)
    quoted = _distinct([d for d in engaged if _in_window(d, *window)], POSTS_PER_EVENT)
    return EventSummary(
        id=rollup.id,
        title=title,
        link=links.event(rollup.id),
        posts=rollup.posts,
        heat=heat(stats).score,
        stage=life.stage,
        stage_label=life.label,
        stage_reasons=list(life.reasons),
        sentiment=dict(rollup.sentiment),
        risk=dict(rollup.risk),
        first_seen=rollup.first_seen,
        last_seen=rollup.last_seen,
        quotes=[cite(d, links) for d in quoted],
    )


def _risk_posts(candidates: list[Document], links: _Links, n: int) -> list[RiskPost]:
    risky: list[tuple[float, Document]] = []
    for doc in candidates:
        r = doc.analysis.get("risk") or {}
        if r.get("type") in ("group_incident", "rumor"):
            score = max(float(r.get("rumor") or 0.0), float(r.get("group_incident") or 0.0))
            risky.append((score, doc))
    risky.sort(key=lambda p: (-p[0], p[1].source, p[1].id))
    keep = {id(d) for d in _distinct([d for _, d in risky], n)}
    return [
        RiskPost(
            citation=cite(doc, links),
            risk_type=str((doc.analysis.get("risk") or {}).get("type")),
            score=round(score, 3),
            reasons=tuple(str(x) for x in (doc.analysis.get("risk") or {}).get("reasons", [])),
        )
        for score, doc in risky
        if id(doc) in keep
    ]


# -- charts -------------------------------------------------------------------------------


def _series(
    store: Store,
    zone: ZoneInfo,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None,
    dimension: Literal["total", "sentiment"],
) -> tuple[list[str], dict[str, list[int]]]:
    """Counts per local hour (spans up to 3 days) or day, zero-filled, by value."""
    rows = store.trend_counts(dimension, since=since, until=until, event_id=event_id)
    if not rows:
        return [], {}
    first = since if since is not None else rows[0].start
    last = until - timedelta(microseconds=1) if until is not None else rows[-1].start
    hourly = last - first <= timedelta(days=3)
    if hourly:
        axis = list(hour_starts(first, last, zone))
        labels = [_local(s, zone, "%m-%d %H时") for s in axis]
    else:
        axis, day = [], day_of(first, zone)
        while day <= day_of(last, zone):
            axis.append(day_start(day, zone).astimezone(UTC))
            day += timedelta(days=1)
        labels = [_local(s, zone, "%m-%d") for s in axis]
    where = {start: i for i, start in enumerate(axis)}
    order = (
        [v for v in SENTIMENT if any(r.value == v for r in rows)] if dimension != "total" else []
    )
    order += sorted({r.value for r in rows} - set(order))
    values = {v: [0] * len(axis) for v in order}
    for row in rows:
        key = hour_start(row.start, zone) if hourly else day_start(day_of(row.start, zone), zone)
        i = where.get(key.astimezone(UTC))
        if i is not None:
            values[row.value][i] += row.count
    return labels, values


def _volume_chart(
    store: Store, zone: ZoneInfo, window: tuple[datetime | None, ...], ev: str | None
) -> Chart | None:
    labels, values = _series(store, zone, window[0], window[1], ev, "sentiment")
    if not labels:
        return None
    png = charts.stacked_bars("声量走势（按情感）", labels, values, SENTIMENT, SENTIMENT_COLORS)
    caption = f"数据来源：库中情感标签计数（trend_counts sentiment），按 {zone.key} 时间分桶。"
    return Chart("volume_sentiment", "声量走势（按情感）", png, caption)


# -- the briefing -------------------------------------------------------------------------


def _figures(
    values: dict[str, float],
    period: str,
    links: _Links,
    window: tuple[datetime | None, ...],
    ev: str | None,
) -> list[Figure]:
    since = window[0].isoformat() if window[0] else None
    until = window[1].isoformat() if window[1] else None
    trends = links.api(
        "trends", dimension="total", bucket="day", since=since, until=until, event=ev
    )
    sent = links.api(
        "trends", dimension="sentiment", bucket="day", since=since, until=until, event=ev
    )
    risk = links.api("trends", dimension="risk", bucket="day", since=since, until=until, event=ev)
    scope = "本事件在统计时段内" if ev else "统计时段内"
    posts, neg, labelled = int(values["posts"]), int(values["negative"]), int(values["labelled"])
    share = f"{values['negative_share'] * 100:.1f}%（{neg}/{labelled}）" if labelled else NO_DATA
    out = [
        Figure("posts", "帖文总量", posts, f"{posts:,}", f"库中{scope}发布的帖文数", trends),
        Figure(
            "negative_share",
            "负面占比",
            values["negative_share"],
            share,
            f"{scope}负面帖文数 ÷ 有情感标签的帖文数",
            sent,
        ),
    ]
    if "events" in values:
        n = int(values["events"])
        out.append(
            Figure(
                "events",
                "涉及事件",
                n,
                f"{n:,}",
                f"{scope}有帖文的事件数",
                links.api("events", since=since, until=until),
            )
        )
    n = int(values["risk_posts"])
    out.append(
        Figure(
            "risk_posts",
            "风险帖文",
            n,
            f"{n:,}",
            f"{scope}风险类型为群体性事件风险或谣言嫌疑的帖文数",
            risk,
        )
    )
    return out


def _with_evidence(figures: list[Figure], evidence: dict[str, list[Citation]]) -> list[Figure]:
    return [
        Figure(f.key, f.label, f.value, f.display, f.basis, f.link, tuple(evidence.get(f.key, [])))
        for f in figures
    ]


def build_briefing(
    store: Store,
    settings: Settings,
    *,
    kind: Kind,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None = None,
) -> Briefing:
    """Gather a daily, weekly or special (``event_id``) briefing from ``store``.

    Raises UsageError for an unknown kind, a special report without an event or with an
    event id that the store does not hold, and a period that ends before it starts.
    """
    if kind not in KINDS:
        raise UsageError(f"report kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "special" and not event_id:
        raise UsageError("a special report (专报) needs an event: pass --event ID")
    if kind != "special" and event_id:
        raise UsageError(
            f"--event {event_id} only applies to special reports (yuqing report special)"
        )
    zone, links = settings.zone, _Links(settings.public_url)
    newest = as_of(store)
    since, until = period_for(kind, zone, since, until, newest)
    window = (since, until)
    now = min(newest, until) if until is not None else newest
    period = _period_text(since, until, zone)
    values = headline_values(store, since=since, until=until, event_id=event_id)
    figures = _figures(values, period, links, window, event_id)
    briefing = Briefing(
        kind=kind,
        title=TITLES[kind],
        period=period,
        since=since,
        until=until,
        zone=zone.key,
        public_url=links.base,
        generated_at=datetime.now(UTC),
        as_of=now,
        figures=figures,
        event_id=event_id,
    )
    if event_id:
        _fill_special(store, briefing, event_id, links, zone, now)
    else:
        _fill_periodic(store, briefing, links, zone, now)
    fill_alerts_and_cases(store, briefing, deadline_policy(settings))
    return briefing


def _fill_periodic(store: Store, b: Briefing, links: _Links, zone: ZoneInfo, now: datetime) -> None:
    window = (b.since, b.until)
    rollups = store.event_rollups(since=b.since, until=b.until, limit=TOP_EVENTS * 4)
    events = [_summary(store, r, now, links, window) for r in rollups]
    events.sort(key=lambda e: (-e.heat, -e.posts, e.id))
    b.events = events[:TOP_EVENTS]
    candidates = [d for e in b.events for d in store.event_documents(e.id, order="risk", limit=50)]
    candidates = [d for d in candidates if _in_window(d, *window)]
    candidates += store.latest_documents(since=b.since, until=b.until, limit=500)
    b.risks = _risk_posts(candidates, links, RISK_POSTS)
    fill_top_questions(store, b, lambda d: cite(d, links), zone)
    chart = _volume_chart(store, zone, window, None)
    b.charts = [chart] if chart else []
    newest = store.latest_documents(since=b.since, until=b.until, limit=1)
    negative = [c for e in b.events for c in e.quotes if _negative(store, c)]
    b.figures = _with_evidence(
        b.figures,
        {
            "posts": [cite(d, links) for d in newest],
            "negative_share": negative[:1],
            "risk_posts": [r.citation for r in b.risks[:1]],
        },
    )


def _negative(store: Store, c: Citation) -> bool:
    doc = store.get_document(c.source, c.id)
    return doc is not None and doc.analysis.get("sentiment") == "negative"


def _fill_special(
    store: Store, b: Briefing, event_id: str, links: _Links, zone: ZoneInfo, now: datetime
) -> None:
    if not store.event_rollups(ids=[event_id], limit=1):
        raise UsageError(
            f"no event {event_id!r} in the store: see the event ids on the dashboard "
            "(/events) or GET /api/v1/events"
        )
    window = (b.since, b.until)
    rollups = store.event_rollups(since=b.since, until=b.until, ids=[event_id], limit=1)
    if rollups:
        b.event = _summary(store, rollups[0], now, links, window)
        b.title = f"{TITLES['special']}：{b.event.title}"
    first = [
        d
        for d in store.event_documents(event_id, order="time", limit=200)
        if _in_window(d, *window)
    ]
    b.first_post = cite(first[0], links) if first else None
    engaged = store.event_documents(event_id, order="engagement", limit=200)
    b.key_posts = [
        cite(d, links) for d in _distinct([d for d in engaged if _in_window(d, *window)], KEY_POSTS)
    ]
    risky = [
        d
        for d in store.event_documents(event_id, order="risk", limit=200)
        if _in_window(d, *window)
    ]
    b.risks = _risk_posts(risky, links, RISK_POSTS)
    fill_special_judgement(store, b, lambda d: cite(d, links), zone)
    labels, values = _series(store, zone, b.since, b.until, event_id, "total")
    b.timeline = list(zip(labels, values.get("", []), strict=False))
    if labels:
        png = charts.stacked_bars(
            "事件时间线（帖文数）", labels, values, {"": "帖文数"}, {"": "#2f6fb3"}
        )
        b.charts.append(
            Chart(
                "timeline",
                "事件时间线（帖文数）",
                png,
                f"库中本事件帖文计数，按 {zone.key} 时间分桶。",
            )
        )
    labels, values = _series(store, zone, b.since, b.until, event_id, "sentiment")
    if labels:
        png = charts.line_chart("情感走势", labels, values, SENTIMENT, SENTIMENT_COLORS)
        b.charts.append(Chart("sentiment", "情感走势", png, "库中本事件情感标签计数。"))
    negative = [c for c in b.key_posts if _negative(store, c)]
    b.figures = _with_evidence(
        b.figures,
        {
            "posts": [b.first_post] if b.first_post else [],
            "negative_share": negative[:1],
            "risk_posts": [r.citation for r in b.risks[:1]],
        },
    )
