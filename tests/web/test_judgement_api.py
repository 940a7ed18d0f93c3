"""The judgement aids of an event over HTTP: /api/v1/events/{id}/digest, /coordination and
/advice on the demo store, 404 in the error shape, the libraries' "not enough data" on a
tiny event, and the three panels on the event page (Simplified and 繁體)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AUTH, TOKEN, fill_demo_store
from yuqing.events.lifecycle import STAGES
from yuqing.settings import Settings
from yuqing.web import create_app
from yuqing.web.i18n import to_traditional

AIDS = ("digest", "coordination", "advice")
PANELS = ("群众关切（疑问与诉求）", "协同传播信号", "应对策略建议")


def _events(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v1/events", params={"limit": 50}, headers=auth)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["items"]
    assert events
    return events


@pytest.fixture(scope="module")
def big_event(client: TestClient) -> str:
    from tests.web.conftest import TOKEN

    events = _events(client, {"Authorization": f"Bearer {TOKEN}"})
    biggest = max(events, key=lambda e: e["posts"])
    assert biggest["posts"] >= 30, "the demo store should hold an event of 30+ posts"
    return str(biggest["id"])


def test_digest(client: TestClient, auth: dict[str, str], big_event: str) -> None:
    response = client.get(f"/api/v1/events/{big_event}/digest", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["event_id"] == big_event
    assert body["enough_data"] is True and body["posts_used"] >= 20
    assert isinstance(body["note"], str)
    for item in body["questions"] + body["demands"]:
        assert item["label"] and item["kind_label"]
        assert item["posts"] >= 1 and item["mentions"] >= item["posts"]
        assert len(item["samples"]) <= 3
    ranked = [item["posts"] for item in body["questions"]]
    assert ranked == sorted(ranked, reverse=True)


def test_coordination(client: TestClient, auth: dict[str, str], big_event: str) -> None:
    response = client.get(f"/api/v1/events/{big_event}/coordination", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["enough_data"] is True
    assert body["framing"].startswith("信号，不是结论")
    assert 0 <= body["share"] <= 1 and body["flagged"] <= body["total"]
    assert set(body["counts"]) <= {"copy", "low_activity", "cascade", "rhythm"}
    for signal in body["signals"]:
        assert signal["reason"] and signal["label"]


def test_advice(client: TestClient, auth: dict[str, str], big_event: str) -> None:
    event = client.get(f"/api/v1/events/{big_event}", headers=auth).json()
    response = client.get(f"/api/v1/events/{big_event}/advice", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    state = body["state"]
    assert state["stage"] == event["stage"] and state["stage"] in STAGES
    assert state["heat"] == pytest.approx(min(100.0, event["heat"]), abs=0.01)
    assert state["negative_share"] == pytest.approx(event["negative_share"], abs=1e-3)
    assert state["statement_published"] is False  # no case in the demo store
    digest = client.get(f"/api/v1/events/{big_event}/digest", headers=auth).json()
    assert state["open_questions"] == len(digest["questions"])
    assert state["open_demands"] == len(digest["demands"])
    assert state["top_questions"] == [q["label"] for q in digest["questions"][:5]]
    priorities = [a["priority"] for a in body["advice"]]
    assert priorities == list(range(1, len(priorities) + 1))
    for advice in body["advice"]:
        assert advice["name"] and advice["reason"] and advice["dos"] and advice["donts"]


def test_unknown_event_is_404(client: TestClient, auth: dict[str, str]) -> None:
    for aid in AIDS:
        response = client.get(f"/api/v1/events/no-such-event/{aid}", headers=auth)
        assert response.status_code == 404, response.text
        body = response.json()
        assert body["ok"] is False and body["error"]["code"] == "not_found"
        assert "no-such-event" in body["error"]["message"]


def test_reads_need_the_token(anon: TestClient, big_event: str) -> None:
    response = anon.get(f"/api/v1/events/{big_event}/advice")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_the_aids_are_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for aid in AIDS:
        assert f"/api/v1/events/{{event_id}}/{aid}" in paths


def test_tiny_event_says_not_enough_data(tmp_path: Path) -> None:
    url = fill_demo_store(tmp_path, posts=24)
    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}})
    with TestClient(create_app(settings), headers=AUTH) as client:
        events = _events(client, {})
        tiny = min(events, key=lambda e: e["posts"])
        assert tiny["posts"] < 20
        digest = client.get(f"/api/v1/events/{tiny['id']}/digest").json()
        assert digest["enough_data"] is False and digest["questions"] == []
        assert "不足" in digest["note"]
        report = client.get(f"/api/v1/events/{tiny['id']}/coordination").json()
        assert report["enough_data"] is False and report["signals"] == []
        assert "数据不足" in report["message"]
        advice = client.get(f"/api/v1/events/{tiny['id']}/advice").json()
        assert advice["ok"] is True and advice["state"]["open_questions"] == 0
        page = client.get(f"/events/{tiny['id']}")
        assert page.status_code == 200
        assert digest["note"] in page.text and "数据不足" in page.text


def test_event_page_shows_the_three_panels(client: TestClient, big_event: str) -> None:
    page = client.get(f"/events/{big_event}", params={"lang": "zh-Hans"})
    assert page.status_code == 200
    for title in PANELS:
        assert title in page.text
    assert "信号，不是结论" in page.text
    traditional = client.get(f"/events/{big_event}", params={"lang": "zh-Hant"})
    for title in PANELS:
        assert to_traditional(title) in traditional.text and title not in traditional.text
    client.cookies.clear()
