"""Sign-in and who may do what, through FastAPI's TestClient over a real SQLite store: every
route needs credentials (checked over ``app.routes``, so routers added later are covered),
roles (viewer 403 on writes), the login form, session cookies, CSRF, the login limit,
disabling and password changes ending access."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web.conftest import AUTH, TOKEN
from tests.web.test_api import error_of
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user, new_api_token, set_password
from yuqing.web import create_app

PASSWORD = "correct-horse-1"
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/api/v1/health")}
PUBLIC |= {("GET", "/static/plotly.min.js")}
RULE = {"name": "食堂", "query": "食堂"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('auth') / 'auth.db'}"


@pytest.fixture(scope="module")
def tokens(url: str) -> dict[str, str]:
    """Users admin, analyst, viewer (password PASSWORD) and a personal token of each."""
    store = open_store(url)
    try:
        made = {}
        for role in ("admin", "analyst", "viewer"):
            create_user(store, role, role=role, password=PASSWORD, department="网信办")
            made[role] = new_api_token(store, role, name="tests")[1]
        return made
    finally:
        store.close()


@pytest.fixture(scope="module")
def app(url: str, tokens: dict[str, str]) -> Any:
    return create_app(Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}}))


@pytest.fixture
def anon(app: Any) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, username: str, password: str = PASSWORD, **form: str) -> Any:
    client.get("/login")
    data = {"username": username, "password": password, "csrf_token": client.cookies["yuqing_csrf"]}
    return client.post("/login", data={**data, **form})


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["yuqing_csrf"]}


# ---------------------------------------------------------------- every route


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI keeps those as branches)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            assert not route.include_context.prefix, "app.py includes routers without a prefix"
            yield from api_routes(route.original_router.routes)


def _concrete(path: str) -> str:
    return path.replace("{", "x-").replace("}", "")


def test_every_route_needs_credentials(app: Any, anon: TestClient) -> None:
    seen_public: set[tuple[str, str]] = set()
    checked = 0
    for route in api_routes(app.routes):  # /openapi.json, /docs, /static: not API routes, open
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if (method, route.path) in PUBLIC:
                seen_public.add((method, route.path))
                continue
            answer = anon.request(method, _concrete(route.path))
            where = f"{method} {route.path}"
            if route.path.startswith("/api/"):
                assert answer.status_code == 401, where
                assert answer.json()["error"]["code"] == "unauthorized", where
            else:
                assert answer.status_code == 303, where
                assert answer.headers["location"].startswith("/login?next="), where
            checked += 1
    assert seen_public == PUBLIC
    assert checked > 40
    assert anon.get("/api/v1/health").status_code == 200
    assert anon.get("/openapi.json").status_code == 200 and anon.get("/docs").status_code == 200


def test_pages_redirect_to_login_and_back(anon: TestClient) -> None:
    answer = anon.get("/search?q=食堂")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/search%3Fq%3D%E9%A3%9F%E5%A0%82"
    form = anon.get(answer.headers["location"])
    assert form.status_code == 200 and "登录舆情监测" in form.text
    assert 'name="next" value="/search?q=食堂"' in form.text
    assert "登錄輿情監測" in anon.get("/login?lang=zh-Hant").text
    signed = sign_in(anon, "viewer", next="/search?q=食堂")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/search?q=%E9%A3%9F%E5%A0%82"
    page = anon.get("/search?q=食堂")
    assert page.status_code == 200 and 'id="me"' in page.text


# ---------------------------------------------------------------- roles


def test_roles_read_write_admin(app: Any, anon: TestClient, tokens: dict[str, str]) -> None:
    viewer, analyst, admin = (bearer(tokens[r]) for r in ("viewer", "analyst", "admin"))
    assert anon.get("/api/v1/rules", headers=viewer).status_code == 200
    denied = error_of(anon.post("/api/v1/rules", json=RULE, headers=viewer), 403, "forbidden")
    assert "analyst" in denied["message"] and "viewer" in denied["message"]
    error_of(anon.delete("/api/v1/rules/x", headers=viewer), 403, "forbidden")
    error_of(anon.post("/api/v1/cases", json={"title": "t"}, headers=viewer), 403, "forbidden")
    assert anon.post("/api/v1/rules", json=RULE, headers=analyst).status_code == 201
    error_of(anon.get("/api/v1/users", headers=analyst), 403, "forbidden")
    assert anon.get("/api/v1/users", headers=admin).status_code == 200
    assert anon.get("/api/v1/users", headers=AUTH).status_code == 200  # the service token
    page = anon.get("/rules", headers=viewer)  # pages take tokens too
    assert page.status_code == 200
    checked = anon.post("/cases/x-case/check", json={"text": "x"}, headers=viewer)
    assert checked.status_code == 404  # a read (no such case): viewers may check a text


def test_users_me_and_personal_tokens(anon: TestClient, tokens: dict[str, str]) -> None:
    me = anon.get("/api/v1/users/me", headers=bearer(tokens["analyst"])).json()
    assert me["via"] == "token" and me["user"]["role"] == "analyst"
    assert me["user"]["department"] == "网信办" and "password_hash" not in me["user"]
    service = anon.get("/api/v1/users/me", headers=AUTH).json()
    assert service["via"] == "service" and service["user"]["role"] == "admin"
    error_of(anon.post("/api/v1/users/me/tokens", json={}, headers=AUTH), 400, "no_user")

    viewer = bearer(tokens["viewer"])
    made = anon.post("/api/v1/users/me/tokens", json={"name": "脚本"}, headers=viewer).json()
    assert made["token"].startswith("yq_") and made["name"] == "脚本"
    listed = anon.get("/api/v1/users/me/tokens", headers=viewer).json()["items"]
    assert made["id"] in {t["id"] for t in listed} and "token" not in listed[0]
    assert anon.get("/api/v1/users/me", headers=bearer(made["token"])).status_code == 200
    gone = anon.delete(f"/api/v1/users/me/tokens/{made['id']}", headers=viewer)
    assert gone.status_code == 200
    error_of(anon.get("/api/v1/users/me", headers=bearer(made["token"])), 401, "unauthorized")
    error_of(anon.delete("/api/v1/users/me/tokens/nope", headers=viewer), 404, "not_found")


def test_admin_manages_users(anon: TestClient, url: str) -> None:
    body = {
        "username": "li",
        "password": "li-password-1",
        "role": "analyst",
        "department": "宣传部",
    }
    made = anon.post("/api/v1/users", json=body, headers=AUTH)
    assert made.status_code == 201 and made.json()["user"]["role_label"] == "分析员"
    error_of(anon.post("/api/v1/users", json=body, headers=AUTH), 409, "user_exists")
    weak = {**body, "username": "wu", "password": "short"}
    error_of(anon.post("/api/v1/users", json=weak, headers=AUTH), 422, "weak_password")
    error_of(
        anon.post("/api/v1/users", json={**body, "username": "a b"}, headers=AUTH),
        422,
        "bad_username",
    )
    error_of(
        anon.post("/api/v1/users", json={**body, "role": "boss"}, headers=AUTH),
        422,
        "invalid_request",
    )

    changed = anon.patch(
        "/api/v1/users/li", json={"role": "viewer", "department": ""}, headers=AUTH
    )
    assert (
        changed.json()["user"]["role"] == "viewer" and changed.json()["user"]["department"] is None
    )
    error_of(
        anon.patch("/api/v1/users/nobody", json={"disabled": True}, headers=AUTH),
        404,
        "unknown_user",
    )
    error_of(
        anon.patch("/api/v1/users/admin", json={"role": "viewer"}, headers=AUTH), 409, "last_admin"
    )
    names = [u["username"] for u in anon.get("/api/v1/users", headers=AUTH).json()["items"]]
    assert names == ["admin", "analyst", "li", "viewer"]


# ---------------------------------------------------------------- login, cookies, CSRF


def test_login_sets_safe_cookies_and_csrf_guards_writes(anon: TestClient) -> None:
    answer = sign_in(anon, "analyst")
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookies = {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}
    session = cookies["yuqing_session"].lower()
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "httponly" not in cookies["yuqing_csrf"].lower()  # the page's scripts read it
    assert anon.get("/").status_code == 200
    me = anon.get("/api/v1/users/me").json()
    assert me["via"] == "session" and me["user"]["last_login_at"]

    error_of(anon.post("/api/v1/rules", json=RULE), 403, "csrf")
    error_of(anon.post("/api/v1/rules", json=RULE, headers={"X-CSRF-Token": "forged"}), 403, "csrf")
    assert anon.post("/api/v1/rules", json=RULE, headers=csrf(anon)).status_code in (200, 201)
    assert anon.get("/api/v1/rules").status_code == 200  # reads need no CSRF token

    refused = anon.post("/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    out = anon.post("/logout", data={"csrf_token": anon.cookies["yuqing_csrf"]})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert anon.get("/").status_code == 303


def test_login_form_errors_and_safe_next(anon: TestClient) -> None:
    anon.get("/login")
    stale = anon.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": "x"}
    )
    assert stale.status_code == 403 and "页面已过期" in stale.text
    wrong = sign_in(anon, "viewer", "not-the-password")
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    unknown = sign_in(anon, "ghost", "whatever-password")
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.text
    away = sign_in(anon, "viewer", next="//evil.example/")
    assert away.status_code == 303 and away.headers["location"] == "/"


def test_tampered_or_stale_sessions_are_nobody(app: Any, url: str) -> None:
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "analyst")
        value = client.cookies["yuqing_session"]
        body, _, signature = value.partition(".")
        end = "AB" if body.endswith("AA") else "AA"  # a body that really differs
        tampered = f"{body[:-2]}{end}.{signature}"
        client.cookies.delete("yuqing_session")  # else the jar sends both cookies
        client.cookies.set("yuqing_session", tampered)
        assert client.get("/").status_code == 303
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "analyst")
        store = open_store(url)
        try:  # a new password (the same one, hashed anew) ends every session of the user
            set_password(store, "analyst", PASSWORD)
        finally:
            store.close()
        assert client.get("/").status_code == 303


def test_disabled_users_lose_access_at_once(anon: TestClient, tokens: dict[str, str]) -> None:
    body = {"username": "temp", "password": "temp-password", "role": "viewer"}
    assert anon.post("/api/v1/users", json=body, headers=AUTH).status_code == 201
    with TestClient(anon.app, follow_redirects=False) as temp:
        assert sign_in(temp, "temp", "temp-password").status_code == 303
        token = temp.post("/api/v1/users/me/tokens", json={}, headers=csrf(temp)).json()["token"]
        assert (
            anon.patch("/api/v1/users/temp", json={"disabled": True}, headers=AUTH).status_code
            == 200
        )
        assert temp.get("/").status_code == 303
        error_of(anon.get("/api/v1/stats", headers=bearer(token)), 401, "unauthorized")
        refused = sign_in(temp, "temp", "temp-password")
        assert refused.status_code == 403 and "停用" in refused.text


def test_login_limit(app: Any) -> None:
    with TestClient(app, follow_redirects=False) as client:
        for _ in range(5):
            assert sign_in(client, "admin", "wrong-password").status_code == 401
        locked = sign_in(client, "admin")  # even the right password waits now
        assert locked.status_code == 429
        assert "登录失败次数过多" in locked.text and "5 分钟" in locked.text
        assert sign_in(client, "viewer").status_code == 303  # another username is not locked


def test_login_limiter_window() -> None:
    from yuqing.web.auth import LoginLimiter

    now = [1000.0]
    limiter = LoginLimiter(failures=2, window=60, now=lambda: now[0])
    key = ("zhang", "10.0.0.1")
    limiter.failed(key)
    assert limiter.wait(key) == 0
    limiter.failed(key)
    assert limiter.wait(key) == 60
    now[0] += 59
    assert limiter.wait(key) == 1
    now[0] += 1
    assert limiter.wait(key) == 0
    limiter.failed(key)
    limiter.succeeded(key)
    assert limiter.wait(key) == 0


def test_first_admin_hint(tmp_path: Path, url: str) -> None:
    from yuqing.web.app import first_admin_hint

    empty = Settings.model_validate({"store": f"sqlite:///{tmp_path / 'none.db'}"})
    hint = first_admin_hint(empty)
    assert hint is not None and "yuqing user add admin --role admin" in hint
    assert first_admin_hint(Settings.model_validate({"store": url})) is None
