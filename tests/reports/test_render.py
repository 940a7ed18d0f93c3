"""Briefings rendered and read back: DOCX parsed with python-docx (headings, Chinese text,
an inline picture, hyperlinks), HTML with the chart as a data URI and the links; charts."""

from __future__ import annotations

import base64
import io
import os
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from markupsafe import escape
from PIL import Image

from tests.web.conftest import fill_demo_store
from yuqing.errors import UsageError
from yuqing.reports import Briefing, build_briefing, render
from yuqing.reports.charts import has_cjk_font, line_chart, stacked_bars
from yuqing.settings import Settings
from yuqing.store.url import open_store

ZONE = ZoneInfo("Asia/Shanghai")
PUBLIC = "https://yq.example.org"
DAY = datetime(2026, 11, 21, tzinfo=ZONE)


@pytest.fixture(scope="module")
def briefings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Briefing]:
    url = fill_demo_store(tmp_path_factory.mktemp("render-demo"))
    settings = Settings.model_validate({"store": url, "public_url": PUBLIC})
    store = open_store(url)
    try:
        event = store.event_rollups(limit=1)[0].id
        empty_day = datetime(2020, 1, 1, tzinfo=ZONE)
        return {
            "daily": build_briefing(store, settings, kind="daily", since=DAY, until=None),
            "special": build_briefing(
                store, settings, kind="special", since=None, until=None, event_id=event
            ),
            "empty": build_briefing(store, settings, kind="weekly", since=empty_day, until=None),
        }
    finally:
        store.close()


def _docx_text_and_links(path: Path) -> tuple[list[str], str, list[str]]:
    document = docx.Document(str(path))
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs += cell.paragraphs
    headings = [
        p.text
        for p in document.paragraphs
        if p.style is not None and str(p.style.name).startswith(("Heading", "Title"))
    ]
    links = [h.address for p in paragraphs for h in p.hyperlinks]
    return headings, "\n".join(p.text for p in paragraphs), links


@pytest.mark.parametrize("kind", ["daily", "special"])
def test_docx_has_headings_chinese_text_pictures_and_links(
    briefings: dict[str, Briefing], kind: str, tmp_path: Path
) -> None:
    b = briefings[kind]
    path = render(b, "docx", tmp_path / f"{kind}.docx")
    headings, text, links = _docx_text_and_links(path)
    assert headings[0] == b.title
    assert {"一、核心数据", "二、图表", "四、风险提示", "五、预警", "六、处置案件"} <= set(headings)
    assert ("三、事件概况" if kind == "special" else "三、热点事件") in headings
    assert len(docx.Document(str(path)).inline_shapes) == len(b.charts) >= 1
    for c in b.citations():
        assert c.quote in text
        assert c.link in links
    for e in b.events + ([b.event] if b.event else []):
        assert e.link in links
    assert all(f.link in links for f in b.figures)
    assert "本期无预警" in text and b.period in text


def test_html_embeds_the_chart_and_links(briefings: dict[str, Briefing], tmp_path: Path) -> None:
    b = briefings["daily"]
    html = render(b, "html", tmp_path / "daily.html").read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == len(b.charts) >= 1
    assert Image.open(io.BytesIO(base64.b64decode(uris[0]))).size == (1200, 520)
    for e in b.events:
        assert f'href="{e.link}"' in html
    for c in b.citations():
        assert str(escape(c.quote)) in html and f'href="{c.link}"' in html
    assert "舆情日报" in html and "热点事件" in html and "本期无案件" in html


def test_empty_period_renders_no_data(briefings: dict[str, Briefing], tmp_path: Path) -> None:
    b = briefings["empty"]
    html = render(b, "html", tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "本期无数据" in html and "data:image/png" not in html
    _, text, _ = _docx_text_and_links(render(b, "docx", tmp_path / "empty.docx"))
    assert "本期无数据" in text


def test_unknown_format_and_unwritable_path(briefings: dict[str, Briefing], tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="odt"):
        render(briefings["daily"], "odt", tmp_path / "x.odt")
    with pytest.raises(UsageError, match="cannot write"):
        render(briefings["daily"], "html", tmp_path / "missing" / "x.html")


def test_charts_are_pngs_with_a_cjk_font() -> None:
    if not has_cjk_font():
        if os.environ.get("CI") == "true":
            pytest.fail("no CJK font: install Debian's fonts-noto-cjk for Chinese chart labels")
        pytest.skip("no CJK font: install Debian's fonts-noto-cjk for Chinese chart labels")
    labels = ["11-21", "11-22", "11-23"]
    series = {"negative": [3, 0, 5], "positive": [1, 2, 0]}
    for draw in (stacked_bars, line_chart):
        png = draw("声量", labels, series, {"negative": "负面"}, {}, size=(600, 300))
        assert Image.open(io.BytesIO(png)).size == (600, 300)
    flat = stacked_bars("空", ["a"], {"x": [0]}, {}, {})
    assert flat.startswith(b"\x89PNG")
