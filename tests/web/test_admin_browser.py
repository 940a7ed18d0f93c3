"""The new pages in a real browser (Debian's Chromium through Playwright, uvicorn in a
thread), signed in as an admin: record a claim marked false with its evidence link on 辟谣
and see it listed with its matched posts and on its event's page; create a user, change its
role and issue a token shown once on 用户; filter the 审计 log. Screenshots go to tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.browser import require_chromium
from tests.web.test_alerts_api import copy_store
from tests.web.test_cases_browser import hottest_event
from tests.web.test_claim_pages import EVIDENCE, RUMOUR

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("admin-browser"))


def test_claims_users_audit_pages(page: Page, base_url: str, url: str, tmp_path: Path) -> None:
    event_id = hottest_event(url)
    page.goto(f"{base_url}/claims")
    expect(page.locator("#no-claims")).to_be_visible()
    page.fill("#claim-statement", RUMOUR)
    page.select_option("#claim-verdict", "false")
    page.click("#claim-save")  # no evidence: refused in the page
    expect(page.locator("#claim-status")).to_contain_text("证据链接")
    page.fill("#claim-evidence", EVIDENCE)
    page.fill("#claim-event", event_id)
    page.click("#claim-save")
    row = page.locator("#claims-table tbody tr").first
    expect(row).to_contain_text(RUMOUR, timeout=10_000)
    expect(row.locator(".verdict")).to_contain_text("不实")
    expect(row.locator("a.evidence")).to_have_attribute("href", EVIDENCE)
    page.screenshot(path=str(tmp_path / "claims.png"), full_page=True)

    page.goto(f"{base_url}/events/{event_id}")
    section = page.locator("#event-claims")
    expect(section).to_contain_text(RUMOUR)
    expect(section.locator("a.debunk").first).to_have_attribute("href", EVIDENCE)
    section.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "event-claims.png"), full_page=False)

    page.click("#nav-users")
    page.fill("#new-username", "browser-user")
    page.select_option("#new-role", "viewer")
    page.fill("#new-department", "网信办")
    page.click("#user-create")
    row = page.locator('#users-table tr[data-user="browser-user"]')
    expect(row).to_be_visible(timeout=10_000)
    row.locator("select.role").select_option("analyst")
    row.locator("button.save").click()
    row = page.locator('#users-table tr[data-user="browser-user"]')
    expect(row.locator("select.role")).to_have_value("analyst", timeout=10_000)
    row.locator("button.token").click()
    expect(page.locator("#token-shown")).to_be_visible(timeout=10_000)
    expect(page.locator("#token-value")).to_contain_text("yq")
    page.screenshot(path=str(tmp_path / "users.png"), full_page=True)

    page.click("#nav-audit")
    page.select_option("select[name=action]", "role_change")
    page.click("#audit-apply")
    expect(page.locator("#audit-table tbody tr")).to_have_count(1)
    expect(page.locator("#audit-table tbody tr").first).to_contain_text("browser-user")
    page.screenshot(path=str(tmp_path / "audit.png"), full_page=True)
