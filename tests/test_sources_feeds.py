"""Feeds, web pages and input resolution, all from local files or a local HTTP server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from yuqing.errors import SourceError, UsageError
from yuqing.models import Document
from yuqing.sources.base import Source
from yuqing.sources.files import CsvSource, JsonlSource
from yuqing.sources.record import ColumnMapping
from yuqing.sources.resolve import kind_of, open_sources
from yuqing.sources.rss import FeedSource, html_to_text
from yuqing.sources.web import PageSource

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 1, tzinfo=UTC)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>教育新闻</title><link>https://edu.example.cn/</link><description>d</description>
<item>
  <title>学校回应食堂问题</title>
  <link>https://edu.example.cn/a1.html</link>
  <guid>edu-a1</guid>
  <author>wang@example.cn (王记者)</author>
  <pubDate>Sun, 19 Jan 2020 12:30:00 +0800</pubDate>
  <description><![CDATA[<p>教育局<b>已成立</b>调查组&amp;进驻学校。</p><script>x()</script><p>第二段</p>]]></description>
</item>
<item>
  <title>只有标题的新闻</title>
  <link>https://edu.example.cn/a2.html</link>
</item>
<item>
  <guid>edu-a3</guid>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>健康播报</title><id>urn:feed</id><updated>2020-01-20T00:00:00Z</updated>
<entry>
  <title>疫情防控通报</title><id>urn:e1</id>
  <link href="https://health.example.cn/e1"/>
  <updated>2020-01-20T08:00:00Z</updated>
  <author><name>卫健委</name></author>
  <content type="html">&lt;p&gt;新增确诊病例&lt;br/&gt;详情见通报&lt;/p&gt;</content>
</entry>
<entry>
  <title>第二条</title><id>urn:e2</id><updated>2020-01-20T09:00:00Z</updated>
  <summary>摘要文字</summary>
</entry>
</feed>
"""

ARTICLE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>某市教育局回应学校食堂过期食材问题_新闻中心</title>
<meta property="og:site_name" content="示例新闻网">
<meta property="og:title" content="某市教育局回应学校食堂过期食材问题">
<meta property="article:published_time" content="2020-01-19T12:30:00+08:00">
<link rel="canonical" href="https://news.example.cn/2020/01/19/a1.html">
</head><body>
<nav><a href="/">首页</a> | <a href="/edu">教育</a></nav>
<article>
<h1>某市教育局回应学校食堂过期食材问题</h1>
<p>1月19日，有网友在微博发帖称，某中学食堂使用过期食材，多名学生出现腹痛症状。该帖迅速引发关注，转发量超过一万次。</p>
<p>当天下午，某市教育局发布情况通报，表示已成立调查组进驻学校，对食堂食材进行全面检查，并将及时公布调查结果。</p>
<p>教育局相关负责人表示，学生的健康和安全是第一位的，对于调查中发现的问题将依法依规严肃处理，决不姑息。</p>
</article>
<footer>版权所有 示例新闻网</footer>
</body></html>
"""


def documents(source: Source, size: int = 100) -> list[Document]:
    return [d for b in source.batches(size) for d in b.documents]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served by http.server on 127.0.0.1 (a free port), and its base URL."""
    folder = tmp_path / "site"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---------------------------------------------------------------- feeds


def test_rss_file(tmp_path: Path) -> None:
    path = tmp_path / "edu.xml"
    path.write_text(RSS, encoding="utf-8")
    batches = list(FeedSource(path, zone=SHANGHAI, now=NOW).batches(10))
    (batch,) = batches
    assert batch.read == 3 and len(batch.documents) == 2
    first, second = batch.documents
    assert first.id == "edu-a1" and first.source == "教育新闻"
    assert first.text == "教育局已成立调查组&进驻学校。\n第二段"
    assert first.title == "学校回应食堂问题" and first.url == "https://edu.example.cn/a1.html"
    assert first.published_at == datetime(2020, 1, 19, 4, 30, tzinfo=UTC)
    assert first.author and "王记者" in first.author
    assert first.line == 1 and first.ingested_at == NOW
    # a headline-only entry uses its title as text; its id is the link
    assert (second.id, second.text, second.line) == (
        "https://edu.example.cn/a2.html",
        "只有标题的新闻",
        2,
    )
    (reject,) = batch.rejections
    assert (reject.line, reject.code) == (3, "missing_text") and "edu-a3" in reject.raw


def test_atom_file_and_default_source(tmp_path: Path) -> None:
    path = tmp_path / "health.atom"
    path.write_text(ATOM, encoding="utf-8")
    docs = documents(FeedSource(path, zone=SHANGHAI, default_source="wjw"))
    assert [(d.id, d.source, d.text) for d in docs] == [
        ("urn:e1", "wjw", "新增确诊病例\n详情见通报"),
        ("urn:e2", "wjw", "摘要文字"),
    ]
    assert docs[0].author == "卫健委" and docs[0].url == "https://health.example.cn/e1"
    assert docs[0].published_at == datetime(2020, 1, 20, 8, 0, tzinfo=UTC)


def test_feed_cursor_resumes_only_an_unchanged_feed(tmp_path: Path) -> None:
    path = tmp_path / "edu.rss"
    path.write_text(RSS, encoding="utf-8")
    first = next(FeedSource(path, zone=SHANGHAI).batches(1))
    assert first.cursor is not None and first.cursor.position == 1
    rest = list(FeedSource(path, zone=SHANGHAI).batches(10, first.cursor))
    assert sum(b.read for b in rest) == 2
    path.write_text(RSS.replace("edu-a1", "edu-new"), encoding="utf-8")
    again = list(FeedSource(path, zone=SHANGHAI).batches(10, first.cursor))
    assert sum(b.read for b in again) == 3


def test_unparseable_feed_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("this is not <a feed", encoding="utf-8")
    with pytest.raises(SourceError, match="not a readable RSS/Atom feed"):
        list(FeedSource(path, zone=SHANGHAI).batches(10))


def test_feed_from_local_server(site: tuple[Path, str]) -> None:
    folder, base = site
    (folder / "feed.xml").write_text(ATOM, encoding="utf-8")
    source = FeedSource(f"{base}/feed.xml", zone=SHANGHAI)
    docs = documents(source)
    assert [d.id for d in docs] == ["urn:e1", "urn:e2"] and docs[0].source == "健康播报"
    with pytest.raises(SourceError, match="404"):
        list(FeedSource(f"{base}/missing.xml", zone=SHANGHAI).batches(10))


def test_html_to_text() -> None:
    assert html_to_text("plain") == "plain"
    assert html_to_text("<div>a<br>b</div><style>p{}</style>&lt;c&gt;") == "a\nb\n<c>"


# ---------------------------------------------------------------- pages


def test_page_from_file(tmp_path: Path) -> None:
    path = tmp_path / "article.html"
    path.write_text(ARTICLE, encoding="utf-8")
    (batch,) = list(PageSource(path, zone=SHANGHAI, now=NOW).batches(10))
    (doc,) = batch.documents
    assert "已成立调查组进驻学校" in doc.text and "首页" not in doc.text
    assert doc.title == "某市教育局回应学校食堂过期食材问题"
    assert doc.url == doc.id == "https://news.example.cn/2020/01/19/a1.html"
    assert doc.source == "示例新闻网"
    assert doc.published_at == datetime(2020, 1, 19, 4, 30, tzinfo=UTC)
    # an unchanged page is skipped on resume
    assert list(PageSource(path, zone=SHANGHAI).batches(10, batch.cursor)) == []


def test_page_without_text_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>t</title></head><body></body></html>")
    (batch,) = list(PageSource(path, zone=SHANGHAI).batches(10))
    assert [r.code for r in batch.rejections] == ["missing_text"] and batch.read == 1


def test_page_from_local_server(site: tuple[Path, str]) -> None:
    folder, base = site
    (folder / "a1.html").write_text(
        ARTICLE.replace(
            '<link rel="canonical" href="https://news.example.cn/2020/01/19/a1.html">', ""
        )
        .replace("示例新闻网", "")
        .replace("2020-01-19T12:30:00+08:00", "not a time"),
        encoding="utf-8",
    )
    url = f"{base}/a1.html"
    (doc,) = documents(PageSource(url, zone=SHANGHAI, default_source=None))
    assert doc.id == doc.url == url and doc.source.startswith("127.0.0.1")
    assert "调查组" in doc.text
    with pytest.raises(SourceError, match="HTTP 404"):
        list(PageSource(f"{base}/nope.html", zone=SHANGHAI).batches(10))


def test_unreachable_url_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="cannot fetch"):
        list(PageSource("http://127.0.0.1:9/none", zone=SHANGHAI).batches(1))


# ---------------------------------------------------------------- resolve


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("a.jsonl", "jsonl"),
        ("a.NDJSON", "jsonl"),
        ("a.json", "jsonl"),
        ("a.csv", "csv"),
        ("a.tsv", "csv"),
        ("a.xml", "rss"),
        ("a.rss", "rss"),
        ("a.atom", "rss"),
        ("a.html", "page"),
        ("a.htm", "page"),
        ("a.txt", None),
        ("https://x.cn/feed", "rss"),
        ("https://x.cn/rss/edu", "rss"),
        ("https://x.cn/news.xml", "rss"),
        ("https://x.cn/2020/a.html", "page"),
        ("http://x.cn/", "page"),
    ],
)
def test_kind_of(spec: str, kind: str | None) -> None:
    assert kind_of(spec) == kind


def test_open_sources(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.jsonl", "c.csv", "page.htm", "notes.txt"):
        (tmp_path / name).write_text("")
    sources = open_sources(
        [str(tmp_path / "*.jsonl"), str(tmp_path / "c.csv"), "https://x.cn/feed.xml"],
        zone=SHANGHAI,
        mapping=ColumnMapping(),
        kind=None,
        max_record_bytes=1000,
        source_name=None,
    )
    assert [type(s).__name__ for s in sources] == [
        "JsonlSource",
        "JsonlSource",
        "CsvSource",
        "FeedSource",
    ]
    assert [s.key for s in sources[:2]] == [
        str((tmp_path / "a.jsonl").resolve()),
        str((tmp_path / "b.jsonl").resolve()),
    ]
    first = sources[0]
    assert isinstance(first, JsonlSource) and first.default_source == "a"
    named = open_sources([str(tmp_path / "c.csv")], zone=SHANGHAI, source_name="weibo")
    assert isinstance(named[0], CsvSource) and named[0].default_source == "weibo"
    (page,) = open_sources([str(tmp_path / "notes.txt")], kind="page", zone=SHANGHAI)
    assert isinstance(page, PageSource)


def test_open_sources_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(UsageError, match="--kind"):
        open_sources([str(tmp_path / "notes.txt")], zone=SHANGHAI)
    with pytest.raises(SourceError, match="no file matches"):
        open_sources([str(tmp_path / "*.csv")], zone=SHANGHAI)
    with pytest.raises(SourceError, match="no such file"):
        open_sources([str(tmp_path / "missing.jsonl")], zone=SHANGHAI)
    with pytest.raises(SourceError, match="folder"):
        open_sources([str(tmp_path)], kind="jsonl", zone=SHANGHAI)
    with pytest.raises(UsageError, match="unknown kind"):
        open_sources([str(tmp_path / "notes.txt")], kind="xlsx", zone=SHANGHAI)
    with pytest.raises(UsageError, match="local file"):
        open_sources(["https://x.cn/data.jsonl"], kind="jsonl", zone=SHANGHAI)
