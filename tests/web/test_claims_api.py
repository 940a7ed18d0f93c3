"""Claims (辟谣) through the REST API v1 on a ManualClock, over a store filled by the real
pipeline: record, mark with evidence, edit, list, read, the posts of a claim, stored posts
re-scored at once; errors in the API's one shape. Also the deadline check endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.rumors.conftest import OFFICIAL, PIYAO, T0
from tests.web.conftest import TOKEN
from yuqing.cases import new_case
from yuqing.clock import ManualClock
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store
from yuqing.web import create_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
POSTS = [
    ("1", "網傳長期喝自來水會致癌，大家快轉發！"),
    ("2", "喝自来水会致癌？卫健委：纯属谣言"),
    ("3", "今天天气很好，适合去公园散步"),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("claims-api")
    path = folder / "posts.jsonl"
    rows = [
        {"id": i, "text": t, "source": "weibo", "published_at": "2026-03-05T11:00:00+08:00"}
        for i, t in POSTS
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    store_url = f"sqlite:///{folder / 'store.db'}"
    settings = Settings.model_validate({"store": store_url})
    store = open_store(store_url)
    try:
        pipeline = build_pipeline(settings, analysis=True)
        Ingestor(store, pipeline).run(list(open_sources([str(path)], zone=settings.zone)))
    finally:
        store.close()
    return store_url


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock(T0 + timedelta(hours=1))


@pytest.fixture(scope="module")
def client(url: str, clock: ManualClock) -> Iterator[TestClient]:
    settings = Settings.model_validate(
        {"store": url, "web": {"api_tokens": [TOKEN]}, "cases": {"first_statement": {"IV": "3h"}}}
    )
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def stored_rumor(url: str, post: str) -> float:
    store = open_store(url)
    try:
        doc = store.get_document("weibo", post)
    finally:
        store.close()
    assert doc is not None
    return float(doc.analysis["risk"]["rumor"])


def error(answer: Any) -> tuple[int, str]:
    body = answer.json()
    assert body["ok"] is False and set(body["error"]) == {"code", "message", "details"}
    return answer.status_code, str(body["error"]["code"])


def test_record_mark_and_the_posts_of_a_claim(client: TestClient, url: str) -> None:
    before = stored_rumor(url, "1")
    made = client.post(
        "/api/v1/claims",
        json={"statement": "喝自来水会致癌", "id": "c-water", "by": "核查员"},
        headers=AUTH,
    )
    assert made.status_code == 201, made.text
    assert made.json()["claim"]["verdict"] == "unverified" and made.json()["rescored"] is None
    assert stored_rumor(url, "1") == before

    posts = client.get("/api/v1/claims/c-water/posts", headers=AUTH).json()
    assert {p["id"] for p in posts["items"]} == {"1", "2"}  # unverified: listed all the same

    marked = client.put(
        "/api/v1/claims/c-water",
        json={"verdict": "false", "evidence_url": PIYAO, "note": "卫健委辟谣", "by": "核查员"},
        headers=AUTH,
    )
    assert marked.status_code == 200, marked.text
    claim = marked.json()["claim"]
    assert claim["verdict"] == "false" and claim["verdict_label"] == "不实（已辟谣）"
    assert claim["evidence_url"] == PIYAO and claim["marked_by"] == "核查员"
    assert claim["marked_at"] == (T0 + timedelta(hours=1)).isoformat()
    assert marked.json()["rescored"] == {"scanned": 3, "matched": 2, "changed": 2}
    assert stored_rumor(url, "1") == 0.9  # repeats: raised
    assert stored_rumor(url, "2") < 0.9  # refutes: linked, not raised

    got = client.get("/api/v1/claims/c-water", headers=AUTH).json()["claim"]
    assert [h["verdict"] for h in got["history"]] == ["unverified", "false"]
    listed = client.get("/api/v1/claims", params={"verdict": "false"}, headers=AUTH).json()
    assert [c["id"] for c in listed["items"]] == ["c-water"]
    items = client.get("/api/v1/claims/c-water/posts", headers=AUTH).json()["items"]
    assert {p["id"]: p["stance"] for p in items} == {"1": "repeats", "2": "refutes"}
    repeat = next(p for p in items if p["id"] == "1")
    assert repeat["claim"]["evidence"] == PIYAO and repeat["risk"]["type"] == "rumor"

    edited = client.put(
        "/api/v1/claims/c-water", json={"key_phrases": ["自来水", "致癌"]}, headers=AUTH
    )
    assert edited.status_code == 200 and edited.json()["claim"]["key_phrases"] == ["自来水", "致癌"]
    assert edited.json()["claim"]["verdict"] == "false"


def test_errors_have_the_one_shape(client: TestClient) -> None:
    assert error(client.get("/api/v1/claims/nope", headers=AUTH)) == (404, "not_found")
    no_link = client.post(
        "/api/v1/claims", json={"statement": "某地要封城", "verdict": "false"}, headers=AUTH
    )
    assert error(no_link) == (422, "invalid_claim")
    assert "evidence link" in no_link.json()["error"]["message"]
    assert error(client.put("/api/v1/claims/nope", json={"verdict": "true"}, headers=AUTH))[0] in (
        404,
        422,
    )
    assert error(client.put("/api/v1/claims/c-water", json={}, headers=AUTH))[0] == 422
    assert error(client.get("/api/v1/claims", params={"verdict": "x"}, headers=AUTH))[0] == 400
    twice = {"statement": "再一条", "id": "c-dup", "verdict": "true", "evidence_url": OFFICIAL}
    assert client.post("/api/v1/claims", json=twice, headers=AUTH).status_code == 201
    assert error(client.post("/api/v1/claims", json=twice, headers=AUTH)) == (422, "invalid_claim")
    assert client.post("/api/v1/claims", json={"statement": "x"}).status_code in (401, 403)


def test_deadline_check_raises_an_overdue_alert_once(
    client: TestClient, url: str, clock: ManualClock
) -> None:
    store = open_store(url)
    try:
        case = new_case("食堂事件", level="IV", level_reason="手工立案", who="值班员", clock=clock)
        store.save_case(case.as_dict())
    finally:
        store.close()
    check = "/api/v1/cases/check-deadlines"
    clock.advance(timedelta(hours=2))  # IV is 3 h in these settings
    assert client.post(check, headers=AUTH).json()["raised"] == 0
    shown = client.get(f"/api/v1/cases/{case.id}", headers=AUTH).json()["case"]
    assert shown["overdue"] is False and shown["timeliness"]["status"] == "pending"
    clock.advance(timedelta(hours=1, minutes=1))
    answer = client.post(check, headers=AUTH).json()
    assert answer["raised"] == 1
    alert = answer["alerts"][0]
    assert alert["kind"] == "deadline" and alert["rule_id"] == "case-deadline"
    assert alert["link"].endswith(f"/cases/{case.id}") and "食堂事件" in alert["title"]
    assert client.post(check, headers=AUTH).json()["raised"] == 0  # once
    listed = client.get("/api/v1/alerts", params={"rule_id": "case-deadline"}, headers=AUTH)
    assert [a["id"] for a in listed.json()["items"]] == [alert["id"]]
    assert client.get(f"/api/v1/cases/{case.id}", headers=AUTH).json()["case"]["overdue"] is True


def test_routes_are_in_the_schema(client: TestClient, tmp_path: Path) -> None:
    del tmp_path
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/claims",
        "/api/v1/claims/{claim_id}",
        "/api/v1/claims/{claim_id}/posts",
    } <= set(paths)
    assert "/api/v1/cases/check-deadlines" in paths
