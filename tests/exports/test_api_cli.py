"""Exports as downloads from the API (/api/v1/export/...) and as files from the CLI
(`yuqing export ...`), over the same real store."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.exports.conftest import CASE_ID
from yuqing.exports import FILTERS_SHEET, MEDIA_TYPES, read_csv_export
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.web import create_app

TOKEN = "export-token-1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(export_url: str) -> Iterator[TestClient]:
    settings = Settings.model_validate({"store": export_url, "web": {"api_tokens": [TOKEN]}})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_search_download_xlsx_and_csv(client: TestClient, export_url: str) -> None:
    store = open_store(export_url)
    try:
        hits = store.search("食堂", limit=1000)
    finally:
        store.close()
    # the search page's link sends empty since/until/source: they mean "not set"
    got = client.get("/api/v1/export/search?q=食堂&since=&until=&source=", headers=AUTH)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == MEDIA_TYPES["xlsx"]
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="yuqing-search-')
    assert disposition.endswith('.xlsx"')
    wb = openpyxl.load_workbook(io.BytesIO(got.content))
    assert wb["搜索结果"].max_row == len(hits) + 1
    filters = {r[0]: r[1] for r in wb[FILTERS_SHEET].iter_rows(values_only=True)}
    assert filters["关键词"] == "食堂" and filters["来源"] == "不限"
    got = client.get(
        "/api/v1/export/search",
        params={"q": "食堂", "format": "csv", "source": "weibo", "limit": 5},
        headers=AUTH,
    )
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    parsed = read_csv_export(got.content)
    assert parsed.filters["来源"] == "weibo" and parsed.filters["最多条数"] == "5"
    rows = parsed.tables["搜索结果"][1:]
    assert len(rows) == 5 and {r[1] for r in rows} == {"weibo"}


def test_traditional_query_is_searched_in_simplified(client: TestClient) -> None:
    got = client.get("/api/v1/export/search?q=过期食材&format=csv", headers=AUTH)
    traditional = client.get("/api/v1/export/search?q=過期食材&format=csv", headers=AUTH)
    assert got.status_code == traditional.status_code == 200
    simplified = read_csv_export(got.content)
    assert len(simplified.tables["搜索结果"]) > 1
    assert simplified.tables == read_csv_export(traditional.content).tables


def test_event_alerts_cases_downloads(client: TestClient, export_url: str) -> None:
    store = open_store(export_url)
    try:
        event = store.event_rollups(limit=1)[0]
        alerts = store.alerts(limit=1000)
    finally:
        store.close()
    got = client.get(f"/api/v1/export/events/{event.id}?format=csv", headers=AUTH)
    assert got.status_code == 200
    parsed = read_csv_export(got.content)
    assert len(parsed.tables["帖文"]) == event.posts + 1
    got = client.get("/api/v1/export/alerts", headers=AUTH)
    wb = openpyxl.load_workbook(io.BytesIO(got.content))
    assert wb["预警"].max_row == len(alerts) + 1
    got = client.get("/api/v1/export/cases?format=csv&status=assessing", headers=AUTH)
    table = read_csv_export(got.content).tables["案件"]
    assert [r[0] for r in table[1:]] == [CASE_ID]


def test_errors_have_the_api_shape(client: TestClient) -> None:
    got = client.get("/api/v1/export/events/nope", headers=AUTH)
    assert got.status_code == 404
    assert got.json()["error"]["code"] == "not_found"
    got = client.get("/api/v1/export/cases?status=open", headers=AUTH)
    assert got.status_code == 400 and "case status" in got.json()["error"]["message"]
    got = client.get("/api/v1/export/alerts?since=yesterday", headers=AUTH)
    assert got.status_code == 400
    got = client.get("/api/v1/export/search?q=食堂&format=pdf", headers=AUTH)
    assert got.status_code == 422
    assert client.get("/api/v1/export/search?q=食堂").status_code == 401


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exports(export_url: str, tmp_path: Path) -> None:
    out = tmp_path / "hits.csv"
    done = run(["--store", export_url, "export", "search", "食堂", "--out", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "搜索结果" in done.stdout
    parsed = read_csv_export(out.read_bytes())  # csv: from the extension
    assert parsed.filters["关键词"] == "食堂" and len(parsed.tables["搜索结果"]) > 10
    done = run(["--store", export_url, "export", "cases", "--status", "assessing"], tmp_path)
    assert done.returncode == 0, done.stderr
    written = list(tmp_path.glob("yuqing-cases-*.xlsx"))
    assert len(written) == 1
    wb = openpyxl.load_workbook(written[0])
    assert wb["案件"]["A2"].value == CASE_ID
    done = run(["--store", export_url, "export", "event", "nope"], tmp_path)
    assert done.returncode == 2 and "no event 'nope'" in done.stderr
    done = run(
        ["--store", export_url, "export", "alerts", "--format", "pdf", "-o", "x.pdf"], tmp_path
    )
    assert done.returncode == 2 and "--format 'pdf'" in done.stderr


def test_pages_link_to_the_downloads(client: TestClient, export_url: str) -> None:
    page = client.get("/search?q=食堂&since=&until=&source=", headers=AUTH)
    assert page.status_code == 200
    link = page.text.split('class="export" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link.startswith("/api/v1/export/search?q=") and link.endswith("format=xlsx")
    got = client.get(link, headers=AUTH)
    assert got.status_code == 200 and got.headers["content-type"] == MEDIA_TYPES["xlsx"]
    store = open_store(export_url)
    try:
        event = store.event_rollups(limit=1)[0]
    finally:
        store.close()
    page = client.get(f"/events/{event.id}", headers=AUTH)
    assert page.status_code == 200
    assert f'href="/api/v1/export/events/{event.id}?format=csv"' in page.text
