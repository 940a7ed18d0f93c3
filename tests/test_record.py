"""The input record contract: fields, types, times, derived ids and rejection codes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.errors import RecordError, UsageError
from yuqing.models import Document
from yuqing.sources.record import ColumnMapping, derive_id, parse_time, to_document

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def doc(record: dict[str, Any], mapping: ColumnMapping | None = None) -> Document:
    return to_document(
        record,
        line=7,
        default_source="weibo",
        zone=SHANGHAI,
        mapping=mapping or ColumnMapping(),
        raw="",
        now=NOW,
    )


def code_of(record: dict[str, Any], mapping: ColumnMapping | None = None) -> str:
    with pytest.raises(RecordError) as info:
        doc(record, mapping)
    assert info.value.line == 7
    return info.value.code


def test_full_record() -> None:
    record = {
        "text": "食堂使用过期食材",
        "id": "a1",
        "title": "标题",
        "url": "https://weibo.com/a1",
        "source": "weibo_hot",
        "author": "某网友",
        "author_followers": "1200",
        "author_verified": "是",
        "published_at": "2020-01-19 12:30",
        "region": "宁波市",
        "reposts": 12,
        "comments": "3",
        "likes": 5.0,
        "parent_id": 99,
        "topic": "食品安全",
    }
    d = doc(record)
    assert (d.id, d.source, d.text, d.title, d.url) == (
        "a1",
        "weibo_hot",
        "食堂使用过期食材",
        "标题",
        "https://weibo.com/a1",
    )
    assert d.author == "某网友" and d.author_followers == 1200 and d.author_verified is True
    assert d.published_at == datetime(2020, 1, 19, 4, 30, tzinfo=UTC)
    assert (d.region, d.reposts, d.comments, d.likes, d.parent_id) == ("宁波市", 12, 3, 5, "99")
    assert d.extra == {"topic": "食品安全"}
    assert d.raw is record
    assert d.line == 7 and d.ingested_at == NOW


def test_defaults() -> None:
    d = doc({"text": "hello"})
    assert d.source == "weibo" and d.reposts == d.comments == d.likes == 0
    assert d.published_at is None and d.author_verified is None and d.extra == {}
    assert len(d.id) == 16


def test_blank_optional_values_are_missing() -> None:
    d = doc({"text": "x", "source": " ", "author": "", "published_at": "", "likes": None})
    assert d.source == "weibo" and d.author is None and d.published_at is None and d.likes == 0


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ({"title": "no text"}, "missing_text"),
        ({"text": None}, "missing_text"),
        ({"text": ""}, "empty_text"),
        ({"text": " \n\t　"}, "empty_text"),
        ({"text": 12}, "bad_type"),
        ({"text": "x", "reposts": "abc"}, "bad_type"),
        ({"text": "x", "reposts": -1}, "bad_type"),
        ({"text": "x", "likes": "-3"}, "bad_type"),
        ({"text": "x", "comments": 1.5}, "bad_type"),
        ({"text": "x", "comments": True}, "bad_type"),
        ({"text": "x", "author_followers": [1]}, "bad_type"),
        ({"text": "x", "author_verified": "maybe"}, "bad_type"),
        ({"text": "x", "author_verified": 2}, "bad_type"),
        ({"text": "x", "id": 1.5}, "bad_type"),
        ({"text": "x", "id": True}, "bad_type"),
        ({"text": "x", "title": 5}, "bad_type"),
        ({"text": "x", "source": ["a"]}, "bad_type"),
        ({"text": "x", "published_at": "yesterday"}, "bad_date"),
        ({"text": "x", "published_at": "2020-13-01"}, "bad_date"),
        ({"text": "x", "published_at": 12345}, "bad_date"),
        ({"text": "x", "published_at": "123456789012"}, "bad_date"),
        ({"text": "x", "published_at": True}, "bad_date"),
        ({"text": "x", "published_at": -1579408200}, "bad_date"),
    ],
)
def test_rejection_codes(record: dict[str, Any], code: str) -> None:
    assert code_of(record) == code


def test_bad_type_names_the_field() -> None:
    with pytest.raises(RecordError, match="reposts"):
        doc({"text": "x", "reposts": "abc"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("FALSE", False),
        ("1", True),
        ("0", False),
        ("是", True),
        ("否", False),
        (True, True),
        (0, False),
        (1, True),
    ],
)
def test_bool_like(value: Any, expected: bool) -> None:
    assert doc({"text": "x", "author_verified": value}).author_verified is expected


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (" 7 ", 7), ("1,234", 1234), (3, 3)])
def test_int_like(value: Any, expected: int) -> None:
    assert doc({"text": "x", "reposts": value}).reposts == expected


UTC_0430 = datetime(2020, 1, 19, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-01-19T12:30:00+08:00", UTC_0430),
        ("2020-01-19T04:30:00Z", UTC_0430),
        ("2020-01-19T12:30:00", UTC_0430),  # naive: Asia/Shanghai
        ("2020-01-19 12:30", UTC_0430),
        ("2020/01/19 12:30:00", UTC_0430),
        ("2020/1/19 12:30", UTC_0430),
        ("2020年1月19日 12:30", UTC_0430),
        ("2020年01月19日12时30分", UTC_0430),
        ("2020-01-19", datetime(2020, 1, 18, 16, 0, tzinfo=UTC)),  # a date alone: local midnight
        ("2020年1月19日", datetime(2020, 1, 18, 16, 0, tzinfo=UTC)),
        (1579408200, UTC_0430),  # epoch seconds
        ("1579408200", UTC_0430),
        (1579408200000, UTC_0430),  # epoch milliseconds
        ("1579408200000", UTC_0430),
        (1579408200.0, UTC_0430),
        ("Sun, 19 Jan 2020 12:30:00 +0800", UTC_0430),
        (datetime(2020, 1, 19, 12, 30, tzinfo=SHANGHAI), UTC_0430),
    ],
)
def test_time_forms(value: Any, expected: datetime) -> None:
    parsed = parse_time(value, SHANGHAI)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_zone_is_configurable() -> None:
    assert parse_time("2020-07-01 12:00", ZoneInfo("Europe/Berlin")) == datetime(
        2020, 7, 1, 10, 0, tzinfo=UTC
    )


def test_derived_id_is_stable_and_depends_on_all_parts() -> None:
    base = {"text": "同一句话", "author": "甲", "published_at": "2020-01-19 12:30"}
    first = doc(dict(base)).id
    assert first == doc(dict(base)).id
    assert first == derive_id("weibo", "甲", UTC_0430, "同一句话")
    assert first == "198934104f02eb9c"  # frozen: a change would duplicate stored posts
    assert doc({**base, "author": "乙"}).id != first
    assert doc({**base, "source": "news"}).id != first
    assert doc({**base, "published_at": "2020-01-19 12:31"}).id != first
    assert doc({**base, "text": "同一句话!"}).id != first
    # the same moment written differently is the same post
    assert doc({**base, "published_at": "2020-01-19T04:30:00Z"}).id == first


def test_given_id_is_kept_and_ints_become_strings() -> None:
    assert doc({"text": "x", "id": 4475862367371266}).id == "4475862367371266"
    assert doc({"text": "x", "id": " a1 "}).id == "a1"


def test_column_mapping() -> None:
    mapping = ColumnMapping.from_options(
        text_column="content",
        id_column="mid",
        time_column="created",
        column=["author=user", " likes = 赞 "],
    )
    record = {
        "content": "正文",
        "mid": "m1",
        "created": "2020-01-19 12:30",
        "user": "u",
        "赞": "4",
        "text": "另一列",
        "other": 1,
    }
    d = doc(record, mapping)
    assert (d.text, d.id, d.published_at, d.author, d.likes) == ("正文", "m1", UTC_0430, "u", 4)
    # a contract field fed from another column keeps its own column under extra
    assert d.extra == {"text": "另一列", "other": 1}


def test_mapped_text_missing_names_the_column() -> None:
    with pytest.raises(RecordError, match="content") as info:
        doc({"text": "here"}, ColumnMapping(text="content"))
    assert info.value.code == "missing_text"


@pytest.mark.parametrize("item", ["text", "=col", "text=", "nofield=col"])
def test_column_option_errors(item: str) -> None:
    with pytest.raises(UsageError):
        ColumnMapping.from_options(column=[item])


@given(st.dictionaries(st.text(max_size=12), st.none() | st.booleans() | st.integers() | st.text()))
def test_never_raises_anything_but_record_error(record: dict[str, Any]) -> None:
    try:
        d = doc(record)
    except RecordError as exc:
        assert exc.code in {"missing_text", "empty_text", "bad_type", "bad_date"}
    else:
        assert d.text.strip()
        assert d.published_at is None or d.published_at.tzinfo is UTC


def test_nul_characters_are_removed_everywhere() -> None:
    """PostgreSQL cannot store U+0000: it is removed at the input, nested values included."""
    got = doc(
        {
            "id": "a\x001",
            "text": "学校\x00食堂",
            "title": "\x00标题",
            "author": "小\x00王",
            "lang": {"k\x00": ["v\x00", 1]},
        }
    )
    assert (got.id, got.text, got.title, got.author) == ("a1", "学校食堂", "标题", "小王")
    assert got.extra == {"lang": {"k": ["v", 1]}}
    assert code_of({"text": "\x00 \x00"}) == "empty_text"
