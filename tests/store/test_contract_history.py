"""Store contract: paging through stored history and replacing analysis (every backend)."""

from __future__ import annotations

import pytest

from tests.store.test_contract import doc
from yuqing.errors import StoreError
from yuqing.store.base import Store


def test_documents_after_pages_through_everything_in_storage_order(store: Store) -> None:
    store.add_documents([doc(f"p{n}", f"第{n}条", minutes=-n) for n in range(7)])
    seen: list[str] = []
    position = 0
    while page := store.documents_after(position, limit=3):
        assert len(page) <= 3
        assert [pos for pos, _ in page] == sorted(pos for pos, _ in page)
        assert all(pos > position for pos, _ in page)
        seen.extend(d.id for _, d in page)
        position = page[-1][0]
    assert seen == [f"p{n}" for n in range(7)]  # storage order, not publication order
    assert store.documents_after(position) == []


def test_documents_after_refuses_a_non_positive_limit(store: Store) -> None:
    with pytest.raises(StoreError, match="positive limit"):
        store.documents_after(0, limit=0)


def test_update_analysis_replaces_and_skips_unknown_keys(store: Store) -> None:
    store.add_documents([doc("a", "学校食堂", analysis={"sentiment": "neutral"}), doc("b", "好")])
    changed = store.update_analysis(
        [
            ("weibo", "a", {"sentiment": "negative", "sentiment_score": -0.8}),
            ("weibo", "missing", {"sentiment": "positive"}),
        ]
    )
    assert changed == 1
    got = store.get_document("weibo", "a")
    assert got is not None
    assert got.analysis == {"sentiment": "negative", "sentiment_score": -0.8}
    assert store.label_counts("sentiment") == {"negative": 1}
    untouched = store.get_document("weibo", "b")
    assert untouched is not None and untouched.analysis == {}


def test_update_analysis_refuses_non_objects_and_changes_nothing(store: Store) -> None:
    store.add_documents([doc("a", "学校食堂", analysis={"sentiment": "neutral"})])
    with pytest.raises(StoreError, match=r"update 2 \(weibo, a\)"):
        store.update_analysis(
            [("weibo", "a", {"sentiment": "negative"}), ("weibo", "a", ["not", "a", "dict"])]  # type: ignore[list-item]
        )
    got = store.get_document("weibo", "a")
    assert got is not None and got.analysis == {"sentiment": "neutral"}


def test_a_record_with_nul_characters_is_stored_on_every_backend(store: Store) -> None:
    """PostgreSQL cannot store U+0000; records lose it at the input, so both backends keep
    the same post (and a server-mode batch never fails on it)."""
    from zoneinfo import ZoneInfo

    from yuqing.sources.record import to_document

    record = {"id": "nul-1", "text": "含\x00空字符", "meta": {"k": "v\x00"}}
    made = to_document(record, line=1, default_source="t", zone=ZoneInfo("Asia/Shanghai"))
    made.norm_text = made.text
    assert store.add_documents([made]).stored == 1
    got = store.get_document("t", "nul-1")
    assert got is not None and got.text == "含空字符" and got.extra == {"meta": {"k": "v"}}
