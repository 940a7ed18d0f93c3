"""The 监测方案 page in a real browser (Debian's Chromium through Playwright, uvicorn in a
thread): a stored plan is listed with its sources' health; the form checks a rule's query
as one types (through POST /api/v1/rules/test), refuses nothing silently, and saves a new
plan through the plans API. Screenshots go to tmp_path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.web.browser import require_chromium
from yuqing.clock import ManualClock
from yuqing.plans.service import save_plan
from yuqing.settings import Settings
from yuqing.store.url import open_store

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("plans-browser")
    store_url = f"sqlite:///{folder / 'plans.db'}"
    settings = Settings.model_validate({"store": store_url})
    store = open_store(store_url)
    try:
        save_plan(
            store,
            {
                "id": "wx-plan",
                "name": "微信推送方案",
                "department": "宣传处",
                "rules": [{"query": "食堂 AND 过期"}],
                "sources": [{"id": "wx", "kind": "push", "name": "wechat-collector"}],
            },
            settings,
            ManualClock(datetime(2026, 5, 4, tzinfo=UTC)),
        )
    finally:
        store.close()
    return store_url


def test_plans_page_lists_checks_and_saves(page: Page, base_url: str, tmp_path: Path) -> None:
    page.goto(base_url + "/plans")
    expect(page.locator('#plans-table tr[data-id="wx-plan"]')).to_contain_text("微信推送方案")
    expect(page.locator('#health-wx-plan tr[data-source="wx"] .badge')).to_have_text("推送接收")
    expect(page.locator("#ingest-health-link")).to_have_attribute("href", "/health/ingest")

    page.fill("#plan-name", "校园食品安全")
    page.fill("#plan-department", "市教育局")
    page.fill("#plan-regions", "宁波市")
    rule = page.locator("#rules .rule-row").first
    rule.locator(".rule-query").fill("食堂 AND (过期")
    expect(rule.locator(".rule-status.bad")).to_contain_text("column")
    rule.locator(".rule-query").fill("食堂 AND 过期")
    rule.locator(".rule-text").fill("某校食堂使用过期食材")
    expect(rule.locator(".rule-status.good")).to_contain_text("文本命中")
    source = page.locator("#sources .source-row").first
    source.locator(".source-kind").select_option("files")
    source.locator(".target").fill("/data/inbox/*.jsonl")
    source.locator(".interval").fill("5m")
    page.screenshot(path=str(tmp_path / "plans-form.png"), full_page=True)
    page.click("#plan-save")
    expect(page.locator("#save-status.good")).to_contain_text("已保存")
    expect(page.locator("#plans-table tbody tr")).to_have_count(2, timeout=5_000)
    page.screenshot(path=str(tmp_path / "plans.png"), full_page=True)

    # editing a stored plan fills the form; a secret-looking value is refused with the reason
    page.locator('#plans-table tr[data-id="wx-plan"] button.edit').click()
    expect(page.locator("#plan-id")).to_have_value("wx-plan")
    page.locator("#sources .source-row .source-kind").first.select_option("page")
    page.locator("#sources .source-row .target").first.fill(
        "https://oapi.dingtalk.com/robot/send?access_token=abc"
    )
    page.click("#plan-save")
    expect(page.locator("#save-status.bad")).to_contain_text("credential")
