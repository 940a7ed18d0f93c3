"""Contract tests of claims (rumour verdicts) in the store, for every backend: the whole
claim as ``Claim.as_dict()`` round-trips, lists filter and sort, stale copies are refused,
broken records are refused with nothing written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.clock import ManualClock
from yuqing.errors import StoreError
from yuqing.rumors import Claim, new_claim
from yuqing.store.base import CLAIM_VERDICTS, Store, StoreConflictError

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
URL = "https://www.piyao.org.cn/2026-03/05/c_1.htm"


def make(clock: ManualClock, n: int, **kw: Any) -> Claim:
    return new_claim(f"说法 {n}：喝自来水会致癌", who="张三", clock=clock, claim_id=f"c-{n}", **kw)


def test_save_and_get_round_trip_the_whole_claim(store: Store) -> None:
    clock = ManualClock(T0)
    claim = make(clock, 1, key_phrases=["自来水", "致癌"], event_id="ev-1", note="待查")
    clock.advance(timedelta(minutes=5))
    claim.mark("false", evidence_url=URL, who="李四", clock=clock, note="卫健委已辟谣")
    assert store.save_claim(claim.as_dict()) is True
    stored = store.get_claim("c-1")
    assert stored is not None
    assert Claim.from_dict(stored) == claim
    assert json.loads(json.dumps(stored)) == claim.as_dict()
    assert store.get_claim("c-9") is None
    assert store.save_claim(claim.as_dict()) is False  # the same copy again: fine


def test_lists_filter_by_verdict_and_event_newest_change_first(store: Store) -> None:
    clock = ManualClock(T0)
    for n, verdict in enumerate(("false", "true", "unverified", "false"), 1):
        clock.advance(timedelta(minutes=1))
        evidence = URL if verdict != "unverified" else None
        claim = make(clock, n, verdict=verdict, evidence_url=evidence, event_id=f"ev-{n % 2}")
        store.save_claim(claim.as_dict())
    assert [c["id"] for c in store.claims()] == ["c-4", "c-3", "c-2", "c-1"]
    assert [c["id"] for c in store.claims(verdict="false")] == ["c-4", "c-1"]
    assert [c["id"] for c in store.claims(event_id="ev-1")] == ["c-3", "c-1"]
    assert [c["id"] for c in store.claims(verdict="false", event_id="ev-0")] == ["c-4"]
    assert len(store.claims(limit=2)) == 2
    clock.advance(timedelta(minutes=1))
    first = Claim.from_dict(store.get_claim("c-1") or {})
    first.mark("true", evidence_url=URL, who="王五", clock=clock)
    store.save_claim(first.as_dict())
    assert store.claims()[0]["id"] == "c-1"  # re-marked: now the most recent
    assert [c["id"] for c in store.claims(verdict="false")] == ["c-4"]
    with pytest.raises(StoreError, match="maybe"):
        store.claims(verdict="maybe")
    assert set(CLAIM_VERDICTS) == {"true", "false", "unverified"}


def test_lost_update_is_refused_and_nothing_is_written(store: Store) -> None:
    clock = ManualClock(T0)
    store.save_claim(make(clock, 1).as_dict())
    mine = Claim.from_dict(store.get_claim("c-1") or {})
    theirs = Claim.from_dict(store.get_claim("c-1") or {})
    clock.advance(timedelta(minutes=1))
    theirs.mark("false", evidence_url=URL, who="李四", clock=clock)
    store.save_claim(theirs.as_dict())
    mine.mark("true", evidence_url=URL, who="张三", clock=clock)
    with pytest.raises(StoreConflictError, match="c-1"):
        store.save_claim(mine.as_dict())
    assert (store.get_claim("c-1") or {})["verdict"] == "false"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": ""}, "no 'id'"),
        ({"statement": "  "}, "no 'statement'"),
        ({"verdict": "maybe"}, "verdict 'maybe'"),
        ({"updated_at": "2026-03-05T04:00:00"}, "no time zone"),
        ({"updated_at": "yesterday"}, "not an ISO 8601"),
        ({"history": "x"}, "history must be a list"),
    ],
)
def test_broken_records_are_refused(store: Store, change: dict[str, Any], message: str) -> None:
    record = {**make(ManualClock(T0), 1).as_dict(), **change}
    with pytest.raises(StoreError, match=message):
        store.save_claim(record)
    assert store.claims() == []
