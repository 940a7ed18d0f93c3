"""Domain objects shared by every part of yuqing.

A :class:`Document` is one post, news item or comment. Sources fill the input fields
(the DESIGN.md input record); pipeline stages fill the derived fields in place.
Datetimes are always timezone-aware and stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Enums: English identifiers everywhere, these Chinese labels in the UI (DESIGN.md).
SENTIMENT_LABELS: dict[str, str] = {"positive": "正面", "neutral": "中性", "negative": "负面"}
EMOTION_LABELS: dict[str, str] = {
    "joy": "喜悦",
    "anger": "愤怒",
    "sadness": "悲伤",
    "fear": "恐惧",
    "surprise": "惊奇",
    "neutral": "中性",
}
RISK_LABELS: dict[str, str] = {
    "ordinary": "一般舆论",
    "group_incident": "群体性事件风险",
    "rumor": "谣言嫌疑",
}

# The fields of the input record contract (DESIGN.md), in contract order.
INPUT_FIELDS: tuple[str, ...] = (
    "text",
    "id",
    "title",
    "url",
    "source",
    "author",
    "author_followers",
    "author_verified",
    "published_at",
    "region",
    "reposts",
    "comments",
    "likes",
    "parent_id",
)


@dataclass(slots=True)
class RepostHop:
    """One hop of a Weibo repost chain: ``//@user: words``."""

    user: str
    text: str


@dataclass(slots=True)
class Document:
    """One item flowing through the pipeline.

    ``text`` is the text exactly as given. ``norm_text`` is the analysis text: NFKC,
    half-width, HTML stripped, Simplified Chinese, with URLs, mentions and the repost
    chain removed (the post's own words). ``quoted_text`` is the normalized text that the
    post quotes through a ``//@`` chain, if any.
    """

    id: str
    source: str
    text: str
    published_at: datetime | None = None
    title: str | None = None
    url: str | None = None
    author: str | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    region: str | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    parent_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # 1-based physical line in its source file, for messages
    raw: dict[str, Any] | None = None  # the input record as given, for `analyze` output

    # Filled by pipeline stages.
    norm_text: str = ""
    quoted_text: str = ""
    repost_chain: list[RepostHop] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    emojis: list[str] = field(default_factory=list)
    content_hash: str = ""
    duplicate_of: str | None = None  # id of the earlier post with near-identical own text
    duplicate_of_source: str | None = None
    repost_of: str | None = None  # id of the known post that a `//@` chain quotes
    repost_of_source: str | None = None
    ingested_at: datetime | None = None
    tokens: list[str] = field(default_factory=list)
    keywords: list[tuple[str, float]] = field(default_factory=list)
    analysis: dict[str, Any] = field(default_factory=dict)  # sentiment, emotion, risk, ...

    @property
    def key(self) -> tuple[str, str]:
        """Identity in the store: ids are unique per source."""
        return (self.source, self.id)


@dataclass(slots=True, frozen=True)
class Rejection:
    """A record that was not accepted, with where and why (DESIGN.md: rejections)."""

    line: int
    code: str
    reason: str
    raw: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "reason": self.reason, "raw": self.raw}


@dataclass(slots=True, frozen=True)
class Cursor:
    """Where a source stopped, so that a restart resumes after the last stored batch.

    ``source_key`` names the source (an absolute path or URL), ``position`` is
    source-specific (a byte offset for files, an entry id or timestamp for feeds),
    ``line`` the number of physical lines consumed so far.
    """

    source_key: str
    position: int
    line: int
    fingerprint: str = ""  # detects that a file was replaced rather than appended to


@dataclass(slots=True)
class SearchHit:
    source: str
    id: str
    text: str
    published_at: datetime | None
    snippet: str
    author: str | None = None
    url: str | None = None


@dataclass(slots=True)
class StoreStats:
    documents: int
    duplicates: int
    reposts: int
    indexed: int
    sources: dict[str, int]
    first_published: datetime | None
    last_published: datetime | None
    schema_version: int
    extra: dict[str, Any] = field(default_factory=dict)
