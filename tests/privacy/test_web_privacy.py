"""Data scope, audit log and masking through the real app over a real SQLite store: a viewer
of department A cannot see, open or export department B's case or plan; logins, exports
and user changes land in the audit log, which only admins read; viewers see 用户***
instead of author handles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from yuqing.exports import read_csv_export
from yuqing.models import Document
from yuqing.privacy.masking import MASK
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user, new_api_token
from yuqing.web import create_app

SERVICE = "service-token-123"
NOW = datetime.now(UTC)


@pytest.fixture
def app_tokens(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app over a new store; tokens of admin, viewer_a (A局), viewer_b (B局), analyst_a."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    tokens: dict[str, str] = {}
    store = open_store(url)
    try:
        for name, role, dept in [
            ("boss", "admin", "A局"),
            ("viewer_a", "viewer", "A局"),
            ("viewer_b", "viewer", "B局"),
            ("analyst_a", "analyst", "A局"),
            ("analyst_all", "analyst", None),
        ]:
            create_user(store, name, role=role, password="long-password-1", department=dept)
            tokens[name] = new_api_token(store, name)[1]
        store.add_documents(
            [
                Document(
                    source="weibo",
                    id="w1",
                    text="食堂问题",
                    norm_text="食堂问题",
                    author="张三的号",
                    author_followers=1234,
                    published_at=NOW - timedelta(hours=1),
                    analysis={"sentiment": "negative"},
                )
            ]
        )
        store.index_pending()
    finally:
        store.close()
    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [SERVICE]}})
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_case(client: TestClient, title: str, owner: str) -> str:
    answer = client.post(
        "/api/v1/cases", json={"title": title, "owner": owner}, headers=bearer(SERVICE)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case"]["id"])


def test_viewer_of_a_cannot_see_b_case(app_tokens: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app_tokens
    case_a = open_case(client, "A局的案件", "A局")
    case_b = open_case(client, "B局的案件", "B局")
    viewer_a = bearer(tokens["viewer_a"])

    listed = client.get("/api/v1/cases", headers=viewer_a).json()
    assert [c["id"] for c in listed["items"]] == [case_a]
    assert client.get(f"/api/v1/cases/{case_b}", headers=viewer_a).status_code == 404
    assert client.get(f"/api/v1/cases/{case_a}", headers=viewer_a).status_code == 200
    page = client.get(f"/cases/{case_b}", headers=viewer_a)
    assert page.status_code == 404 and "B局的案件" not in page.text
    listing = client.get("/cases", headers=viewer_a)
    assert "A局的案件" in listing.text and "B局的案件" not in listing.text
    # an analyst of A cannot change B's case either
    note = {"text": "看看"}
    headers = bearer(tokens["analyst_a"])
    assert (
        client.post(f"/api/v1/cases/{case_b}/notes", json=note, headers=headers).status_code == 404
    )
    # exports hold only A's case
    exported = client.get("/api/v1/export/cases?format=csv", headers=viewer_a)
    assert exported.status_code == 200
    rows = read_csv_export(exported.content).tables["案件"][1:]  # after the header row
    assert [r[0] for r in rows] == [case_a]
    # the unscoped see both
    for who in (bearer(tokens["boss"]), bearer(tokens["analyst_all"]), bearer(SERVICE)):
        ids = {c["id"] for c in client.get("/api/v1/cases", headers=who).json()["items"]}
        assert ids == {case_a, case_b}
    # a case a scoped analyst opens stays visible to it (its department is added)
    opened = client.post("/api/v1/cases", json={"title": "新案件"}, headers=headers).json()
    assert opened["case"]["departments"] == ["A局"]


def test_plans_are_scoped(app_tokens: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app_tokens
    for plan_id, dept in [("pa", "A局"), ("pb", "B局")]:
        body = {"id": plan_id, "name": plan_id, "department": dept, "rules": [], "sources": []}
        answer = client.put(
            f"/api/v1/monitoring-plans/{plan_id}", json=body, headers=bearer(SERVICE)
        )
        assert answer.status_code == 201, answer.text
    viewer_a = bearer(tokens["viewer_a"])
    items = client.get("/api/v1/monitoring-plans", headers=viewer_a).json()["items"]
    assert [p["id"] for p in items] == ["pa"]
    assert client.get("/api/v1/monitoring-plans/pb", headers=viewer_a).status_code == 404
    analyst_a = bearer(tokens["analyst_a"])
    assert client.delete("/api/v1/monitoring-plans/pb", headers=analyst_a).status_code == 404
    other = {"id": "pc", "name": "pc", "department": "B局"}
    refused = client.post("/api/v1/monitoring-plans", json=other, headers=analyst_a)
    assert refused.status_code == 403
    mine = client.post(
        "/api/v1/monitoring-plans", json={"id": "pd", "name": "pd"}, headers=analyst_a
    )
    assert mine.status_code == 201 and mine.json()["plan"]["department"] == "A局"
    page = client.get("/plans", headers=viewer_a)
    assert page.status_code == 200 and "pb" not in page.text


def _login(client: TestClient, username: str, password: str) -> int:
    client.cookies.clear()
    client.get("/login")
    csrf = client.cookies.get("yuqing_csrf")
    form = {"username": username, "password": password, "csrf_token": csrf, "next": "/"}
    status: int = client.post("/login", data=form, follow_redirects=False).status_code
    client.cookies.clear()
    return status


def test_audit_log_of_logins_exports_and_user_changes(
    app_tokens: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = app_tokens
    assert _login(client, "viewer_a", "wrong-password") == 401
    assert _login(client, "viewer_a", "long-password-1") == 303
    boss = bearer(tokens["boss"])
    assert client.get("/api/v1/export/search?q=食堂&format=csv", headers=boss).status_code == 200
    changed = client.patch("/api/v1/users/viewer_b", json={"role": "analyst"}, headers=boss)
    assert changed.status_code == 200
    made = client.post("/api/v1/users", json={"username": "new1", "role": "viewer"}, headers=boss)
    assert made.status_code == 201

    assert client.get("/api/v1/audit", headers=bearer(tokens["viewer_a"])).status_code == 403
    items = client.get("/api/v1/audit", headers=boss).json()["items"]
    actions = [(e["action"], e["actor"], e["target"]) for e in items]
    assert actions == [
        ("user_create", "boss", "new1"),
        ("role_change", "boss", "viewer_b"),
        ("export", "boss", "search"),
        ("login", "viewer_a", "viewer_a"),
        ("login_failed", "viewer_a", "viewer_a"),
    ]
    assert all(e["client"] == "testclient" for e in items)
    export = items[2]["details"]
    assert export["format"] == "csv" and export["rows"] == 1 and "long-password" not in str(items)
    only = client.get("/api/v1/audit?user=viewer_a&action=login", headers=boss).json()
    assert only["count"] == 1


def test_author_handles_masked_for_viewers(app_tokens: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app_tokens
    viewer = client.get("/api/v1/posts", headers=bearer(tokens["viewer_a"])).json()
    assert viewer["items"][0]["author"] == MASK
    analyst = client.get("/api/v1/posts", headers=bearer(tokens["analyst_a"])).json()
    assert analyst["items"][0]["author"] == "张三的号"
    page = client.get("/posts/weibo/w1", headers=bearer(tokens["viewer_a"]))
    assert page.status_code == 200 and "张三的号" not in page.text and "1234" not in page.text
    page = client.get("/posts/weibo/w1", headers=bearer(tokens["analyst_a"]))
    assert "张三的号" in page.text and "1234" in page.text
    exported = client.get(
        "/api/v1/export/search?q=食堂&format=csv", headers=bearer(tokens["viewer_a"])
    )
    assert "张三的号" not in exported.content.decode("utf-8-sig")


def test_delete_author_api(app_tokens: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app_tokens
    body = {"author": "张三的号", "reason": "本人申请"}
    assert (
        client.post(
            "/api/v1/privacy/delete-author", json=body, headers=bearer(tokens["analyst_a"])
        ).status_code
        == 403
    )
    answer = client.post("/api/v1/privacy/delete-author", json=body, headers=bearer(tokens["boss"]))
    assert answer.status_code == 200 and answer.json()["deleted"] == 1
    assert client.get("/api/v1/search?q=食堂", headers=bearer(tokens["boss"])).json()["count"] == 0
    logged = client.get("/api/v1/audit?action=delete_author", headers=bearer(tokens["boss"])).json()
    assert logged["items"][0]["details"] == {
        "source": None,
        "deleted": 1,
        "blocked": True,
        "reason": "本人申请",
    }


def test_blocked_authors_api(app_tokens: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = app_tokens
    boss, analyst = bearer(tokens["boss"]), bearer(tokens["analyst_a"])
    body = {"author": "@张三的号", "source": "weibo", "reason": "本人申请"}
    deleted = client.post("/api/v1/privacy/delete-author", json=body, headers=boss).json()
    assert (deleted["deleted"], deleted["blocked"], deleted["source"]) == (1, True, "weibo")
    only = {"author": "李四", "block": False}
    assert (
        client.post("/api/v1/privacy/delete-author", json=only, headers=boss).json()["blocked"]
        is False
    )
    assert client.get("/api/v1/privacy/blocked", headers=analyst).status_code == 403
    listed = client.get("/api/v1/privacy/blocked", headers=boss).json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert (item["author"], item["source"], item["actor"], item["reason"]) == (
        "张三的号",
        "weibo",
        "boss",
        "本人申请",
    )

    # Pushed posts of a blocked author are not stored; the others are.
    pushed = client.post(
        "/api/v1/posts",
        json={
            "posts": [
                {"source": "weibo", "id": "w9", "text": "食堂又出问题", "author": "张三的号"},
                {"source": "weibo", "id": "w10", "text": "食堂问题", "author": "王五"},
            ]
        },
        headers=bearer(SERVICE),
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["stored"] == 1

    wrong = {"author": "张三的号"}  # the entry is of weibo only
    assert client.post("/api/v1/privacy/unblock", json=wrong, headers=boss).status_code == 404
    assert client.post("/api/v1/privacy/unblock", json=wrong, headers=analyst).status_code == 403
    right = {"author": "张三的号", "source": "weibo"}
    answer = client.post("/api/v1/privacy/unblock", json=right, headers=boss)
    assert answer.status_code == 200 and answer.json()["source"] == "weibo"
    assert client.get("/api/v1/privacy/blocked", headers=boss).json()["count"] == 0
    logged = client.get("/api/v1/audit?action=unblock_author", headers=boss).json()["items"]
    assert [(e["target"], e["actor"], e["details"]) for e in logged] == [
        ("张三的号", "boss", {"source": "weibo"})
    ]
