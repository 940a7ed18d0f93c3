"""One post in detail (单条帖文), for the post page and ``GET /api/v1/posts/{source}/{id}``:
the text as posted, its metadata, the analysis with its reasons, its event, how many later
posts copy it, its repost chain (``//@`` hops, nearest first) and the posts it points to
(``repost_of``, ``duplicate_of``), all read through the Store protocol.

The text, the author and every hop are untrusted: the page escapes them (autoescape) and
the API returns them as JSON strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from yuqing.models import Document
from yuqing.store.base import Store
from yuqing.web import views

EMOTION_TOP = 3


def post_url(source: str, post_id: str) -> str:
    """The page of a post: ``/posts/{source}/{id}``, both parts percent-encoded (an id may
    hold ``/``, ``?`` or ``#``)."""
    return f"/posts/{quote(source, safe='')}/{quote(post_id, safe='')}"


@dataclass(slots=True)
class PostDetail:
    """What the post page shows."""

    doc: Document
    duplicates: int
    event: views.EventView | None = None
    repost_of: Document | None = None
    duplicate_of: Document | None = None
    emotions: list[tuple[str, float]] = field(default_factory=list)

    @property
    def analysis(self) -> dict[str, Any]:
        return self.doc.analysis

    @property
    def risk(self) -> dict[str, Any]:
        return dict(self.doc.analysis.get("risk") or {})

    @property
    def explain(self) -> dict[str, list[str]]:
        found = self.doc.analysis.get("explain") or {}
        return {str(k): [str(w) for w in v or []] for k, v in found.items()}

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        doc = self.doc
        out = views.document_dict(doc, zone)
        out.update(
            url_page=post_url(doc.source, doc.id),
            author_followers=doc.author_followers,
            author_verified=doc.author_verified,
            ingested_at=doc.ingested_at.astimezone(zone).isoformat() if doc.ingested_at else None,
            norm_text=doc.norm_text,
            hashtags=doc.hashtags,
            mentions=doc.mentions,
            urls=doc.urls,
            keywords=[[w, round(s, 4)] for w, s in doc.keywords],
            emotion_scores=doc.analysis.get("emotion_scores"),
            explain=self.explain,
            model_version=doc.analysis.get("model_version"),
            duplicates=self.duplicates,
            duplicate_of_source=doc.duplicate_of_source,
            repost_of_source=doc.repost_of_source,
            repost_chain=[{"user": h.user, "text": h.text} for h in doc.repost_chain],
            event=(
                {"id": self.event.id, "title": self.event.title, "posts": self.event.rollup.posts}
                if self.event
                else None
            ),
        )
        return out


def _linked(store: Store, source: str | None, post_id: str | None, own: str) -> Document | None:
    if not post_id:
        return None
    return store.get_document(source or own, post_id)


def post_detail(store: Store, source: str, post_id: str) -> PostDetail | None:
    """The post (None when unknown), its duplicates count, event and linked posts."""
    doc = store.get_document(source, post_id)
    if doc is None:
        return None
    event_id = doc.analysis.get("event_id")
    event = views.one_event(store, str(event_id), views.as_of(store)) if event_id else None
    scores = doc.analysis.get("emotion_scores") or {}
    emotions = sorted(((str(k), float(v)) for k, v in scores.items()), key=lambda kv: -kv[1])
    return PostDetail(
        doc=doc,
        duplicates=store.duplicate_count(source, post_id) or 0,
        event=event,
        repost_of=_linked(store, doc.repost_of_source, doc.repost_of, doc.source),
        duplicate_of=_linked(store, doc.duplicate_of_source, doc.duplicate_of, doc.source),
        emotions=emotions[:EMOTION_TOP],
    )


__all__ = ["PostDetail", "post_detail", "post_url"]
