"""Store contract: the corrections log and false alarms (every backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.store.test_contract import doc
from yuqing.alerts.alert import Alert
from yuqing.errors import StoreError
from yuqing.store.base import Correction, Store

AT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _correction(target: str = "weibo/a", **kw: object) -> Correction:
    values: dict[str, object] = {
        "kind": "sentiment",
        "target": target,
        "old": "neutral",
        "new": "negative",
        "by": "li",
        "at": AT,
        "note": "明显是投诉",
    }
    values.update(kw)
    return Correction(**values)  # type: ignore[arg-type]


def _alert(n: int = 1) -> Alert:
    return Alert.create(
        rule_id="r1",
        kind="match",
        title=f"食堂 {n}",
        severity="high",
        created_at=AT + timedelta(minutes=n),
        public_url="http://yq.test",
    )


def test_add_correction_logs_and_applies_the_analysis_in_one_go(store: Store) -> None:
    store.add_documents([doc("a", "学校食堂", analysis={"sentiment": "neutral"})])
    logged = store.add_correction(
        _correction(), [("weibo", "a", {"sentiment": "negative", "corrected": {"x": 1}})]
    )
    assert logged.id > 0
    got = store.get_document("weibo", "a")
    assert got is not None and got.analysis["sentiment"] == "negative"
    assert store.label_counts("sentiment") == {"negative": 1}
    (back,) = store.corrections()
    assert back == logged
    assert back.at == AT and back.note == "明显是投诉" and back.old == "neutral"


def test_corrections_filter_order_and_page(store: Store) -> None:
    ids = [store.add_correction(_correction(f"weibo/p{n}")).id for n in range(5)]
    store.add_correction(
        _correction("ev-1", kind="event_merge", old={"events": ["ev-2"]}, new="ev-1")
    )
    assert [c.id for c in store.corrections(kind="sentiment")] == ids[::-1]
    assert [c.target for c in store.corrections(target="weibo/p3")] == ["weibo/p3"]
    merge = store.corrections(kind="event_merge")[0]
    assert merge.old == {"events": ["ev-2"]} and merge.new == "ev-1"
    page = store.corrections(after=ids[1], limit=2, newest_first=False)
    assert [c.id for c in page] == ids[2:4]
    with pytest.raises(StoreError, match="correction kind"):
        store.corrections(kind="color")


def test_a_bad_correction_changes_nothing(store: Store) -> None:
    store.add_documents([doc("a", "学校食堂", analysis={"sentiment": "neutral"})])
    for bad in (
        _correction(kind="color"),
        _correction(by=" "),
        _correction(at=datetime(2026, 1, 1)),  # noqa: DTZ001 - naive on purpose
    ):
        with pytest.raises(StoreError):
            store.add_correction(bad, [("weibo", "a", {"sentiment": "negative"})])
    with pytest.raises(StoreError):
        store.add_correction(_correction(), [("weibo", "a", ["no"])])  # type: ignore[list-item]
    got = store.get_document("weibo", "a")
    assert got is not None and got.analysis == {"sentiment": "neutral"}
    assert store.corrections() == []


def test_mark_false_alarm_sets_the_status_once_and_logs_it(store: Store) -> None:
    alert = _alert()
    store.add_alerts([alert, _alert(2)])
    c = _correction(alert.id, kind="false_alarm", old="new", new="false_alarm")
    assert store.mark_false_alarm(alert.id, c) is True
    stored = store.get_alert(alert.id)
    assert stored is not None and stored.status == "false_alarm"
    assert stored.acknowledged_by == "li" and stored.acknowledged_at == AT
    assert [a.alert.id for a in store.alerts(status="false_alarm")] == [alert.id]
    assert [a.alert.id for a in store.alerts(status="new")] != [alert.id]
    assert store.acknowledge_alert(alert.id, "wang", AT) is False  # stays a false alarm
    again = _correction(alert.id, kind="false_alarm", old="false_alarm", new="false_alarm")
    assert store.mark_false_alarm(alert.id, again) is False
    assert len(store.corrections(kind="false_alarm")) == 1
    with pytest.raises(StoreError, match="no alert"):
        store.mark_false_alarm("nope", _correction("nope", kind="false_alarm"))


def test_an_acknowledged_alert_can_still_be_a_false_alarm(store: Store) -> None:
    alert = _alert()
    store.add_alerts([alert])
    store.acknowledge_alert(alert.id, "wang", AT)
    assert store.mark_false_alarm(alert.id, _correction(alert.id, kind="false_alarm"))
    stored = store.get_alert(alert.id)
    assert stored is not None and (stored.status, stored.acknowledged_by) == ("false_alarm", "li")
