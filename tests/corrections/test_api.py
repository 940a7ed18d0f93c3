"""The corrections API end to end on a real SQLite store: a correction changes what the
dashboard's API reports (label counts, trends, events, alerts), names who made it, and
needs the analyst role."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from yuqing.alerts.alert import Alert
from yuqing.clock import ManualClock
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user, new_api_token
from yuqing.web import create_app

TOKEN = "corrections-test-token"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    settings = Settings.model_validate({"store": store_url, "web": {"api_tokens": [TOKEN]}})
    app = create_app(settings, clock=ManualClock(NOW))
    with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as test_client:
        yield test_client


def _token(url: str, username: str, role: str) -> dict[str, str]:
    store = open_store(url)
    try:
        create_user(store, username, role=role)
        _, token = new_api_token(store, username)
    finally:
        store.close()
    return {"Authorization": f"Bearer {token}"}


def _sentiment_counts(client: TestClient) -> dict[str, int]:
    stats = client.get("/api/v1/stats").json()
    return dict(stats["sentiment"])


def _trend(client: TestClient) -> dict[str, int]:
    answer = client.get("/api/v1/trends", params={"dimension": "sentiment", "bucket": "day"})
    assert answer.status_code == 200, answer.text
    return {s["value"]: s["total"] for s in answer.json()["series"]}


def test_a_relabel_changes_the_dashboard_at_once(client: TestClient, store_url: str) -> None:
    assert _sentiment_counts(client) == {"neutral": 3, "negative": 2, "positive": 1}
    before = _trend(client)
    analyst = _token(store_url, "li", "analyst")
    answer = client.post(
        "/api/v1/posts/weibo/p1/labels",
        json={"sentiment": "negative", "emotion": "anger", "note": "家长投诉"},
        headers=analyst,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["post"]["sentiment"] == "negative" and body["post"]["emotion"] == "anger"
    assert body["post"]["corrected"]["sentiment"]["model"] == "neutral"
    assert [c["by"] for c in body["corrections"]] == ["li", "li"]  # the signed-in user
    assert _sentiment_counts(client) == {"negative": 3, "neutral": 2, "positive": 1}
    after = _trend(client)
    assert after["negative"] == before["negative"] + 1
    assert after["neutral"] == before["neutral"] - 1
    log = client.get("/api/v1/corrections", params={"target": "weibo/p1"}).json()
    assert {(c["kind"], c["old"], c["new"]) for c in log["items"]} == {
        ("sentiment", "neutral", "negative"), ("emotion", "neutral", "anger"),
    }  # fmt: skip
    assert log["items"][0]["note"] == "家长投诉"
    assert log["items"][0]["at"].startswith("2026-11-20T17:00:00+08:00")  # the app's clock


def test_bad_relabels_answer_400_and_404(client: TestClient) -> None:
    assert client.post("/api/v1/posts/weibo/p1/labels", json={}).status_code == 400
    bad = client.post("/api/v1/posts/weibo/p1/labels", json={"sentiment": "angry"})
    assert bad.status_code == 422 and bad.json()["ok"] is False
    missing = client.post("/api/v1/posts/weibo/nope/labels", json={"risk": "rumor"})
    assert missing.status_code == 404 and "weibo/nope" in missing.json()["error"]["message"]


def test_a_viewer_cannot_correct(client: TestClient, store_url: str) -> None:
    viewer = _token(store_url, "zhao", "viewer")
    answer = client.post(
        "/api/v1/posts/weibo/p1/labels", json={"sentiment": "negative"}, headers=viewer
    )
    assert answer.status_code == 403
    assert client.get("/api/v1/corrections", headers=viewer).json()["count"] == 0
    assert TestClient(client.app).get("/api/v1/corrections").status_code == 401


def test_merge_and_split_through_the_api(client: TestClient) -> None:
    merged = client.post(
        "/api/v1/events/merge", json={"into": "ev-a", "events": ["ev-b"], "by": "王科长"}
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["moved"] == 2 and merged.json()["correction"]["by"] == "王科长"
    event = client.get("/api/v1/events/ev-a").json()
    assert event["posts"] == 6
    split = client.post(
        "/api/v1/events/ev-a/split",
        json={"posts": [{"source": "weibo", "id": "p5"}, {"source": "weibo", "id": "p6"}],
              "title": "教育局回应"},
    )  # fmt: skip
    assert split.status_code == 200, split.text
    new_id = split.json()["events"][0]["id"]
    assert client.get(f"/api/v1/events/{new_id}").json()["posts"] == 2
    assert client.get("/api/v1/events/ev-a").json()["posts"] == 4
    wrong = client.post("/api/v1/events/merge", json={"into": "ev-a", "events": ["ev-x"]})
    assert wrong.status_code == 404


def test_false_alarm_shows_in_the_api_and_the_inbox(client: TestClient, store_url: str) -> None:
    alert = Alert.create(
        rule_id="canteen", kind="match", title="食堂舆情", severity="high",
        created_at=NOW, public_url="http://yq.test",
    )  # fmt: skip
    store = open_store(store_url)
    try:
        store.add_alerts([alert])
    finally:
        store.close()
    answer = client.post(f"/api/v1/alerts/{alert.id}/false-alarm", json={"note": "广告帖"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] is True
    assert answer.json()["alert"]["status"] == "false_alarm"
    again = client.post(f"/api/v1/alerts/{alert.id}/false-alarm")
    assert again.json()["changed"] is False
    listed = client.get("/api/v1/alerts", params={"status": "false_alarm"}).json()
    assert [a["id"] for a in listed["items"]] == [alert.id]
    page = client.get("/alerts", params={"status": "false_alarm"})
    assert page.status_code == 200 and "误报" in page.text and "食堂舆情" in page.text
    assert client.post("/api/v1/alerts/nope/false-alarm").status_code == 404
    (logged,) = client.get("/api/v1/corrections", params={"kind": "false_alarm"}).json()["items"]
    assert (logged["old"], logged["note"]) == ("new", "广告帖")
