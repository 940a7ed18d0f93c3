"""Alerts and monitoring rules through the REST API v1 and the pages, over a copy of the
demo store (filled by the real pipeline); the server-sent event stream against a real
uvicorn server in a thread, read with httpx."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.web.conftest import TOKEN
from tests.web.test_api import error_of
from yuqing.alerts.alert import Alert, AlertSample
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.web import alerts_view, create_app

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFIG_RULE = {"id": "cfg-canteen", "name": "食堂（配置）", "query": "食堂"}


def make_alert(n: int, *, rule: str = "canteen", event: str | None = "ev-1") -> Alert:
    return Alert.create(
        rule_id=rule,
        kind="match",
        title=f"食堂食品安全｜规则命中 {n}",
        severity="high",
        created_at=T0 + timedelta(minutes=n),
        public_url="https://yq.example.org",
        event_id=event,
        reasons=["命中规则「食堂」：食堂 AND 过期"],
        samples=[AlertSample("weibo", f"p{n}", "食堂<script>window.__x = 1</script>过期")],
    )


def copy_store(demo_url: str, folder: Path) -> str:
    shutil.copy(Path(demo_url.removeprefix("sqlite:///")), folder / "web.db")
    return f"sqlite:///{folder / 'web.db'}"


def add_alerts(url: str, *alerts: Alert) -> None:
    store = open_store(url)
    try:
        store.add_alerts(list(alerts))
    finally:
        store.close()


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free local port in a thread; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 15 s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("alerts-api"))


@pytest.fixture(scope="module")
def settings(url: str) -> Settings:
    return Settings.model_validate(
        {"store": url, "web": {"api_tokens": [TOKEN]}, "monitor": {"rules": [CONFIG_RULE]}}
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=AUTH) as test_client:
        yield test_client


# ---------------------------------------------------------------- rules


def test_rules_create_list_replace_delete(client: TestClient) -> None:
    body: dict[str, Any] = {
        "id": "canteen",
        "name": "食堂食品安全",
        "query": "食堂 AND (过期 OR 变质)",
        "triggers": [{"kind": "match"}, {"kind": "count", "threshold": 5, "window": "1h"}],
        "severity": "high",
    }
    created = client.post("/api/v1/rules", json=body, headers=AUTH)
    assert created.status_code == 201, created.text
    assert created.json()["created"] is True
    assert created.json()["rule"]["triggers"] == body["triggers"]
    listed = client.get("/api/v1/rules", headers=AUTH).json()["items"]
    by_id = {r["id"]: r for r in listed}
    assert by_id["canteen"]["source"] == "store" and by_id["canteen"]["severity"] == "high"
    assert by_id["cfg-canteen"]["source"] == "config"
    replaced = client.post("/api/v1/rules", json={**body, "query": "食堂 AND 过期"}, headers=AUTH)
    assert replaced.status_code == 200 and replaced.json()["created"] is False
    assert replaced.json()["rule"]["query"] == "食堂 AND 过期"
    derived = client.post("/api/v1/rules", json={"name": "火情", "query": "火灾"}, headers=AUTH)
    assert derived.status_code == 201 and derived.json()["rule"]["id"].startswith("rule-")
    assert client.delete("/api/v1/rules/canteen", headers=AUTH).json() == {
        "ok": True,
        "deleted": "canteen",
    }
    error_of(client.delete("/api/v1/rules/canteen", headers=AUTH), 404, "not_found")
    error_of(client.delete("/api/v1/rules/cfg-canteen", headers=AUTH), 409, "rule_conflict")
    ids = {r["id"] for r in client.get("/api/v1/rules", headers=AUTH).json()["items"]}
    assert "canteen" not in ids


def test_rule_syntax_error_answers_422_with_the_column(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/rules", json={"name": "坏规则", "query": "食堂 AND (过期 OR"}, headers=AUTH
    )
    error = error_of(answer, 422, "rule_syntax")
    column = error["details"]["column"]
    assert isinstance(column, int) and column > 1
    assert error["message"].startswith(f"column {column}: ")


def test_rule_checks_triggers_ids_and_tokens(client: TestClient, anon: TestClient) -> None:
    bad = {"name": "n", "query": "食堂", "triggers": [{"kind": "count", "window": "1h"}]}
    error = error_of(client.post("/api/v1/rules", json=bad, headers=AUTH), 422, "invalid_rule")
    assert "threshold" in error["message"]
    clash = {"id": "cfg-canteen", "name": "n", "query": "食堂"}
    error_of(client.post("/api/v1/rules", json=clash, headers=AUTH), 409, "rule_conflict")
    error_of(anon.post("/api/v1/rules", json={"name": "n", "query": "食堂"}), 401, "unauthorized")
    error_of(anon.delete("/api/v1/rules/x"), 401, "unauthorized")
    error_of(anon.get("/api/v1/rules"), 401, "unauthorized")
    slash = {"id": "a/b", "name": "n", "query": "食堂"}
    error_of(client.post("/api/v1/rules", json=slash, headers=AUTH), 422, "invalid_request")


def test_rule_test_endpoint(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/rules/test",
        json={"query": "食堂 AND 过期", "text": "某校食堂使用过期食材", "limit": 3},
        headers=AUTH,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["text_matches"] is True
    assert body["scanned"] > 0 and body["matched"] >= len(body["items"]) > 0
    assert len(body["items"]) <= 3
    assert all("食堂" in p["text"] and "过期" in p["text"] for p in body["items"])
    times = [p["published_at"] for p in body["items"]]
    assert times == sorted(times, reverse=True)
    miss = client.post(
        "/api/v1/rules/test", json={"query": "火星基地", "text": "食堂"}, headers=AUTH
    ).json()
    assert (miss["text_matches"], miss["matched"], miss["items"]) == (False, 0, [])
    bounded = client.post(
        "/api/v1/rules/test", json={"query": "食堂", "scan": 10}, headers=AUTH
    ).json()
    assert bounded["scanned"] == 10
    error = error_of(
        client.post("/api/v1/rules/test", json={"query": "食堂 NEAR/x 过期"}, headers=AUTH),
        422,
        "rule_syntax",
    )
    assert error["details"]["column"] >= 1
    error_of(
        TestClient(client.app).post("/api/v1/rules/test", json={"query": "食"}), 401, "unauthorized"
    )


# ---------------------------------------------------------------- alerts


def test_alerts_list_filters_and_acknowledge(
    client: TestClient, anon: TestClient, url: str
) -> None:
    a, b, c = make_alert(1), make_alert(2, rule="fire", event=None), make_alert(3)
    add_alerts(url, a, b, c)
    items = client.get("/api/v1/alerts", headers=AUTH).json()["items"]
    ours = [i for i in items if i["id"] in {a.id, b.id, c.id}]
    assert [i["id"] for i in ours] == [c.id, b.id, a.id]
    first = ours[-1]
    assert first["status"] == "new" and first["created_at"] == "2026-11-25T09:01:00+08:00"
    assert first["samples"][0]["text"].startswith("食堂<script>")  # JSON keeps text as is
    assert first["link"] == "https://yq.example.org/events/ev-1"
    fire = client.get("/api/v1/alerts", params={"rule_id": "fire"}, headers=AUTH).json()
    assert [i["id"] for i in fire["items"]] == [b.id]
    window = client.get(
        "/api/v1/alerts",
        params={"since": "2026-11-25T09:02:00+08:00", "until": "2026-11-25 09:03"},
        headers=AUTH,
    ).json()
    assert [i["id"] for i in window["items"]] == [b.id]

    error_of(anon.post(f"/api/v1/alerts/{a.id}/ack"), 401, "unauthorized")
    acked = client.post(f"/api/v1/alerts/{a.id}/ack", json={"by": "值班员"}, headers=AUTH).json()
    assert acked["changed"] is True
    assert (
        acked["alert"]["status"] == "acknowledged" and acked["alert"]["acknowledged_by"] == "值班员"
    )
    again = client.post(f"/api/v1/alerts/{a.id}/ack", headers=AUTH).json()
    assert again["changed"] is False and again["alert"]["acknowledged_by"] == "值班员"
    new = client.get("/api/v1/alerts", params={"status": "new"}, headers=AUTH).json()["items"]
    assert a.id not in {i["id"] for i in new}
    error_of(client.post("/api/v1/alerts/nope/ack", headers=AUTH), 404, "not_found")
    error_of(client.get("/api/v1/alerts/nope", headers=AUTH), 404, "not_found")
    assert client.get(f"/api/v1/alerts/{c.id}", headers=AUTH).json()["alert"]["id"] == c.id
    error_of(
        client.get("/api/v1/alerts", params={"status": "odd"}, headers=AUTH), 422, "invalid_request"
    )


def test_openapi_lists_the_new_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/alerts",
        "/api/v1/alerts/stream",
        "/api/v1/alerts/{alert_id}/ack",
        "/api/v1/rules",
        "/api/v1/rules/{rule_id}",
        "/api/v1/rules/test",
    ):
        assert path in paths


# ---------------------------------------------------------------- pages


def test_pages_render_alerts_escaped_and_rules(client: TestClient, url: str) -> None:
    alert = make_alert(30)
    add_alerts(url, alert)
    inbox = client.get("/alerts")
    assert inbox.status_code == 200
    assert "食堂&lt;script&gt;window.__x = 1&lt;/script&gt;过期" in inbox.text
    assert "<script>window.__x" not in inbox.text
    assert f'data-id="{alert.id}"' in inbox.text and 'href="/events/ev-1"' in inbox.text
    assert "预警收件箱" in inbox.text
    assert "預警收件箱" in client.get("/alerts?lang=zh-Hant").text
    client.cookies.clear()
    one = client.get(f"/alerts/{alert.id}")
    assert one.status_code == 200 and "投递记录" in one.text
    assert client.get("/alerts/nope").status_code == 404
    rules = client.get("/rules")
    assert rules.status_code == 200 and "cfg-canteen" in rules.text
    preview = client.get("/rules/preview", params={"q": "食堂", "text": "食堂"}).json()
    assert preview["ok"] and preview["text_matches"] is True and preview["matched"] > 0
    bad = client.get("/rules/preview", params={"q": "(食堂"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "rule_syntax"


# ---------------------------------------------------------------- server-sent events


def _events(lines: Iterator[str], want: int, deadline: float) -> tuple[list[dict[str, Any]], int]:
    """Read server-sent events until ``want`` alerts came; returns them and the comments."""
    alerts: list[dict[str, Any]] = []
    comments = 0
    event: dict[str, str] = {}
    for line in lines:
        if time.monotonic() > deadline:
            break
        if line.startswith(":"):
            comments += 1
        elif line == "":
            if event.get("event") == "alert":
                alerts.append({"seq": int(event["id"]), **orjson.loads(event["data"])})
                if len(alerts) >= want:
                    break
            event = {}
        else:
            key, _, value = line.partition(":")
            event[key] = value.removeprefix(" ")
    return alerts, comments


def test_stream_delivers_alerts_added_while_open(
    settings: Settings, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(alerts_view, "HEARTBEAT_SECONDS", 0.3)
    old = make_alert(40)
    add_alerts(url, old)
    with served(settings) as base, httpx.Client(base_url=base, timeout=10) as http:
        error_of(http.get("/api/v1/alerts/stream"), 401, "unauthorized")
        with http.stream("GET", "/api/v1/alerts/stream", headers=AUTH) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            assert next(lines).startswith("retry:")
            fresh = [make_alert(41), make_alert(42, rule="fire", event=None)]
            threading.Timer(0.3, add_alerts, args=(url, *fresh)).start()
            got, comments = _events(lines, 2, time.monotonic() + 8)
        assert [g["id"] for g in got] == [a.id for a in fresh]  # not the older one
        assert got[0]["seq"] < got[1]["seq"] and got[0]["status"] == "new"
        assert comments >= 1  # the heartbeat
        # resume after a seq (as EventSource does with Last-Event-ID), on the page stream too
        headers = {"Last-Event-ID": str(got[0]["seq"]), **AUTH}
        with http.stream("GET", "/alerts/stream", headers=headers) as response:
            again, _ = _events(response.iter_lines(), 1, time.monotonic() + 8)
        assert [g["id"] for g in again] == [fresh[1].id]
