"""Contract tests of monitoring plans in the store (every backend): the plan as
``Plan.as_dict()`` round-trips, lists filter, deleting drops the poll state, a claim is
taken once until it is due again, poll state round-trips and is pruned with its source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.errors import StoreError
from yuqing.store.base import SourcePollState, Store

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def plan(
    plan_id: str,
    *,
    department: str | None = "宣传处",
    enabled: bool = True,
    sources: tuple[str, ...] = ("s1", "s2"),
) -> dict[str, Any]:
    return {
        "id": plan_id,
        "name": f"方案 {plan_id}",
        "department": department,
        "enabled": enabled,
        "description": "",
        "regions": ["宁波市"],
        "notify": ["duty"],
        "rules": [
            {
                "id": "r1",
                "name": "食堂",
                "query": "食堂 AND 过期",
                "triggers": [{"kind": "match"}],
                "severity": "high",
            }
        ],
        "sources": [
            {"id": s, "kind": "rss", "url": f"https://a.example/{s}.xml", "interval": "5m"}
            for s in sources
        ],
        "created_at": T0.isoformat(),
        "updated_at": T0.isoformat(),
    }


def test_save_get_and_list(store: Store) -> None:
    assert store.save_plan(plan("b")) is True
    assert store.save_plan(plan("a", department="网信办", enabled=False)) is True
    got = store.get_plan("b")
    assert got == plan("b")
    assert store.get_plan("missing") is None
    assert [p["id"] for p in store.plans()] == ["a", "b"]
    assert [p["id"] for p in store.plans(enabled=True)] == ["b"]
    assert [p["id"] for p in store.plans(enabled=False)] == ["a"]
    assert [p["id"] for p in store.plans(department="网信办")] == ["a"]
    changed = plan("b") | {
        "name": "改名",
        "created_at": None,
        "updated_at": (T0 + timedelta(hours=1)).isoformat(),
    }
    assert store.save_plan(changed) is False
    again = store.get_plan("b")
    assert again is not None and again["name"] == "改名"
    assert datetime.fromisoformat(again["created_at"]) == T0  # kept from the first save
    assert datetime.fromisoformat(again["updated_at"]) == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"name": "x", "updated_at": T0.isoformat()}, "no 'id'"),
        ({"id": "x", "updated_at": T0.isoformat()}, "no 'name'"),
        ({"id": "x", "name": "x", "enabled": "yes", "updated_at": T0.isoformat()}, "'enabled'"),
        ({"id": "x", "name": "x"}, "created_at or updated_at"),
        ({"id": "x", "name": "x", "updated_at": "2026-05-04T08:00:00"}, "no time zone"),
    ],
)
def test_bad_records_are_refused(store: Store, record: dict[str, Any], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.save_plan(record)
    assert store.plans() == []


def test_claims_are_taken_once_until_due(store: Store) -> None:
    store.save_plan(plan("p"))
    lease = T0 + timedelta(minutes=10)
    assert store.claim_plan_source("p", "s1", T0, lease) is True
    assert store.claim_plan_source("p", "s1", T0, lease) is False  # taken
    assert store.claim_plan_source("p", "s2", T0, lease) is True  # another source
    assert store.claim_plan_source("p", "s1", lease - timedelta(seconds=1), lease) is False
    assert store.claim_plan_source("p", "s1", lease, lease + timedelta(minutes=10)) is True
    (s1, _s2) = store.plan_source_states("p")
    assert s1.next_poll_at == lease + timedelta(minutes=10) and s1.last_poll_at is None
    with pytest.raises(StoreError, match="no plan 'nope'"):
        store.claim_plan_source("nope", "s1", T0, lease)


def test_poll_state_round_trips_and_follows_the_plan(store: Store) -> None:
    store.save_plan(plan("p"))
    store.save_plan(plan("q"))
    state = SourcePollState(
        plan_id="p",
        source_id="s1",
        last_poll_at=T0,
        status="not_modified",
        http_status=304,
        etag='"abc"',
        last_modified="Mon, 04 May 2026 07:00:00 GMT",
        failures=0,
        next_poll_at=T0 + timedelta(minutes=5),
        last_error=None,
        posts_fetched=12,
        last_posts=0,
    )
    store.save_source_state(state)
    failing = SourcePollState(
        "p", "s2", T0, "error", 503, None, None, 3, T0 + timedelta(hours=1), "HTTP 503", 0, 0
    )
    store.save_source_state(failing)
    store.save_source_state(SourcePollState("q", "s1", T0, "ok", 200))
    assert store.plan_source_states("p") == [state, failing]
    assert [(s.plan_id, s.source_id) for s in store.plan_source_states()] == [
        ("p", "s1"),
        ("p", "s2"),
        ("q", "s1"),
    ]
    store.save_source_state(
        SourcePollState(
            "p",
            "s1",
            T0 + timedelta(minutes=5),
            "ok",
            200,
            '"def"',
            None,
            0,
            T0 + timedelta(minutes=10),
            None,
            14,
            2,
        )
    )
    assert store.plan_source_states("p")[0].etag == '"def"'

    store.save_plan(plan("p", sources=("s2",)))  # s1 left the plan: its state goes
    assert [s.source_id for s in store.plan_source_states("p")] == ["s2"]
    store.save_plan(plan("p", sources=()))
    assert store.plan_source_states("p") == []

    assert store.delete_plan("q") is True
    assert store.delete_plan("q") is False
    assert store.plan_source_states("q") == []
    assert store.get_plan("q") is None
    with pytest.raises(StoreError, match="no plan 'q'"):
        store.save_source_state(SourcePollState("q", "s1"))
    with pytest.raises(StoreError, match="poll status 'weird'"):
        store.save_source_state(SourcePollState("p", "s2", status="weird"))  # type: ignore[arg-type]
