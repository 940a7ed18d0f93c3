"""JSONL and CSV sources: parsing, encodings, limits, line numbers and cursor resume."""

from __future__ import annotations

import tempfile
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.errors import SourceError
from yuqing.models import Cursor, Document, Rejection
from yuqing.sources.base import Source, SourceBatch
from yuqing.sources.encoding import detect_encoding
from yuqing.sources.files import CsvSource, JsonlSource
from yuqing.sources.record import ColumnMapping

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
MIB = 1 << 20


def jsonl(path: Path, **kw: object) -> JsonlSource:
    return JsonlSource(path, zone=SHANGHAI, now=NOW, max_record_bytes=MIB, **kw)  # type: ignore[arg-type]


def csv_source(path: Path, **kw: object) -> CsvSource:
    return CsvSource(path, zone=SHANGHAI, now=NOW, max_record_bytes=MIB, **kw)  # type: ignore[arg-type]


def read_all(
    source: Source, size: int = 1000, start: Cursor | None = None
) -> tuple[list[Document], list[Rejection], list[SourceBatch]]:
    batches = list(source.batches(size, start))
    docs = [d for b in batches for d in b.documents]
    rejects = [r for b in batches for r in b.rejections]
    for b in batches:
        assert b.read == len(b.documents) + len(b.rejections)
    return docs, rejects, batches


def lines_of(*records: object) -> bytes:
    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records)


# ---------------------------------------------------------------- JSONL


def test_jsonl_documents_and_rejections(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        lines_of(
            {"text": "第一条", "id": "a"},
            b"",
            b"   ",
            b'{"text": "broken"',
            b"[1, 2]",
            {"title": "no text"},
            {"text": "x", "published_at": "someday"},
            {"text": "最后", "source": "news"},
        )
    )
    docs, rejects, _ = read_all(jsonl(path))
    assert [(d.id, d.line, d.source) for d in docs] == [("a", 1, "posts"), (docs[1].id, 8, "news")]
    assert [(r.line, r.code) for r in rejects] == [
        (4, "json"),
        (5, "bad_type"),
        (6, "missing_text"),
        (7, "bad_date"),
    ]
    assert rejects[0].raw == '{"text": "broken"'
    assert "not valid JSON" in rejects[0].reason
    assert rejects[1].reason == "expected a JSON object, got list"
    assert docs[0].raw == {"text": "第一条", "id": "a"} and docs[0].ingested_at == NOW


def test_jsonl_mapping_and_default_source(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(lines_of({"content": "正文", "mid": 5, "at": 1579408200}))
    source = jsonl(
        path,
        mapping=ColumnMapping(text="content", id="mid", time="at"),
        default_source="wb",
    )
    (doc,), _, _ = read_all(source)
    assert (doc.text, doc.id, doc.source) == ("正文", "5", "wb")
    assert doc.published_at == datetime(2020, 1, 19, 4, 30, tzinfo=UTC)


def test_jsonl_crlf_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    path.write_bytes(b'{"text": "a"}\r\n{"text": "b"}')
    docs, rejects, _ = read_all(jsonl(path))
    assert [d.text for d in docs] == ["a", "b"] and not rejects


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_jsonl_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "e.jsonl"
    text = '{"text": "武汉大学食堂的饭菜很好吃", "author": "張三"}\n{"text": "第二条"}\n'
    path.write_bytes(text.encode(encoding))
    docs, rejects, _ = read_all(jsonl(path))
    assert [d.text for d in docs] == ["武汉大学食堂的饭菜很好吃", "第二条"] and not rejects
    assert docs[0].author == "張三"


def test_jsonl_one_undecodable_line_among_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = [f'{{"text": "正常的第{i}条"}}'.encode() for i in range(5)]
    bad = '{"text": "这一行是GBK编码"}'.encode("gbk")
    path.write_bytes(b"\n".join([*good[:2], bad, *good[2:]]) + b"\n")
    assert detect_encoding(path) == "utf-8"
    docs, rejects, _ = read_all(jsonl(path))
    assert len(docs) == 5
    assert [(r.line, r.code) for r in rejects] == [(3, "encoding")]
    assert "utf-8" in rejects[0].reason and rejects[0].raw.startswith('{"text": "')


def test_gbk_file_with_one_undecodable_line(tmp_path: Path) -> None:
    path = tmp_path / "gbk.jsonl"
    good = [f'{{"text": "正常的第{i}条"}}'.encode("gbk") for i in range(4)]
    path.write_bytes(b"\n".join([*good[:1], b'{"text": "\xff\xfe"}', *good[1:]]) + b"\n")
    docs, rejects, _ = read_all(jsonl(path))
    assert [d.text for d in docs] == [f"正常的第{i}条" for i in range(4)]
    assert [(r.line, r.code) for r in rejects] == [(2, "encoding")]


def test_ten_megabyte_line_is_rejected_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as out:
        out.write(b'{"text": "before"}\n{"text": "')
        out.write(b"x" * (10 * MIB))
        out.write(b'"}\n{"text": "after"}\n')
    tracemalloc.start()
    try:
        docs, rejects, _ = read_all(jsonl(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [d.text for d in docs] == ["before", "after"]
    assert [(d.line) for d in docs] == [1, 3]
    assert [(r.line, r.code) for r in rejects] == [(2, "too_large")]
    assert "10,485,772 bytes" in rejects[0].reason
    assert len(rejects[0].raw) <= 201
    assert peak < 4 * MIB  # at most about one max_record_bytes line, never the 10 MB


def test_exact_limit_is_accepted(tmp_path: Path) -> None:
    record = b'{"text": "' + b"y" * 100 + b'"}'
    path = tmp_path / "edge.jsonl"
    path.write_bytes(record + b"\r\n" + record + b"x\n")
    source = JsonlSource(path, zone=SHANGHAI, max_record_bytes=len(record))
    docs, rejects, _ = read_all(source)
    assert len(docs) == 1 and [(r.line, r.code) for r in rejects] == [(2, "too_large")]


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        list(jsonl(tmp_path / "nope.jsonl").batches(10))


def test_utf16_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "u16.jsonl"
    path.write_bytes('{"text": "a"}\n'.encode("utf-16"))
    with pytest.raises(SourceError, match="UTF-16"):
        list(jsonl(path).batches(10))


def test_detect_encoding_allows_a_cut_multibyte_char() -> None:
    head = ("中" * 100).encode("utf-8")
    assert detect_encoding(head[:-1]) == "utf-8"
    assert detect_encoding("中文".encode("gbk")) == "gb18030"
    assert detect_encoding(b"\xef\xbb\xbfabc") == "utf-8-sig"
    assert detect_encoding(b"plain ascii") == "utf-8"


# ---------------------------------------------------------------- cursors


def numbered(path: Path, count: int, start: int = 0) -> None:
    path.write_bytes(lines_of(*({"text": f"post {i}", "id": str(i)} for i in range(start, count))))


def test_batches_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    numbered(path, 10)
    source = jsonl(path)
    it = source.batches(3)
    first, second = next(it), next(it)
    assert [d.id for d in first.documents + second.documents] == [str(i) for i in range(6)]
    assert second.cursor is not None and second.cursor.line == 6
    assert second.cursor.source_key == str(path.resolve())
    docs, _, batches = read_all(jsonl(path), 3, second.cursor)
    assert [d.id for d in docs] == ["6", "7", "8", "9"]
    assert [d.line for d in docs] == [7, 8, 9, 10]
    assert [b.read for b in batches] == [3, 1]
    last = batches[-1].cursor
    assert last is not None
    # resuming at the end reads nothing; appended lines are read next
    assert read_all(jsonl(path), 3, last)[0] == []
    with path.open("ab") as out:
        out.write(lines_of({"text": "appended", "id": "10"}))
    docs, _, _ = read_all(jsonl(path), 3, last)
    assert [(d.id, d.line) for d in docs] == [("10", 11)]


def test_replaced_file_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    numbered(path, 6)
    cursor = next(jsonl(path).batches(4)).cursor
    path.write_bytes(lines_of(*({"text": f"new {i}", "id": f"n{i}"} for i in range(8))))
    docs, _, _ = read_all(jsonl(path), 100, cursor)
    assert [d.id for d in docs] == [f"n{i}" for i in range(8)]
    # a shorter file than the cursor's offset is also a new file
    numbered(path, 6)
    cursor = next(jsonl(path).batches(6)).cursor
    numbered(path, 2)
    assert len(read_all(jsonl(path), 100, cursor)[0]) == 2


def test_cursor_of_another_source_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    numbered(path, 3)
    other = Cursor("/elsewhere.jsonl", 10, 1, "1:x")
    assert len(read_all(jsonl(path), 10, other)[0]) == 3


def test_csv_resume_keeps_the_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    rows = "".join(f'{i},"post\n{i}"\n' for i in range(5))
    path.write_text("id,text\n" + rows, encoding="utf-8")
    first = next(csv_source(path).batches(2))
    assert [d.line for d in first.documents] == [2, 4]
    docs, _, _ = read_all(csv_source(path), 2, first.cursor)
    assert [(d.id, d.text, d.line) for d in docs] == [
        ("2", "post\n2", 6),
        ("3", "post\n3", 8),
        ("4", "post\n4", 10),
    ]


# ---------------------------------------------------------------- CSV


def test_csv_rows_lines_and_rejections(tmp_path: Path) -> None:
    path = tmp_path / "weibo.csv"
    path.write_text(
        "id,text,published_at,reposts,author_verified,topic\n"
        'a1,"第一条\n跨两行",2020-01-19 12:30,3,是,食品\n'
        "\n"
        "a2,,2020-01-19,0,否,\n"
        "a3,短,2020-01-19,abc,否,\n"
        "a4,少一列\n"
        "a5,多一列,2020-01-19,1,1,x,y\n"
        "a6,尾随逗号,2020-01-19,1,1,x,\n"
        "a7,ok,,,,\n",
        encoding="utf-8",
    )
    docs, rejects, _ = read_all(csv_source(path))
    assert [(d.id, d.line) for d in docs] == [("a1", 2), ("a6", 9), ("a7", 10)]
    first = docs[0]
    assert first.text == "第一条\n跨两行" and first.reposts == 3 and first.author_verified is True
    assert first.published_at == datetime(2020, 1, 19, 4, 30, tzinfo=UTC)
    assert first.extra == {"topic": "食品"} and first.source == "weibo"
    assert docs[2].published_at is None and docs[2].extra == {}
    assert [(r.line, r.code) for r in rejects] == [
        (5, "missing_text"),
        (6, "bad_type"),
        (7, "csv"),
        (8, "csv"),
    ]
    assert rejects[2].raw == "a4,少一列"
    assert "expected 6 columns" in rejects[2].reason


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("id;text;likes\n1;a,b;2\n", "a,b"),
        ("id\ttext\tlikes\n1\ta,b;c\t2\n", "a,b;c"),
        ('id,text,likes\n1,"a,b;c",2\n', "a,b;c"),
    ],
)
def test_csv_delimiter_sniffing(tmp_path: Path, body: str, text: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(body)
    (doc,), rejects, _ = read_all(csv_source(path))
    assert (doc.id, doc.text, doc.likes) == ("1", text, 2) and not rejects


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes("编号,text,author\n1,武汉加油,張三\n2,第二条,李四\n".encode(encoding))
    docs, rejects, _ = read_all(csv_source(path, mapping=ColumnMapping(id="编号")))
    assert [(d.id, d.text, d.author) for d in docs] == [
        ("1", "武汉加油", "張三"),
        ("2", "第二条", "李四"),
    ]
    assert not rejects


def test_csv_undecodable_line_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(
        "id,text\n1,好的一行\n".encode()
        + "2,坏的一行\n".encode("gbk")
        + "3,又一行好的\n4,最后一行\n".encode()
    )
    docs, rejects, _ = read_all(csv_source(path))
    assert [d.id for d in docs] == ["1", "3", "4"]
    assert [(r.line, r.code) for r in rejects] == [(3, "encoding")]


def test_csv_large_cell_and_large_line(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as out:
        out.write(b"id,text\n1,before\n2,")
        out.write(b"z" * (2 * MIB))
        out.write(b'\n3,"quoted\n')
        out.write((b"w" * 1000 + b"\n") * 1100)  # a quoted field over 1 MiB across lines
        out.write(b'"\n')
    source = csv_source(path)
    docs, rejects, _ = read_all(source)
    assert docs[0].id == "1"
    assert rejects[0].line == 3 and rejects[0].code == "too_large"
    assert rejects[1].line == 4 and rejects[1].code == "too_large"


def test_long_post_under_the_limit_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    text = "长" * 300_000  # 900 KB: above the csv module's default field limit
    path.write_text(f"id,text\n1,{text}\n", encoding="utf-8")
    (doc,), rejects, _ = read_all(csv_source(path))
    assert len(doc.text) == 300_000 and not rejects


def test_csv_header_problems(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("text,text\na,b\n")
    with pytest.raises(SourceError, match="twice"):
        list(csv_source(path).batches(10))
    path.write_text("\ntext\na\n")
    with pytest.raises(SourceError, match="header"):
        list(csv_source(path).batches(10))
    path.write_text("")
    assert read_all(csv_source(path))[0] == []


# ---------------------------------------------------------------- never raise


def seen_lines(docs: list[Document], rejects: list[Rejection]) -> list[int]:
    return [d.line or 0 for d in docs] + [r.line for r in rejects]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=60) | st.text(max_size=40).map(str.encode), max_size=12))
def test_jsonl_never_raises(lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        docs, rejects, _ = read_all(JsonlSource(path, zone=SHANGHAI, max_record_bytes=50), 4)
    expected = sum(1 for line in lines if line.strip())
    assert len(docs) + len(rejects) == expected
    assert all(1 <= line <= len(lines) for line in seen_lines(docs, rejects))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from('ab,"\t;中 \r'), max_size=20), max_size=10),
    st.binary(max_size=30),
)
def test_csv_never_raises(lines: list[str], junk: bytes) -> None:
    body = "text,id\n" + "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "h.csv"
        path.write_bytes(body.encode() + junk)
        docs, rejects, _ = read_all(CsvSource(path, zone=SHANGHAI, max_record_bytes=40), 3)
    assert len(docs) + len(rejects) <= len(lines) + 1 + junk.count(b"\n")
    assert all(line >= 2 for line in seen_lines(docs, rejects))
