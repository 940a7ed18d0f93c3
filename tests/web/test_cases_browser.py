"""Cases in a real browser (Debian's Chromium through Playwright, uvicorn in a thread): open
a case from an event page, attach a plan and tick an item, type a statement and watch the
four principles update, publish it; open a case from an alert in the inbox. Screenshots
go to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.browser import require_chromium
from tests.web.conftest import TOKEN
from tests.web.test_alerts_api import add_alerts, copy_store, make_alert
from tests.web.test_cases_api import BAD, GOOD
from yuqing.cases.repository import StoreCaseRepository
from yuqing.store.url import open_store
from yuqing.web import views

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("cases-browser"))


def hottest_event(url: str) -> str:
    store = open_store(url)
    try:
        return views.hot_events(store, views.as_of(store), limit=1)[0].id
    finally:
        store.close()


def test_case_from_event_plan_tick_statement_check_publish(
    page: Page, base_url: str, url: str, tmp_path: Path
) -> None:
    event_id = hottest_event(url)
    page.goto(f"{base_url}/events/{event_id}")
    page.evaluate("localStorage.setItem('yuqing-user', '值班员')")  # who acts
    page.click("#open-case")  # no API token: the signed-in session (and CSRF) acts
    expect(page.locator("h1.case-title")).to_be_visible(timeout=10_000)
    assert "/cases/case-" in page.url
    case_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#event-link")).to_have_attribute("href", f"/events/{event_id}")
    expect(page.locator("#level-reason")).to_contain_text("建议级别")

    page.select_option("#plan-select", "food-safety")
    page.click("#plan-attach")
    first = page.locator("#checklist li.item").first
    expect(first).to_be_visible(timeout=5_000)
    first.locator("button.tick").click()
    expect(page.locator("#checklist li.item").first).to_have_class("item done", timeout=5_000)
    expect(page.locator("#checklist li.item").first.locator(".done-by")).to_contain_text("值班员")

    page.fill("#statement-text", BAD)
    sincere = page.locator('#principles li[data-name="sincere"]')
    expect(sincere).to_have_class("principle fail", timeout=5_000)
    expect(sincere.locator(".explanation")).to_contain_text("纯属个人行为")
    page.fill("#statement-text", GOOD)
    expect(page.locator("#principles li.principle.pass")).to_have_count(4, timeout=5_000)
    expect(page.locator('#principles li[data-name="effective"] .explanation')).not_to_be_empty()
    page.screenshot(path=str(tmp_path / "case-editor.png"), full_page=True)

    page.click("#statement-publish")
    expect(page.locator("article.statement.published")).to_have_count(1, timeout=5_000)
    expect(page.locator("#timeliness")).to_contain_text("首次通报")
    expect(page.locator("#action-log tbody tr").first).to_contain_text("发布通报")
    page.click("#lang-switch")
    expect(page.locator("h2", has_text="四項原則檢查")).to_be_visible()
    page.screenshot(path=str(tmp_path / "case-published.png"), full_page=True)

    store = open_store(url)
    try:
        case = StoreCaseRepository(store).get_case(case_id)
    finally:
        store.close()
    assert case.event_id == event_id and case.first_published_at is not None
    assert case.checklist[0].done_by == "值班员" and case.statements[0].text == GOOD


def test_case_from_an_alert_in_the_inbox(page: Page, base_url: str, url: str) -> None:
    alert = make_alert(91, event=None)
    add_alerts(url, alert)
    page.goto(base_url + "/alerts")
    page.evaluate("t => sessionStorage.setItem('yuqing-token', t)", TOKEN)
    page.locator(f'article.alert[data-id="{alert.id}"] button.open-case').click()
    expect(page.locator("h1.case-title")).to_have_text(alert.title, timeout=10_000)
    page.goto(base_url + "/cases")
    expect(page.locator("#cases-table tbody tr")).not_to_have_count(0)
    expect(page.locator("#cases-table")).to_contain_text(alert.title)
