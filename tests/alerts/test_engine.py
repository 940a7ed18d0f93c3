"""The alert engine and its triggers on hand-made documents, on a ManualClock."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels.base import DeliveryResult
from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.engine import AlertEngine, post_time
from yuqing.alerts.rules_config import MonitorRule, load_rules, trigger_from_config
from yuqing.alerts.triggers import duration_label
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError
from yuqing.models import Document

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
_ids = itertools.count()


class Recorder:
    """A channel double that keeps what it was sent (the dispatcher is the real one)."""

    kind = "recorder"

    def __init__(self, name: str = "rec") -> None:
        self.name = name
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> DeliveryResult:
        self.sent.append(alert)
        return DeliveryResult.success()

    def close(self) -> None:
        pass


def doc(
    text: str,
    at: datetime,
    *,
    event: str | None = None,
    sentiment: str | None = None,
    risk: Mapping[str, Any] | None = None,
    source: str = "weibo",
    reposts: int = 0,
) -> Document:
    analysis: dict[str, Any] = {"event_id": event}
    if sentiment:
        analysis["sentiment"] = sentiment
    if risk is not None:
        analysis["risk"] = dict(risk)
    return Document(
        id=f"p{next(_ids)}",
        source=source,
        text=text,
        published_at=at,
        reposts=reposts,
        analysis=analysis,
    )


def rule(triggers: Sequence[Mapping[str, Any]], **extra: Any) -> MonitorRule:
    table: dict[str, Any] = {"id": "canteen", "name": "食堂", "query": "食堂 AND (过期 OR 变质)"}
    table.update(extra)
    table["triggers"] = list(triggers)
    return load_rules([table])[0]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    yield Recorder()


def engine_for(
    rules: Sequence[MonitorRule], clock: ManualClock, recorder: Recorder | None = None
) -> AlertEngine:
    dispatcher = Dispatcher([recorder] if recorder else [], clock=clock, workers=1)
    return AlertEngine(rules, dispatcher, clock, "https://yq.example.org/")


HIT = "某校食堂被曝使用过期食材"
MISS = "今天天气很好"


def test_match_fires_with_reasons_and_samples(clock: ManualClock, recorder: Recorder) -> None:
    engine = engine_for([rule([{"kind": "match"}], severity="high")], clock, recorder)
    assert engine.process([doc(MISS, T0)]) == []
    alerts = engine.process([doc(HIT, T0), doc("食堂饭菜变质了", T0), doc(MISS, T0)])
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.rule_id, alert.kind, alert.severity, alert.event_id) == (
        "canteen",
        "match",
        "high",
        None,
    )
    assert alert.reasons[0] == "命中规则「食堂」：食堂 AND (过期 OR 变质)"
    assert "2 条新信息命中规则" in alert.reasons
    assert {s.text for s in alert.samples} == {HIT, "食堂饭菜变质了"}
    assert alert.link.startswith("https://yq.example.org/alerts/")
    assert alert.created_at == T0
    engine.dispatcher.close()
    assert [a.id for a in recorder.sent] == [alert.id]
    assert engine.recent() == [alert]


def test_cooldown_folds_repeats_per_rule_and_event(clock: ManualClock) -> None:
    engine = engine_for([rule([{"kind": "match"}], cooldown="30m")], clock)
    first = engine.process([doc(HIT, T0, event="ev-1")])
    assert len(first) == 1
    clock.advance(timedelta(minutes=10))
    assert engine.process([doc(HIT, clock.now(), event="ev-1")]) == []
    assert first[0].suppressed == 1
    other = engine.process([doc(HIT, clock.now(), event="ev-2")])  # another event: its own alert
    assert [a.event_id for a in other] == ["ev-2"]
    assert other[0].link == "https://yq.example.org/events/ev-2"
    clock.advance(timedelta(minutes=25))  # 35 min after the first: a new window
    again = engine.process([doc(HIT, clock.now(), event="ev-1")])
    assert len(again) == 1
    assert any("另有 1 次触发已合并" in r for r in again[0].reasons)
    stats = engine.stats()
    assert (stats.alerts, stats.folded) == (3, 1)


def test_count_fires_at_threshold_within_window(clock: ManualClock) -> None:
    trig = {"kind": "count", "threshold": 5, "window": "1h"}
    engine = engine_for([rule([trig])], clock)
    # four posts two hours ago are outside the window of the later posts
    assert engine.process([doc(HIT, T0 - timedelta(hours=2)) for _ in range(4)]) == []
    assert engine.process([doc(HIT, T0 - timedelta(minutes=m)) for m in (50, 40, 30, 20)]) == []
    alerts = engine.process([doc(HIT, T0)])
    assert len(alerts) == 1
    assert alerts[0].kind == "count"
    assert "1小时内匹配 5 条，达到阈值 5 条" in alerts[0].reasons
    assert len(alerts[0].samples) == 5
    assert "1小时内 5 条" in alerts[0].title


def test_count_per_event(clock: ManualClock) -> None:
    engine = engine_for(
        [rule([{"kind": "count", "threshold": 3, "window": "1h", "per_event": True}])], clock
    )
    batch = [doc(HIT, T0, event="a"), doc(HIT, T0, event="a"), doc(HIT, T0, event="b")]
    assert engine.process(batch) == []
    alerts = engine.process([doc(HIT, T0, event="a"), doc(HIT, T0, event="b")])
    assert [a.event_id for a in alerts] == ["a"]


def test_negative_share_needs_share_and_minimum(clock: ManualClock) -> None:
    trig = {"kind": "negative_share", "threshold": 0.6, "window": "1h", "min_count": 5}
    engine = engine_for([rule([trig])], clock)
    # 4 negative of 4: share 100 % but below the minimum count
    assert engine.process([doc(HIT, T0, sentiment="negative") for _ in range(4)]) == []
    # + 1 positive: 4/5 = 80 % >= 60 % with 5 posts
    alerts = engine.process([doc(HIT, T0, sentiment="positive")])
    assert len(alerts) == 1
    assert "负面占比 80%" in alerts[0].reasons[1]
    assert all(s.text == HIT for s in alerts[0].samples)


def test_negative_share_below_threshold_is_quiet(clock: ManualClock) -> None:
    trig = {"kind": "negative_share", "threshold": 0.6, "min_count": 4}
    engine = engine_for([rule([trig])], clock)
    sentiments = ["negative", "positive", "neutral", "negative", "positive"]
    assert engine.process([doc(HIT, T0, sentiment=s) for s in sentiments]) == []


def _hours(engine: AlertEngine, clock: ManualClock, per_hour: Sequence[int]) -> list[Alert]:
    alerts: list[Alert] = []
    for hour, n in enumerate(per_hour):
        at = T0 + timedelta(hours=hour, minutes=30)
        clock.set(at)
        # a non-matching post every hour keeps scenario time moving
        alerts += engine.process([doc(MISS, at)] + [doc(HIT, at) for _ in range(n)])
    return alerts


def test_burst_against_trailing_baseline(clock: ManualClock) -> None:
    engine = engine_for([rule([{"kind": "burst"}])], clock)
    alerts = _hours(engine, clock, [2, 1, 2, 3, 2, 1, 2, 2, 3, 1, 2, 2, 30])
    assert [a.kind for a in alerts] == ["burst"]
    reason = alerts[0].reasons[1]
    assert reason.startswith("最近1小时匹配 30 条，此前 12 个1小时平均 1.9 条")
    assert "Poisson 检验" in reason


def test_burst_quiet_on_steady_volume_and_without_history(clock: ManualClock) -> None:
    engine = engine_for([rule([{"kind": "burst"}])], clock)
    assert _hours(engine, clock, [5, 6, 5, 4, 6, 5, 5, 6, 4, 5, 6, 5, 7]) == []
    other = ManualClock(T0)
    fresh = engine_for([rule([{"kind": "burst"}])], other)
    assert _hours(fresh, other, [30]) == []  # no baseline observed yet: no verdict


def test_new_event_fires_once_when_heat_crosses(clock: ManualClock) -> None:
    trig = {"kind": "new_event", "threshold": 20, "min_posts": 3}
    engine = engine_for([rule([trig])], clock)
    assert engine.process([doc(HIT, T0, event="ev-9", sentiment="negative")]) == []
    # posts of the same event that do not match the rule still heat it
    later = [
        doc("学生腹痛就医", T0, event="ev-9", sentiment="negative", reposts=500) for _ in range(30)
    ]
    alerts = engine.process(later)
    assert [(a.kind, a.event_id) for a in alerts] == [("new_event", "ev-9")]
    assert "事件热度" in alerts[0].reasons[1]
    assert "新事件「某校食堂被曝使用过期食材」" in alerts[0].title
    clock.advance(timedelta(hours=2))  # past the cooldown: still once per event
    assert engine.process([doc(HIT, clock.now(), event="ev-9", sentiment="negative")]) == []
    # an event the rule never matched does not alert
    assert (
        engine.process([doc(MISS, clock.now(), event="ev-x", reposts=9) for _ in range(50)]) == []
    )


def test_risk_threshold_and_score(clock: ManualClock) -> None:
    engine = engine_for(
        [rule([{"kind": "risk", "threshold": 0.7, "score": "rumor", "severity": "critical"}])],
        clock,
    )
    low = {"rumor": 0.5, "group_incident": 0.95, "reasons": []}
    assert engine.process([doc(HIT, T0, risk=low)]) == []
    high = {"rumor": 0.91, "group_incident": 0.1, "reasons": ["自称内部消息"]}
    alerts = engine.process([doc(HIT, T0, risk=high), doc(HIT, T0, risk=low)])
    assert len(alerts) == 1
    assert alerts[0].severity == "critical"
    assert alerts[0].reasons[1:] == ["1 条信息谣言风险达到阈值 0.7，最高 0.91", "自称内部消息"]


def test_channels_route_alerts(clock: ManualClock) -> None:
    a, b = Recorder("a"), Recorder("b")
    dispatcher = Dispatcher([a, b], clock=clock, workers=1)
    engine = AlertEngine([rule([{"kind": "match"}], channels=["b"])], dispatcher, clock, "http://x")
    engine.process([doc(HIT, T0)])
    dispatcher.close()
    assert (len(a.sent), len(b.sent)) == (0, 1)
    with pytest.raises(ConfigError, match="unknown channel"):
        AlertEngine([rule([{"kind": "match"}], channels=["zz"])], dispatcher, clock, "http://x")


def test_recent_is_bounded_and_newest_first(clock: ManualClock) -> None:
    dispatcher = Dispatcher([], clock=clock, workers=1)
    engine = AlertEngine(
        [rule([{"kind": "match"}], cooldown="1s")], dispatcher, clock, "http://x", max_recent=3
    )
    for _ in range(5):
        engine.process([doc(HIT, clock.now())])
        clock.advance(timedelta(seconds=2))
    recent = engine.recent(10)
    assert len(recent) == 3
    assert recent[0].created_at > recent[-1].created_at


def test_post_time_clamps_the_future_and_many_rules_match_at_once(clock: ManualClock) -> None:
    assert post_time(doc(HIT, T0 + timedelta(days=300)), T0) == T0 + timedelta(hours=1)
    tables = [{"id": f"r{i}", "query": f"词{i}号"} for i in range(300)]
    tables.append({"id": "hit", "query": "过期"})
    engine = engine_for(load_rules(tables), clock)
    alerts = engine.process([doc(HIT, T0), doc("词7号 和 词42号", T0)])
    assert sorted(a.rule_id for a in alerts) == ["hit", "r42", "r7"]


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ({"id": "x"}, "(id 'x'): missing required key 'query'"),
        ({"query": "a"}, "monitor.rules[1]: missing required key 'id'"),
        ({"id": "x", "query": "(a OR"}, "(id 'x'): 'query':"),
        ({"id": "x", "query": "a", "severity": "huge"}, "'severity' 'huge'"),
        ({"id": "x", "query": "a", "cooldown": "soon"}, "(id 'x'): 'cooldown': 'soon' is not a duration"),
        ({"id": "x", "query": "a", "colour": 1}, "unknown key(s) colour"),
        ({"id": "x", "query": "a", "triggers": [{"kind": "often"}]}, "triggers[1]: 'kind' 'often'"),
        ({"id": "x", "query": "a", "triggers": [{"kind": "count"}]}, "triggers[1] (count): missing required key 'threshold'"),
        ({"id": "x", "query": "a", "triggers": [{"kind": "count", "threshold": 5, "window": "1x"}]}, "'window': '1x' is not a duration"),
        ({"id": "x", "query": "a", "triggers": [{"kind": "negative_share", "threshold": 1.5}]}, "'threshold' is a share"),
        ({"id": "x", "query": "a", "triggers": [{"kind": "burst", "method": "magic"}]}, "unknown method"),
        ({"id": "x", "query": "a", "triggers": [{"kind": "risk", "score": "fraud"}]}, "'score' 'fraud'"),
        ({"id": "x", "query": "a", "channels": ["nope"]}, "'channels': unknown channel(s) nope"),
    ],
)  # fmt: skip
def test_bad_rule_config_names_rule_and_key(table: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_rules([table], channel_names=["ops"])
    assert needle in str(info.value)


def test_duplicate_ids_disabled_rules_and_defaults() -> None:
    with pytest.raises(ConfigError, match=r"already used by monitor.rules\[1\]"):
        load_rules([{"id": "a", "query": "x"}, {"id": "a", "query": "y"}])
    rules = load_rules(
        [{"id": "a", "query": "x", "enabled": False}, {"id": "b", "query": "y"}],
        default_cooldown="2h",
    )
    assert [r.id for r in rules] == ["b"]
    assert rules[0].cooldown == timedelta(hours=2)
    assert rules[0].severity == "medium"
    assert [t.kind for t in rules[0].triggers] == ["match"]


def test_trigger_descriptions_and_duration_labels() -> None:
    count = trigger_from_config({"kind": "count", "threshold": 20, "window": "30m"}, "t")
    assert count.describe() == "30分钟内 >= 20 条"
    assert duration_label(timedelta(hours=1)) == "1小时"
    assert duration_label(timedelta(days=2)) == "2天"
    assert duration_label(timedelta(seconds=90)) == "1.5分钟"
