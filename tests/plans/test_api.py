"""The plans API end to end: a plan made through the API is polled at once by the serve
poller (the app's background thread) from a feed served by the test; its posts land in the
store, its rule raises an alert, and its health shows on /api/v1/monitoring-plans/{id}/health. Bad
plans and secrets are refused with the API's error shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.plans.conftest import FeedServer, plan_settings, rss
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.web import create_app

TOKEN = "plans-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return plan_settings(
        tmp_path,
        web={"api_tokens": [TOKEN]},
        plans={"tick": "100ms", "host_interval": "1s", "min_interval": "1m"},
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=AUTH) as test_client:
        yield test_client


def _plan(server: FeedServer) -> dict[str, Any]:
    return {
        "id": "campus-food",
        "name": "校园食品安全",
        "department": "宣传处",
        "notify": ["duty"],
        "rules": [{"id": "canteen", "name": "食堂", "query": "食堂 AND 过期"}],
        "sources": [
            {"id": "food", "kind": "rss", "url": server.url("/food.xml"), "interval": "5m"},
            {"id": "wechat", "kind": "push", "name": "wechat-collector"},
        ],
    }


def _wait_for(check: Any, what: str, seconds: float = 60.0) -> Any:
    """Wait (bounded, not timed) until ``check()`` returns something true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_a_plan_made_through_the_api_is_polled(
    client: TestClient, feed_server: FeedServer, settings: Settings
) -> None:
    feed_server.feeds["/food.xml"] = rss(
        "教育新闻", [("a1", "某校食堂使用过期食材"), ("a2", "运动会顺利闭幕")]
    )
    answer = client.post("/api/v1/monitoring-plans", json=_plan(feed_server))
    assert answer.status_code == 201, answer.text
    created = answer.json()["plan"]
    assert created["rules"][0]["rule_id"] == "plan:campus-food:canteen"

    def polled() -> dict[str, Any] | None:
        health = client.get("/api/v1/monitoring-plans/campus-food/health").json()
        food = next(s for s in health["sources"] if s["source_id"] == "food")
        return health if food["health"] == "ok" else None

    health = _wait_for(polled, "the serve poller to poll the new plan's feed")
    food, push = health["sources"]
    assert food["posts_fetched"] == 2 and food["failures"] == 0 and food["conditional"]
    assert food["last_poll_at"] and food["next_poll_at"]
    assert push["health"] == "push" and push["label"] == "推送接收"
    assert health["poller"]["running"] is True
    assert feed_server.requests("/food.xml")[0].status == 200

    alerts = _wait_for(
        lambda: client.get("/api/v1/alerts", params={"rule_id": "plan:campus-food:canteen"}).json()[
            "items"
        ],
        "the plan rule's alert",
    )
    assert alerts[0]["rule_id"] == "plan:campus-food:canteen"
    store = open_store(settings.store)
    try:
        assert {d.id for d in store.latest_documents(limit=10)} == {"a1", "a2"}
    finally:
        store.close()

    listed = client.get("/api/v1/monitoring-plans").json()
    assert listed["count"] == 1
    assert listed["items"][0]["health"]["by_health"] == {"ok": 1, "push": 1}


def test_crud_and_errors(client: TestClient, feed_server: FeedServer) -> None:
    plan = _plan(feed_server)
    plan["enabled"] = False  # nothing to poll in this test
    assert client.post("/api/v1/monitoring-plans", json=plan).status_code == 201
    again = client.post("/api/v1/monitoring-plans", json=plan)
    assert again.status_code == 409 and again.json()["error"]["code"] == "plan_exists"

    plan["name"] = "改名"
    replaced = client.put("/api/v1/monitoring-plans/campus-food", json=plan)
    assert replaced.status_code == 200 and replaced.json()["created"] is False
    got = client.get("/api/v1/monitoring-plans/campus-food").json()
    assert got["plan"]["name"] == "改名" and got["health"][0]["health"] == "disabled"
    made = client.put("/api/v1/monitoring-plans/other", json=plan | {"id": "other"})
    assert made.status_code == 201
    clash = client.put("/api/v1/monitoring-plans/third", json=plan | {"id": "other"})
    assert clash.status_code == 400 and "differs" in clash.json()["error"]["message"]

    bad = client.post(
        "/api/v1/monitoring-plans", json=plan | {"id": "x", "rules": [{"query": "食堂 AND ("}]}
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_plan"
    assert "column" in bad.json()["error"]["message"]
    unknown = client.post("/api/v1/monitoring-plans", json=plan | {"id": "y", "notify": ["nobody"]})
    assert unknown.status_code == 400 and "unknown channel" in unknown.json()["error"]["message"]

    secret = client.post(
        "/api/v1/monitoring-plans",
        json=plan | {"id": "z", "notify": [{"kind": "smtp", "password": "hunter2"}]},
    )
    assert secret.status_code == 400
    error = secret.json()["error"]
    assert (
        error["code"] == "secret_refused" and error["details"]["path"] == "plan.notify[0].password"
    )
    assert "hunter2" not in secret.text

    assert client.delete("/api/v1/monitoring-plans/other").json() == {
        "ok": True,
        "deleted": "other",
    }
    assert client.delete("/api/v1/monitoring-plans/other").status_code == 404
    assert client.get("/api/v1/monitoring-plans/other").status_code == 404
    assert client.get("/api/v1/monitoring-plans/other/health").status_code == 404
    assert [p["id"] for p in client.get("/api/v1/monitoring-plans").json()["items"]] == [
        "campus-food"
    ]
    assert client.get("/api/v1/monitoring-plans", params={"enabled": "true"}).json()["count"] == 0


def test_writes_need_credentials(settings: Settings) -> None:
    with TestClient(create_app(settings)) as anonymous:
        answer = anonymous.post("/api/v1/monitoring-plans", json={"name": "x"})
        assert answer.status_code == 401
        assert anonymous.get("/api/v1/monitoring-plans").status_code == 401
