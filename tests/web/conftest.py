"""A real SQLite store filled by the real pipeline with the demo scenario (once per test
session), and a TestClient over the app.

Every route needs credentials (yuqing.web.auth): ``client`` sends the service token
``TOKEN`` (web.api_tokens, admin rights) on every request, ``anon`` is the same app with
none; browser pages sign in as ``ADMIN`` (made in the module's store) before the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from yuqing.demo.scenario import generate, iter_jsonl
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store
from yuqing.users import create_user
from yuqing.web import create_app

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADMIN, ADMIN_PASSWORD = "tester", "tester-password-1"


def add_user(url: str, username: str, role: str, password: str) -> None:
    """Create a user in the store at ``url`` (once: an existing name is left alone)."""
    store = open_store(url)
    try:
        if store.get_user(username) is None:
            create_user(store, username, role=role, password=password)
    finally:
        store.close()


def sign_in(context: BrowserContext, base_url: str, username: str, password: str) -> None:
    """Sign the browser context in through the login form's endpoint (cookies are shared
    with its pages)."""
    context.request.get(f"{base_url}/login")
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "yuqing_csrf")
    answer = context.request.post(
        f"{base_url}/login",
        form={"username": username, "password": password, "csrf_token": csrf, "next": "/"},
        max_redirects=0,
    )
    assert answer.status == 303, answer.text()


def fill_demo_store(folder: Path, posts: int = 600) -> str:
    """Ingest the demo scenario through normalize ... analysis, events into a new store
    under ``folder``, save the events, and return the store URL."""
    data = folder / "posts.jsonl"
    data.write_bytes(b"".join(iter_jsonl(generate(posts, seed=7))))
    url = f"sqlite:///{folder / 'web.db'}"
    settings = Settings.model_validate({"store": url})
    pipeline = build_pipeline(settings, analysis=True, events=True)
    store = open_store(url)
    try:
        Ingestor(store, pipeline, batch_size=200).run(
            list(open_sources([str(data)], zone=settings.zone))
        )
        clusterer = next(s for s in pipeline.stages if s.name == "events")
        store.upsert_events(clusterer.close_all())  # type: ignore[attr-defined]
    finally:
        store.close()
    return url


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fill_demo_store(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture(scope="session")
def settings(demo_url: str) -> Settings:
    return Settings.model_validate({"store": demo_url, "web": {"api_tokens": [TOKEN]}})


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=AUTH) as test_client:
        yield test_client


@pytest.fixture
def anon(client: TestClient) -> TestClient:
    """The ``client``'s app without credentials."""
    return TestClient(client.app)


@pytest.fixture
def auth() -> dict[str, str]:
    return dict(AUTH)


# -- browser tests: a page served from the calling module's own store (its ``url`` fixture)


@pytest.fixture(scope="module")
def base_url(url: str) -> Iterator[str]:
    from tests.web.test_alerts_api import served

    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}})
    add_user(url, ADMIN, "admin", ADMIN_PASSWORD)
    with served(settings) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from tests.web.browser import ARGS, CHROMIUM, require_chromium

    require_chromium()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield launched
        launched.close()


@contextmanager
def signed_in_page(browser: Browser, base_url: str, username: str, password: str) -> Iterator[Page]:
    """A fresh page signed in as ``username`` that fails the test on JavaScript errors or
    requests to other hosts."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    sign_in(context, base_url, username, password)
    opened = context.new_page()
    errors: list[str] = []
    external: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("request", lambda r: None if r.url.startswith(base_url) else external.append(r.url))
    opened.on("dialog", lambda dialog: dialog.accept())
    yield opened
    context.close()  # closes event streams before the server stops
    assert errors == [], f"JavaScript errors on the page: {errors}"
    assert external == [], f"requests left the server: {external}"


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh page, signed in as ADMIN (see :func:`signed_in_page`)."""
    with signed_in_page(browser, base_url, ADMIN, ADMIN_PASSWORD) as opened:
        yield opened
