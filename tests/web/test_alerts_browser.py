"""The alerts inbox and the rules editor in a real browser (Debian's Chromium through
Playwright, uvicorn in a thread): an alert stored while the inbox is open appears without
a reload (server-sent events) and is acknowledged in the signed-in session; the rule editor
checks syntax as one types, previews matches and saves. Screenshots go to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.browser import require_chromium
from tests.web.conftest import TOKEN
from tests.web.test_alerts_api import add_alerts, copy_store, make_alert
from yuqing.store.url import open_store

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("alerts-browser"))


def test_new_alert_appears_live_and_is_acknowledged(
    page: Page, base_url: str, url: str, tmp_path: Path
) -> None:
    page.goto(base_url + "/alerts")
    expect(page.locator("#live-state.on")).to_be_visible(timeout=10_000)
    alert = make_alert(50)
    add_alerts(url, alert)  # stored by "another process" while the page is open
    card = page.locator(f'article.alert[data-id="{alert.id}"]')
    expect(card).to_be_visible(timeout=5_000)
    expect(card.locator(".sample .text")).to_have_text("食堂<script>window.__x = 1</script>过期")
    assert page.evaluate("window.__x") is None
    expect(card.locator(".badge.sev")).to_have_text("高")
    expect(card.locator("a.evlink")).to_have_attribute("href", "/events/ev-1")
    page.screenshot(path=str(tmp_path / "alerts-live.png"), full_page=True)

    page.evaluate("localStorage.setItem('yuqing-user', '值班员')")  # who acknowledges
    card.locator("button.ack").click()  # no API token: the session (and CSRF) acts
    expect(card.locator(".acked-by")).to_contain_text("已确认 · 值班员")
    expect(card).to_have_class("alert sev-high fresh acked")
    page.screenshot(path=str(tmp_path / "alerts-acked.png"), full_page=True)

    page.reload()  # the acknowledgement is stored
    expect(page.locator(f'article.alert.acked[data-id="{alert.id}"]')).to_be_visible()
    store = open_store(url)
    try:
        stored = store.get_alert(alert.id)
    finally:
        store.close()
    assert stored is not None and stored.acknowledged_by == "值班员"


def test_rule_editor_checks_previews_and_saves(
    page: Page, base_url: str, url: str, tmp_path: Path
) -> None:
    page.goto(base_url + "/rules")
    page.fill("#rule-query", "食堂 AND (过期")
    expect(page.locator("#query-status.bad")).to_contain_text("column")
    expect(page.locator("#query-status pre.caret")).to_be_visible()
    page.fill("#rule-query", "食堂 AND 过期")
    page.fill("#rule-text", "某校食堂使用过期食材")
    expect(page.locator("#query-status.good")).to_contain_text("文本命中")
    expect(page.locator("#preview-list article.post").first).to_be_visible()
    expect(page.locator("#preview-count")).to_contain_text("匹配")
    page.fill("#rule-id", "canteen-ui")
    page.fill("#rule-name", "食堂食品安全")
    page.evaluate("t => sessionStorage.setItem('yuqing-token', t)", TOKEN)
    page.click("#rule-save")
    expect(page.locator("#save-status.good")).to_contain_text("canteen-ui")
    expect(page.locator('#rules-table tr[data-id="canteen-ui"]')).to_be_visible(timeout=5_000)
    page.screenshot(path=str(tmp_path / "rules.png"), full_page=True)
    store = open_store(url)
    try:
        assert [r.query for r in store.rules() if r.id == "canteen-ui"] == ["食堂 AND 过期"]
    finally:
        store.close()
