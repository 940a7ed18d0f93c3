"""Exports over a real store: each opens with openpyxl (or parses as CSV) and holds the rows
that the store reads give, with the filters written into the file; text stays text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests.exports.conftest import CASE_ID
from yuqing.errors import UsageError
from yuqing.exports import (
    FILTERS_SHEET,
    Export,
    ExportNotFoundError,
    Table,
    alerts_export,
    cases_export,
    event_export,
    read_csv_export,
    render,
    search_export,
)
from yuqing.store.base import Store
from yuqing.store.url import open_store
from yuqing.web import views

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(export_url: str) -> Iterator[Store]:
    opened = open_store(export_url)
    yield opened
    opened.close()


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet_rows(wb: openpyxl.Workbook, name: str) -> list[list[object]]:
    return [list(row) for row in wb[name].iter_rows(values_only=True)]


def filters_of(wb: openpyxl.Workbook) -> dict[str, str]:
    rows = sheet_rows(wb, FILTERS_SHEET)
    assert rows[0] == ["项目", "值"]
    return {str(k): str(v) for k, v in rows[1:]}


def test_search_xlsx_holds_the_hits_and_the_filters(store: Store) -> None:
    since = datetime(2026, 11, 20, 0, 0, tzinfo=ZONE)
    hits = store.search("食堂", since=since, sources=["weibo"], limit=500)
    assert len(hits) > 10
    export = search_export(
        store, "食堂", zone=ZONE, now=NOW, since=since, sources=["weibo"], limit=500
    )
    wb = workbook(render(export, "xlsx"))
    assert wb.sheetnames == ["搜索结果", FILTERS_SHEET]
    rows = sheet_rows(wb, "搜索结果")
    header = rows[0]
    assert header[:3] == ["发布时间", "来源", "编号"]
    assert [(r[1], r[2]) for r in rows[1:]] == [(h.source, h.id) for h in hits]
    first = store.get_document(hits[0].source, hits[0].id)
    assert first is not None and first.published_at is not None
    row = dict(zip(header, rows[1], strict=True))
    assert row["内容"] == first.text
    assert row["发布时间"] == first.published_at.astimezone(ZONE).replace(
        tzinfo=None, microsecond=0
    )
    assert row["情感"] in {"正面", "中性", "负面"}
    filters = filters_of(wb)
    assert filters["关键词"] == "食堂"
    assert filters["来源"] == "weibo"
    assert filters["开始时间"] == "2026-11-20T00:00:00+08:00"
    assert filters["结束时间"] == "不限"
    assert filters["时区"] == "Asia/Shanghai"
    assert filters["行数·搜索结果"] == str(len(hits))
    assert filters["导出时间"] == "2026-11-24 16:00:00"


def test_search_csv_has_bom_filters_and_rows(store: Store) -> None:
    hits = store.search("过期食材", limit=1000)
    export = search_export(store, "过期食材", zone=ZONE, now=NOW)
    data = render(export, "csv")
    assert data.startswith("\ufeff".encode())
    parsed = read_csv_export(data)
    assert parsed.filters["导出内容"] == "搜索结果"
    assert parsed.filters["关键词"] == "过期食材"
    assert parsed.filters["来源"] == "不限"
    table = parsed.tables["搜索结果"]
    assert table[0][:3] == ["发布时间", "来源", "编号"]
    assert [(r[1], r[2]) for r in table[1:]] == [(h.source, h.id) for h in hits]
    # Any CSV reader gets the same rows once the "#" lines and blank lines are skipped.
    text = data.decode("utf-8-sig")
    plain = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    assert plain == table


def test_event_export_figures_match_the_dashboard(store: Store) -> None:
    top = store.event_rollups(limit=1)[0]
    shown = views.one_event(store, top.id, views.as_of(store))
    assert shown is not None
    export = event_export(store, top.id, zone=ZONE, now=NOW)
    wb = workbook(render(export, "xlsx"))
    assert wb.sheetnames == ["概况", "趋势", "分布", "帖文", FILTERS_SHEET]
    summary = {r[0]: r[1] for r in sheet_rows(wb, "概况")[1:]}
    assert summary["事件编号"] == top.id
    assert summary["帖文数"] == top.posts
    assert summary["热度"] == round(shown.heat.score, 2)
    assert summary["生命周期阶段"] == shown.lifecycle.label
    assert summary["负面占比"] == round(shown.negative_share, 4)
    trend = sheet_rows(wb, "趋势")
    assert trend[0][:2] == ["时间（小时）", "帖文"]
    assert sum(int(r[1]) for r in trend[1:]) == top.posts  # type: ignore[call-overload]
    negative = trend[0].index("情感·负面")
    assert sum(int(r[negative]) for r in trend[1:]) == top.sentiment.get("negative", 0)  # type: ignore[call-overload]
    mix = sheet_rows(wb, "分布")
    assert ["情感", "负面", top.sentiment["negative"]] in [r[:3] for r in mix]
    posts = sheet_rows(wb, "帖文")
    assert len(posts) - 1 == top.posts
    ids = [r[2] for r in posts[1:]]
    assert ids == [d.id for d in store.event_documents(top.id, order="time", limit=10_000)]
    assert filters_of(wb)["事件编号"] == top.id
    assert export.filename("xlsx").startswith(f"yuqing-event-{top.id}-20261124-")
    parsed = read_csv_export(render(export, "csv"))
    assert set(parsed.tables) == {"概况", "趋势", "分布", "帖文"}
    assert len(parsed.tables["帖文"]) == len(posts)


def test_unknown_event_is_not_found(store: Store) -> None:
    with pytest.raises(ExportNotFoundError, match="no event 'nope'"):
        event_export(store, "nope", zone=ZONE, now=NOW)


def test_alerts_export_with_a_status_filter(store: Store) -> None:
    everything = store.alerts(limit=1000)
    acknowledged = [s for s in everything if s.status == "acknowledged"]
    assert acknowledged and len(acknowledged) < len(everything)
    wb = workbook(render(alerts_export(store, zone=ZONE, now=NOW), "xlsx"))
    rows = sheet_rows(wb, "预警")
    assert [r[-1] for r in rows[1:]] == [s.alert.id for s in everything]
    export = alerts_export(store, zone=ZONE, now=NOW, status="acknowledged")
    parsed = read_csv_export(render(export, "csv"))
    table = parsed.tables["预警"]
    assert [r[-1] for r in table[1:]] == [s.alert.id for s in acknowledged]
    assert table[1][table[0].index("状态")] == "已确认"
    assert table[1][table[0].index("确认人")] == "值班员"
    assert parsed.filters["状态"] == "已确认"
    assert alerts_export(store, zone=ZONE, now=NOW, status="false_alarm").rows == 0
    with pytest.raises(UsageError, match="alert status 'old'"):
        alerts_export(store, zone=ZONE, now=NOW, status="old")


def test_cases_export_with_deadline_and_timeliness(store: Store) -> None:
    export = cases_export(store, zone=ZONE, now=NOW, status="assessing")
    wb = workbook(render(export, "xlsx"))
    rows = sheet_rows(wb, "案件")
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["编号"] == CASE_ID
    assert row["级别"] == "II级（重大）"
    assert row["状态"] == "研判中"
    assert row["联动部门"] == "教育局"
    assert row["时效"] == "已超时"  # level II: 2 hours, long gone at NOW, nothing published
    assert isinstance(row["首次通报时限"], datetime)
    assert filters_of(wb)["状态"] == "研判中"
    assert cases_export(store, zone=ZONE, now=NOW, status="closed").rows == 0
    with pytest.raises(UsageError, match="case status 'open'"):
        cases_export(store, zone=ZONE, now=NOW, status="open")


def test_text_stays_text() -> None:
    """Formulas are not run, control characters are dropped, over-long cells are cut."""
    evil = '=HYPERLINK("http://evil.example","点我")'
    export = Export(
        kind="search",
        title="搜索结果",
        filters=[("关键词", "=1+1")],
        tables=[
            Table(
                "搜索结果",
                ["内容", "数", "时间"],
                [
                    [evil, -0.5, datetime(2026, 11, 20, 1, 0, tzinfo=UTC)],
                    ["控制\x01字符", 3, None],
                    ["长" * 40_000, 0, None],
                    ["#话题# 开头", 1, None],
                ],
            )
        ],
        zone=ZONE,
        created_at=NOW,
    )
    wb = workbook(render(export, "xlsx"))
    ws = wb["搜索结果"]
    assert ws["A2"].value == evil and ws["A2"].data_type == "s"
    assert ws["B2"].value == -0.5
    local = datetime(2026, 11, 20, 9, 0, tzinfo=ZONE).replace(tzinfo=None)  # zone: filters sheet
    assert ws["C2"].value == local
    assert ws["A3"].value == "控制字符"
    assert len(ws["A4"].value) == 32_767 and ws["A4"].value.endswith("…")
    parsed = read_csv_export(render(export, "csv"))
    rows = parsed.tables["搜索结果"]
    assert rows[1] == ["'" + evil, "-0.5", "2026-11-20 09:00:00"]
    assert rows[4][0] == "#话题# 开头"
    assert parsed.filters["关键词"] == "=1+1"


def test_not_a_csv_export() -> None:
    with pytest.raises(UsageError, match="not a yuqing CSV export"):
        read_csv_export(b"a,b\n1,2\n")


def test_bad_window_and_empty_query(store: Store) -> None:
    later = NOW + timedelta(days=1)
    with pytest.raises(UsageError, match="until must be later"):
        search_export(store, "食堂", zone=ZONE, now=NOW, since=later, until=NOW)
    with pytest.raises(UsageError, match="needs words"):
        search_export(store, "  ", zone=ZONE, now=NOW)
