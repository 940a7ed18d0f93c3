"""The event page's shared post reads and its panel cache: the orders sorted in Python
equal the store's, and a new post of the event recomputes the panels."""

from __future__ import annotations

import gc
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from tests.web.insights_data import T0, new_store, post
from yuqing.gc_tuning import paused_gc
from yuqing.models import Document
from yuqing.store.base import Store
from yuqing.web import event_panels
from yuqing.web.event_panels import PanelCache, Panels

ZONE = ZoneInfo("Asia/Shanghai")


def _posts(n: int, risk: Any = None) -> list[Document]:
    docs = []
    for i in range(n):
        doc = post(
            f"p{i}",
            T0 + timedelta(minutes=i // 3),  # ties in time: the store's pk decides
            author=f"u{i % 7}",
            event_id="ev-1",
            reposts=i % 4,
            likes=(i * 7) % 5,
            repost_of="p0" if i % 5 == 1 else None,
        )
        scores = [None, {"rumor": 0.5}, {"rumor": 0.2, "group_incident": 0.5}, {"rumor": 1}]
        doc.analysis["risk"] = scores[i % 4] if risk is None else risk
        docs.append(doc)
    return docs


def _keys(docs: list[Document]) -> list[tuple[str, str]]:
    return [d.key for d in docs]


def _check_orders(store: Store) -> None:
    read = event_panels.read_posts(store, "ev-1")
    engaged = store.event_documents("ev-1", order="engagement", limit=500)
    risky = store.event_documents("ev-1", order="risk", limit=300)
    assert _keys(read.engaged) == _keys(engaged)
    assert _keys(read.risky) == _keys(risky)


def test_orders_sorted_here_equal_the_store_reads(tmp_path: Path) -> None:
    store = new_store(tmp_path, _posts(40))
    try:
        _check_orders(store)
    finally:
        store.close()


def test_a_score_that_is_not_a_number_is_read_from_the_store(tmp_path: Path) -> None:
    docs = _posts(12)
    docs[3].analysis["risk"] = {"rumor": "high"}
    store = new_store(tmp_path, docs)
    try:
        assert event_panels._risk_order(docs) is None
        _check_orders(store)
    finally:
        store.close()


def test_a_new_post_of_the_event_recomputes_the_panels(tmp_path: Path) -> None:
    store = new_store(tmp_path, _posts(40))
    cache = PanelCache()
    try:
        rollup = store.event_rollups(ids=["ev-1"], limit=1)[0]
        first = event_panels.page_data(store, rollup, ZONE, cache)
        again = event_panels.page_data(store, rollup, ZONE, cache)
        assert again.panels is first.panels  # unchanged event: from the cache
        assert _keys(again.engaged) == _keys(first.engaged)
        assert _keys(again.risky) == _keys(first.risky)
        store.add_documents(
            [post("late", T0 + timedelta(hours=2), author="新人", event_id="ev-1", reposts=99)]
        )
        rollup = store.event_rollups(ids=["ev-1"], limit=1)[0]
        fresh = event_panels.page_data(store, rollup, ZONE, cache)
        assert fresh.panels is not first.panels
        assert fresh.panels.posts == first.panels.posts + 1
        assert fresh.engaged[0].id == "late"
        assert "新人" in [s.author for s in fresh.panels.network.spreaders]
    finally:
        store.close()


def test_the_cache_is_bounded_and_expires() -> None:
    cache = PanelCache(size=2, ttl=60)
    panels = cast(Panels, object())
    for key in ("a", "b", "c"):
        cache.put(key, panels)
    assert cache.get("a") is None and cache.get("b") is panels and cache.get("c") is panels
    stale = PanelCache(ttl=-1)
    stale.put("a", cast(Panels, object()))
    assert stale.get("a") is None


def test_the_collector_pause_nests_and_restores() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer request still reads
    assert gc.isenabled()
