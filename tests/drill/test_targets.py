"""Drills into a running server: ``yuqing drill run --push`` against the real app served by
uvicorn in a thread, ``--stream`` into real Redis drained by a real ``yuqing worker --once``,
and the push client's retries and errors (httpx.MockTransport, unit level).

The scenario starts three days before now so that its posts are in the server's past, as
in a trainer's drill of a built-in scenario."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.streams.conftest import REDIS_URL
from tests.web.test_alerts_api import served
from yuqing.drill.scenario import load_scenario
from yuqing.drill.targets import PushError, PushTarget, api_base, run_to_target
from yuqing.errors import UsageError
from yuqing.settings import Settings
from yuqing.store.url import open_store

TOKEN = "drill-push-token"
RULE = {"id": "canteen", "name": "食堂食品安全", "query": "食堂 OR 过期"}


def scenario_yaml(start: datetime) -> str:
    return f"""\
name: tiny-server
title: 某中学食堂过期食材（服务端演练）
field: education
start: {start.isoformat()}
region: 浙江省宁波市鄞州区
facts: {{school: [某中学, 某中学初中部]}}
accounts:
  - {{name: 鄞州教育, followers: 210000, verified: true}}
phases:
  - name: 萌芽
    duration: 2h
    posts_per_hour: 30
    templates: ["{{school}}的食堂用了过期食材，孩子腹痛"]
    sentiment: {{negative: 0.8, neutral: 0.2}}
  - name: 爆发
    duration: 2h
    posts_per_hour: 60
    templates: ["{{school}}食堂被曝使用过期食材，多名学生腹痛呕吐，家长要求公开采购记录"]
    sentiment: {{negative: 0.9, neutral: 0.1}}
rumours:
  - at: 1h
    spread: 10
    over: 1h
    templates: ["网传{{school}}有学生食物中毒死亡，紧急扩散！！！"]
statement:
  at: 3h
  quality: good
  account: 鄞州教育
  text: "【情况通报】{{school}}食堂食材问题已成立联合调查组，网传学生死亡消息不实。"
"""


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    start = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    path = tmp_path_factory.mktemp("drill-scenario") / "tiny.yaml"
    path.write_text(scenario_yaml(start), encoding="utf-8")
    return path


def cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


def start_held_drill(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    """``yuqing drill run ... --hold 10`` in the background, returned once every post is
    sent and the drill is held open (the trainee's turn)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "yuqing", *args, "--hold", "10"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if "演练保持开放" in line:
            return proc
    errors = proc.stderr.read() if proc.stderr is not None else ""
    proc.wait(30)
    raise AssertionError(f"the drill ended before holding: {''.join(seen)}\n{errors}")


def end_drill(proc: subprocess.Popen[str]) -> str:
    """Ctrl+C the held drill; its remaining output."""
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------- push into a served app


@pytest.fixture(scope="module")
def push_drill(
    scenario_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A fast drill pushed through the CLI into a served app on an empty store; while it is
    held open the trainee opens a case through the API; then the drill is scored."""
    folder = tmp_path_factory.mktemp("drill-push")
    url = f"sqlite:///{folder / 'server.db'}"
    settings = Settings.model_validate(
        {"store": url, "web": {"api_tokens": [TOKEN]}, "monitor": {"rules": [RULE]}}
    )
    with served(settings) as base:
        args = ["drill", "run", str(scenario_file), "--speed", "0", "--push", base]
        proc = start_held_drill([*args, "--report", "r.json"], folder, YUQING_TOKEN=TOKEN)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            opened = http.post("/api/v1/cases", json={"title": "食堂过期食材", "by": "学员"})
            assert opened.status_code == 201, opened.text
            stats = http.get("/api/v1/stats").json()
        tail = end_drill(proc)
        again = cli([*args, "--report", "again.json"], folder, YUQING_TOKEN=TOKEN)
        bad = cli(args, folder, YUQING_TOKEN="wrong")
    score = cli(["--store", url, "drill", "score", "r.json", "--json", "s.json"], folder)
    yield {
        "url": url,
        "folder": folder,
        "report": read_json(folder / "r.json"),
        "stats": stats,
        "tail": tail,
        "again": again,
        "bad": bad,
        "score": score,
    }


def test_pushed_posts_land_in_the_servers_store(push_drill: dict[str, Any]) -> None:
    report = push_drill["report"]
    assert report["posts"] > 100
    assert report["stored"] == report["sent"] == report["posts"]
    assert push_drill["stats"]["documents"] == report["posts"]
    assert report["events"] and report["events"] > 0  # read back from /api/v1/stats
    assert report["negative"] and report["negative"] > report["posts"] / 2
    store = open_store(push_drill["url"])
    try:
        assert store.stats().documents == report["posts"]
        assert store.search("过期食材", limit=1)
        newest = store.latest_documents(limit=1)[0]
        # published_at keeps scenario time (three days ago), not the push time
        assert newest.published_at is not None
        assert newest.published_at < datetime.now(UTC) - timedelta(hours=12)
    finally:
        store.close()
    assert "posts" in push_drill["tail"] and "sent" in push_drill["tail"]


def test_push_report_is_on_server_time_and_keeps_scenario_times(
    push_drill: dict[str, Any],
) -> None:
    report = push_drill["report"]
    assert report["clock"] == "server"
    assert report["target"]["kind"] == "push"
    assert report["target"]["url"].endswith("/api/v1/posts")
    assert TOKEN not in json.dumps(report)
    kinds = [e["kind"] for e in report["timeline"]]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert {"phase", "rumour", "statement"} <= set(kinds)
    statement = next(e for e in report["timeline"] if e["kind"] == "statement")
    scenario_start = datetime.fromisoformat(report["scenario_started_at"])
    assert datetime.fromisoformat(statement["data"]["scenario_at"]) == scenario_start + timedelta(
        hours=3
    )
    played = datetime.fromisoformat(statement["at"])
    assert datetime.fromisoformat(report["started_at"]) <= played
    assert played <= datetime.fromisoformat(report["ended_at"])


def test_push_drill_scores_the_trainees_case_from_the_server_store(
    push_drill: dict[str, Any],
) -> None:
    assert push_drill["score"].returncode == 0, push_drill["score"].stderr
    score = read_json(push_drill["folder"] / "s.json")
    parts = {c["key"]: c for c in score["components"]}
    # the case opened while the drill was held counts (server time on both sides)
    assert parts["case"]["status"] == "已立案" and parts["case"]["points"] > 0
    assert any(e["kind"] == "case" for e in score["timeline"])


def test_push_refuses_a_server_that_holds_posts_and_a_wrong_token(
    push_drill: dict[str, Any],
) -> None:
    again, bad = push_drill["again"], push_drill["bad"]
    assert again.returncode == 2 and "already holds" in again.stderr, again.stderr
    assert bad.returncode == 2 and "refused the token" in bad.stderr, bad.stderr


def test_pushed_drill_raises_alerts_from_the_servers_rules(push_drill: dict[str, Any]) -> None:
    store = open_store(push_drill["url"])
    try:
        alerts = store.alerts(limit=10)
        assert alerts and {a.alert.rule_id for a in alerts} == {"canteen"}
    finally:
        store.close()


# ---------------------------------------------------------------- stream and a worker


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        message = f"no Redis server at {REDIS_URL} ({exc}); start redis-server"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture
def stream_name(redis_client: redis.Redis) -> Iterator[str]:
    """A stream name unique to the test; its keys are deleted afterwards."""
    name = f"test-yuqing-drill:{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(redis_client.scan_iter(match=f"{name}*"))
    if keys:
        redis_client.delete(*keys)


def test_stream_drill_through_a_worker_raises_alerts_and_scores(
    scenario_file: Path, tmp_path: Path, redis_client: redis.Redis, stream_name: str
) -> None:
    stream = f"{REDIS_URL}?stream={stream_name}&group=workers"
    (tmp_path / "yuqing.toml").write_text(
        '[[monitor.rules]]\nid = "canteen"\nname = "食堂食品安全"\nquery = "食堂 OR 过期"\n',
        encoding="utf-8",
    )
    store_url = f"sqlite:///{tmp_path / 'server.db'}"
    args = ["drill", "run", str(scenario_file), "--speed", "0", "--stream", stream]
    proc = start_held_drill([*args, "--report", "r.json"], tmp_path)
    work = cli(["--store", store_url, "worker", "--stream", stream, "--once"], tmp_path)
    assert work.returncode == 0, work.stderr
    store = open_store(store_url)
    try:
        alerts = store.alerts(limit=100)
        assert alerts and {a.alert.rule_id for a in alerts} == {"canteen"}
        first = min(alerts, key=lambda a: a.alert.created_at)
        store.acknowledge_alert(first.alert.id, "学员", datetime.now(UTC))
        posts = store.stats().documents
    finally:
        store.close()
    tail = end_drill(proc)
    report = read_json(tmp_path / "r.json")
    assert report["target"]["kind"] == "stream" and report["clock"] == "server"
    assert report["sent"] == report["posts"] == posts
    assert report["stored"] is None and report["alerts"] is None  # the workers know those
    assert "stream" in tail
    score = cli(["--store", store_url, "drill", "score", "r.json", "--json", "s.json"], tmp_path)
    assert score.returncode == 0, score.stderr
    parts = {c["key"]: c for c in read_json(tmp_path / "s.json")["components"]}
    assert parts["acknowledge"]["status"] == "已确认" and parts["acknowledge"]["points"] > 0
    assert parts["case"]["status"] == "未立案"


# ---------------------------------------------------------------- the push client


def scripted(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle)


def target(answers: list[Any], seen: list[httpx.Request], **kw: Any) -> PushTarget:
    return PushTarget(
        "http://yq.example:8000/",
        TOKEN,
        backoff=0.0,
        transport=scripted(answers, seen),
        err=io.StringIO(),
        **kw,
    )


OK = {"ok": True, "accepted": 2, "stored": 2, "existing": 0, "rejected": []}


def test_push_retries_connection_errors_429_and_5xx_then_succeeds() -> None:
    seen: list[httpx.Request] = []
    answers: list[Any] = [
        httpx.ConnectError("refused"),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(503, json={"ok": False, "error": {"code": "busy", "message": "x"}}),
        httpx.Response(200, json=OK),
    ]
    push = target(answers, seen)
    assert push.push([{"text": "a"}, {"text": "b"}]) == {"stored": 2, "existing": 0, "rejected": 0}
    assert len(seen) == 4 and not answers
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(seen[0].url) == "http://yq.example:8000/api/v1/posts"
    assert json.loads(seen[0].content) == {"posts": [{"text": "a"}, {"text": "b"}]}


def test_push_gives_up_after_its_attempts_with_a_clear_error() -> None:
    seen: list[httpx.Request] = []
    push = target([httpx.Response(502)] * 3, seen, attempts=3)
    with pytest.raises(PushError, match="still failing after 3 tries"):
        push.push([{"text": "a"}])


@pytest.mark.parametrize("status", [401, 403])
def test_push_names_a_refused_token(status: int) -> None:
    body = {"ok": False, "error": {"code": "unauthorized", "message": "bad token"}}
    push = target([httpx.Response(status, json=body)], [])
    with pytest.raises(UsageError, match=f"refused the token \\({status} unauthorized"):
        push.push([{"text": "a"}])


def test_push_splits_a_batch_the_server_finds_too_large() -> None:
    seen: list[httpx.Request] = []
    one = {"ok": True, "accepted": 1, "stored": 1, "existing": 0, "rejected": []}
    answers: list[Any] = [httpx.Response(413), *[httpx.Response(200, json=one)] * 2]
    push = target(answers, seen)
    assert push.push([{"text": "a"}, {"text": "b"}]) == {"stored": 2, "existing": 0, "rejected": 0}
    assert [len(json.loads(r.content)["posts"]) for r in seen] == [2, 1, 1]


def test_push_stops_waiting_when_the_drill_is_stopped() -> None:
    stop = threading.Event()
    stop.set()
    push = target([httpx.Response(503)], [], stop_event=stop)
    assert push.push([{"text": "a"}]) is None


def test_push_needs_a_token_and_an_http_url() -> None:
    with pytest.raises(UsageError, match="YUQING_TOKEN"):
        PushTarget("http://127.0.0.1:8000", "")
    with pytest.raises(UsageError, match="http://"):
        api_base("127.0.0.1:8000")
    assert api_base("https://yq.example/api/v1/posts/") == "https://yq.example"


def test_run_to_target_refuses_a_negative_speed() -> None:
    push = target([], [])
    with pytest.raises(UsageError, match="speed"):
        run_to_target(load_scenario("school-food-safety"), push, speed=-1, out=io.StringIO())
