"""The admins' pages (用户 ``/users``, 审计 ``/audit``) and the small fixes of the role change:
non-admins get the 403 page; the users page lists users and the API it uses creates,
changes, disables and issues a token shown once (each in the audit log, read back through the
audit page's filters); viewers may call the POSTs that change nothing; ``by`` defaults to the
signed-in user. A copy of the demo store, so the shared one keeps its users and cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AUTH, TOKEN
from tests.web.test_alerts_api import add_alerts, copy_store, make_alert
from tests.web.test_claim_pages import token_of
from yuqing.settings import Settings
from yuqing.web import create_app


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("admin-pages"))


@pytest.fixture(scope="module")
def admin(url: str) -> Iterator[TestClient]:
    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}})
    with TestClient(create_app(settings), headers=AUTH) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def viewer(url: str) -> dict[str, str]:
    return token_of(url, "page-viewer", "viewer")


@pytest.fixture(scope="module")
def analyst(url: str) -> dict[str, str]:
    return token_of(url, "page-analyst", "analyst")


def test_admin_pages_are_for_admins_only(
    admin: TestClient, viewer: dict[str, str], analyst: dict[str, str]
) -> None:
    for who in (viewer, analyst):
        for path in ("/users", "/audit"):
            page = admin.get(path, headers=who)
            assert page.status_code == 403
            assert "管理员" in page.text and "<html" in page.text  # the HTML 403 page
        assert 'href="/users"' not in admin.get("/", headers=who).text
    home = admin.get("/").text
    assert 'href="/users"' in home and 'href="/audit"' in home and 'href="/claims"' in home


def test_users_page_lists_and_api_changes_users(admin: TestClient, url: str) -> None:
    made = admin.post(
        "/api/v1/users",
        json={
            "username": "新用户",
            "role": "viewer",
            "department": "宣传部",
            "password": "pw-123456",
        },
    )
    assert made.status_code == 201, made.text
    page = admin.get("/users").text
    row = page.split('data-user="新用户"', 1)[1].split("</tr>", 1)[0]
    assert "宣传部" in row and 'value="viewer" selected' in row and "—" in row  # never signed in
    assert "page-viewer" in page or "page-analyst" in page or "新用户" in page

    changed = admin.patch("/api/v1/users/新用户", json={"role": "analyst", "department": "网信办"})
    assert changed.json()["user"]["role"] == "analyst"
    assert admin.patch("/api/v1/users/新用户", json={"disabled": True}).json()["user"]["disabled"]
    row = admin.get("/users").text.split('data-user="新用户"', 1)[1].split("</tr>", 1)[0]
    assert "已停用" in row and "网信办" in row and 'data-disabled="true"' in row

    admin.patch("/api/v1/users/新用户", json={"disabled": False})
    issued = admin.post("/api/v1/users/新用户/tokens", json={"name": "web"})
    assert issued.status_code == 201
    secret = issued.json()["token"]
    assert (
        admin.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"}).json()["user"][
            "username"
        ]
        == "新用户"
    )
    assert secret not in admin.get("/users").text  # shown once, in the answer only
    assert admin.post("/api/v1/users/nobody/tokens", json={}).status_code == 404


def test_audit_page_filters(admin: TestClient) -> None:
    admin.post("/api/v1/users", json={"username": "audit-probe", "role": "viewer"})
    page = admin.get("/audit")
    assert page.status_code == 200
    assert 'id="audit-table"' in page.text and "audit-probe" in page.text
    only = admin.get("/audit", params={"action": "user_create", "user": "api-token"}).text
    rows = only.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "audit-probe" in rows and 'data-action="user_change"' not in rows
    none = admin.get("/audit", params={"user": "nobody-at-all"}).text
    assert "没有符合条件的记录" in none
    assert admin.get("/audit", params={"action": "nonsense"}).status_code == 400
    assert admin.get("/audit", params={"since": "yesterday-ish"}).status_code == 400


def test_viewers_may_use_the_posts_that_change_nothing(
    admin: TestClient, viewer: dict[str, str]
) -> None:
    tested = admin.post(
        "/api/v1/rules/test", json={"query": "食堂", "text": "学校食堂"}, headers=viewer
    )
    assert tested.status_code == 200, tested.text
    facts = {
        "event": "某事件",
        "issuer": "某局",
        "occurred_at": "2026-11-20T12:00:00+08:00",
        "place": "某地",
        "summary": "情况概要",
    }
    assert admin.post("/api/v1/statements/draft", json=facts, headers=viewer).status_code == 200
    case_id = admin.post("/api/v1/cases", json={"title": "查看测试"}).json()["case"]["id"]
    checked = admin.post(f"/api/v1/cases/{case_id}/check", json={"text": "通报"}, headers=viewer)
    assert checked.status_code == 200, checked.text
    denied = admin.post(f"/api/v1/cases/{case_id}/notes", json={"text": "x"}, headers=viewer)
    assert denied.status_code == 403


def test_by_defaults_to_the_signed_in_user(
    admin: TestClient, url: str, analyst: dict[str, str]
) -> None:
    opened = admin.post("/api/v1/cases", json={"title": "谁做的"}, headers=analyst).json()["case"]
    case_id = opened["id"]
    admin.post(f"/api/v1/cases/{case_id}/notes", json={"text": "备注"}, headers=analyst)
    admin.post(
        f"/api/v1/cases/{case_id}/notes", json={"text": "代记", "by": "值班员"}, headers=analyst
    )
    log = admin.get(f"/api/v1/cases/{case_id}").json()["case"]["actions"]
    assert [a["who"] for a in log] == ["page-analyst", "page-analyst", "值班员"]

    alert = make_alert(901)
    add_alerts(url, alert)
    acked = admin.post(f"/api/v1/alerts/{alert.id}/ack", json={}, headers=analyst)
    assert acked.json()["alert"]["acknowledged_by"] == "page-analyst"
