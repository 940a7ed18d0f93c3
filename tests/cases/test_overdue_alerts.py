"""Overdue first statements raise one alert each, on a ManualClock: not before the
deadline, once after it (delivered once), again only for a new deadline; none for a
published statement or a closed case; the [cases] settings give the deadlines; the run
loop checks them on every poll."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from yuqing.alerts.alert import Alert
from yuqing.cases import new_case
from yuqing.cases.case import Case
from yuqing.cases.overdue_alerts import DeadlineWatch, check_deadlines, deadline_policy
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError
from yuqing.runtime.run import run_forever
from yuqing.settings import Settings, load_settings
from yuqing.store.base import Store
from yuqing.store.url import open_store

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
URL = "https://yq.example.org"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'cases.db'}")
    yield opened
    opened.close()


def save(store: Store, clock: ManualClock, case_id: str, level: str = "III", **kw: Any) -> Case:
    case = new_case(
        f"事件 {case_id}",
        level=level,
        level_reason="手工",
        who="值班员",
        clock=clock,
        case_id=case_id,
        **kw,
    )
    store.save_case(case.as_dict())
    return case


def settings(**cases: Any) -> Settings:
    return Settings.model_validate({"public_url": URL, "cases": cases})


def test_an_overdue_first_statement_alerts_once(store: Store) -> None:
    clock = ManualClock(T0)
    save(store, clock, "c-1", "III", owner="区教育局")  # 4 h
    policy = deadline_policy(settings())
    sent: list[Alert] = []
    clock.advance(timedelta(hours=3, minutes=59))
    assert check_deadlines(store, clock, policy, URL, submit=sent.append) == []
    clock.advance(timedelta(minutes=2))
    [alert] = check_deadlines(store, clock, policy, URL, submit=sent.append)
    assert sent == [alert]
    assert (alert.kind, alert.rule_id, alert.severity) == ("deadline", "case-deadline", "high")
    assert alert.title == "首次通报超时｜事件 c-1" and alert.link == f"{URL}/cases/c-1"
    assert alert.created_at == clock.now()
    assert alert.reasons[0].startswith("首次通报已超过时限") and "1 分钟" in alert.reasons[0]
    assert "区教育局" in alert.reasons[2]
    clock.advance(timedelta(hours=1))
    assert check_deadlines(store, clock, policy, URL, submit=sent.append) == []  # once
    assert len(sent) == 1
    assert [a.alert.id for a in store.alerts(rule_id="case-deadline")] == [alert.id]

    case = Case.from_dict(store.get_case("c-1") or {})
    case.change_level("II", reason="升级", who="值班员", clock=clock)  # a new (passed) deadline
    store.save_case(case.as_dict())
    [again] = check_deadlines(store, clock, policy, URL, submit=sent.append)
    assert again.id != alert.id and again.severity == "critical"


def test_published_or_closed_cases_do_not_alert(store: Store) -> None:
    clock = ManualClock(T0)
    published = save(store, clock, "c-pub", "I")
    draft = published.add_statement("情况通报", who="值班员", clock=clock)
    clock.advance(timedelta(minutes=30))
    published.publish_statement(draft.id, who="值班员", clock=clock)
    store.save_case(published.as_dict())
    closed = save(store, clock, "c-closed", "I")
    closed.transition("closed", who="值班员", clock=clock, note="误报")
    store.save_case(closed.as_dict())
    clock.advance(timedelta(days=2))
    assert check_deadlines(store, clock, deadline_policy(settings()), URL) == []


def test_settings_give_the_deadlines(store: Store) -> None:
    policy = deadline_policy(settings(first_statement={"III": "30m", "i": 0.5}))
    assert policy.first_statement["III"] == timedelta(minutes=30)
    assert policy.first_statement["I"] == timedelta(minutes=30)  # a number is hours
    assert policy.first_statement["IV"] == timedelta(hours=24)  # left out: the default
    clock = ManualClock(T0)
    save(store, clock, "c-1", "III")
    clock.advance(timedelta(minutes=31))
    assert len(check_deadlines(store, clock, policy, URL)) == 1

    first_post = deadline_policy(settings(deadline_start="first_post"))
    assert first_post.start == "first_post"
    save(store, clock, "c-2", "IV", event_id="ev-1", event_first_seen=T0 - timedelta(hours=30))
    [late] = check_deadlines(store, clock, first_post, URL)
    assert late.title.endswith("c-2") and late.event_id == "ev-1"


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ({"first_statement": {"V": "1h"}}, "unknown level 'V'"),
        ({"first_statement": {"I": "soon"}}, "not a duration"),
        ({"first_statement": {"I": "-1h"}}, "not a duration"),
        ({"first_statement": {"I": True}}, "not a duration"),
        ({"deadline_start": "alert"}, "opened or first_post"),
        ({"check_interval": "0s"}, "positive"),
        ({"deadlines": {}}, "deadlines"),
    ],
)
def test_bad_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: dict[str, Any], message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no yuqing.toml here
    with pytest.raises(ConfigError, match=message):
        load_settings(None, environ={}, overrides={"cases": cases})


def test_the_watch_checks_once_per_interval(store: Store) -> None:
    clock = ManualClock(T0)
    watch = DeadlineWatch(settings(check_interval="5m"), clock)
    save(store, clock, "c-1", "I")
    assert watch.maybe_check(store) == [] and watch.checked_at == T0
    clock.advance(timedelta(hours=1, minutes=1))
    watch.checked_at = clock.now() - timedelta(minutes=4)
    assert watch.maybe_check(store) == []  # checked 4 minutes ago
    clock.advance(timedelta(minutes=1))
    assert len(watch.maybe_check(store)) == 1


def test_the_run_loop_raises_and_delivers_overdue_alerts(tmp_path: Path) -> None:
    db = tmp_path / "run.db"
    log = tmp_path / "alerts.jsonl"
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(
        b'{"id": "p1", "text": "\\u5468\\u672b\\u53bb\\u516c\\u56ed", "source": "w"}\n'
    )
    config = tmp_path / "yuqing.toml"
    config.write_text(
        f'store = "sqlite:///{db}"\npublic_url = "{URL}"\n[run]\nsources = ["{posts}"]\n'
        "analysis = false\nevents = false\n"
        f'[[alerts.channels]]\nname = "log"\nkind = "log"\npath = "{log}"\n',
        encoding="utf-8",
    )
    clock = ManualClock(T0)
    store = open_store(f"sqlite:///{db}")
    try:
        save(store, clock, "c-1", "II")
    finally:
        store.close()
    clock.advance(timedelta(hours=3))
    loaded = load_settings(config, environ={})
    out = io.StringIO()
    report = run_forever(loaded, clock=clock, stop_event=threading.Event(), once=True, out=out)
    assert report.alerts == 1 and "alerts 1" in out.getvalue()
    [line] = log.read_bytes().splitlines()
    payload = orjson.loads(line)
    assert (payload["kind"], payload["link"]) == ("deadline", f"{URL}/cases/c-1")
    report = run_forever(loaded, clock=clock, stop_event=threading.Event(), once=True, out=out)
    assert report.alerts == 0 and len(log.read_bytes().splitlines()) == 1
