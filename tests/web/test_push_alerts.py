"""Alert rules on pushed posts (``POST /api/v1/posts``, yuqing/web/push_alerts.py): a pushed
post that matches a saved rule, or a monitoring plan's rule, raises an alert that is stored
(``GET /api/v1/alerts``) and delivered to a real local webhook receiver; a repeated push
raises nothing new; ``[web] push_alerts = false`` turns it off. Real SQLite, the real
pipeline, the app with its lifespan (which closes the dispatcher)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.alerts.test_channels import SECRET, Receiver, webhook_valid
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.web import create_app

TOKEN = "push-alerts-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RULE = {"id": "canteen", "name": "食堂食品安全", "query": "食堂 AND 过期"}
PLAN = {
    "id": "fire-watch",
    "name": "消防监测",
    "notify": ["hook"],
    "rules": [{"id": "fire", "name": "火情", "query": "火灾"}],
}


def posts(*texts: str, prefix: str = "p") -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "id": f"{prefix}{i}",
            "source": "weibo",
            "text": text,
            "published_at": (now - timedelta(minutes=len(texts) - i)).isoformat(),
        }
        for i, text in enumerate(texts)
    ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def settings_for(tmp_path: Path, receiver: Receiver, **web: Any) -> Settings:
    return Settings.model_validate(
        {
            "store": f"sqlite:///{tmp_path / 'push.db'}",
            "web": {"api_tokens": [TOKEN], **web},
            "alerts": {
                "channels": [
                    {
                        "kind": "webhook",
                        "name": "hook",
                        "url": receiver.url("/hook"),
                        "secret": SECRET,
                    }
                ],
                "delivery": {"attempts": 2, "base_delay": 0.01, "jitter": 0},
            },
        }
    )


def push(client: TestClient, records: list[dict[str, Any]]) -> dict[str, Any]:
    answer = client.post("/api/v1/posts", json={"posts": records}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def stored_alerts(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/alerts", headers=AUTH)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def test_a_pushed_post_matching_a_saved_rule_raises_a_stored_and_delivered_alert(
    tmp_path: Path, receiver: Receiver
) -> None:
    settings = settings_for(tmp_path, receiver)
    batch = posts("某中学食堂被曝使用过期食材，多名学生腹痛", "今天天气很好，适合出游")
    with TestClient(create_app(settings)) as client:
        saved = client.post("/api/v1/rules", json=RULE, headers=AUTH)
        assert saved.status_code in (200, 201), saved.text
        first = push(client, batch)
        assert (first["stored"], first["existing"], first["alerts"]) == (2, 0, 1)
        alerts = stored_alerts(client)
        assert [a["rule_id"] for a in alerts] == ["canteen"]
        assert alerts[0]["status"] == "new"
        assert any("过期食材" in s["text"] for s in alerts[0]["samples"])
        got = receiver.wait_for(1)
        assert len(got) == 1 and got[0].path == "/hook" and webhook_valid(got[0])
        assert got[0].json()["id"] == alerts[0]["id"]

        again = push(client, batch)  # idempotent: nothing new stored, nothing raised
        assert (again["stored"], again["existing"], again["alerts"]) == (0, 2, 0)
        assert [a["id"] for a in stored_alerts(client)] == [alerts[0]["id"]]

        # a plan saved while the server runs applies from the next push
        made = client.post("/api/v1/monitoring-plans", json=PLAN, headers=AUTH)
        assert made.status_code == 201, made.text
        fire = push(client, posts("小区发生火灾，消防已到场", prefix="f"))
        assert fire["alerts"] == 1
        rules = {a["rule_id"] for a in stored_alerts(client)}
        assert rules == {"canteen", "plan:fire-watch:fire"}
    # the app's shutdown closed the dispatcher after delivering what was pending
    assert [r.path for r in receiver.received] == ["/hook", "/hook"]
    assert all(webhook_valid(r) for r in receiver.received)
    store = open_store(settings.store)
    try:
        assert len(store.alerts(limit=10)) == 2
    finally:
        store.close()


def test_push_alerts_off_stores_posts_and_raises_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    settings = settings_for(tmp_path, receiver, push_alerts=False)
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/rules", json=RULE, headers=AUTH).status_code in (200, 201)
        body = push(client, posts("食堂的过期食材又被端上餐桌"))
        assert body["stored"] == 1 and body["alerts"] is None
        assert stored_alerts(client) == []
    assert receiver.received == []
