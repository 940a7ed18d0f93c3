"""我的订阅 on the 监测方案 page in a real browser (Debian's Chromium through Playwright,
uvicorn in a thread): a signed-in viewer subscribes to a plan's hourly digest on a
configured channel, sees it kept after a reload, changes it to immediate and unsubscribes;
each step is checked in the store. Screenshots go to tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.test_contract_plans import plan
from tests.web.browser import require_chromium
from tests.web.conftest import TOKEN, signed_in_page
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

VIEWER, PASSWORD = "zhang", "correct-horse-1"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    store_url = f"sqlite:///{tmp_path_factory.mktemp('subs-browser') / 'subs.db'}"
    store = open_store(store_url)
    try:
        create_user(store, VIEWER, role="viewer", password=PASSWORD)
        store.save_plan(plan("canteen", department=None, sources=()))  # nothing polled
    finally:
        store.close()
    return store_url


@pytest.fixture(scope="module")
def base_url(url: str) -> Iterator[str]:
    from tests.web.test_alerts_api import served

    settings = Settings.model_validate(
        {
            "store": url,
            "web": {"api_tokens": [TOKEN]},
            "alerts": {
                "channels": [{"name": "zhang-mail", "kind": "log"}, {"name": "ops", "kind": "log"}]
            },
        }
    )
    with served(settings) as base:
        yield base


@pytest.fixture
def viewer_page(browser: Browser, base_url: str) -> Iterator[Page]:
    with signed_in_page(browser, base_url, VIEWER, PASSWORD) as opened:
        yield opened


def _stored(url: str) -> list[tuple[str, str, str]]:
    store = open_store(url)
    try:
        return [(s.plan_id, s.mode, s.channel) for s in store.subscriptions(username=VIEWER)]
    finally:
        store.close()


def test_viewer_subscribes_changes_and_unsubscribes(
    viewer_page: Page, base_url: str, url: str, tmp_path: Path
) -> None:
    page = viewer_page
    page.goto(base_url + "/plans")
    row = page.locator('#subscriptions-table tr[data-plan="canteen"]')
    expect(row.locator(".sub-mode")).to_have_value("")
    row.locator(".sub-mode").select_option("hourly")
    row.locator(".sub-channel").select_option("zhang-mail")
    row.locator("button.subscribe").click()
    expect(row.locator(".sub-status.good")).to_have_text("已订阅")
    assert _stored(url) == [("canteen", "hourly", "zhang-mail")]
    page.screenshot(path=str(tmp_path / "subscriptions.png"), full_page=True)

    page.reload()  # the page shows what is stored
    expect(row.locator(".sub-mode")).to_have_value("hourly")
    expect(row.locator(".sub-channel")).to_have_value("zhang-mail")
    row.locator(".sub-mode").select_option("immediate")
    row.locator("button.subscribe").click()
    expect(row.locator(".sub-status.good")).to_have_text("已订阅")
    assert _stored(url) == [("canteen", "immediate", "zhang-mail")]

    row.locator(".sub-mode").select_option("")
    row.locator("button.subscribe").click()
    expect(row.locator(".sub-status.good")).to_have_text("已退订")
    assert _stored(url) == []


def test_traditional_page_and_service_token_has_no_subscriptions(
    browser: Browser, base_url: str
) -> None:
    context = browser.new_context(locale="zh-TW")
    try:
        page = context.new_page()
        page.set_extra_http_headers({"Authorization": f"Bearer {TOKEN}"})
        page.goto(base_url + "/plans?lang=zh-Hant")
        expect(page.locator("#subscriptions")).to_contain_text("我的訂閱")
        expect(page.locator("#subscriptions-table")).to_have_count(0)  # a token is no user
    finally:
        context.close()
