"""End to end in a real browser: uvicorn on a free local port, Debian's Chromium driven by
Playwright. Signing in through the login form, charts drawn, search highlights, the 繁體 switch, an event page, and post text
carrying script payloads shown as text with nothing run. Screenshots go to tmp_path."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.web.conftest import ADMIN, ADMIN_PASSWORD, TOKEN, add_user, sign_in
from yuqing.settings import Settings
from yuqing.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS = [
    {"id": "xss-1", "source": "weibo", "text": "食堂<script>window.__xss = 1</script>投毒谣言"},
    {
        "id": "xss-2",
        "source": "weibo",
        "text": '食堂<img src=x onerror="window.__xss = 2">夜拍照片',
    },
]

if not CHROMIUM.exists():
    message = f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must have it)", pytrace=False)
    pytest.skip(message, allow_module_level=True)

from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on its own copy of the demo store, served by uvicorn in a thread."""
    folder = tmp_path_factory.mktemp("browser")
    source = Path(demo_url.removeprefix("sqlite:///"))
    shutil.copy(source, folder / "web.db")
    settings = Settings.model_validate(
        {"store": f"sqlite:///{folder / 'web.db'}", "web": {"api_tokens": [TOKEN]}}
    )
    add_user(settings.store, ADMIN, "admin", ADMIN_PASSWORD)
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 15 s")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    answer = httpx.post(
        f"{url}/api/v1/posts", json=XSS, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 2, answer.text
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_overview_search_traditional_and_event(page: Page, base_url: str, tmp_path: Path) -> None:
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(base_url) else None,
    )
    page.goto(base_url + "/")  # nobody signed in: the login form, then back to the overview
    expect(page).to_have_url(base_url + "/login?next=/")
    expect(page.locator("h1")).to_have_text("登录舆情监测")
    page.fill("#login-username", ADMIN)
    page.fill("#login-password", "wrong-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
    page.fill("#login-password", ADMIN_PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(base_url + "/")
    expect(page.locator("h1")).to_have_text("舆情总览")
    expect(page.locator("#me")).to_have_text(ADMIN)
    for name in ("volume", "emotion", "sources", "regions"):
        expect(page.locator(f"#chart-{name} svg.main-svg").first).to_be_attached(timeout=10_000)
    expect(page.locator("table.events tbody tr").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

    page.click("text=搜索")
    page.fill("input[name=q]", "食堂")
    page.click("button[type=submit]")
    marks = page.locator(".hit mark")
    expect(marks.first).to_have_text("食堂")
    assert marks.count() >= 10
    page.screenshot(path=str(tmp_path / "search.png"), full_page=False)

    page.click("#lang-switch")
    expect(page.locator("header nav")).to_contain_text("總覽")
    expect(page.locator("h1")).to_contain_text("全文搜索")  # 搜索 is the same in both scripts
    expect(page.locator("#lang-switch")).to_have_text("简体")
    page.goto(base_url + "/")  # the cookie keeps Traditional
    expect(page.locator("h1")).to_have_text("輿情總覽")
    page.locator("table.events tbody tr td.title a").first.click()
    expect(page.locator(".event-title")).to_be_visible()
    expect(page.locator("#chart-timeline svg.main-svg").first).to_be_attached(timeout=10_000)
    expect(page.locator("body")).to_contain_text("關鍵帖文")
    expect(page.locator("#advice h2")).to_have_text("應對策略建議")  # judgement panels, 繁體
    page.screenshot(path=str(tmp_path / "event.png"), full_page=True)
    assert external == [], f"the pages fetched from outside: {external}"


def test_script_payloads_in_posts_do_not_run(page: Page, base_url: str) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page.context, base_url, ADMIN, ADMIN_PASSWORD)
    page.goto(base_url + "/search?q=投毒谣言&lang=zh-Hans")
    page.click(".hit details summary")
    expect(page.locator(".hit details .text")).to_have_text(XSS[0]["text"])
    page.goto(base_url + "/search?q=夜拍照片&lang=zh-Hans")
    page.click(".hit details summary")
    expect(page.locator(".hit details .text")).to_have_text(XSS[1]["text"])
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator(".hit img").count() == 0
    assert dialogs == []
