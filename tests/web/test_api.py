"""REST API v1 and pages over a real SQLite store filled by the real pipeline (the demo
scenario), through FastAPI's TestClient."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import AUTH, TOKEN
from yuqing.events.lifecycle import STAGES
from yuqing.settings import Settings
from yuqing.store.migrations import LATEST
from yuqing.web import create_app


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    """Check the error shape of the HTTP contract and return the error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"])


# ---------------------------------------------------------------- auth, schema, errors


def test_reads_need_credentials(anon: TestClient) -> None:
    error_of(anon.get("/api/v1/stats"), 401, "unauthorized")
    error_of(
        anon.get("/api/v1/stats", headers={"Authorization": "Bearer nope"}), 401, "unauthorized"
    )
    error_of(anon.get("/api/v1/stats", headers={"Authorization": TOKEN}), 401, "unauthorized")


def test_openapi_docs_and_unknown_paths(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/v1/posts", "/api/v1/search", "/api/v1/events/{event_id}", "/api/v1/trends"):
        assert path in schema["paths"]
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200
    error_of(client.get("/api/v1/nothing"), 404, "not_found")


def test_plotly_is_served_locally(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert len(response.content) > 1_000_000
    assert response.headers["content-type"].startswith("text/javascript")


# ---------------------------------------------------------------- stats, posts, search


def test_stats(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/stats", headers=auth).json()
    assert body["ok"] is True
    assert body["documents"] == 600 and body["indexed"] == 600
    assert body["schema_version"] == LATEST
    assert sum(body["sentiment"].values()) == 600
    assert set(body["risk"]) <= {"ordinary", "rumor", "group_incident"}
    assert "鄞州区" in body["region"]
    assert body["events"] > 1
    assert body["first_published"].endswith("+08:00")


def test_search_highlights_and_filters(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/search", params={"q": "食堂", "limit": 5}, headers=auth).json()
    assert body["count"] == 5
    times = [item["published_at"] for item in body["items"]]
    assert times == sorted(times, reverse=True)
    for item in body["items"]:
        assert "<mark>食堂</mark>" in item["snippet_html"]
        assert "【食堂】" in item["snippet"]
        assert item["sentiment"] in {"positive", "neutral", "negative"}
    only = client.get(
        "/api/v1/posts",
        params={"q": "食堂", "source": "news", "until": "2026-11-21", "limit": 200},
        headers=auth,
    ).json()
    assert only["count"] > 0
    assert {item["source"] for item in only["items"]} == {"news"}
    assert all(item["published_at"] < "2026-11-21T00:00:00+08:00" for item in only["items"])


def test_traditional_query_finds_simplified_posts(client: TestClient, auth: dict[str, str]) -> None:
    simplified = client.get("/api/v1/search", params={"q": "过期食材", "limit": 200}, headers=auth)
    traditional = client.get("/api/v1/search", params={"q": "過期食材", "limit": 200}, headers=auth)
    assert traditional.json()["count"] == simplified.json()["count"] > 0


def test_search_errors(client: TestClient, auth: dict[str, str]) -> None:
    error_of(client.get("/api/v1/search", headers=auth), 422, "invalid_request")
    bad = error_of(
        client.get("/api/v1/search", params={"q": "食堂", "since": "yesterday"}, headers=auth),
        400,
        "bad_time",
    )
    assert "since" in bad["message"]
    error_of(client.get("/api/v1/search", params={"q": "!!!"}, headers=auth), 400, "bad_request")
    error_of(client.get("/api/v1/posts", params={"limit": 0}, headers=auth), 422, "invalid_request")


def test_latest_posts(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/posts", params={"limit": 3}, headers=auth).json()
    assert body["count"] == 3
    first = body["items"][0]
    assert first["published_at"] == "2026-11-23T15:29:24+08:00"
    assert {"text", "emotion", "risk", "event_id", "regions"} <= set(first)


# ---------------------------------------------------------------- events, trends


def test_events_ranked_by_heat(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/events", params={"limit": 5}, headers=auth).json()
    heats = [e["heat"] for e in body["items"]]
    assert heats == sorted(heats, reverse=True) and len(heats) == 5
    top = body["items"][0]
    assert "食堂" in top["title"] or "鄞州" in top["title"]
    assert top["stage"] in STAGES and top["stage_label"] and top["stage_reasons"]
    assert 0 <= top["heat"] <= 100
    assert top["posts"] > 100


def test_event_detail(client: TestClient, auth: dict[str, str]) -> None:
    event_id = client.get("/api/v1/events", params={"limit": 1}, headers=auth).json()["items"][0][
        "id"
    ]
    body = client.get(f"/api/v1/events/{event_id}", headers=auth).json()
    assert body["id"] == event_id
    assert body["first_post"]["published_at"] == body["first_seen"]
    engagement = [p["reposts"] + p["comments"] + p["likes"] for p in body["key_posts"]]
    assert engagement == sorted(engagement, reverse=True)
    assert body["risk_posts"][0]["risk"]["reasons"]
    assert sum(s["total"] for s in body["trend"]["series"]) == sum(body["sentiment"].values())
    error_of(client.get("/api/v1/events/ev-nope", headers=auth), 404, "not_found")


def test_trends_are_cut_in_the_configured_zone(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get(
        "/api/v1/trends", params={"dimension": "sentiment", "bucket": "day"}, headers=auth
    ).json()
    assert body["zone"] == "Asia/Shanghai"
    assert body["buckets"][0] == "2026-11-20T00:00:00+08:00"
    assert all(b.endswith("T00:00:00+08:00") for b in body["buckets"])
    assert sum(s["total"] for s in body["series"]) == 600
    hourly = client.get(
        "/api/v1/trends",
        params={"dimension": "total", "since": "2026-11-21", "until": "2026-11-22"},
        headers=auth,
    ).json()
    assert len(hourly["buckets"]) == 24
    assert hourly["buckets"][0] == "2026-11-21T00:00:00+08:00"
    day = body["buckets"].index("2026-11-21T00:00:00+08:00")
    assert hourly["series"][0]["total"] == sum(s["counts"][day] for s in body["series"])


def test_trends_top_values_and_errors(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get(
        "/api/v1/trends", params={"dimension": "region", "bucket": "day", "top": 2}, headers=auth
    ).json()
    values = [s["value"] for s in body["series"]]
    assert len(values) == 3 and values[0] == "鄞州区" and values[-1] == "other"
    regions = client.get("/api/v1/stats", headers=auth).json()["region"]  # its top 20
    assert sum(s["total"] for s in body["series"]) >= sum(regions.values())
    error_of(
        client.get("/api/v1/trends", params={"dimension": "mood"}, headers=auth),
        422,
        "invalid_request",
    )
    error_of(
        client.get(
            "/api/v1/trends", params={"since": "2026-11-22", "until": "2026-11-21"}, headers=auth
        ),
        400,
        "bad_window",
    )


# ---------------------------------------------------------------- push


def _app(tmp_path: Path, **web: Any) -> TestClient:
    """An app over a new store, with the service token TOKEN (sent by default)."""
    web = {"api_tokens": [TOKEN], **web}
    settings = Settings.model_validate({"store": f"sqlite:///{tmp_path / 'push.db'}", "web": web})
    return TestClient(create_app(settings), headers=AUTH)


RECORDS: list[Any] = [
    {
        "id": "p1",
        "source": "weibo",
        "text": "宁波某小学食堂饭菜发霉，家长很愤怒",
        "published_at": "2026-11-25 09:00",
    },
    {
        "id": "p2",
        "source": "weibo",
        "text": "宁波某小学食堂饭菜发霉了，家长都很愤怒",
        "published_at": "2026-11-25 09:05",
    },
    {"text": "   "},
    "not a record",
    {"id": "p3", "text": "时间不对", "published_at": "soon"},
    {"id": "p4", "source": "news", "text": "教育局回应食堂问题", "published_at": 1795000000},
]


def test_push_runs_the_pipeline_and_is_idempotent(tmp_path: Path) -> None:
    client = _app(tmp_path, api_tokens=[TOKEN])
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = client.post("/api/v1/posts", json=RECORDS, headers=headers).json()
    assert body["ok"] is True and body["accepted"] == 3 and body["stored"] == 3
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (2, "empty_text"),
        (3, "not_object"),
        (4, "bad_date"),
    ]
    again = client.post("/api/v1/posts", json={"posts": RECORDS}, headers=headers).json()
    assert (again["accepted"], again["stored"], again["existing"]) == (3, 0, 3)
    found = client.get("/api/v1/search", params={"q": "发霉"}, headers=headers).json()
    assert {item["id"] for item in found["items"]} == {"p1", "p2"}
    assert all(item["sentiment"] and item["event_id"] for item in found["items"])
    events = client.get("/api/v1/events", headers=headers).json()["items"]
    assert events and events[0]["posts"] >= 2 and events[0]["title"]


def test_push_needs_a_token_and_a_small_batch(tmp_path: Path) -> None:
    closed = TestClient(_app(tmp_path, api_tokens=[]).app)  # no tokens, no users
    error_of(closed.post("/api/v1/posts", json=RECORDS), 401, "unauthorized")
    error_of(closed.get("/api/v1/stats"), 401, "unauthorized")  # reads need credentials too
    client = TestClient(_app(tmp_path, api_tokens=["a", TOKEN], max_push=2).app)
    error_of(client.post("/api/v1/posts", json=RECORDS), 401, "unauthorized")
    headers = {"Authorization": "Bearer a"}
    error_of(client.post("/api/v1/posts", json=RECORDS, headers=headers), 413, "batch_too_large")
    error_of(client.post("/api/v1/posts", json={"x": 1}, headers=headers), 422, "invalid_request")
    error_of(
        client.post("/api/v1/posts", content=b"{not json", headers=headers), 422, "invalid_request"
    )


# ---------------------------------------------------------------- pages


def test_pages_render_in_both_scripts(client: TestClient) -> None:
    page = client.get("/")
    assert (
        page.status_code == 200
        and "舆情总览" in page.text
        and 'data-figure="fig-volume"' in page.text
    )
    traditional = client.get("/", params={"lang": "zh-Hant"})
    assert "輿情總覽" in traditional.text and "舆情总览" not in traditional.text
    assert traditional.cookies.get("lang") == "zh-Hant"
    client.cookies.clear()
    search = client.get("/search", params={"q": "食堂"})
    assert search.text.count("<mark>食堂</mark>") >= 10


def test_event_page_and_missing_event(client: TestClient, auth: dict[str, str]) -> None:
    event_id = client.get("/api/v1/events", params={"limit": 1}, headers=auth).json()["items"][0][
        "id"
    ]
    page = client.get(f"/events/{event_id}")
    assert page.status_code == 200 and "首发帖文" in page.text and "风险研判" in page.text
    missing = client.get("/events/ev-nope")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert client.get("/nowhere").status_code == 404


def test_post_text_is_escaped(tmp_path: Path) -> None:
    client = _app(tmp_path, api_tokens=[TOKEN])
    record = {"id": "x", "text": "食堂<script>alert(1)</script><img src=x onerror=alert(2)>"}
    client.post("/api/v1/posts", json=[record], headers={"Authorization": f"Bearer {TOKEN}"})
    page = client.get("/search", params={"q": "食堂"})
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_timestamps_are_aware(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/events", params={"limit": 1}, headers=auth).json()
    assert datetime.fromisoformat(body["as_of"]).utcoffset() is not None


def test_an_empty_store_renders(tmp_path: Path) -> None:
    client = _app(tmp_path)
    for path in ("/", "/search?q=食堂", "/?days=30"):
        assert client.get(path).status_code == 200, path
    body = client.get("/api/v1/trends", params={"dimension": "sentiment"}).json()
    assert body["buckets"] == [] and body["series"] == []
    assert client.get("/api/v1/events").json()["items"] == []
    bad = client.get("/search", params={"q": "食堂", "since": "later"})
    assert bad.status_code == 400 and "since" in bad.text
