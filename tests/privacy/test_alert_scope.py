"""Data scope of alerts through the real app over a real SQLite store: a viewer of department
A sees the alerts of A's monitoring plans, the deadline alerts of A's cases and the shared
alerts (yuqing.toml and saved rules), but not department B's, in the API list, by id, the
inbox page, the server-sent event stream and the export; the unscoped see everything."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.web.test_alerts_api import served
from yuqing.alerts.alert import Alert
from yuqing.cases import Case, DeadlinePolicy
from yuqing.cases.overdue_alerts import overdue_alert
from yuqing.exports import read_csv_export
from yuqing.plans.plan import Plan
from yuqing.plans.rules import plan_rule_id
from yuqing.privacy import alert_scope
from yuqing.privacy.alert_scope import alert_owner, reserved_rule_id, visible_alerts
from yuqing.privacy.scope import EVERYTHING, Scope
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.users import create_user, new_api_token
from yuqing.web import create_app

SERVICE = "service-token-alerts"
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
PUBLIC = "https://yq.example.org"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_alert(rule: str, title: str, minutes: int) -> Alert:
    return Alert.create(
        rule_id=rule,
        kind="match",
        title=title,
        severity="high",
        created_at=T0 + timedelta(minutes=minutes),
        public_url=PUBLIC,
        reasons=["命中规则"],
    )


class World:
    """The app, the users' tokens and the alerts by name."""

    def __init__(self, client: TestClient, settings: Settings, tokens: dict[str, str]) -> None:
        self.client = client
        self.settings = settings
        self.tokens = tokens
        self.alerts: dict[str, Alert] = {}

    def ids(self, *names: str) -> set[str]:
        return {self.alerts[n].id for n in names}

    def as_(self, who: str) -> dict[str, str]:
        return bearer(SERVICE if who == "service" else self.tokens[who])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Plans pa (A局), pb (B局), pn (no department); cases of A局 and B局; one alert of
    each plan, of a deleted plan, of a shared rule and of each case's deadline."""
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    tokens: dict[str, str] = {}
    store = open_store(url)
    try:
        for name, role, dept in [
            ("boss", "admin", "A局"),
            ("viewer_a", "viewer", "A局"),
            ("analyst_a", "analyst", "A局"),
            ("analyst_all", "analyst", None),
        ]:
            create_user(store, name, role=role, password="long-password-1", department=dept)
            tokens[name] = new_api_token(store, name)[1]
    finally:
        store.close()
    settings = Settings.model_validate(
        {"store": url, "web": {"api_tokens": [SERVICE]}, "public_url": PUBLIC}
    )
    with TestClient(create_app(settings)) as client:
        found = World(client, settings, tokens)
        for plan_id, dept in [("pa", "A局"), ("pb", "B局"), ("pn", None)]:
            body: dict[str, Any] = {"id": plan_id, "name": plan_id, "department": dept, "rules": []}
            answer = client.put(
                f"/api/v1/monitoring-plans/{plan_id}", json=body, headers=bearer(SERVICE)
            )
            assert answer.status_code == 201, answer.text
        cases = {}
        for name, owner in [("case_a", "A局"), ("case_b", "B局")]:
            answer = client.post(
                "/api/v1/cases", json={"title": name, "owner": owner}, headers=bearer(SERVICE)
            )
            assert answer.status_code == 201, answer.text
            cases[name] = answer.json()["case"]["id"]
        store = open_store(url)
        try:
            alerts = {
                "plan_b": make_alert(plan_rule_id("pb", "r1"), "B局方案预警", 1),
                "plan_a": make_alert(plan_rule_id("pa", "r1"), "A局方案预警", 2),
                "plan_none": make_alert(plan_rule_id("pn", "r1"), "无部门方案预警", 3),
                "plan_gone": make_alert(plan_rule_id("gone", "r1"), "已删方案预警", 4),
                "shared": make_alert("canteen", "共享规则预警", 5),
            }
            for n, name in enumerate(["case_b", "case_a"]):
                data = store.get_case(cases[name])
                assert data is not None
                when = T0 + timedelta(days=2, minutes=n)
                alerts[f"deadline_{name[-1]}"] = overdue_alert(
                    Case.from_dict(data), when, DeadlinePolicy(), PUBLIC
                )
            store.add_alerts(list(alerts.values()))
        finally:
            store.close()
        found.alerts = alerts
        yield found


A_SEES = ("plan_a", "shared", "deadline_a")


def listed(world: World, who: str, **params: Any) -> set[str]:
    answer = world.client.get("/api/v1/alerts", params=params, headers=world.as_(who))
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def test_owner_of_an_alert_from_its_rule_id() -> None:
    assert alert_owner("plan:pa:r1") == ("plan", "pa")
    assert alert_owner("case-deadline", f"{PUBLIC}/cases/case-20261125-abc123") == (
        "case",
        "case-20261125-abc123",
    )
    assert alert_owner("case-deadline", "") == ("case", None)
    assert alert_owner("digest") == ("digest", None)
    assert alert_owner("canteen") == ("shared", None)
    assert reserved_rule_id("plan:x:y") and reserved_rule_id("case-deadline")
    assert not reserved_rule_id("canteen")


def test_list_and_by_id_follow_the_department(world: World) -> None:
    everything = set(world.ids(*world.alerts))
    assert listed(world, "viewer_a") == world.ids(*A_SEES)
    for who in ("boss", "analyst_all", "service"):
        assert listed(world, who) == everything
    # a rule filter: B's plan rule lists nothing, the deadlines only A's case's
    assert listed(world, "viewer_a", rule_id="plan:pb:r1") == set()
    assert listed(world, "viewer_a", rule_id="canteen") == world.ids("shared")
    assert listed(world, "viewer_a", rule_id="case-deadline") == world.ids("deadline_a")
    assert listed(world, "viewer_a", limit=1) == world.ids("deadline_a")  # the newest seen
    viewer = world.as_("viewer_a")
    for name in A_SEES:
        alert_id = world.alerts[name].id
        assert world.client.get(f"/api/v1/alerts/{alert_id}", headers=viewer).status_code == 200
    for name in ("plan_b", "plan_none", "plan_gone", "deadline_b"):
        answer = world.client.get(f"/api/v1/alerts/{world.alerts[name].id}", headers=viewer)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
        assert world.alerts[name].title not in answer.text


def test_changes_to_another_departments_alert_are_404(world: World) -> None:
    analyst = world.as_("analyst_a")
    b_id, a_id = world.alerts["plan_b"].id, world.alerts["plan_a"].id
    client = world.client
    assert client.post(f"/api/v1/alerts/{b_id}/ack", headers=analyst).status_code == 404
    assert client.post(f"/api/v1/alerts/{b_id}/false-alarm", headers=analyst).status_code == 404
    opened = client.post("/api/v1/cases", json={"alert_id": b_id}, headers=analyst)
    assert opened.status_code == 404
    b_alert = client.get(f"/api/v1/alerts/{b_id}", headers=world.as_("service")).json()["alert"]
    assert b_alert["status"] == "new"
    acked = client.post(f"/api/v1/alerts/{a_id}/ack", headers=analyst)
    assert acked.status_code == 200 and acked.json()["alert"]["status"] == "acknowledged"
    # a saved rule may not take a plan rule's id (its alerts would follow that plan)
    rule = {"id": "plan:pa:mine", "name": "冒充", "query": "食堂"}
    saved = client.post("/api/v1/rules", json=rule, headers=world.as_("service"))
    assert saved.status_code == 409 and saved.json()["error"]["code"] == "rule_conflict"


def test_inbox_page_and_alert_page(world: World) -> None:
    viewer = world.as_("viewer_a")
    inbox = world.client.get("/alerts", headers=viewer)
    assert inbox.status_code == 200
    assert "A局方案预警" in inbox.text and "共享规则预警" in inbox.text
    for title in ("B局方案预警", "无部门方案预警", "已删方案预警"):
        assert title not in inbox.text
    assert "B局方案预警" in world.client.get("/alerts", headers=world.as_("boss")).text
    b_page = world.client.get(f"/alerts/{world.alerts['plan_b'].id}", headers=viewer)
    assert b_page.status_code == 404 and "B局方案预警" not in b_page.text
    a_page = world.client.get(f"/alerts/{world.alerts['plan_a'].id}", headers=viewer)
    assert a_page.status_code == 200 and "A局方案预警" in a_page.text


def test_export_holds_only_what_the_department_sees(world: World) -> None:
    for who, names in [("viewer_a", A_SEES), ("boss", tuple(world.alerts))]:
        answer = world.client.get("/api/v1/export/alerts?format=csv", headers=world.as_(who))
        assert answer.status_code == 200
        table = read_csv_export(answer.content).tables["预警"]
        ids = {row[table[0].index("编号")] for row in table[1:]}
        assert ids == world.ids(*names)


def _stream_ids(base: str, path: str, headers: dict[str, str], want: int) -> list[str]:
    """The ids of the first ``want`` alerts a stream sends from the start (after=0)."""
    got: list[str] = []
    event: dict[str, str] = {}
    deadline = time.monotonic() + 10
    with (
        httpx.Client(base_url=base, timeout=10) as http,
        http.stream("GET", path, params={"after": 0}, headers=headers) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                break
            if line == "":
                if event.get("event") == "alert":
                    got.append(str(orjson.loads(event["data"])["id"]))
                    if len(got) >= want:
                        break
                event = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                event[key] = value.removeprefix(" ")
    return got


def test_stream_sends_only_what_the_department_sees(world: World) -> None:
    # stored in order plan_b, plan_a, ..., deadline_b, deadline_a: B's come first, so a
    # leak would show among the first three sent
    with served(world.settings) as base:
        for path in ("/api/v1/alerts/stream", "/alerts/stream"):
            got = _stream_ids(base, path, world.as_("viewer_a"), len(A_SEES))
            assert set(got) == world.ids(*A_SEES)
        everyone = _stream_ids(base, "/api/v1/alerts/stream", world.as_("boss"), 2)
        assert everyone == [world.alerts["plan_b"].id, world.alerts["plan_a"].id]


def test_visible_alerts_pages_past_other_departments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limit counts visible alerts even when many newer ones are another department's,
    some sharing one instant across a page boundary."""
    monkeypatch.setattr(alert_scope, "PAGE", 3)
    store = open_store(f"sqlite:///{tmp_path / 'pages.db'}")
    try:
        for plan_id, dept in [("pa", "A局"), ("pb", "B局")]:
            store.save_plan(Plan(plan_id, plan_id, department=dept, updated_at=T0).as_dict())
        mine = [make_alert("plan:pa:r", f"A {n}", n) for n in range(3)]
        # one alert of A and five of B at one instant (A's stored first: listed last of
        # them, past the page boundary), newer than A's others
        tied = [replace(make_alert("plan:pa:r", "A tie", 10), id="tie-a")]
        tied += [replace(make_alert("plan:pb:r", f"B {n}", 10), id=f"tie-b{n}") for n in range(5)]
        newer = [make_alert("plan:pb:r", f"B later {n}", 20 + n) for n in range(7)]
        store.add_alerts([*mine, *tied, *newer])
        scope = Scope("A局")
        got = visible_alerts(store, scope, limit=10)
        assert [s.alert.id for s in got] == ["tie-a", *(a.id for a in reversed(mine))]
        assert [s.alert.id for s in visible_alerts(store, scope, limit=2)] == [
            "tie-a",
            mine[-1].id,
        ]
        assert len(visible_alerts(store, EVERYTHING, limit=100)) == 16
    finally:
        store.close()
