"""SQLite's counting of a stored batch in Python (:mod:`yuqing.store.rollup_batch`, used by
``add_documents``) against the migration's SQL recount, with plain and odd labels mixed in
one batch, batches where every post is new and batches where some were stored before; and
the row builder's errors on the values it cannot store."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from yuqing.errors import StoreError
from yuqing.models import Document
from yuqing.store import rollup_batch, sqlite_rollups
from yuqing.store.rows import document_to_row, to_micros
from yuqing.store.url import open_store

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
TABLES = ("rollups", "rollup_events", "rollup_event_labels")

ODD: list[dict[str, Any]] = [
    {"sentiment": 1},
    {"sentiment": ["positive"]},  # not even a dict key
    {"emotion": True},
    {"risk": "x"},
    {"risk": {"type": 3}},
    {"regions": {"name": "宁波市"}},
    {"regions": ["宁波市"]},
    {"regions": [{"name": 5}]},
    {"regions": [{"name": ["宁波市"]}]},
    {"event_id": 7},
    {"event_id": {"id": "ev-1"}},
]


def posts(n: int, seed: int) -> list[Document]:
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        doc = Document(
            id=f"p{seed}-{k}",
            source=rnd.choice(("weibo", "news")),
            text=f"食堂 {k}",
            region=rnd.choice((None, "浙江省")),
            reposts=rnd.randrange(5),
            comments=rnd.randrange(3),
            likes=rnd.randrange(7),
        )
        doc.published_at = T0 + timedelta(seconds=rnd.randrange(3 * 3600)) if k % 13 else None
        if k % 11 == 5:
            doc.duplicate_of = f"p{seed}-0"
        if k % 7 == 3:
            doc.repost_of = f"p{seed}-1"
        regions: list[dict[str, str | None]] = [
            {"name": r} for r in rnd.sample(("宁波市", "杭州市"), rnd.randrange(3))
        ]
        if k % 9 == 4:
            regions.append({"name": None})
        doc.analysis = {
            "sentiment": rnd.choice(("negative", "positive", None)),
            "emotion": rnd.choice(("anger", "joy")),
            "risk": rnd.choice(({"type": "rumor"}, {"type": None}, None)),
            "regions": regions or rnd.choice(([], None)),
        }
        if rnd.random() < 0.7:
            doc.analysis["event_id"] = rnd.choice(("ev-1", "ev-2"))
        if k % 5 == 2:
            doc.analysis = {}
        out.append(doc)
    return out


def with_odd(docs: list[Document], seed: int) -> list[Document]:
    rnd = random.Random(seed)
    for change in ODD:
        doc = rnd.choice(docs)
        doc.analysis = {**doc.analysis, **change}
    rnd.choice(docs).published_at = datetime(1969, 12, 31, 23, 50, tzinfo=UTC)  # before 1970
    return docs


@pytest.mark.parametrize("odd", [False, True])
def test_counts_at_insert_equal_the_sql_recount(tmp_path: Path, odd: bool) -> None:
    batch = posts(150, seed=1)
    if odd:
        with_odd(batch, seed=2)
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        conn = store._conn  # type: ignore[attr-defined]
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        store.add_documents(batch[:60])  # all new: counted from the batch, nothing read back
        assert odd or not any("WHERE pk >" in s for s in statements)
        store.add_documents(batch[40:110])  # 20 stored before: the new rows are read back
        assert any("WHERE pk >" in s for s in statements)
        conn.set_trace_callback(None)
        store.add_documents([*batch[100:], batch[100]])  # a key repeated in the batch

        def snapshot() -> list[list[tuple[Any, ...]]]:
            return [sorted(conn.execute(f"SELECT * FROM {t} WHERE posts <> 0")) for t in TABLES]

        counted = snapshot()
        assert counted[0] and counted[1] and counted[2]
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
        for statement in sqlite_rollups.upkeep_statements(sqlite_rollups._DOCUMENTS, 1):
            conn.execute(statement)
        assert snapshot() == counted
    finally:
        store.close()


def test_count_answers_none_for_a_batch_with_an_odd_post() -> None:
    batch = [d for d in posts(40, seed=3) if d.published_at and d.published_at >= T0]
    times = [to_micros(d.published_at) or 0 for d in batch]
    assert all(rollup_batch.is_plain(d, t) for d, t in zip(batch, times, strict=True))
    assert rollup_batch.count(batch, times) is not None
    for change in ODD:
        changed = [*batch]
        changed[5] = Document(id="odd", source="weibo", text="x", analysis=change)
        assert not rollup_batch.is_plain(changed[5], times[5])
        assert rollup_batch.count(changed, times) is None, change
    assert not rollup_batch.is_plain(batch[0], -1)
    assert rollup_batch.count(batch, [-1, *times[1:]]) is None


def test_rows_name_the_field_that_cannot_be_stored() -> None:
    doc = Document(id="a", source="weibo", text="x", published_at=datetime(2024, 5, 1))  # noqa: DTZ001 (naive on purpose)
    with pytest.raises(StoreError, match=r"\(weibo, a\) published_at .* no time zone"):
        document_to_row(doc, 0)
    doc = Document(id="a", source="weibo", text="x", ingested_at=datetime(2024, 5, 1))  # noqa: DTZ001 (naive on purpose)
    with pytest.raises(StoreError, match=r"\(weibo, a\) ingested_at .* no time zone"):
        document_to_row(doc, 0)
    doc = Document(id="a", source="weibo", text="x", extra={"when": {1, 2}})
    with pytest.raises(StoreError, match=r"\(weibo, a\): field extra cannot be stored as JSON"):
        document_to_row(doc, 0)
    doc = Document(id="a", source="weibo", text="x", published_at=T0, ingested_at=T0)
    row = document_to_row(doc, 0)
    assert row[10] == row[11] == to_micros(T0)
