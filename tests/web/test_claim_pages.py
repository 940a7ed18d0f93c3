"""The 辟谣/核实 page and the event page's claims section, over a copy of the demo store on
a ManualClock at the data's "now": a claim recorded and marked false through the API shows
on the list with its verdict, evidence link and matched posts, and on its event's page with
the posts that repeat it and the debunking link. Viewers see the list, not the form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AUTH, TOKEN
from tests.web.test_alerts_api import copy_store
from yuqing.clock import ManualClock
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user, new_api_token
from yuqing.web import create_app, views

RUMOUR = "鄞州实验中学有学生食物中毒死亡"
EVIDENCE = "https://www.piyao.org.cn/yinzhou-school"


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("claim-pages"))


@pytest.fixture(scope="module")
def event_id(url: str) -> str:
    store = open_store(url)
    try:
        return views.hot_events(store, views.as_of(store), limit=1)[0].id
    finally:
        store.close()


@pytest.fixture(scope="module")
def app_client(url: str) -> Iterator[TestClient]:
    store = open_store(url)
    try:
        now = views.as_of(store)
    finally:
        store.close()
    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}})
    with TestClient(create_app(settings, clock=ManualClock(now)), headers=AUTH) as test_client:
        yield test_client


def token_of(url: str, username: str, role: str) -> dict[str, str]:
    """A bearer header of a new user with ``role`` in the store at ``url``."""
    store = open_store(url)
    try:
        create_user(store, username, role=role)
        _, secret = new_api_token(store, username)
    finally:
        store.close()
    return {"Authorization": f"Bearer {secret}"}


def test_claim_marked_false_shows_on_list_and_event(app_client: TestClient, event_id: str) -> None:
    answer = app_client.post(
        "/api/v1/claims",
        json={
            "statement": RUMOUR,
            "verdict": "false",
            "evidence_url": EVIDENCE,
            "event_id": event_id,
        },
    )
    assert answer.status_code == 201, answer.text
    claim = answer.json()["claim"]
    assert answer.json()["rescored"]["changed"] > 0

    page = app_client.get("/claims")
    assert page.status_code == 200
    html = page.text
    assert RUMOUR in html and EVIDENCE in html and "不实" in html
    assert 'id="claim-form"' in html  # the service token is an admin
    row = html.split(f'data-id="{claim["id"]}"', 1)[1].split("</tr>", 1)[0]
    matched = int(row.split('class="matched">', 1)[1].split(">", 1)[1].split("<", 1)[0])
    assert matched >= 2  # the Simplified and the Traditional copies at least
    assert app_client.get("/claims?verdict=true").text.count(RUMOUR) == 0
    assert RUMOUR in app_client.get(f"/claims?event={event_id}").text

    event = app_client.get(f"/events/{event_id}").text
    section = event.split('id="event-claims"', 1)[1].split("</section>", 1)[0]
    assert RUMOUR in section and EVIDENCE in section
    assert 'class="debunk"' in section  # posts repeating it, with the debunking link
    assert "食物中毒死亡" in section.split("重复不实说法的帖文", 1)[1]
    assert "管理说法" in section


def test_claims_page_bad_verdict_and_traditional(app_client: TestClient) -> None:
    assert app_client.get("/claims?verdict=maybe").status_code == 400
    assert "闢謠覈實" in app_client.get("/claims?lang=zh-Hant").text
    assert "辟谣核实" in app_client.get("/claims?lang=zh-Hans").text


def test_viewer_sees_list_without_form_and_cannot_write(app_client: TestClient, url: str) -> None:
    viewer = token_of(url, "claims-viewer", "viewer")
    page = app_client.get("/claims", headers=viewer)
    assert page.status_code == 200
    assert 'id="claim-form"' not in page.text
    assert "需要分析员权限" in page.text
    assert 'href="/users"' not in page.text  # the admin links are for admins only
    denied = app_client.post("/api/v1/claims", json={"statement": "某说法"}, headers=viewer)
    assert denied.status_code == 403


def test_claim_by_defaults_to_signed_in_user(app_client: TestClient, url: str) -> None:
    analyst = token_of(url, "claims-analyst", "analyst")
    answer = app_client.post(
        "/api/v1/claims", json={"statement": "某地发生大规模停电事故"}, headers=analyst
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["claim"]["created_by"] == "claims-analyst"
    claim_id = answer.json()["claim"]["id"]
    marked = app_client.put(
        f"/api/v1/claims/{claim_id}",
        json={"verdict": "true", "evidence_url": "https://example.gov.cn/notice"},
        headers=analyst,
    )
    assert marked.json()["claim"]["marked_by"] == "claims-analyst"
    given = app_client.post(
        "/api/v1/claims", json={"statement": "另一说法内容测试", "by": "值班员"}
    )
    assert given.json()["claim"]["created_by"] == "值班员"
