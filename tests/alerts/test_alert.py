"""The Alert value (ids, links, payload) and the cooldown on a ManualClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.alerts.alert import Alert, AlertSample, Cooldown, alert_link, truncate
from yuqing.clock import ManualClock
from yuqing.models import Document

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make(rule: str = "r1", event: str | None = "e1", when: datetime = T0) -> Alert:
    return Alert.create(
        rule_id=rule,
        kind="burst",
        title="某地化工厂爆炸 声量突增",
        severity="critical",
        created_at=when,
        public_url="https://yq.example.org/",
        event_id=event,
        reasons=["最近 1 小时 120 条，基线 8±3 条，z=37.3"],
    )


def test_id_is_deterministic_and_distinguishes_inputs() -> None:
    assert make().id == make().id
    ids = {
        make().id,
        make(rule="r2").id,
        make(event=None).id,
        make(when=T0 + timedelta(seconds=1)).id,
    }
    assert len(ids) == 4
    # the same instant in another zone is the same alert
    assert (
        make(when=T0.astimezone(datetime.fromisoformat("2026-01-01T00:00+08:00").tzinfo)).id
        == make().id
    )


def test_link_points_to_event_or_alert() -> None:
    assert make().link == "https://yq.example.org/events/e1"
    no_event = make(event=None)
    assert no_event.link == f"https://yq.example.org/alerts/{no_event.id}"
    assert alert_link("http://h:8000", "a1", None) == "http://h:8000/alerts/a1"


def test_payload_schema_and_roundtrip() -> None:
    alert = make()
    alert.samples = [AlertSample("weibo", "p1", "现场浓烟", "https://w/p1", T0)]
    payload = orjson.loads(orjson.dumps(alert.as_payload()))
    assert payload == {
        "version": 1,
        "id": alert.id,
        "rule_id": "r1",
        "kind": "burst",
        "title": "某地化工厂爆炸 声量突增",
        "severity": "critical",
        "event_id": "e1",
        "created_at": "2026-03-01T08:00:00Z",
        "reasons": ["最近 1 小时 120 条，基线 8±3 条，z=37.3"],
        "samples": [
            {
                "source": "weibo",
                "id": "p1",
                "text": "现场浓烟",
                "url": "https://w/p1",
                "published_at": "2026-03-01T08:00:00Z",
            }
        ],
        "link": "https://yq.example.org/events/e1",
        "suppressed": 0,
    }
    assert Alert.from_payload(payload) == alert


def test_samples_from_documents_are_truncated_and_capped() -> None:
    docs = [
        Document(id=str(i), source="news", text="长文本  " + "字" * 300, url=None, published_at=T0)
        for i in range(8)
    ]
    alert = Alert.create(
        rule_id="r",
        kind="match",
        title="t",
        severity="low",
        created_at=T0,
        public_url="http://x",
        samples=docs,
    )
    assert len(alert.samples) == 5
    assert len(alert.samples[0].text) == 140 and alert.samples[0].text.endswith("…")
    assert alert.samples[0].text.startswith("长文本 字")  # whitespace collapsed
    assert truncate("短") == "短"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "spike", "alert kind 'spike'"),
        ("severity", "urgent", "alert severity 'urgent'"),
        ("created_at", datetime(2026, 1, 1), "timezone-aware"),  # noqa: DTZ001 - the point
    ],
)
def test_invalid_alerts_are_refused(field: str, value: object, message: str) -> None:
    values: dict[str, object] = {
        "id": "a",
        "rule_id": "r",
        "kind": "match",
        "title": "t",
        "severity": "low",
        "created_at": T0,
        "link": "http://x",
    }
    values[field] = value
    with pytest.raises(ValueError, match=message):
        Alert(**values)  # type: ignore[arg-type]


def test_cooldown_folds_matches_inside_the_window() -> None:
    clock = ManualClock(T0)
    cooldown = Cooldown(timedelta(minutes=30), clock)
    first = make()
    assert cooldown.admit(first)
    clock.advance(timedelta(minutes=5))
    assert not cooldown.admit(make(when=clock.now()))
    assert not cooldown.admit(make(when=clock.now()))
    assert first.suppressed == 2
    assert cooldown.open_alert("r1", "e1") is first
    # another event, another rule, and "no event" are separate keys
    assert cooldown.admit(make(event="e2"))
    assert cooldown.admit(make(rule="r2"))
    assert cooldown.admit(make(event=None))
    assert not cooldown.admit(make(event=None, when=clock.now()))
    # the window is fixed from the first alert, not renewed by folded matches
    clock.advance(timedelta(minutes=25))
    assert cooldown.open_alert("r1", "e1") is None
    second = make(when=clock.now())
    assert cooldown.admit(second)
    assert second.reasons[-1] == f"上一冷却期内另有 2 次触发已合并到告警 {first.id}"


def test_cooldown_prunes_and_bounds_keys() -> None:
    clock = ManualClock(T0)
    cooldown = Cooldown(timedelta(minutes=10), clock, max_keys=3)
    for i in range(5):
        assert cooldown.admit(make(event=f"e{i}"))
    assert len(cooldown) == 3
    assert cooldown.open_alert("r1", "e0") is None and cooldown.open_alert("r1", "e4") is not None
    clock.advance(timedelta(minutes=10))
    assert cooldown.prune() == 3 and len(cooldown) == 0
    with pytest.raises(ValueError, match="positive"):
        Cooldown(timedelta(0), clock)


@given(gaps=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=60))
def test_cooldown_sends_one_alert_per_window(gaps: list[int]) -> None:
    """Matches at arbitrary minutes: alerts go out exactly when a fixed 30-minute window
    has ended, and every match is either sent or folded."""
    clock = ManualClock(T0)
    cooldown = Cooldown(timedelta(minutes=30), clock)
    sent: list[Alert] = []
    opened: datetime | None = None
    expected = 0
    for gap in gaps:
        clock.advance(timedelta(minutes=gap))
        if opened is None or clock.now() - opened >= timedelta(minutes=30):
            opened, expected = clock.now(), expected + 1
        alert = make(when=clock.now())
        if cooldown.admit(alert):
            sent.append(alert)
    assert len(sent) == expected
    assert len(sent) + sum(a.suppressed for a in sent) == len(gaps)
