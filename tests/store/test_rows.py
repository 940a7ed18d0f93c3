"""The batch row builder of the SQLite write (:func:`yuqing.store.rows.document_columns`,
:func:`yuqing.store.rows.rows_by_nulls`) against the one-row builder: the same values,
every row once, in batch order within each group, and the same errors."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import compress

import pytest

from yuqing.errors import StoreError
from yuqing.models import Document, RepostHop
from yuqing.store.rows import COLUMNS, document_columns, document_to_row, rows_by_nulls

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
NOW = 1_700_000_000_000_000


def mixed_batch(n: int, seed: int) -> list[Document]:
    """Posts whose optional fields are set in some rows, in all or in none."""
    rnd = random.Random(seed)
    ingested = T0 + timedelta(days=1)  # one object shared by most posts, as a source gives
    docs = []
    for i in range(n):
        pick = rnd.random
        doc = Document(
            id=f"p{i}",
            source=rnd.choice(["weibo", "news"]),
            text=f"文本 {i}",
            published_at=T0 + timedelta(minutes=i) if pick() < 0.9 else None,
            title="标题" if pick() < 0.3 else None,
            author_verified=rnd.choice([None, True, False]),
            reposts=rnd.randrange(5),
            ingested_at=ingested if pick() < 0.8 else None,
            norm_text=f"文本 {i}",
            urls=["http://a.cn/x"] if pick() < 0.2 else [],
            repost_chain=[RepostHop(user="u", text="引用")] if pick() < 0.1 else [],
            duplicate_of="p0" if pick() < 0.2 else None,
            tokens=["文本", str(i)],
            keywords=[("文本", 0.5)] if pick() < 0.5 else [],
            analysis={"sentiment": "neutral"} if pick() < 0.5 else {},
        )
        docs.append(doc)
    return docs


@pytest.mark.parametrize("n", [0, 1, 7, 300])
def test_columns_are_the_rows_transposed(n: int) -> None:
    docs = mixed_batch(n, seed=n)
    columns = document_columns(docs, NOW)
    assert len(columns) == len(COLUMNS)
    rows = [document_to_row(doc, NOW) for doc in docs]
    assert [tuple(column) for column in columns] == (
        list(zip(*rows, strict=True)) if rows else [() for _ in COLUMNS]
    )


def test_rows_are_grouped_by_their_null_columns_in_batch_order() -> None:
    docs = mixed_batch(300, seed=3)
    rows = [document_to_row(doc, NOW) for doc in docs]
    groups = rows_by_nulls(document_columns(docs, NOW))
    expected: dict[tuple[bool, ...], list[tuple[object, ...]]] = {}
    for row in rows:
        mask = tuple(value is not None for value in row)
        expected.setdefault(mask, []).append(tuple(compress(row, mask)))
    assert list(groups) == list(expected)  # groups in the order of their first row
    assert groups == expected
    assert sum(map(len, groups.values())) == len(docs)
    # a batch where every optional column is empty or set throughout: one group
    plain = [Document(id=f"q{i}", source="weibo", text="x", published_at=T0) for i in range(5)]
    (only,) = rows_by_nulls(document_columns(plain, NOW)).values()
    assert only == [tuple(v for v in document_to_row(d, NOW) if v is not None) for d in plain]
    assert rows_by_nulls(document_columns([], NOW)) == {}


def test_columns_name_the_field_that_cannot_be_stored() -> None:
    good = Document(id="a", source="weibo", text="x", published_at=T0)
    naive = Document(id="b", source="weibo", text="x", published_at=datetime(2024, 5, 1))  # noqa: DTZ001 (naive on purpose)
    with pytest.raises(StoreError, match=r"\(weibo, b\) published_at .* no time zone"):
        document_columns([good, naive], NOW)
    odd = Document(id="c", source="weibo", text="x", extra={"when": {1, 2}})
    with pytest.raises(StoreError, match=r"\(weibo, c\): field extra cannot be stored as JSON"):
        document_columns([good, odd], NOW)
