"""`yuqing demo`'s dashboard in a real browser (Debian's Chromium through Playwright,
uvicorn in a thread, the app on the demo's clock): alerts raised by the live replay
appear in the open 预警 inbox without a reload (server-sent events), and the overview
counts the new posts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo.conftest import documents, started_feed, wait_for
from tests.web.browser import ARGS, CHROMIUM, require_chromium
from tests.web.conftest import sign_in
from yuqing.demo.live import DemoFeed
from yuqing.store.url import open_store
from yuqing.users import create_user

require_chromium()

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

PASSWORD = "demo-password-1"


def _posts_on_overview(page: Page) -> int:
    """The overview's first figure: posts in its window (the last 3 days of data)."""
    return int(page.locator(".kpi b").first.inner_text().replace(",", ""))


@pytest.fixture
def served_feed(tmp_path: Path) -> Iterator[tuple[DemoFeed, str]]:
    """A demo feed with its start ingested, an admin, and the app served on its store."""
    import socket
    import threading

    import uvicorn

    from yuqing.web.app import create_app

    feed = started_feed(tmp_path)
    store = open_store(feed.settings.store)
    try:
        create_user(store, "admin", role="admin", password=PASSWORD)
    finally:
        store.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(feed.settings, clock=feed.clock),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), "uvicorn to start", 30)
    try:
        yield feed, f"http://127.0.0.1:{port}"
    finally:
        feed.stop()
        server.should_exit = True
        thread.join(10)


def test_live_alerts_appear_in_the_open_inbox(
    served_feed: tuple[DemoFeed, str], tmp_path: Path
) -> None:
    feed, base = served_feed
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        try:
            sign_in(context, base, "admin", PASSWORD)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            head_total = documents(feed.settings.store)
            page.goto(base + "/")
            assert _posts_on_overview(page) == head_total
            page.goto(base + "/alerts")
            expect(page.locator("#live-state.on")).to_be_visible(timeout=15_000)
            before = page.locator("article.alert").count()
            assert before == feed.summary.alerts > 0
            feed.start_live(36_000)  # the 60 hours after the start in at least 6 s
            fresh = page.locator("article.alert.fresh")  # cards the event stream added
            expect(fresh.first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(tmp_path / "demo-alerts-live.png"), full_page=True)
            assert page.locator("article.alert").count() > before
            overview = context.new_page()

            def grown() -> bool:
                overview.goto(base + "/")
                return _posts_on_overview(overview) > head_total

            wait_for(grown, "the overview to count new posts")
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            context.close()
            browser.close()
