"""The SQLite store's newest-first walk for frequent terms (yuqing.store.sqlite_search) gives
exactly the plain search's hits, in its order, for frequent, rare and over-matching terms,
with windows, source filters, equal times, posts without a time and unindexed posts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import pytest

from yuqing.models import Document
from yuqing.store import sqlite_search
from yuqing.store.sqlite import SQLiteStore
from yuqing.store.url import open_store

T0 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    rnd = random.Random(3)
    docs = []
    for k in range(1500):
        words = ["食堂" if rnd.random() < 0.5 else "宿舍"]
        if rnd.random() < 0.02:
            words.append("过期食材")
        if rnd.random() < 0.1:
            words.append("iphone15")
        text = f"{' '.join(words)} 第{k}条"
        doc = Document(id=f"d{k}", source=rnd.choice(("weibo", "news")), text=text)
        doc.norm_text = text
        # coarse times: many posts share one; some have none
        doc.published_at = T0 + timedelta(minutes=rnd.randrange(300)) if k % 50 else None
        docs.append(doc)
    opened = open_store(f"sqlite:///{tmp_path / 's.db'}")
    assert isinstance(opened, SQLiteStore)
    opened.add_documents(docs[:1400])
    opened.index_pending()
    opened.add_documents(docs[1400:])  # stored, not indexed yet: not found
    yield opened
    opened.close()


def plain(store: SQLiteStore, query: str, **window: object) -> list[str]:
    since = window.get("since")
    until = window.get("until")
    sources = window.get("sources", ())
    limit = window.get("limit", 20)
    found = store._candidates(query, since, until, sources)  # type: ignore[arg-type]
    return [f"{hit.source}/{hit.id}" for hit, _ in islice(found, limit)]  # type: ignore[call-overload]


CASES: list[dict[str, object]] = [
    {},
    {"limit": 300},
    {"since": T0 + timedelta(minutes=100)},
    {"until": T0 + timedelta(minutes=100), "limit": 50},
    {"since": T0 + timedelta(minutes=290), "until": T0 + timedelta(minutes=295)},
    {"sources": ["news"]},
    {"sources": ["news", "weibo"], "limit": 100},
    {"limit": 0},
]


@pytest.mark.parametrize(
    "query", ["食堂", "宿舍 第1", "过期食材", "phone", "iph", "第14", "无此词"]
)
@pytest.mark.parametrize("window", CASES)
def test_walk_equals_plain_search(
    store: SQLiteStore, query: str, window: dict[str, object]
) -> None:
    hits = store.search(query, **window)  # type: ignore[arg-type]
    assert [f"{h.source}/{h.id}" for h in hits] == plain(store, query, **window)


def test_a_frequent_term_is_found_by_the_walk(store: SQLiteStore) -> None:
    walked = sqlite_search.newest_hits(store._conn, "食堂", None, None, (), 20)
    assert walked is not None and len(walked) == 20
    # a rare one gives up, and the plain search answers
    assert sqlite_search.newest_hits(store._conn, "无此词", None, None, (), 20) is None
