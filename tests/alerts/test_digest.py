"""Digests on the test clock: a DingTalk robot set to hourly and an e-mail recipient set to
daily get one Chinese message per period listing its alerts with links, through the real
local HTTP receiver and an aiosmtpd SMTP server; immediate channels and escalations are not
held; an empty period sends nothing."""

from __future__ import annotations

import time as wall
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from yuqing.alerts.alert import Alert
from yuqing.alerts.delivery import Dispatcher, dispatcher_from_config
from yuqing.alerts.digest import DigestConfig, next_digest_time
from yuqing.alerts.followup import FollowUp
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.delivery_log import StoreDeliveryLog
from yuqing.store.url import open_store

from .test_channels import SECRET, Receiver, Sink, _parse, _smtp

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 9, 20, tzinfo=ZONE)  # 01:20 UTC


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[tuple[int, Sink]]:
    controller, sink = _smtp()
    yield controller.port, sink
    controller.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'digest.db'}")
    yield opened
    opened.close()


def _settings(receiver: Receiver, smtp_port: int, store: Store) -> Settings:
    return Settings.model_validate(
        {
            "store": store.url,
            "public_url": "https://yq.example.org",
            "alerts": {
                "channels": [
                    {"name": "duty-robot", "kind": "dingtalk", "url": receiver.url("/ding")},
                    {"name": "office-mail", "kind": "email", "host": "127.0.0.1",
                     "port": smtp_port, "security": "none", "sender": "yuqing@example.org",
                     "to": ["office@example.org"]},
                    {"name": "hook", "kind": "webhook", "url": receiver.url("/hook"),
                     "secret": SECRET},
                ],
                "delivery": {"attempts": 2, "base_delay": 0.01, "jitter": 0},
                "digest": {"channels": {"duty-robot": "hourly", "office-mail": "daily",
                                        "hook": "immediate"}},
            },
        }
    )  # fmt: skip


def _alert(n: int, at: datetime) -> Alert:
    return Alert.create(
        rule_id="canteen" if n % 2 else "school", kind="match", title=f"食堂舆情 第{n}条",
        severity="critical" if n == 2 else "medium", created_at=at,
        public_url="https://yq.example.org", event_id=f"ev-{n}",
    )  # fmt: skip


def _wait(sink: Sink, n: int) -> None:
    deadline = wall.monotonic() + 5
    while len(sink.envelopes) < n and wall.monotonic() < deadline:
        wall.sleep(0.02)


def _setup(
    receiver: Receiver, smtp: tuple[int, Sink], store: Store
) -> tuple[ManualClock, Dispatcher, FollowUp]:
    settings = _settings(receiver, smtp[0], store)
    clock = ManualClock(START)
    dispatcher = dispatcher_from_config(
        settings.alerts.channels, settings.alerts.delivery, clock=clock
    )
    dispatcher.log = StoreDeliveryLog(store.url)
    return clock, dispatcher, FollowUp(settings, dispatcher, clock)


def test_hourly_and_daily_digests(receiver: Receiver, smtp: tuple[int, Sink], store: Store) -> None:
    clock, dispatcher, followup = _setup(receiver, smtp, store)
    sink = smtp[1]
    with dispatcher:
        alerts = [_alert(n, clock.advance(timedelta(minutes=5))) for n in (1, 2, 3)]
        for alert in alerts:
            dispatcher.submit(alert)
        assert dispatcher.flush(5)
        assert [r.path for r in receiver.received] == ["/hook"] * 3  # immediate: not held
        assert sink.envelopes == []
        held = store.deliveries(alert_id=alerts[0].id)
        assert {(d.channel, d.ok, d.response) for d in held} >= {
            ("duty-robot", True, "已加入每小时摘要"), ("office-mail", True, "已加入每日摘要"),
        }  # fmt: skip
        assert followup.tick(store).digests == []  # 09:35: no period has ended
        clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=ZONE))
        (hourly,) = followup.tick(store).digests
        assert dispatcher.flush(5)
        (robot,) = [r for r in receiver.received if r.path == "/ding"]
        text = robot.json()["markdown"]["text"]
        assert hourly.title == "舆情预警每小时摘要（11-20 09:20–10:00，共 3 条）"
        assert robot.json()["markdown"]["title"].endswith(hourly.title)
        assert "按级别：紧急 1 条，中 2 条" in text and "按规则：canteen 2 条，school 1 条" in text
        for alert in alerts:
            assert f"({alert.link})" in text and alert.title in text
        assert "[查看详情](https://yq.example.org/alerts)" in text
        assert followup.tick(store).digests == []  # sent once
        clock.set(datetime(2026, 11, 20, 11, 0, tzinfo=ZONE))
        assert followup.tick(store).digests == []  # an empty hour sends nothing
        assert sink.envelopes == []
        clock.set(datetime(2026, 11, 21, 8, 0, tzinfo=ZONE))
        (daily,) = followup.tick(store).digests
        assert dispatcher.flush(5)
        _wait(sink, 1)
        (envelope,) = sink.envelopes
        mail = _parse(envelope)
        assert mail["Subject"] == f"[舆情预警]【紧急】{daily.title}"
        assert "每日摘要" in daily.title and "共 3 条" in daily.title
        plain = mail.get_body(("plain",))
        html = mail.get_body(("html",))
        assert plain is not None and html is not None
        assert all(a.link in plain.get_content() for a in alerts)
        assert f"href='{alerts[1].link}'" in html.get_content()
    logged = store.deliveries(alert_id=daily.id)
    assert [(d.channel, d.ok) for d in logged] == [("office-mail", True)]


def test_escalations_pass_and_close_sends_what_is_held(
    receiver: Receiver, smtp: tuple[int, Sink], store: Store
) -> None:
    clock, dispatcher, followup = _setup(receiver, smtp, store)
    with dispatcher:
        alert = _alert(1, clock.now())
        dispatcher.submit(alert, ["duty-robot"])
        urgent = Alert(**{**_fields(alert), "title": "【升级·第1级】" + alert.title})
        dispatcher.submit(urgent, ["duty-robot"])
        assert dispatcher.flush(5)
        assert len(receiver.received) == 1  # the escalation went at once, the alert is held
        (sent,) = followup.close()
        assert dispatcher.flush(5)
        assert sent.kind == "digest" and "共 1 条" in sent.title
        assert len(receiver.received) == 2


def _fields(alert: Alert) -> dict[str, Any]:
    return {f: getattr(alert, f) for f in alert.__dataclass_fields__}


def test_digest_times_follow_the_zone() -> None:
    config = DigestConfig({}, ZONE, time(8, 0))
    at = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)  # 07:59 local
    assert next_digest_time("daily", at, config) == datetime(2026, 11, 21, 8, 0, tzinfo=ZONE)
    assert next_digest_time("daily", at + timedelta(minutes=1), config) == datetime(
        2026, 11, 22, 8, 0, tzinfo=ZONE
    )
    assert next_digest_time("hourly", at, config) == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def test_digest_config_errors() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"channels": {"a": "weekly"}}, "weekly"),
        ({"channels": ["a"]}, "table"),
        ({"daily_at": "8点"}, "time of day"),
        ({"every": "1h"}, "unknown key"),
    ]
    for table, message in cases:
        with pytest.raises(ConfigError, match=message):
            DigestConfig.from_config(table, ZONE)
    settings = Settings.model_validate(
        {"alerts": {"channels": [{"kind": "log"}], "digest": {"channels": {"mail": "daily"}}}}
    )
    with (
        dispatcher_from_config(settings.alerts.channels) as dispatcher,
        pytest.raises(ConfigError, match="unknown channel"),
    ):
        FollowUp(settings, dispatcher, ManualClock(START))
