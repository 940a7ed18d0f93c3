"""Stored-ready posts for the insight tests (word cloud, spreaders, repost tree, ingest
health), written to a real SQLite store through the Store protocol."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from yuqing.models import Document, RepostHop
from yuqing.store.base import Store
from yuqing.store.url import open_store

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai


def post(
    post_id: str,
    at: datetime,
    *,
    source: str = "weibo",
    author: str | None = "someone",
    keywords: list[str] | None = None,
    tokens: list[str] | None = None,
    chain: list[str] | None = None,
    repost_of: str | None = None,
    event_id: str | None = None,
    reposts: int = 0,
    comments: int = 0,
    likes: int = 0,
    followers: int | None = None,
    verified: bool | None = None,
    text: str = "",
) -> Document:
    """One post as the pipeline would store it (``chain``: hop users, nearest first)."""
    doc = Document(
        id=post_id,
        source=source,
        text=text or f"帖文 {post_id}",
        published_at=at,
        author=author,
        author_followers=followers,
        author_verified=verified,
        reposts=reposts,
        comments=comments,
        likes=likes,
    )
    doc.norm_text = doc.text
    doc.keywords = [(k, 0.1) for k in keywords or []]
    doc.tokens = list(tokens or [])
    doc.repost_chain = [RepostHop(user=u, text="") for u in chain or []]
    doc.repost_of = repost_of
    doc.repost_of_source = source if repost_of else None
    doc.analysis = {"event_id": event_id} if event_id else {}
    return doc


def new_store(folder: Path, docs: list[Document]) -> Store:
    store = open_store(f"sqlite:///{folder / 'insights.db'}")
    store.add_documents(docs)
    return store
