"""The Store contract, run over every backend (see conftest.py)."""

from __future__ import annotations

import unicodedata
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

import pytest

from yuqing.errors import StoreError, UsageError
from yuqing.models import Cursor, Document, RepostHop, SearchHit
from yuqing.store.base import Store

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def doc(id: str, text: str, *, source: str = "weibo", minutes: int = 0, **kw: object) -> Document:
    """A stored-ready document; NFKC stands in for the pipeline's normalizer."""
    made = Document(id=id, source=source, text=text, published_at=T0 + timedelta(minutes=minutes))
    made.norm_text = unicodedata.normalize("NFKC", text)
    for name, value in kw.items():
        setattr(made, name, value)
    return made


def indexed(store: Store, *docs: Document) -> None:
    store.add_documents(docs)
    while store.index_pending():
        pass


def full_document() -> Document:
    zone = timezone(timedelta(hours=8))
    return Document(
        id="a1",
        source="weibo",
        text="转发微博 //@小王: 武汉大学樱花开了 http://t.cn/x #樱花#",
        published_at=datetime(2024, 3, 20, 9, 30, 15, 123456, tzinfo=zone),
        title="樱花",
        url="https://weibo.com/a1",
        author="小李",
        author_followers=1234,
        author_verified=True,
        region="湖北",
        reposts=3,
        comments=4,
        likes=5,
        parent_id="p0",
        extra={"lang": "zh", "nested": {"n": [1, 2.5, None, True]}},
        line=7,
        raw=None,
        norm_text="转发微博",
        quoted_text="武汉大学樱花开了",
        repost_chain=[RepostHop(user="小王", text="武汉大学樱花开了")],
        urls=["http://t.cn/x"],
        mentions=["小王"],
        hashtags=["樱花"],
        emojis=["[心]"],
        content_hash="0123456789abcdef",
        duplicate_of="a0",
        duplicate_of_source="news",
        repost_of="q9",
        repost_of_source="weibo",
        ingested_at=datetime(2024, 3, 20, 1, 31, tzinfo=UTC),
        tokens=["转发", "微博"],
        keywords=[("樱花", 0.5), ("武汉大学", 0.25)],
        analysis={"sentiment": "positive", "sentiment_score": 0.8, "risk": {"type": "ordinary"}},
    )


def test_round_trip_of_every_field(store: Store) -> None:
    original = full_document()
    assert store.add_documents([original]).stored == 1
    back = store.get_document("weibo", "a1")
    assert back is not None
    for f in fields(Document):
        if f.name in ("line", "raw"):  # per-run input details, not stored
            continue
        assert getattr(back, f.name) == getattr(original, f.name), f.name
    assert back.published_at is not None and back.published_at.tzinfo is not None
    assert back.ingested_at is not None and back.ingested_at.tzinfo is not None
    assert isinstance(back.keywords[0], tuple)


def test_round_trip_of_a_minimal_document(store: Store) -> None:
    store.add_documents([Document(id="m", source="s", text="只有文字")])
    back = store.get_document("s", "m")
    assert back is not None
    assert (back.text, back.published_at, back.extra, back.tokens) == ("只有文字", None, {}, [])
    assert back.author_verified is None
    assert back.ingested_at is not None  # stamped by the store
    assert store.get_document("s", "missing") is None


def test_add_is_idempotent_by_source_and_id(store: Store) -> None:
    docs = [doc(str(i), f"第{i}条") for i in range(5)]
    assert (r := store.add_documents(docs)).stored == 5 and r.existing == 0
    again = store.add_documents(docs)
    assert (again.stored, again.existing) == (0, 5)
    changed = doc("0", "改过的文字")
    store.add_documents([changed, doc("0", "x", source="news")])
    first = store.get_document("weibo", "0")
    assert first is not None and first.text == "第0条"  # existing rows are not changed
    assert store.get_document("news", "0") is not None
    assert store.existing_keys([("weibo", "1"), ("weibo", "9"), ("news", "0")]) == {
        ("weibo", "1"),
        ("news", "0"),
    }


def test_repeated_key_inside_one_batch_is_stored_once(store: Store) -> None:
    result = store.add_documents([doc("x", "一"), doc("x", "二")])
    assert (result.stored, result.existing) == (1, 1)
    stored = store.get_document("weibo", "x")
    assert stored is not None and stored.text == "一"


def test_existing_keys_handles_many_keys(store: Store) -> None:
    store.add_documents([doc(str(i), "文") for i in range(0, 2000, 2)])
    keys = [("weibo", str(i)) for i in range(2000)]
    assert len(store.existing_keys(keys)) == 1000


def test_cursor_is_saved_with_the_batch(store: Store) -> None:
    assert store.get_cursor("/data/a.jsonl") is None
    store.add_documents([doc("1", "一")], Cursor("/data/a.jsonl", 120, 3, "fp"))
    assert store.get_cursor("/data/a.jsonl") == Cursor("/data/a.jsonl", 120, 3, "fp")
    store.add_documents([doc("2", "二")], Cursor("/data/a.jsonl", 240, 6, "fp"))
    assert store.get_cursor("/data/a.jsonl") == Cursor("/data/a.jsonl", 240, 6, "fp")


def test_failed_batch_stores_neither_rows_nor_cursor(store: Store) -> None:
    broken = doc("3", "三")
    broken.text = None  # type: ignore[assignment]  # violates NOT NULL mid-transaction
    with pytest.raises(StoreError):
        store.add_documents([doc("1", "一"), broken], Cursor("k", 999, 9))
    assert store.get_document("weibo", "1") is None
    assert store.get_cursor("k") is None


def test_naive_datetime_is_refused(store: Store) -> None:
    bad = Document(id="n", source="s", text="t", published_at=datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(StoreError, match="no time zone"):
        store.add_documents([bad])


def test_duplicates_are_counted_on_the_original(store: Store) -> None:
    store.add_documents([doc("orig", "同一段话")])
    copy = doc("copy", "同一段话", duplicate_of="orig")
    store.add_documents([copy])
    assert store.duplicate_count("weibo", "orig") == 1
    store.add_documents([copy])  # already stored: no second count
    assert store.duplicate_count("weibo", "orig") == 1
    # Original and copies in one batch, a copy repeated, a copy from another source.
    store.add_documents(
        [
            doc("o2", "又一段"),
            doc("c2", "又一段", duplicate_of="o2"),
            doc("c2", "又一段", duplicate_of="o2"),
            doc("c3", "又一段", source="news", duplicate_of="o2", duplicate_of_source="weibo"),
        ]
    )
    assert store.duplicate_count("weibo", "o2") == 2
    assert store.duplicate_count("weibo", "copy") == 0
    assert store.duplicate_count("weibo", "nothing") is None
    assert store.stats().duplicates == 3


HOTEL = [
    doc("h1", "这家酒店的服务太差了，房间也很脏", minutes=1),
    doc("h2", "武汉大学的樱花开了", minutes=2),
    doc("h3", "我在武汉工作", minutes=3, source="news"),
    doc("h4", "学习使我快乐", minutes=4),
    doc("h5", "新款iPhone 15发布，Apple股价上涨", minutes=5),
    doc("h6", "大家好", minutes=6, title="酒店通报"),
    doc("h7", "转发", minutes=7, quoted_text="汉口站人很多"),
    doc("h8", "武，汉", minutes=8),
]


def ids(hits: list[SearchHit]) -> list[str]:
    return [hit.id for hit in hits]


def test_two_character_queries_find_their_posts(store: Store) -> None:
    indexed(store, *HOTEL)
    assert ids(store.search("酒店")) == ["h6", "h1"]  # newest first; title is searched
    assert ids(store.search("武汉")) == ["h3", "h2"]  # 武汉 matches 武汉大学; not 武，汉
    assert store.count_matches("酒店") == 2
    hit = store.search("樱花")[0]
    assert "【樱花】" in hit.snippet and hit.text == "武汉大学的樱花开了"
    assert hit.published_at == T0 + timedelta(minutes=2)


def test_substrings_of_any_length(store: Store) -> None:
    indexed(store, *HOTEL)
    assert ids(store.search("汉大")) == ["h2"]
    assert ids(store.search("武汉大学的樱花")) == ["h2"]
    assert ids(store.search("汉口站")) == ["h7"]  # quoted text is searched
    assert ids(store.search("大学樱花")) == []
    assert ids(store.search("学")) == ["h4", "h2"]  # one character, last of a run too
    assert ids(store.search("乐")) == ["h4"]
    assert ids(store.search("武")) == ["h8", "h3", "h2"]
    assert ids(store.search("武汉 樱花")) == ["h2"]  # terms are ANDed
    assert ids(store.search("房间，也")) == []  # punctuation inside a term is matched exactly
    assert ids(store.search("差了，房间")) == ["h1"]


def test_latin_words_and_mixed_terms(store: Store) -> None:
    indexed(store, *HOTEL)
    assert ids(store.search("iphone")) == ["h5"]
    assert ids(store.search("IPHONE 15")) == ["h5"]
    assert ids(store.search("iph")) == ["h5"]  # prefix of a word
    assert ids(store.search("15发布")) == ["h5"]
    assert ids(store.search("apple股")) == ["h5"]
    assert ids(store.search("android")) == []


def test_search_does_not_match_across_fields(store: Store) -> None:
    indexed(store, doc("f", "我去了武", title="汉口"))
    assert store.search("武汉") == []
    assert ids(store.search("汉口")) == ["f"]


def test_time_range_source_filter_and_limit(store: Store) -> None:
    indexed(store, *HOTEL)
    t = T0 + timedelta(minutes=2)
    assert ids(store.search("武汉", since=t + timedelta(seconds=1))) == ["h3"]
    assert ids(store.search("武汉", until=T0 + timedelta(minutes=3))) == ["h2"]
    assert ids(store.search("武汉", since=t, until=t + timedelta(seconds=1))) == ["h2"]
    assert ids(store.search("武汉", sources=["news"])) == ["h3"]
    assert ids(store.search("武汉", sources=["weibo", "news"], limit=1)) == ["h3"]
    assert store.search("武汉", sources=["rss"]) == []


@pytest.mark.parametrize(
    "junk",
    [
        '"',
        "AND",
        "*",
        "NEAR(",
        "-",
        "OR",
        "NOT",
        "(",
        ")",
        "^",
        ":",
        '"武汉',
        '武汉"',
        "武汉*",
        "a:b",
        "{x}",
        "'",
        "NEAR(酒店 武汉, 2)",
        "-酒店",
        "*酒店*",
        "\\",
        "'; DROP TABLE documents",
    ],
)
def test_fts_syntax_in_queries_never_breaks_search(store: Store, junk: str) -> None:
    indexed(store, *HOTEL, doc("j", "AND OR NOT NEAR 都是英文单词"))
    try:
        hits = store.search(junk)
        count = store.count_matches(junk)
    except UsageError as exc:
        assert "nothing" in str(exc) or "no letters" in str(exc)
        return
    assert len(hits) == count
    assert store.stats().documents == len(HOTEL) + 1


def test_syntax_words_are_searched_as_text(store: Store) -> None:
    indexed(store, *HOTEL, doc("j", "AND OR NOT NEAR 都是英文单词"))
    assert ids(store.search("AND")) == ["j"]
    assert ids(store.search("NEAR OR")) == ["j"]
    assert ids(store.search("NEAR(")) == []  # the parenthesis must occur in the text too
    assert ids(store.search('"武汉')) == []  # the quote must occur in the text too
    with pytest.raises(UsageError):
        store.search("  ")


def test_index_pending_catches_up(store: Store) -> None:
    store.add_documents([doc(str(i), f"酒店第{i}条") for i in range(25)])
    assert store.search("酒店") == []  # writes do not index
    assert store.stats().indexed == 0
    assert [store.index_pending(10) for _ in range(4)] == [10, 10, 5, 0]
    assert store.count_matches("酒店") == 25
    assert store.stats().indexed == 25
    store.add_documents([doc("new", "新的酒店")])
    assert store.index_pending() == 1
    assert ids(store.search("新的")) == ["new"]


def test_recent_documents_newest_last(store: Store) -> None:
    store.add_documents([doc(str(i), "文", minutes=i) for i in range(10)])
    recent = list(store.recent_documents(T0 + timedelta(minutes=5), limit=3))
    assert [d.id for d in recent] == ["7", "8", "9"]
    assert len(list(store.recent_documents(T0, limit=100))) == 10
    # Published long ago but ingested now: still recent by ingestion.
    store.add_documents([doc("old", "旧", minutes=-100_000)])
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert "old" in {d.id for d in store.recent_documents(since, limit=100)}


def test_stats(store: Store) -> None:
    empty = store.stats()
    assert (empty.documents, empty.first_published, empty.sources) == (0, None, {})
    assert empty.schema_version >= 2
    indexed(store, *HOTEL)
    store.add_documents(
        [doc("r", "转发", minutes=-5, repost_of="h2"), doc("d", "武汉工作", duplicate_of="h3")]
    )
    stats = store.stats()
    assert stats.documents == len(HOTEL) + 2
    assert (stats.duplicates, stats.reposts, stats.indexed) == (1, 1, len(HOTEL))
    assert stats.sources == {"news": 1, "weibo": len(HOTEL) + 1}
    assert stats.first_published == T0 - timedelta(minutes=5)
    assert stats.last_published == T0 + timedelta(minutes=8)
