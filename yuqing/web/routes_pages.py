"""The pages: 总览 overview, 搜索 search, event detail (Jinja2, Simplified Chinese by
default, 繁體 through ``?lang=zh-Hant``). Post text is rendered escaped (autoescape on)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from yuqing.cases.case import STATUS_LABELS
from yuqing.errors import UsageError
from yuqing.events.lifecycle import STAGE_LABELS
from yuqing.judgement.coordination import SIGNAL_LABELS
from yuqing.models import Document
from yuqing.privacy.masking import masked_handle, personal_visible
from yuqing.web import charts, event_panels, judgement_view, views, wordcloud
from yuqing.web.deps import WebState, time_param
from yuqing.web.highlight import snippet_html
from yuqing.web.i18n import (
    COOKIE,
    DIMENSION,
    EMOTION,
    HEAT_PARTS,
    RISK,
    SENTIMENT,
    Translator,
    pick_lang,
    to_simplified,
)
from yuqing.web.post_view import post_url

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["parse_time"] = lambda text: datetime.fromisoformat(text) if text else None
env.globals["post_url"] = post_url
env.filters["handle"] = masked_handle  # 用户*** for viewers (yuqing.privacy.masking)
env.globals["shows_personal"] = personal_visible
router = APIRouter(include_in_schema=False)
WINDOWS = (1, 3, 7, 30)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with the page's language; ``?lang=`` also sets the cookie."""
    asked = request.query_params.get("lang")
    lang = pick_lang(asked, request.cookies.get(COOKIE))
    tr = Translator(lang)
    state = _state(request)
    zone = state.settings.zone
    html = env.get_template(name).render(
        request=request,
        t=tr.t,
        tr=tr,
        lang=lang,
        zone=zone,
        names={
            "sentiment": SENTIMENT,
            "emotion": EMOTION,
            "risk": RISK,
            "stage": STAGE_LABELS,
            "heat": HEAT_PARTS,
            "dimension": DIMENSION,
        },
        switch_url=str(
            request.url.include_query_params(lang="zh-Hans" if tr.traditional else "zh-Hant")
        ),
        fmt_time=lambda when: when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    if asked in ("zh-Hans", "zh-Hant"):
        response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, status_code=status, message=message)


def _distinct(docs: list[Document], n: int) -> list[Document]:
    """The first ``n`` posts with different own text (copies and reposts say it once)."""
    seen: set[str] = set()
    out: list[Document] = []
    for doc in docs:
        text = doc.norm_text or doc.text
        if text not in seen:
            seen.add(text)
            out.append(doc)
    return out[:n]


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, days: Annotated[int, Query(ge=1, le=365)] = 3) -> Response:
    state = _state(request)
    zone = state.settings.zone
    tr = Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))
    with state.store() as store:
        now = views.as_of(store)
        since = now - timedelta(days=days)
        bucket: views.Bucket = "hour" if days <= 3 else "day"
        volume = views.series(store, "sentiment", bucket, zone, since=since)
        total = store.label_counts("total", since=since).get("", 0)
        emotion = store.label_counts("emotion", since=since)
        sentiment = store.label_counts("sentiment", since=since)
        sources = store.label_counts("source", since=since, limit=10)
        regions = store.label_counts("region", since=since, limit=15)
        risk = store.label_counts("risk", since=since)
        events = views.hot_events(store, now, since=since, limit=10)
        cloud = wordcloud.cached_rising_terms(store, now, wordcloud.window_for(days))
    with_sentiment = sum(sentiment.values())
    return render(
        request,
        "overview.html",
        now=now,
        days=days,
        windows=WINDOWS,
        total=total,
        negative_share=sentiment.get("negative", 0) / with_sentiment if with_sentiment else 0.0,
        risky=total - risk.get("ordinary", 0) if risk else 0,
        events=events,
        regions=regions,
        sources=sources,
        cloud=cloud,
        cloud_terms=sorted(cloud.terms, key=lambda term: term.term),  # sizes mixed
        figures={
            "volume": charts.stacked_sentiment(volume, zone, tr),
            "emotion": charts.emotion_donut(emotion, tr),
            "sources": charts.hbar({charts.plain(k): n for k, n in sources.items()}, tr),
            "regions": charts.hbar(
                {charts.plain(k): n for k, n in list(regions.items())[:10]}, tr, color="#4bb3c4"
            ),
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: str = "",
    since: str = "",
    until: str = "",
    source: str = "",
) -> Response:
    state = _state(request)
    settings = state.settings
    hits: list[dict[str, Any]] = []
    error = ""
    query = to_simplified(q.strip())
    with state.store() as store:
        all_sources = sorted(store.stats().sources)
        if query:
            lo = time_param("since", since, settings)
            hi = time_param("until", until, settings)
            try:
                found = store.search(
                    query, since=lo, until=hi, sources=[source] if source else (), limit=50
                )
            except UsageError as exc:
                error = str(exc)
                found = []
            for hit in found:
                doc = store.get_document(hit.source, hit.id)
                hits.append(
                    {
                        "hit": hit,
                        "html": snippet_html(hit.snippet, query),
                        "analysis": doc.analysis if doc is not None else {},
                    }
                )
    return render(
        request,
        "search.html",
        q=q,
        since=since,
        until=until,
        source=source,
        sources=all_sources,
        hits=hits,
        error=error,
    )


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: str) -> Response:
    state = _state(request)
    zone = state.settings.zone
    tr = Translator(pick_lang(request.query_params.get("lang"), request.cookies.get(COOKIE)))
    with state.store() as store:
        now = views.as_of(store)
        event = views.one_event(store, event_id, now)
        if event is None:
            return error_page(request, 404, tr.t("没有这个事件") + f"：{event_id}")
        data = event_panels.page_data(
            store, event.rollup, zone, event_panels.cache_of(request.app.state)
        )
        timeline = views.series(store, "total", "hour", zone, event_id=event_id)
        by_sentiment = views.series(store, "sentiment", "hour", zone, event_id=event_id)
        by_emotion = views.series(store, "emotion", "hour", zone, event_id=event_id)
        all_cases = store.cases(event_id=event_id, limit=judgement_view.CASES)
    panels = data.panels
    judgement = judgement_view.assemble(
        event, panels.posts, panels.digest, panels.coordination, panels.risk, all_cases, now
    )
    cases = all_cases[:10]
    key_posts = _distinct(data.engaged, 8)
    risky = _distinct(
        [
            d
            for d in data.risky
            if (d.analysis.get("risk") or {}).get("type", "ordinary") != "ordinary"
        ],
        3,
    )
    marks = [
        (
            datetime.fromisoformat(s["published_at"]),
            tr.t("通报") + " " + str(s["id"]).rsplit("-", 1)[-1],
        )
        for c in cases
        for s in c.get("statements", [])
        if s.get("published_at")
    ]
    figures = {
        "timeline": charts.lines(timeline, zone, {"": "帖文"}, tr),
        "sentiment": charts.lines(by_sentiment, zone, SENTIMENT, tr),
        "emotion": charts.lines(by_emotion, zone, EMOTION, tr),
    }
    for figure in figures.values():
        charts.mark_times(figure, marks, zone)
    return render(
        request,
        "event.html",
        now=now,
        event=event,
        key_posts=key_posts,
        risky=risky,
        cases=cases,
        statuses=STATUS_LABELS,
        figures=figures,
        judgement=judgement,
        signal_labels=SIGNAL_LABELS,
        network=panels.network,
        claims=data.claims,
    )
