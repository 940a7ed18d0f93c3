"""Accelerated replay: the clock, and end-to-end drills into a real SQLite store with a
real alert engine running on scenario time."""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels.base import DeliveryResult
from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.engine import AlertEngine
from yuqing.alerts.rules_config import load_rules
from yuqing.drill.replay import AcceleratedClock, DrillReport, run_drill
from yuqing.drill.scenario import load_scenario, parse_scenario
from yuqing.errors import UsageError
from yuqing.store.url import open_store

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

TINY = """\
name: tiny
title: 小测试
field: education
start: 2026-11-20T08:00:00+08:00
region: 浙江省宁波市鄞州区
facts: {school: 某中学}
phases:
  - name: 一
    duration: 2h
    posts_per_hour: 120
    templates: ["{school}的食堂用了过期食材，孩子腹痛"]
    sentiment: {negative: 1}
"""


class FakeWall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_accelerated_clock_runs_speed_times_faster() -> None:
    wall = FakeWall()
    clock = AcceleratedClock(T0, 144, wall=wall)
    assert clock.now() == T0
    wall.t += 600  # ten wall minutes
    assert clock.now() == T0 + timedelta(hours=24)
    assert clock.wall_until(T0 + timedelta(hours=48)) == pytest.approx(600)
    clock.advance_to(T0)  # never backwards
    assert clock.now() == T0 + timedelta(hours=24)
    clock.advance_to(T0 + timedelta(hours=30))
    assert clock.now() == T0 + timedelta(hours=30)
    clock.reset(T0)
    assert clock.now() == T0


def test_fast_clock_moves_only_when_advanced() -> None:
    wall = FakeWall()
    clock = AcceleratedClock(T0, 0, wall=wall)
    wall.t += 1000
    assert clock.now() == T0 and clock.wall_until(T0 + timedelta(days=1)) == 0
    clock.advance_to(T0 + timedelta(minutes=5))
    assert clock.now() == T0 + timedelta(minutes=5)
    with pytest.raises(ValueError, match="timezone-aware"):
        AcceleratedClock(datetime(2026, 1, 1), 1)  # noqa: DTZ001 - the point of the test


class Recorder:
    kind = "recorder"
    name = "rec"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> DeliveryResult:
        self.sent.append(alert)
        return DeliveryResult.success()

    def close(self) -> None:
        pass


RULES = [
    {
        "id": "canteen",
        "name": "校园食品安全",
        "query": "食堂 OR 过期食材",
        "triggers": [{"kind": "count", "threshold": 20, "window": "1h"}],
        "cooldown": "6h",
    },
    {
        "id": "gathering",
        "name": "群体性事件风险",
        "query": "PX OR 化工厂 OR 樱花 OR 食堂 OR 广场 OR 门口",
        "triggers": [{"kind": "risk", "threshold": 0.6, "score": "group_incident"}],
        "severity": "high",
    },
]


@pytest.fixture
def engine_factory() -> Iterator[list[Dispatcher]]:
    opened: list[Dispatcher] = []
    yield opened
    for dispatcher in opened:
        dispatcher.close(5)


def drill(name: str, tmp_path: Path, opened: list[Dispatcher]) -> tuple[DrillReport, list[Alert]]:
    scenario = load_scenario(name)
    clock = AcceleratedClock(scenario.start, 0)
    dispatcher = Dispatcher([Recorder()])
    opened.append(dispatcher)
    engine = AlertEngine(load_rules(RULES), dispatcher, clock, "http://localhost:8000")
    out = io.StringIO()
    report = run_drill(
        scenario,
        store_url=f"sqlite:///{tmp_path / (name + '.db')}",
        speed=0,
        seed=7,
        on_batch=engine.process,
        clock=clock,
        out=out,
    )
    assert "演练开始" in out.getvalue() and "演练结束" in out.getvalue()
    return report, report.alerts


def test_food_safety_drill_end_to_end(tmp_path: Path, engine_factory: list[Dispatcher]) -> None:
    report, alerts = drill("school-food-safety", tmp_path, engine_factory)
    scenario = load_scenario("school-food-safety")
    assert report.stored == report.posts > 1000
    assert report.events > 0 and report.negative > report.posts / 2
    canteen = [a for a in alerts if a.rule_id == "canteen"]
    # Cooldowns ran on scenario time: several alerts, at least 6 scenario hours apart,
    # all stamped inside the scenario (the run itself took seconds of wall time).
    assert len(canteen) >= 2
    times = sorted(a.created_at for a in canteen)
    assert all(b - a >= timedelta(hours=6) for a, b in itertools.pairwise(times))
    assert all(scenario.start <= t <= scenario.end for t in times)
    kinds = [e.kind for e in report.timeline]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert {"phase", "rumour", "cascade", "statement", "alert"} <= set(kinds)
    data = report.as_dict()
    assert data["alerts"] == len(alerts) and data["timeline"][0]["kind"] == "start"
    store = open_store(report.store_url)
    try:
        assert store.stats().documents == report.stored
        assert store.search("过期食材", limit=1)
    finally:
        store.close()


def test_protest_raises_group_incident_alert_and_benign_does_not(
    tmp_path: Path, engine_factory: list[Dispatcher]
) -> None:
    _, protest = drill("px-project-protest", tmp_path, engine_factory)
    assert any(a.rule_id == "gathering" for a in protest)
    _, benign = drill("cherry-blossom-festival", tmp_path, engine_factory)
    assert not [a for a in benign if a.rule_id == "gathering"]


def test_high_speed_replay_paces_on_the_clock(tmp_path: Path) -> None:
    scenario = parse_scenario(TINY, "tiny.yaml")
    speed = 2 * 3600 / 0.6  # two scenario hours in 0.6 s
    report = run_drill(
        scenario,
        store_url=f"sqlite:///{tmp_path / 'fast.db'}",
        speed=speed,
        seed=1,
        out=io.StringIO(),
        tick=timedelta(minutes=10),
    )
    assert report.stored == report.posts > 150
    assert 0.45 <= report.wall_seconds < 5  # waited for scenario time, did not rush
    assert report.ended_at == scenario.end and not report.stopped


def test_stop_event_ends_a_drill_early(tmp_path: Path) -> None:
    scenario = parse_scenario(TINY, "tiny.yaml")
    stop = threading.Event()
    report = run_drill(
        scenario,
        store_url=f"sqlite:///{tmp_path / 'stop.db'}",
        speed=2 * 3600 / 3,  # would take 3 s
        seed=1,
        on_batch=lambda docs: stop.set(),  # stop once the first batch is committed
        stop_event=stop,
        out=io.StringIO(),
    )
    assert report.stopped and 0 < report.stored < report.posts
    assert report.timeline[-1].kind == "stopped"
    assert report.ended_at < scenario.end


def test_drill_needs_its_own_store_and_a_sane_speed(tmp_path: Path) -> None:
    scenario = parse_scenario(TINY, "tiny.yaml")
    url = f"sqlite:///{tmp_path / 'own.db'}"
    run_drill(scenario, store_url=url, speed=0, seed=1, out=io.StringIO())
    with pytest.raises(UsageError, match=r"already holds .* posts; drill posts go to their own"):
        run_drill(scenario, store_url=url, speed=0, seed=1, out=io.StringIO())
    with pytest.raises(UsageError, match="speed"):
        run_drill(scenario, store_url=url, speed=-1, seed=1, out=io.StringIO())
