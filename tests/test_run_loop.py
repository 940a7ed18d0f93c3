"""`yuqing run` end to end: a JSONL file source, a rule, a signed webhook to a real local
HTTP receiver; resuming from the cursor after lines are appended."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from yuqing.alerts.channels import verify_signature
from yuqing.clock import ManualClock
from yuqing.privacy.blocking import block_author
from yuqing.runtime.run import run_command, run_forever
from yuqing.settings import load_settings
from yuqing.store.url import open_store

SECRET = "s3cret-for-tests"


class Receiver:
    """A webhook receiver on 127.0.0.1 that accepts only correctly signed alerts."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify_signature(
                    SECRET,
                    self.headers.get("X-Yuqing-Timestamp", ""),
                    body,
                    self.headers.get("X-Yuqing-Signature", ""),
                )
                if ok:
                    receiver.alerts.append(orjson.loads(body))
                else:
                    receiver.refused += 1
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def post(n: int, text: str) -> bytes:
    record = {
        "id": f"p{n}",
        "source": "weibo",
        "text": text,
        "published_at": f"2026-03-01T09:{n:02d}:00+08:00",
    }
    return orjson.dumps(record) + b"\n"


def write_config(tmp_path: Path, url: str, poll_interval: str = "1s") -> Path:
    posts = tmp_path / "posts.jsonl"
    config = tmp_path / "yuqing.toml"
    config.write_text(
        f"""
store = "sqlite:///{tmp_path / "y.db"}"
public_url = "https://yq.example.org"

[run]
sources = ["{posts}"]
poll_interval = "{poll_interval}"
analysis = false
events = false

[monitor]
cooldown = "30m"

[[monitor.rules]]
id = "canteen"
name = "食堂食品安全"
query = '食堂 AND (过期 OR 变质)'
triggers = [{{kind = "match"}}, {{kind = "count", threshold = 3, window = "1h"}}]
severity = "high"
channels = ["ops"]

[[alerts.channels]]
name = "ops"
kind = "webhook"
url = "{url}"
secret = "{SECRET}"

[alerts.delivery]
attempts = 2
base_delay = 0.05
""",
        encoding="utf-8",
    )
    return config


def test_file_source_to_signed_webhook_then_resume(tmp_path: Path, receiver: Receiver) -> None:
    config = write_config(tmp_path, receiver.url)
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(
        post(1, "某校食堂被曝使用过期食材")
        + post(2, "今天天气很好")
        + post(3, "食堂饭菜变质，学生腹痛")
    )
    settings = load_settings(config, environ={})
    clock = ManualClock(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    out = io.StringIO()
    report = run_forever(settings, clock=clock, stop_event=threading.Event(), once=True, out=out)
    assert (report.polls, report.read, report.stored, report.alerts) == (1, 3, 3, 1)
    assert "poll 1: read 3, stored 3, duplicates 0, rejected 0; alerts 1" in out.getvalue()
    assert receiver.refused == 0
    [alert] = receiver.alerts
    assert (alert["rule_id"], alert["kind"], alert["severity"]) == ("canteen", "match", "high")
    assert alert["reasons"][0] == "命中规则「食堂食品安全」：食堂 AND (过期 OR 变质)"
    assert sorted(s["id"] for s in alert["samples"]) == ["p1", "p3"]
    assert alert["link"] == f"https://yq.example.org/alerts/{alert['id']}"

    # Appended lines: the next poll reads only them and alerts only on the new posts.
    with posts.open("ab") as handle:
        handle.write(post(4, "又有食堂出现过期牛奶") + post(5, "周末去公园"))
    clock.advance(timedelta(hours=1))  # past the 30-minute cooldown
    out = io.StringIO()
    report = run_forever(settings, clock=clock, stop_event=threading.Event(), once=True, out=out)
    assert (report.read, report.stored, report.alerts) == (2, 2, 1)
    assert len(receiver.alerts) == 2
    new = receiver.alerts[1]
    assert [s["id"] for s in new["samples"]] == ["p4"]
    assert new["kind"] == "match"

    # Nothing new: a poll reads nothing and raises nothing.
    report = run_forever(settings, clock=clock, stop_event=threading.Event(), once=True, out=out)
    assert (report.read, report.alerts) == (0, 0)
    assert len(receiver.alerts) == 2


def test_count_trigger_and_cooldown_over_polls(tmp_path: Path, receiver: Receiver) -> None:
    config = write_config(tmp_path, receiver.url)
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b"".join(post(n, f"食堂过期食材第{n}报") for n in range(1, 4)))
    settings = load_settings(config, environ={})
    clock = ManualClock(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    report = run_forever(
        settings, clock=clock, stop_event=threading.Event(), once=True, out=io.StringIO()
    )
    # match and count fire in one batch; the cooldown keeps one alert per rule and event
    assert report.alerts == 1
    assert len(receiver.alerts) == 1


def test_loop_polls_until_stopped(tmp_path: Path, receiver: Receiver) -> None:
    config = write_config(tmp_path, receiver.url, poll_interval="50ms")
    (tmp_path / "posts.jsonl").write_bytes(post(1, "食堂过期"))
    settings = load_settings(config, environ={})
    stop = threading.Event()
    out = io.StringIO()
    result: list[Any] = []
    clock = ManualClock(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    thread = threading.Thread(
        target=lambda: result.append(run_forever(settings, clock=clock, stop_event=stop, out=out))
    )
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    while out.getvalue().count(" poll ") < 3 and datetime.now(UTC) < deadline:
        stop.wait(0.05)
    stop.set()
    thread.join(20)
    assert not thread.is_alive()
    assert result[0].polls >= 3
    assert result[0].stored == 1


def test_run_command_reports_config_errors(
    tmp_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, receiver.url)
    text = config.read_text(encoding="utf-8").replace(
        'threshold = 3, window = "1h"', 'window = "1h"'
    )
    config.write_text(text, encoding="utf-8")
    (tmp_path / "posts.jsonl").write_bytes(post(1, "食堂过期"))
    assert run_command(config, once=True) == 1
    err = capsys.readouterr().err
    assert (
        "monitor.rules[1] (id 'canteen'): triggers[2] (count): missing required key 'threshold'"
        in err
    )


def test_run_command_once_and_rejections(
    tmp_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, receiver.url)
    (tmp_path / "posts.jsonl").write_bytes(post(1, "食堂过期") + b'{"id": "x", "text": ""}\n')
    assert run_command(config, once=True) == 3
    captured = capsys.readouterr()
    assert "line 2:" in captured.err
    assert (
        "stopped after 1 poll(s): read 2, stored 1, duplicates 0, rejected 1, alerts 1"
        in captured.out
    )
    assert len(receiver.alerts) == 1


def test_events_stage_gives_alerts_their_event(tmp_path: Path, receiver: Receiver) -> None:
    config = write_config(tmp_path, receiver.url)
    config.write_text(
        config.read_text(encoding="utf-8").replace("events = false", "events = true"),
        encoding="utf-8",
    )
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(
        b"".join(post(n, f"#某校食堂过期# 食堂被曝使用过期食材 {n}") for n in range(1, 3))
    )
    settings = load_settings(config, environ={})
    clock = ManualClock(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    run_forever(settings, clock=clock, stop_event=threading.Event(), once=True, out=io.StringIO())
    [alert] = receiver.alerts
    assert alert["event_id"].startswith("ev-")
    assert alert["link"] == f"https://yq.example.org/events/{alert['event_id']}"
    assert "某校食堂过期" in alert["title"]


def test_blocked_author_is_counted_not_stored(tmp_path: Path, receiver: Receiver) -> None:
    """An author blocked after a deletion (yuqing.privacy.blocking) is dropped by the run
    and counted in its totals; nothing of theirs alerts."""
    config = write_config(tmp_path, receiver.url)
    settings = load_settings(config, environ={})
    with closing(open_store(settings.store)) as store:
        block_author(store, "zhang", actor="cli:test")
    blocked = orjson.loads(post(1, "某校食堂被曝使用过期食材"))
    (tmp_path / "posts.jsonl").write_bytes(
        orjson.dumps({**blocked, "author": "zhang"}) + b"\n" + post(2, "今天天气很好")
    )
    clock = ManualClock(datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    out = io.StringIO()
    report = run_forever(settings, clock=clock, stop_event=threading.Event(), once=True, out=out)
    assert (report.read, report.stored, report.blocked, report.alerts) == (2, 1, 1, 0)
    assert "blocked 1" in out.getvalue()
    assert receiver.alerts == []
