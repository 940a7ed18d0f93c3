"""The insight endpoints and pages over the demo store (real pipeline, real SQLite):
rising terms, an event's spreaders and repost tree, one post, ingest health; and the
pages that show them, with post text escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AUTH, TOKEN
from tests.web.test_api import error_of
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.web import create_app
from yuqing.web.post_view import post_url

PATHS = (
    "/api/v1/terms/rising",
    "/api/v1/events/{event_id}/spreaders",
    "/api/v1/events/{event_id}/repost-tree",
    "/api/v1/posts/{source}/{post_id}",
    "/api/v1/health/ingest",
)


@pytest.fixture(scope="module")
def biggest(demo_url: str) -> str:
    store = open_store(demo_url)
    try:
        return store.event_rollups(limit=1)[0].id
    finally:
        store.close()


@pytest.fixture(scope="module")
def reposted(demo_url: str, biggest: str) -> Any:
    """A post of the biggest event that is a ``//@`` repost of a known post."""
    store = open_store(demo_url)
    try:
        docs = store.event_documents(biggest, order="time", limit=1000)
    finally:
        store.close()
    return next(d for d in docs if d.repost_chain and d.repost_of)


def test_schema_lists_the_endpoints_and_all_need_credentials(
    client: TestClient, anon: TestClient
) -> None:
    schema = client.get("/openapi.json").json()
    for path in PATHS:
        assert path in schema["paths"], path
        assert client.get(path.format(event_id="x", source="weibo", post_id="y")).status_code in (
            200,
            404,
        )
        assert anon.get(path.format(event_id="x", source="weibo", post_id="y")).status_code == 401
    for page in ("/posts/weibo/x", "/health/ingest"):
        answer = anon.get(page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_rising_terms(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/terms/rising?hours=24&limit=5", headers=auth).json()
    assert body["ok"] is True and 1 <= body["count"] <= 5
    first = body["terms"][0]
    assert set(first) == {
        "term", "recent", "before", "recent_share", "before_share", "rise", "size",
    }  # fmt: skip
    assert first["rise"] > 0 and body["recent"]["posts_sampled"] > 0
    error_of(client.get("/api/v1/terms/rising?hours=0", headers=auth), 422, "invalid_request")


def test_spreaders_and_tree(client: TestClient, auth: dict[str, str], biggest: str) -> None:
    body = client.get(f"/api/v1/events/{biggest}/spreaders?limit=3", headers=auth).json()
    assert body["ok"] is True and body["event_id"] == biggest and len(body["items"]) == 3
    assert {"author", "followers", "verified", "score", "reposted_in_event"} <= set(
        body["items"][0]
    )
    tree = client.get(f"/api/v1/events/{biggest}/repost-tree?max_nodes=4", headers=auth).json()
    assert tree["ok"] is True and tree["shown"] <= 4 and tree["reposts"] > 0
    assert tree["truncated"] is (tree["shown"] < tree["users"])
    assert tree["roots"][0]["size"] >= 1
    for path in ("spreaders", "repost-tree"):
        error_of(client.get(f"/api/v1/events/ev-nope/{path}", headers=auth), 404, "not_found")


def test_one_post(client: TestClient, auth: dict[str, str], reposted: Any) -> None:
    body = client.get(f"/api/v1{post_url(reposted.source, reposted.id)}", headers=auth).json()
    assert body["ok"] is True and body["id"] == reposted.id
    assert body["repost_of"] == reposted.repost_of
    assert body["repost_chain"][0]["user"] == reposted.repost_chain[0].user
    assert body["event"]["id"] == reposted.analysis["event_id"]
    assert isinstance(body["duplicates"], int)
    assert body["risk"]["reasons"] and body["url_page"] == post_url(reposted.source, reposted.id)
    error_of(client.get("/api/v1/posts/weibo/nope", headers=auth), 404, "not_found")


def test_ingest_health_api(client: TestClient, auth: dict[str, str]) -> None:
    body = client.get("/api/v1/health/ingest?days=3", headers=auth).json()
    assert body["ok"] is True and body["days"] == 3 and body["zone"] == "Asia/Shanghai"
    names = [s["source"] for s in body["sources"]]
    assert "weibo" in names
    for s in body["sources"]:
        assert len(s["counts"]) == len(body["hours"])
    assert isinstance(body["lag_seconds"], int)
    error_of(client.get("/api/v1/health/ingest?days=0", headers=auth), 422, "invalid_request")


# ---------------------------------------------------------------- pages


def test_overview_shows_the_cloud_and_regions(client: TestClient) -> None:
    html = client.get("/?days=3").text
    assert 'id="wordcloud"' in html and 'class="term" href="/search?q=' in html
    assert 'id="chart-regions"' in html and 'class="regions"' in html
    assert 'href="/health/ingest"' in html  # the navigation


def test_event_page_shows_spreaders_tree_and_post_links(client: TestClient, biggest: str) -> None:
    html = client.get(f"/events/{biggest}").text
    assert 'id="spreaders"' in html and 'id="repost-tree"' in html
    assert 'class="postlink" href="/posts/' in html


def test_post_page_and_search_links(client: TestClient, reposted: Any) -> None:
    html = client.get(post_url(reposted.source, reposted.id)).text
    assert 'id="repost-chain"' in html and f"@{reposted.repost_chain[0].user}" in html
    assert 'id="post-event"' in html
    assert client.get("/posts/weibo/nope").status_code == 404
    search = client.get("/search?q=食堂").text
    assert 'class="postlink" href="/posts/' in search


def test_ingest_page(client: TestClient) -> None:
    response = client.get("/health/ingest?days=3")
    assert response.status_code == 200
    assert "采集健康" in response.text and 'id="chart-ingest"' in response.text
    assert client.get("/health/ingest?days=99").status_code == 422
    traditional = TestClient(client.app, headers=AUTH)  # its own cookies: lang stays here
    assert "採集健康" in traditional.get("/health/ingest?lang=zh-Hant").text
    assert "上升熱詞" in traditional.get("/").text


def test_post_page_escapes_text_author_and_hops(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"store": f"sqlite:///{tmp_path / 'xss.db'}", "web": {"api_tokens": [TOKEN]}}
    )
    record = {
        "id": "x/1?#",
        "source": "weibo",
        "author": '<b onmouseover="x()">evil</b>',
        "text": '看<script>alert(1)</script><img src=x onerror="alert(2)">//@路人: <i>hi</i>',
        "url": "javascript:alert(3)",
    }
    with TestClient(create_app(settings), headers=AUTH) as client:
        pushed = client.post("/api/v1/posts", json=[record])
        assert pushed.status_code == 200 and pushed.json()["accepted"] == 1, pushed.text
        html = client.get(post_url("weibo", "x/1?#")).text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onmouseover=" in html and "&lt;i&gt;hi&lt;/i&gt;" in html
    assert 'href="javascript:' not in html
