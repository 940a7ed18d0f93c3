"""The dashboard's newer panels in a real browser (Debian's Chromium through Playwright,
uvicorn in a thread, signed in as the conftest's admin): the overview's rising-terms cloud
and province chart, an event's spreaders and repost tree, a post page, the ingest health
page; and a post carrying ``<script>`` and ``<img onerror>`` shown on its page with nothing
run. Screenshots go to tmp_path."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.web.browser import require_chromium
from tests.web.conftest import AUTH
from tests.web.test_alerts_api import copy_store
from yuqing.store.url import open_store
from yuqing.web.post_view import post_url

require_chromium()

from playwright.sync_api import Dialog, Page, expect  # noqa: E402

XSS = {
    "id": "xss-post",
    "source": "weibo",
    "author": '<img src=x onerror="window.__xss = 3">',
    "text": '食堂<script>window.__xss = 1</script>照片<img src=x onerror="window.__xss = 2">'
    "//@路人: <b>转</b>",
}


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("insights-browser"))


@pytest.fixture(scope="module")
def biggest(url: str) -> str:
    store = open_store(url)
    try:
        return store.event_rollups(limit=1)[0].id
    finally:
        store.close()


def test_overview_cloud_regions_event_and_post(
    page: Page, base_url: str, biggest: str, tmp_path: Path
) -> None:
    page.goto(base_url + "/?lang=zh-Hans")
    terms = page.locator("#wordcloud a.term")
    expect(terms.first).to_be_visible()
    assert terms.count() >= 5
    expect(page.locator("#chart-regions svg.main-svg").first).to_be_attached(timeout=10_000)
    expect(page.locator("#chart-regions .bars path").first).to_be_attached()
    expect(page.locator("table.regions tbody tr").first).to_be_visible()
    page.locator("#rising-terms").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "overview-cloud.png"), full_page=True)
    term = terms.first.inner_text()
    terms.first.click()
    expect(page.locator("input[name=q]")).to_have_value(term)
    expect(page.locator(".hit").first).to_be_visible()

    page.goto(f"{base_url}/events/{biggest}")
    rows = page.locator("#spreaders tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.first.locator("td.handle").inner_text().startswith("@")
    tree = page.locator("#repost-tree")
    expect(tree.locator("li").first).to_be_visible()
    first = tree.locator("details").first
    expect(first).to_have_attribute("open", "")
    first.locator("summary").first.click()  # collapse
    expect(first).not_to_have_attribute("open", "")
    first.locator("summary").first.click()  # and open again
    page.locator("#spreaders").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "event-spread.png"), full_page=True)

    page.locator("article.post a.postlink").first.click()
    expect(page.locator("#post-text")).to_be_visible()
    expect(page.locator("#analysis")).to_contain_text("情感")
    expect(page.locator("#post-event")).to_have_attribute("href", f"/events/{biggest}")
    page.screenshot(path=str(tmp_path / "post.png"), full_page=True)


def test_ingest_health_page(page: Page, base_url: str, tmp_path: Path) -> None:
    page.goto(base_url + "/")
    page.click("header nav >> text=采集健康")
    expect(page.locator("h1")).to_have_text("采集健康")
    expect(page.locator("#chart-ingest svg.main-svg").first).to_be_attached(timeout=10_000)
    expect(page.locator("#ingest-sources tbody tr").first).to_contain_text("weibo")
    page.screenshot(path=str(tmp_path / "ingest-health.png"), full_page=True)


def test_script_payloads_on_the_post_page_do_not_run(page: Page, base_url: str) -> None:
    answer = httpx.post(f"{base_url}/api/v1/posts", json=[XSS], headers=AUTH, timeout=60)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(base_url + post_url("weibo", "xss-post") + "?lang=zh-Hans")
    expect(page.locator("#post-text")).to_have_text(XSS["text"])
    expect(page.locator("#post .author")).to_have_text("@" + XSS["author"])
    expect(page.locator("#repost-chain li").first).to_have_text("@路人：转")  # hop text normalized
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0
    assert dialogs == []
