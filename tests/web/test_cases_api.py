"""Cases through the REST API v1 over a copy of the demo store (filled by the real
pipeline), on a ManualClock: open from an event (level suggested with its reason), from
an alert or a title; transitions; plans and ticks; statements drafted, checked,
published; timeliness and overdue with times; the effect of a statement; errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import TOKEN
from tests.web.test_alerts_api import add_alerts, copy_store, make_alert
from tests.web.test_api import error_of
from yuqing.cases import LEVELS
from yuqing.cases.repository import StoreCaseRepository
from yuqing.clock import ManualClock
from yuqing.settings import Settings
from yuqing.store.url import open_store
from yuqing.web import create_app, views
from yuqing.web.cases_view import case_errors
from yuqing.web.deps import ApiError

AUTH = {"Authorization": f"Bearer {TOKEN}"}
GOOD = (
    "关于鄞州实验中学食堂学生身体不适的情况通报\n"
    "11月20日12时，鄞州实验中学食堂午餐后，12名学生出现腹痛症状。"
    "感谢社会各界和广大网民的关注与监督，我们深表歉意。\n"
    "区教育局已成立联合调查组，已封存留样食品并送检，学生已全部送医观察。\n"
    "区教育局将于11月21日18时前通报调查进展。\n"
    "鄞州区教育局\n2026年11月20日"
)
BAD = "我局高度重视，相关部门正在调查，纯属个人行为。"


@pytest.fixture(scope="module")
def url(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return copy_store(demo_url, tmp_path_factory.mktemp("cases-api"))


@pytest.fixture(scope="module")
def as_of(url: str) -> datetime:
    store = open_store(url)
    try:
        return views.as_of(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def clock(as_of: datetime) -> ManualClock:
    return ManualClock(as_of + timedelta(minutes=5))


@pytest.fixture(scope="module")
def client(url: str, clock: ManualClock) -> Iterator[TestClient]:
    settings = Settings.model_validate({"store": url, "web": {"api_tokens": [TOKEN]}})
    with TestClient(create_app(settings, clock=clock), headers=AUTH) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def hottest(client: TestClient) -> dict[str, Any]:
    events = client.get("/api/v1/events", headers=AUTH).json()["items"]
    return dict(events[0])


def open_case(client: TestClient, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/cases", json={"by": "值班员", **body}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def post(client: TestClient, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/cases/{path}", json=body or {}, headers=AUTH)


def test_open_from_event_suggests_the_level_with_its_reason(
    client: TestClient, hottest: dict[str, Any], clock: ManualClock
) -> None:
    answer = open_case(client, event_id=hottest["id"], owner="区委宣传部")
    case, suggestion = answer["case"], answer["suggestion"]
    assert case["event_id"] == hottest["id"] and case["title"] == hottest["title"]
    assert case["level"] in LEVELS and case["level"] == suggestion["level"]
    assert suggestion["heat"] == pytest.approx(hottest["heat"], abs=0.1)
    assert set(suggestion["risk"]) == {"rumor", "group_incident"}
    assert f"热度指数 {hottest['heat']:.1f}" in case["level_reason"]
    assert "建议级别" in case["level_reason"] and case["level_reason"] == suggestion["reason"]
    assert case["status"] == "new" and case["next_statuses"] == ["assessing", "closed"]
    assert case["owner"] == "区委宣传部"
    assert case["actions"][0]["who"] == "值班员"
    assert case["opened_at"] == clock.now().isoformat()
    assert case["timeliness"]["status"] == "pending" and case["overdue"] is False
    got = client.get(f"/api/v1/cases/{case['id']}", headers=AUTH).json()["case"]
    assert got["level_reason"] == case["level_reason"]
    listed = client.get("/api/v1/cases", params={"event_id": hottest["id"]}, headers=AUTH).json()
    assert case["id"] in [c["id"] for c in listed["items"]]
    page = client.get(f"/events/{hottest['id']}")
    assert page.status_code == 200 and f'href="/cases/{case["id"]}"' in page.text


def test_open_from_alert_and_from_a_title(client: TestClient, url: str) -> None:
    alert = make_alert(77, event=None)
    add_alerts(url, alert)
    case = open_case(client, alert_id=alert.id)["case"]
    assert case["alert_id"] == alert.id and case["title"] == alert.title
    assert case["level"] == "IV" and "手工立案" in case["level_reason"]
    by_alert = client.get("/api/v1/cases", params={"alert_id": alert.id}, headers=AUTH).json()
    assert [c["id"] for c in by_alert["items"]] == [case["id"]]
    dangling = make_alert(78, event="ev-not-stored")
    add_alerts(url, dangling)
    case = open_case(client, alert_id=dangling.id)["case"]
    assert case["event_id"] == "ev-not-stored" and "暂无入库帖文" in case["level_reason"]
    manual = open_case(client, title="某小区垃圾站异味投诉", departments=["区城管局"])["case"]
    assert manual["departments"] == ["区城管局"] and manual["event_id"] is None


def test_opening_errors(client: TestClient, anon: TestClient) -> None:
    error_of(anon.post("/api/v1/cases", json={"event_id": "ev-x"}), 401, "unauthorized")
    error_of(
        client.post("/api/v1/cases", json={"event_id": "ev-nope"}, headers=AUTH), 404, "not_found"
    )
    error_of(
        client.post("/api/v1/cases", json={"alert_id": "nope"}, headers=AUTH), 404, "not_found"
    )
    error_of(client.post("/api/v1/cases", json={}, headers=AUTH), 422, "invalid_request")
    error_of(client.get("/api/v1/cases/case-nope", headers=AUTH), 404, "not_found")
    error_of(
        client.get("/api/v1/cases", params={"status": "open"}, headers=AUTH), 400, "bad_request"
    )
    assert "ev-nope" not in str(client.get("/api/v1/cases", headers=AUTH).json())


def test_transitions_valid_and_invalid(client: TestClient) -> None:
    case_id = open_case(client, title="流转测试")["case"]["id"]
    answer = error_of(
        post(client, f"{case_id}/transition", {"to": "monitoring"}), 409, "invalid_transition"
    )
    assert "allowed next: assessing, closed" in answer["message"]
    error_of(post(client, f"{case_id}/transition", {"to": "done"}), 409, "invalid_transition")
    for status in ("assessing", "responding", "monitoring", "responding", "monitoring"):
        got = post(client, f"{case_id}/transition", {"to": status, "by": "张三"})
        assert got.status_code == 200, got.text
        assert got.json()["case"]["status"] == status
    closed = post(client, f"{case_id}/transition", {"to": "closed", "note": "舆情平息"}).json()
    assert closed["case"]["status_label"] == "已结案" and closed["case"]["closed_at"]
    assert "舆情平息" in closed["case"]["actions"][-1]["what"]
    message = error_of(post(client, f"{case_id}/owner", {"owner": "某局"}), 409, "case_closed")
    assert "closed" in message["message"]
    error_of(post(client, f"{case_id}/statements", {"text": "通报"}), 409, "case_closed")
    error_of(post(client, f"{case_id}/level", {"level": "I", "reason": "x"}), 409, "case_closed")
    kept = client.get(f"/api/v1/cases/{case_id}", headers=AUTH).json()["case"]
    assert kept["owner"] is None and kept["statements"] == []  # nothing lost, nothing added
    noted = post(client, f"{case_id}/notes", {"text": "结案后补记"})
    assert noted.status_code == 200


def test_level_owner_and_their_errors(client: TestClient) -> None:
    case_id = open_case(client, title="定级测试")["case"]["id"]
    error_of(
        post(client, f"{case_id}/level", {"level": "II", "reason": " "}), 422, "invalid_case_change"
    )
    error_of(
        post(client, f"{case_id}/level", {"level": "V", "reason": "x"}), 422, "invalid_case_change"
    )
    case = post(client, f"{case_id}/level", {"level": "重大", "reason": "涉及未成年人"}).json()[
        "case"
    ]
    assert (case["level"], case["level_reason"]) == ("II", "涉及未成年人")
    case = post(
        client,
        f"{case_id}/owner",
        {"owner": "区教育局", "departments": ["区市场监管局", "区卫健委"]},
    ).json()["case"]
    assert case["owner"] == "区教育局" and case["departments"] == ["区市场监管局", "区卫健委"]
    error_of(post(client, f"{case_id}/owner", {}), 422, "invalid_request")
    error_of(
        TestClient(client.app).post(f"/api/v1/cases/{case_id}/owner", json={"owner": "x"}),
        401,
        "unauthorized",
    )


def test_plan_attach_and_tick(client: TestClient, clock: ManualClock) -> None:
    plans = client.get("/api/v1/plans", headers=AUTH).json()["items"]
    assert {"food-safety", "school-safety"} <= {p["id"] for p in plans}
    case_id = open_case(client, title="预案测试")["case"]["id"]
    error_of(post(client, f"{case_id}/plan", {"plan_id": "nope"}), 404, "not_found")
    case = post(client, f"{case_id}/plan", {"plan_id": "food-safety"}).json()["case"]
    assert case["plan_ids"] == ["food-safety"] and case["checklist"]
    error_of(
        post(client, f"{case_id}/plan", {"plan_id": "food-safety"}), 422, "invalid_case_change"
    )
    first = case["checklist"][0]["key"]
    ticked = post(client, f"{case_id}/tick", {"item": first, "note": "已核实", "by": "李四"}).json()
    item = ticked["case"]["checklist"][0]
    assert item["done_by"] == "李四" and item["done_at"] == clock.now().isoformat()
    assert ticked["case"]["checklist_done"] == 1
    error_of(post(client, f"{case_id}/tick", {"item": first}), 422, "invalid_case_change")
    error_of(post(client, f"{case_id}/tick", {"item": "nope"}), 422, "invalid_case_change")
    error_of(
        post(client, f"{case_id}/tick", {"item": first, "undo": True}), 422, "invalid_case_change"
    )
    undone = post(client, f"{case_id}/tick", {"item": first, "undo": True, "reason": "误勾"}).json()
    assert undone["case"]["checklist_done"] == 0
    due = [i for i in case["checklist"] if i["due_at"]]
    assert due, "the food-safety plan has items with due times"
    clock.advance(timedelta(days=2))
    try:
        late = client.get(f"/api/v1/cases/{case_id}", headers=AUTH).json()["case"]
        assert due[0]["key"] in late["overdue_items"]
        assert next(i for i in late["checklist"] if i["key"] == due[0]["key"])["overdue"] is True
    finally:
        clock.advance(timedelta(days=-2))


def test_statement_draft_check_publish(client: TestClient, clock: ManualClock) -> None:
    facts = {
        "event": "鄞州实验中学食堂学生身体不适事件",
        "issuer": "鄞州区教育局",
        "occurred_at": "2026-11-20T12:00:00+08:00",
        "place": "鄞州实验中学食堂",
        "summary": "部分学生午餐后出现腹痛症状",
        "known": ["共有12名学生就医，均无生命危险"],
        "measures": ["已成立联合调查组", "已封存留样食品并送检"],
        "next_update_at": "2026-11-21T18:00:00+08:00",
    }
    drafted = client.post("/api/v1/statements/draft", json=facts, headers=AUTH).json()["text"]
    assert drafted.startswith("关于鄞州实验中学食堂学生身体不适事件的情况通报")
    assert "鄞州区教育局将于" in drafted
    error_of(
        client.post(
            "/api/v1/statements/draft", json={**facts, "occurred_at": "soon"}, headers=AUTH
        ),
        400,
        "bad_time",
    )
    case_id = open_case(client, title="通报测试")["case"]["id"]
    added = post(client, f"{case_id}/statements", {"facts": facts}).json()
    assert added["statement_id"] == f"{case_id}-s1"
    assert added["case"]["statements"][0]["text"] == drafted
    bad_id = post(client, f"{case_id}/statements", {"text": BAD}).json()["statement_id"]
    error_of(post(client, f"{case_id}/statements", {}), 422, "invalid_request")

    good = post(client, f"{case_id}/statements/{added['statement_id']}/check").json()["check"]
    assert [r["label"] for r in good["results"]] == ["及时", "有效", "解决问题", "态度诚恳"]
    assert all(r["explanation"] for r in good["results"])
    bad = post(client, f"{case_id}/statements/{bad_id}/check").json()["check"]
    sincere = next(r for r in bad["results"] if r["label"] == "态度诚恳")
    assert sincere["passed"] is False and "纯属个人行为" in sincere["explanation"]
    assert bad["passed"] is False
    live = post(client, f"{case_id}/check", {"text": GOOD}).json()["check"]
    assert {r["label"]: r["passed"] for r in live["results"]} == {
        "及时": True,
        "有效": True,
        "解决问题": True,
        "态度诚恳": True,
    }
    error_of(post(client, f"{case_id}/statements/{case_id}-s9/check"), 422, "invalid_case_change")

    published = post(
        client, f"{case_id}/statements/{bad_id}/publish", {"channel": "官方微博", "by": "张三"}
    ).json()["case"]
    statement = published["statements"][1]
    assert statement["published_at"] == clock.now().isoformat()
    assert statement["channel"] == "官方微博" and statement["published_by"] == "张三"
    assert published["timeliness"]["status"] == "on_time"
    error_of(post(client, f"{case_id}/statements/{bad_id}/publish"), 422, "invalid_case_change")
    future = (clock.now() + timedelta(hours=1)).isoformat()
    error_of(
        post(client, f"{case_id}/statements/{case_id}-s1/publish", {"at": future}),
        422,
        "invalid_case_change",
    )


def test_timeliness_and_overdue_with_times(client: TestClient, clock: ManualClock) -> None:
    start = clock.now()
    try:
        case = open_case(client, title="时限测试")["case"]  # level IV: 24 h
        assert case["level"] == "IV"
        due = datetime.fromisoformat(case["due"])
        assert due == start + timedelta(hours=24)
        clock.advance(timedelta(hours=23))
        case = client.get(f"/api/v1/cases/{case['id']}", headers=AUTH).json()["case"]
        assert case["overdue"] is False and case["timeliness"]["margin_minutes"] == 60
        clock.advance(timedelta(hours=2))
        case = client.get(f"/api/v1/cases/{case['id']}", headers=AUTH).json()["case"]
        assert case["overdue"] is True and case["timeliness"]["status"] == "overdue"
        assert case["timeliness"]["margin_minutes"] == -60
        overdue_ids = [
            c["id"]
            for c in client.get("/api/v1/cases", headers=AUTH).json()["items"]
            if c["overdue"]
        ]
        assert case["id"] in overdue_ids
        sid = post(client, f"{case['id']}/statements", {"text": GOOD}).json()["statement_id"]
        late = post(client, f"{case['id']}/statements/{sid}/publish").json()["case"]
        assert late["overdue"] is False and late["timeliness"]["status"] == "late"
        assert late["timeliness"]["margin_minutes"] == -60
        assert "晚" in late["timeliness"]["summary"] or "超" in late["timeliness"]["summary"]
    finally:
        clock.set(start)


def test_effect_of_a_published_statement(
    client: TestClient, hottest: dict[str, Any], as_of: datetime
) -> None:
    case_id = open_case(client, event_id=hottest["id"])["case"]["id"]
    error_of(client.get(f"/api/v1/cases/{case_id}/effect", headers=AUTH), 422, "not_published")
    first = datetime.fromisoformat(hottest["first_seen"])
    at = first + (as_of - first) / 2
    sid = post(client, f"{case_id}/statements", {"text": GOOD}).json()["statement_id"]
    post(client, f"{case_id}/statements/{sid}/publish", {"at": at.isoformat()})
    effect = client.get(
        f"/api/v1/cases/{case_id}/effect", params={"hours": 24}, headers=AUTH
    ).json()["effect"]
    assert datetime.fromisoformat(effect["published_at"]) == at.astimezone(UTC)
    assert effect["before"]["volume"] + effect["after"]["volume"] > 0
    assert effect["summary"].startswith("通报发布后 24 小时声量")
    assert 0 <= effect["before"]["negative_share"] <= 1
    default = client.get(f"/api/v1/cases/{case_id}/effect", headers=AUTH).json()["effect"]
    assert default["summary"].startswith("通报发布后 6 小时声量")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and default["summary"] in page.text
    event_page = client.get(f"/events/{hottest['id']}").text  # the statement on the charts
    assert (
        '"shapes"' in event_page
        and at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in event_page
    )
    manual = open_case(client, title="无事件")["case"]["id"]
    error_of(client.get(f"/api/v1/cases/{manual}/effect", headers=AUTH), 422, "no_event")


def test_a_stale_copy_is_refused_and_answered_409(client: TestClient, url: str) -> None:
    case_id = open_case(client, title="并发测试")["case"]["id"]
    store = open_store(url)
    try:
        stale = StoreCaseRepository(store).get_case(case_id)
        post(client, f"{case_id}/transition", {"to": "assessing"})  # saved in between
        stale.note("另一人的修改", who="乙", clock=ManualClock(datetime.now(UTC)))
        with pytest.raises(ApiError) as caught, case_errors():
            StoreCaseRepository(store).update_case(stale)
    finally:
        store.close()
    assert (caught.value.status, caught.value.code) == (409, "conflict")
    assert "changed since this copy was read" in caught.value.message
    kept = client.get(f"/api/v1/cases/{case_id}", headers=AUTH).json()["case"]
    assert kept["status"] == "assessing" and "另一人的修改" not in str(kept["actions"])


def test_pages_list_and_case_in_both_scripts(client: TestClient) -> None:
    case_id = open_case(client, title="页面测试")["case"]["id"]
    listing = client.get("/cases")
    assert listing.status_code == 200 and f'data-id="{case_id}"' in listing.text
    assert "首次通报时限" in listing.text
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "四项原则检查" in page.text and "定级依据" in page.text
    trad = client.get(f"/cases/{case_id}", params={"lang": "zh-Hant"})
    assert "四項原則檢查" in trad.text and "定級依據" in trad.text
    client.cookies.clear()
    assert client.get("/cases/case-nope").status_code == 404
    checked = client.post(f"/cases/{case_id}/check", json={"text": BAD}).json()
    assert checked["check"]["passed"] is False
    assert client.post("/cases/case-nope/check", json={"text": BAD}).status_code == 404
    assert 'class="open-case"' in client.get("/alerts").text


def test_token_rules(url: str, tmp_path: Path) -> None:
    settings = Settings.model_validate({"store": url})  # no token configured
    with TestClient(create_app(settings)) as open_client:
        error_of(open_client.get("/api/v1/cases"), 401, "unauthorized")  # nothing is open
        error_of(open_client.post("/api/v1/cases", json={"title": "x"}), 401, "unauthorized")
