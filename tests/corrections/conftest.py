"""A SQLite store of a small school-canteen story, for the correction tests: six posts in two
events (``ev-a``: four posts, ``ev-b``: two), each with the model's labels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.models import Document
from yuqing.store.base import Store
from yuqing.store.url import open_store

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
POSTS = [
    ("p1", "学校食堂被曝使用过期食材", "ev-a", "neutral", "neutral", "ordinary"),
    ("p2", "食堂过期食材，学生腹痛就医", "ev-a", "negative", "anger", "ordinary"),
    ("p3", "听说食堂的肉是僵尸肉", "ev-a", "negative", "fear", "rumor"),
    ("p4", "家长要求学校公开检测报告", "ev-a", "neutral", "neutral", "ordinary"),
    ("p5", "教育局回应食堂事件", "ev-b", "positive", "joy", "ordinary"),
    ("p6", "教育局成立调查组进驻学校", "ev-b", "neutral", "neutral", "ordinary"),
]


def canteen_docs() -> list[Document]:
    docs = []
    for n, (doc_id, text, event, sentiment, emotion, risk) in enumerate(POSTS):
        doc = Document(
            id=doc_id, source="weibo", text=text, published_at=T0 + timedelta(minutes=10 * n)
        )
        doc.norm_text = text
        doc.hashtags = ["食堂事件"] if event == "ev-a" else []
        doc.keywords = [("食堂", 0.5), ("学校", 0.3)]
        doc.analysis = {
            "sentiment": sentiment,
            "sentiment_score": {"negative": -0.7, "positive": 0.6}.get(sentiment, 0.05),
            "emotion": emotion,
            "risk": {"type": risk, "rumor": 0.8 if risk == "rumor" else 0.1, "reasons": []},
            "regions": [{"name": "宁波市", "code": "330200", "level": "city"}],
            "event_id": event,
        }
        docs.append(doc)
    return docs


def fill(store: Store) -> None:
    store.add_documents(canteen_docs())
    while store.index_pending():
        pass


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'canteen.db'}"
    store = open_store(url)
    try:
        fill(store)
    finally:
        store.close()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()
