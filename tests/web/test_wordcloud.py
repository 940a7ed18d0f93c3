"""Rising terms: ranking by share rise, terms of a post, spread sampling, the cache, and
the cloud of the demo store (real pipeline, real SQLite)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.web.insights_data import T0, new_store, post
from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.store.url import open_store
from yuqing.web import wordcloud
from yuqing.web.wordcloud import MAX_EM, MIN_EM, is_term, post_terms, rank


def test_rank_orders_by_rise_of_share_and_sizes_by_rise() -> None:
    recent = Counter({"停水": 30, "天气": 20, "地铁": 5, "罕见": 2})
    before = Counter({"停水": 2, "天气": 40, "地铁": 1})
    terms = rank(recent, 100, before, 200, min_posts=3)
    assert [t.term for t in terms] == ["停水", "地铁"]  # 天气 stays at 20 %: no rise
    top = terms[0]
    assert (top.recent, top.before) == (30, 2)
    assert top.rise == pytest.approx(0.30 - 0.01)
    assert top.size == pytest.approx(MAX_EM)
    assert all(MIN_EM <= t.size <= MAX_EM for t in terms)
    assert all(t.rise > 0 for t in terms)


def test_rank_leaves_out_falling_rare_and_empty() -> None:
    recent = Counter({"天气": 10, "罕见": 2})
    before = Counter({"天气": 50})
    assert rank(recent, 100, before, 100, min_posts=3) == []
    assert rank(Counter(), 0, before, 100) == []
    only_new = rank(Counter({"新词": 3}), 10, Counter(), 0, min_posts=3)
    assert [(t.term, t.before_share) for t in only_new] == [("新词", 0.0)]


def test_terms_of_a_post() -> None:
    assert is_term("停水") and is_term("iPhone")
    assert not is_term("水") and not is_term("2026") and not is_term("！！") and not is_term("")
    with_keywords = post("a", T0, keywords=["停水", "水", "2026", "停水"], tokens=["别的"])
    assert post_terms(with_keywords) == {"停水"}
    assert post_terms(post("b", T0, tokens=["小区", "停水", "了"])) == {"小区", "停水"}


def _window_posts() -> list[Document]:
    docs: list[Document] = []
    for i in range(40):  # the day before: 天气 everywhere, 停水 once
        words = ["天气", "停水"] if i == 0 else ["天气"]
        docs.append(post(f"b{i}", T0 + timedelta(minutes=30 * i), keywords=words))
    for i in range(40):  # the recent day: 停水 in half the posts
        words = ["天气", "停水"] if i % 2 else ["天气"]
        docs.append(post(f"r{i}", T0 + timedelta(days=1, minutes=30 * i), keywords=words))
    return docs


def test_rising_terms_on_a_store(tmp_path: Path) -> None:
    store = new_store(tmp_path, _window_posts())
    try:
        end = T0 + timedelta(days=2)
        found = wordcloud.rising_terms(store, end, timedelta(days=1), sample=1000)
    finally:
        store.close()
    assert (found.recent_posts, found.before_posts) == (40, 40)
    assert [t.term for t in found.terms] == ["停水"]
    assert found.terms[0].recent == 20 and found.terms[0].before == 1
    body = found.as_dict(ZoneInfo("Asia/Shanghai"))
    assert body["count"] == 1 and body["recent"]["posts_sampled"] == 40
    assert body["recent"]["until"].startswith("2026-03-04T08:00")


def test_sample_is_spread_over_the_window(tmp_path: Path) -> None:
    docs = [post(f"early{i}", T0 + timedelta(minutes=i)) for i in range(50)]
    docs += [post(f"late{i}", T0 + timedelta(hours=23, minutes=i)) for i in range(50)]
    store = new_store(tmp_path, docs)
    try:
        sample = wordcloud.sample_window(store, T0, T0 + timedelta(days=1), n=20, slices=4)
    finally:
        store.close()
    ids = [d.id for d in sample]
    assert len(ids) == 10  # two slices have posts, five each
    assert sum(i.startswith("early") for i in ids) == 5
    assert sum(i.startswith("late") for i in ids) == 5


def test_bad_window_and_the_cache(tmp_path: Path) -> None:
    store = new_store(tmp_path, _window_posts())
    try:
        with pytest.raises(UsageError, match="window"):
            wordcloud.rising_terms(store, T0, timedelta(0))
        wordcloud.cache.clear()
        end = T0 + timedelta(days=2)
        first = wordcloud.cached_rising_terms(store, end, timedelta(days=1))
        again = wordcloud.cached_rising_terms(store, end + timedelta(seconds=5), timedelta(days=1))
        assert again is first
        wordcloud.cache.clear()
        assert wordcloud.cached_rising_terms(store, end, timedelta(days=1)) is not first
    finally:
        wordcloud.cache.clear()
        store.close()
    assert wordcloud.window_for(1) == timedelta(hours=12)
    assert wordcloud.window_for(3) == timedelta(hours=36)
    assert wordcloud.window_for(30) == timedelta(days=7)


def test_cloud_of_the_demo_store(demo_url: str) -> None:
    store = open_store(demo_url)
    try:
        newest = store.latest_documents(limit=1)[0].published_at
        assert newest is not None
        found = wordcloud.rising_terms(store, newest + timedelta(seconds=1), timedelta(days=1))
        recent = wordcloud.sample_window(store, found.start, found.end)
    finally:
        store.close()
    assert found.terms, "the demo's last day (the statement and reactions) has rising terms"
    words = set().union(*(post_terms(d) for d in recent))
    assert all(t.term in words and t.recent >= wordcloud.MIN_POSTS for t in found.terms)
    rises = [t.rise for t in found.terms]
    assert rises == sorted(rises, reverse=True)
