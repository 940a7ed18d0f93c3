"""Contract tests of alerts, the delivery log and saved monitoring rules (every backend)."""

from __future__ import annotations

import io
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from yuqing.alerts.alert import Alert, AlertSample
from yuqing.alerts.channels.log import LogChannel
from yuqing.alerts.delivery import DeliveryAttempt, Dispatcher, MemoryDeliveryLog
from yuqing.alerts.engine import AlertEngine
from yuqing.alerts.rules_config import load_rules
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError, StoreError
from yuqing.models import Document
from yuqing.runtime.run import run_forever
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.delivery_log import StoreDeliveryLog
from yuqing.store.saved_rules import RuleSync

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
MATCH = '[{"kind": "match"}]'


def alert(n: int, *, rule: str = "canteen", event: str | None = "ev-1") -> Alert:
    return Alert.create(
        rule_id=rule,
        kind="match",
        title=f"食堂｜规则命中 {n}",
        severity="high",
        created_at=T0 + timedelta(minutes=n),
        public_url="https://yq.example.org",
        event_id=event,
        reasons=["命中规则「食堂」：食堂"],
        samples=[AlertSample("weibo", f"p{n}", "食堂<script>x</script>", None, T0)],
    )


def attempt(alert_id: str, n: int, ok: bool = True) -> DeliveryAttempt:
    return DeliveryAttempt(
        alert_id=alert_id,
        rule_id="canteen",
        channel="ops",
        attempt=n,
        at=T0 + timedelta(seconds=n),
        ok=ok,
        final=ok,
        status=200 if ok else 503,
        error=None if ok else "HTTP 503",
    )


def test_add_alerts_is_idempotent_and_round_trips(store: Store) -> None:
    a, b = alert(1), alert(2, event=None)
    assert store.add_alerts([a, b, a]) == 2
    assert store.add_alerts([a]) == 0
    found = store.alerts()
    assert [s.alert.id for s in found] == [b.id, a.id]  # newest first
    assert found[1].alert == a
    assert found[1].status == "new" and found[1].acknowledged_by is None
    assert found[1].seq < found[0].seq


def test_suppressed_only_grows(store: Store) -> None:
    a = alert(1)
    store.add_alerts([a])
    a.suppressed = 4
    store.add_alerts([a])
    got = store.get_alert(a.id)
    assert got is not None and got.alert.suppressed == 4
    a.suppressed = 1
    store.add_alerts([a])
    got = store.get_alert(a.id)
    assert got is not None and got.alert.suppressed == 4


def test_alert_filters(store: Store) -> None:
    store.add_alerts([alert(n, rule="canteen" if n % 2 else "fire") for n in range(10)])
    assert len(store.alerts()) == 10
    assert len(store.alerts(limit=3)) == 3
    assert {s.alert.rule_id for s in store.alerts(rule_id="fire")} == {"fire"}
    window = store.alerts(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=5))
    assert [s.alert.created_at.minute for s in window] == [4, 3, 2]
    assert store.alerts(status="acknowledged") == []
    with pytest.raises(StoreError, match="status"):
        store.alerts(status="bogus")  # type: ignore[arg-type]


def test_acknowledge(store: Store) -> None:
    a = alert(1)
    store.add_alerts([a, alert(2)])
    at = T0 + timedelta(hours=1)
    assert store.acknowledge_alert(a.id, "值班员", at) is True
    assert store.acknowledge_alert(a.id, "someone else", at + timedelta(minutes=1)) is False
    got = store.get_alert(a.id)
    assert got is not None
    assert (got.status, got.acknowledged_by, got.acknowledged_at) == ("acknowledged", "值班员", at)
    assert [s.alert.id for s in store.alerts(status="acknowledged")] == [a.id]
    assert len(store.alerts(status="new")) == 1
    store.add_alerts([a])  # re-adding keeps the acknowledgement
    again = store.get_alert(a.id)
    assert again is not None and again.status == "acknowledged"
    with pytest.raises(StoreError, match="nope"):
        store.acknowledge_alert("nope", "x", at)
    assert store.get_alert("nope") is None


def test_alerts_after_is_the_stream_cursor(store: Store) -> None:
    assert store.alerts_after(0) == []
    assert store.last_alert_seq() == 0
    store.add_alerts([alert(5), alert(1)])  # inserted out of time order
    first = store.alerts_after(0)
    assert store.last_alert_seq() == first[-1].seq
    assert [s.alert.created_at.minute for s in first] == [5, 1]  # insertion order
    store.add_alerts([alert(7)])
    later = store.alerts_after(first[-1].seq)
    assert [s.alert.created_at.minute for s in later] == [7]
    assert store.alerts_after(later[-1].seq) == []
    assert len(store.alerts_after(0, limit=2)) == 2


def test_delivery_log(store: Store) -> None:
    store.record_delivery(attempt("a1", 1, ok=False))
    store.record_delivery(attempt("a1", 2))
    store.record_delivery(attempt("a2", 1))
    recent = store.deliveries()
    assert [(d.alert_id, d.attempt) for d in recent] == [("a2", 1), ("a1", 2), ("a1", 1)]
    assert recent[2] == attempt("a1", 1, ok=False)
    assert [d.attempt for d in store.deliveries(alert_id="a1")] == [2, 1]
    assert len(store.deliveries(limit=1)) == 1


def test_rules_save_list_delete(store: Store) -> None:
    triggers = orjson.dumps([{"kind": "count", "threshold": 5, "window": "1h"}]).decode()
    assert store.save_rule("canteen", "食堂", "食堂 AND 过期", triggers, True) is True
    assert store.save_rule("a-first", "A", "火灾", "[]", False, severity="critical") is True
    assert store.save_rule("canteen", "食堂食品", "食堂 OR 餐厅", triggers, True) is False
    rules = store.rules()
    assert [r.id for r in rules] == ["a-first", "canteen"]
    canteen = rules[1]
    assert (canteen.name, canteen.query) == ("食堂食品", "食堂 OR 餐厅")
    assert canteen.triggers == [{"kind": "count", "threshold": 5, "window": "1h"}]
    assert canteen.created_at is not None and canteen.updated_at is not None
    assert rules[0].enabled is False and rules[0].severity == "critical"
    assert rules[0].as_table()["enabled"] is False
    assert store.delete_rule("a-first") is True
    assert store.delete_rule("a-first") is False
    assert [r.id for r in store.rules()] == ["canteen"]


def test_rule_triggers_must_be_a_json_array(store: Store) -> None:
    with pytest.raises(StoreError, match="not JSON"):
        store.save_rule("x", "x", "火灾", "{kind", True)
    with pytest.raises(StoreError, match="array"):
        store.save_rule("x", "x", "火灾", '{"kind": "match"}', True)
    assert store.rules() == []


def test_store_delivery_log_from_threads(store: Store, tmp_path: Path) -> None:
    log = StoreDeliveryLog(store.url)
    threads = [threading.Thread(target=log.record, args=(attempt(f"a{i}", 1),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {d.alert_id for d in log.recent(10)} == {"a0", "a1", "a2", "a3"}
    assert len(store.deliveries()) == 4
    with pytest.raises(ConfigError, match="in-memory"):
        StoreDeliveryLog("sqlite:///:memory:")


# ---------------------------------------------------------------- `yuqing run` persists


def _run_settings(store: Store, tmp_path: Path, rules: list[dict[str, object]]) -> Settings:
    return Settings.model_validate(
        {
            "store": store.url,
            "public_url": "https://yq.example.org",
            "run": {"sources": [str(tmp_path / "posts.jsonl")], "analysis": False, "events": False},
            "monitor": {"rules": rules},
            "alerts": {
                "channels": [{"name": "file", "kind": "log", "path": str(tmp_path / "a.jsonl")}]
            },
        }
    )


def _posts(tmp_path: Path, *texts: str) -> None:
    with (tmp_path / "posts.jsonl").open("ab") as f:
        for n, text in enumerate(texts):
            record = {
                "id": f"p{n}",
                "source": "weibo",
                "text": text,
                "published_at": "2026-03-01T09:00:00+08:00",
            }
            f.write(orjson.dumps(record) + b"\n")


def test_run_saves_alerts_and_deliveries_and_loads_saved_rules(
    store: Store, tmp_path: Path
) -> None:
    store.save_rule("fire", "火情", "火灾", '[{"kind": "match"}]', True, severity="critical")
    store.save_rule("off", "停用", "食堂", "[]", False)
    settings = _run_settings(store, tmp_path, [{"id": "canteen", "query": "食堂 AND 过期"}])
    _posts(tmp_path, "食堂使用过期食材", "仓库发生火灾")
    report = run_forever(
        settings, clock=ManualClock(T0), stop_event=threading.Event(), once=True, out=io.StringIO()
    )
    assert report.alerts == 2
    saved = store.alerts()
    assert {s.alert.rule_id for s in saved} == {"canteen", "fire"}
    assert {s.alert.severity for s in saved if s.alert.rule_id == "fire"} == {"critical"}
    delivered = store.deliveries()
    assert {(d.alert_id, d.channel, d.ok) for d in delivered} == {
        (s.alert.id, "file", True) for s in saved
    }


def test_run_refuses_an_id_both_saved_and_configured(store: Store, tmp_path: Path) -> None:
    store.save_rule("canteen", "食堂", "食堂", "[]", True)
    settings = _run_settings(store, tmp_path, [{"id": "canteen", "query": "食堂 AND 过期"}])
    _posts(tmp_path, "食堂")
    with pytest.raises(
        ConfigError, match=r"'canteen' defined both in yuqing.toml .* and in the store"
    ):
        run_forever(
            settings,
            clock=ManualClock(T0),
            stop_event=threading.Event(),
            once=True,
            out=io.StringIO(),
        )


def test_rule_sync_picks_up_changes(store: Store) -> None:
    settings = Settings.model_validate(
        {"store": store.url, "monitor": {"rules": [{"id": "cfg", "query": "x"}]}}
    )
    sync = RuleSync(settings)
    store.save_rule("a", "A", "火灾", MATCH, True)
    add, remove = sync.changes(store)
    assert [r.id for r in add] == ["a"] and remove == []
    assert sync.changes(store) == ([], [])
    store.save_rule("a", "A", "火灾 OR 爆炸", MATCH, True)
    store.save_rule("b", "B", "(", MATCH, True)  # a bad rule is reported, not raised
    store.save_rule("cfg", "C", "y", MATCH, True)  # an id of yuqing.toml is reported too
    add, remove = sync.changes(store)
    assert [r.query for r in add] == ["火灾 OR 爆炸"]
    assert any("'b'" in e and "column" in e for e in sync.errors)
    assert any("'cfg'" in e for e in sync.errors)
    store.save_rule("a", "A", "火灾 OR 爆炸", MATCH, False)  # disabled: removed from the engine
    assert sync.changes(store) == ([], ["a"])
    store.delete_rule("b")
    assert sync.changes(store) == ([], ["b"])


def test_engine_saves_alerts_and_folds_and_updates_rules(store: Store) -> None:
    clock = ManualClock(T0)
    rules = load_rules([{"id": "canteen", "query": "食堂", "cooldown": "30m"}])
    dispatcher = Dispatcher([LogChannel(name="mem")], log=MemoryDeliveryLog())
    try:
        engine = AlertEngine(
            rules, dispatcher, clock, "https://yq.example.org", sink=store.add_alerts
        )
        first = engine.process([_doc("p1", "食堂过期", "ev-1")])
        assert [s.alert.id for s in store.alerts()] == [a.id for a in first]
        clock.advance(timedelta(minutes=1))
        assert engine.process([_doc("p2", "食堂又过期", "ev-1")]) == []  # folded
        saved = store.get_alert(first[0].id)
        assert saved is not None and saved.alert.suppressed == 1
        engine.update_rules(add=load_rules([{"id": "fire", "query": "火灾"}]), remove=["canteen"])
        raised = engine.process([_doc("p3", "食堂火灾", "ev-2")])
        assert [a.rule_id for a in raised] == ["fire"]
        assert {s.alert.rule_id for s in store.alerts()} == {"canteen", "fire"}
        with pytest.raises(ConfigError, match="column"):
            engine.update_rules(add=[replace(rules[0], id="bad", query="(")])
        assert set(engine.rules) == {"fire"}
    finally:
        dispatcher.close(1)


def _doc(id_: str, text: str, event: str) -> Document:
    doc = Document(id=id_, source="weibo", text=text)
    doc.published_at = T0
    doc.analysis = {"event_id": event}
    return doc
