"""``/api/v1/users/me/subscriptions``: a user subscribes to a plan (immediate, hourly or
daily, on a configured channel), changes and lists their own, unsubscribes; an unknown
plan answers 404, an unknown channel or mode 422, a service token 400."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.store.test_contract_plans import plan
from tests.web.conftest import TOKEN
from tests.web.test_api import error_of
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user, new_api_token
from yuqing.web import create_app

PATH = "/api/v1/users/me/subscriptions"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'subs.db'}"
    store = open_store(url)
    try:
        tokens = {}
        for name in ("zhang", "li"):
            create_user(store, name, role="viewer", password="correct-horse-1")
            tokens[name] = new_api_token(store, name, name="tests")[1]
        store.save_plan(plan("canteen", department=None, sources=()))  # nothing polled
    finally:
        store.close()
    settings = Settings.model_validate(
        {
            "store": url,
            "web": {"api_tokens": [TOKEN]},
            "alerts": {"channels": [{"name": "zhang-mail", "kind": "log"}]},
        }
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client, tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_subscribe_change_list_unsubscribe(client: tuple[TestClient, dict[str, str]]) -> None:
    http, tokens = client
    zhang = _auth(tokens["zhang"])
    body = {"mode": "hourly", "channel": "zhang-mail"}
    made = http.put(f"{PATH}/canteen", json=body, headers=zhang)
    assert made.status_code == 200, made.text
    assert made.json()["created"] is True
    changed = http.put(f"{PATH}/canteen", json={**body, "mode": "daily"}, headers=zhang).json()
    assert changed["created"] is False and changed["subscription"]["mode"] == "daily"
    mine: dict[str, Any] = http.get(PATH, headers=zhang).json()
    assert [(s["plan_id"], s["mode"], s["channel"]) for s in mine["items"]] == [
        ("canteen", "daily", "zhang-mail")
    ]
    assert mine["channels"] == ["zhang-mail"] and mine["modes"] == ["immediate", "hourly", "daily"]
    assert http.get(PATH, headers=_auth(tokens["li"])).json()["items"] == []  # only one's own
    assert http.delete(f"{PATH}/canteen", headers=zhang).json() == {
        "ok": True,
        "deleted": "canteen",
    }
    error_of(http.delete(f"{PATH}/canteen", headers=zhang), 404, "not_found")
    assert http.get(PATH, headers=zhang).json()["items"] == []


def test_refusals(client: tuple[TestClient, dict[str, str]]) -> None:
    http, tokens = client
    zhang = _auth(tokens["zhang"])
    body = {"mode": "hourly", "channel": "zhang-mail"}
    missing = error_of(http.put(f"{PATH}/nope", json=body, headers=zhang), 404, "not_found")
    assert "no plan 'nope'" in missing["message"]
    bad = {**body, "channel": "fax"}
    unknown = error_of(http.put(f"{PATH}/canteen", json=bad, headers=zhang), 422, "unknown_channel")
    assert "no channel 'fax'" in unknown["message"] and "zhang-mail" in unknown["message"]
    weekly = http.put(f"{PATH}/canteen", json={**body, "mode": "weekly"}, headers=zhang)
    assert weekly.status_code == 422
    error_of(http.get(PATH, headers=_auth(TOKEN)), 400, "no_user")
