"""Channels against real local servers: an HTTP receiver on 127.0.0.1 that checks the
webhook signature and the DingTalk/WeCom robot formats, and an aiosmtpd SMTP server
(plain, STARTTLS and implicit TLS). No mocks: every request crosses a real socket.

``Receiver`` and ``make_alert`` are imported by test_delivery.py as well.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import logging
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from hypothesis import given
from hypothesis import strategies as st

from yuqing.alerts.alert import Alert, AlertSample
from yuqing.alerts.channels import (
    DingTalkChannel,
    EmailChannel,
    LogChannel,
    WebhookChannel,
    WeComChannel,
    channel_from_config,
    channels_from_config,
    sign,
    verify_signature,
)
from yuqing.errors import ConfigError

SECRET = "s3cret-钥匙"
DING_SECRET = "SEC0123456789abcdef"


def make_alert(rule_id: str = "rule-1", event_id: str | None = "ev-7", n_samples: int = 2) -> Alert:
    samples = [
        AlertSample(
            source="weibo",
            id=f"p{i}",
            text=f"某校食堂被曝使用过期食材，多名学生腹痛就医 #{i}",
            url=f"https://weibo.example/p{i}",
            published_at=datetime(2026, 3, 1, 8, i, tzinfo=UTC),
        )
        for i in range(n_samples)
    ]
    return Alert.create(
        rule_id=rule_id,
        kind="match",
        title="食堂过期食材 负面舆情",
        severity="high",
        created_at=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
        public_url="https://yq.example.org",
        event_id=event_id,
        reasons=["命中规则：食堂 AND (过期 OR 变质)", "1 小时内 12 条"],
        samples=samples,
    )


# -- a real HTTP receiver -------------------------------------------------------------------


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.perf_counter() when the request arrived

    def json(self) -> Any:
        return orjson.loads(self.body)


Reply = tuple[int, bytes, dict[str, str]]


def _json_reply(data: Any, status: int = 200) -> Reply:
    return status, orjson.dumps(data), {"Content-Type": "application/json"}


@dataclass
class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 whose routes check what channels send."""

    received: list[Received] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                got = Received(
                    parsed.path,
                    urllib.parse.parse_qs(parsed.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    time.perf_counter(),
                )
                status, payload, headers = receiver.route(got)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < n and time.monotonic() < deadline:
                self.cond.wait(0.05)
            return list(self.received)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def route(self, got: Received) -> Reply:
        with self.cond:
            self.received.append(got)
            self.hits[got.path] = count = self.hits.get(got.path, 0) + 1
            self.cond.notify_all()
        if got.path == "/hook":
            return (200, b"ok", {}) if webhook_valid(got) else (401, b"bad signature", {})
        if got.path == "/flaky":
            return (500, b"boom", {}) if count <= 2 else (200, b"ok", {})
        if got.path == "/bad":
            return 400, b"bad request", {}
        if got.path == "/limited":
            return (429, b"slow down", {"Retry-After": "0"}) if count == 1 else (200, b"ok", {})
        if got.path == "/hang":
            self.release.wait(10)
            return 200, b"late", {}
        if got.path == "/ding":
            return _json_reply(dingtalk_check(got))
        if got.path == "/wecom":
            return _json_reply(wecom_check(got))
        if got.path == "/not-json":
            return 200, b"<html>proxy</html>", {}
        return 404, b"no such route", {}


def webhook_valid(got: Received) -> bool:
    """The receiver's check, written independently of yuqing's own helper."""
    ts = got.headers.get("x-yuqing-timestamp", "")
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + got.body, hashlib.sha256)
    return (
        got.headers.get("x-yuqing-signature") == "sha256=" + expected.hexdigest()
        and abs(time.time() - int(ts)) < 300
        and got.headers.get("content-type", "").startswith("application/json")
    )


def dingtalk_check(got: Received) -> dict[str, Any]:
    msg = got.json()
    if msg.get("msgtype") != "markdown" or not isinstance(msg["markdown"].get("title"), str):
        return {"errcode": 40035, "errmsg": "缺少参数 msgtype/markdown"}
    if not isinstance(msg["markdown"].get("text"), str) or not msg["markdown"]["text"]:
        return {"errcode": 40035, "errmsg": "缺少参数 text"}
    if "timestamp" in got.query:
        ts = got.query["timestamp"][0]
        # parse_qs already url-decoded the sign once, as DingTalk's server does
        digest = hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(), hashlib.sha256)
        if got.query.get("sign", [""])[0] != base64.b64encode(digest.digest()).decode():
            return {"errcode": 310000, "errmsg": "sign not match"}
        if abs(time.time() * 1000 - int(ts)) > 3_600_000:
            return {"errcode": 310000, "errmsg": "timestamp too old"}
    return {"errcode": 0, "errmsg": "ok"}


def wecom_check(got: Received) -> dict[str, Any]:
    msg = got.json()
    content = msg.get("markdown", {}).get("content")
    if set(msg) != {"msgtype", "markdown"} or msg["msgtype"] != "markdown" or not content:
        return {"errcode": 40008, "errmsg": "invalid message type"}
    if len(content.encode("utf-8")) > 4096:
        return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
    return {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- webhook ---------------------------------------------------------------------------------


def test_webhook_posts_signed_payload(receiver: Receiver) -> None:
    alert = make_alert()
    channel = WebhookChannel(receiver.url("/hook"), SECRET, timeout=2)
    result = channel.send(alert)
    channel.close()
    assert result.ok and result.status == 200, result
    (got,) = receiver.received
    assert got.json() == alert.as_payload()
    assert got.headers["x-yuqing-alert-id"] == alert.id
    assert verify_signature(
        SECRET, got.headers["x-yuqing-timestamp"], got.body, got.headers["x-yuqing-signature"]
    )


def test_webhook_wrong_secret_is_refused_without_retry(receiver: Receiver) -> None:
    channel = WebhookChannel(receiver.url("/hook"), "not-the-secret", timeout=2)
    result = channel.send(make_alert())
    assert not result.ok and result.status == 401 and not result.retryable


@pytest.mark.parametrize(
    ("path", "status", "retryable"),
    [("/flaky", 500, True), ("/bad", 400, False), ("/limited", 429, True)],
)
def test_webhook_status_classes(
    receiver: Receiver, path: str, status: int, retryable: bool
) -> None:
    result = WebhookChannel(receiver.url(path), SECRET, timeout=2).send(make_alert())
    assert (result.ok, result.status, result.retryable) == (False, status, retryable)
    assert result.error and str(status) in result.error
    if status == 429:
        assert result.retry_after == 0.0


def test_webhook_timeout_is_retryable(receiver: Receiver) -> None:
    began = time.perf_counter()
    result = WebhookChannel(receiver.url("/hang"), SECRET, timeout=0.3).send(make_alert())
    assert time.perf_counter() - began < 3
    assert not result.ok and result.retryable and "no answer" in (result.error or "")


def test_webhook_connection_refused_is_retryable() -> None:
    result = WebhookChannel(f"http://127.0.0.1:{free_port()}/x", SECRET, timeout=1).send(
        make_alert()
    )
    assert not result.ok and result.retryable and result.status is None


def test_verify_signature_rejects_tampering() -> None:
    body, ts, now = b'{"id":"a"}', "1767225600", 1767225600.0
    header = sign(SECRET, ts, body)
    assert verify_signature(SECRET, ts, body, header, now=now)
    assert verify_signature(SECRET.encode(), ts, body, header, now=now + 299)
    assert not verify_signature(SECRET, ts, body + b" ", header, now=now)
    assert not verify_signature("other", ts, body, header, now=now)
    assert not verify_signature(SECRET, ts, body, header, now=now + 301)
    assert not verify_signature(SECRET, ts, body, header.removeprefix("sha256="), now=now)
    assert not verify_signature(SECRET, "yesterday", body, header, now=now)
    assert not verify_signature(SECRET, str(int(ts) + 1), body, header, now=now)


@given(secret=st.text(min_size=1), body=st.binary(), ts=st.integers(0, 2**40))
def test_sign_then_verify_roundtrip(secret: str, body: bytes, ts: int) -> None:
    assert verify_signature(secret, str(ts), body, sign(secret, str(ts), body), now=float(ts))


# -- DingTalk and WeCom robots ----------------------------------------------------------------


def test_dingtalk_signed_markdown(receiver: Receiver) -> None:
    channel = DingTalkChannel(
        receiver.url("/ding?access_token=abc"), secret=DING_SECRET, at_mobiles=["13800000000"]
    )
    result = channel.send(make_alert())
    assert result.ok, result
    (got,) = receiver.received
    assert got.query["access_token"] == ["abc"] and "sign" in got.query
    msg = got.json()
    assert msg["markdown"]["title"] == "[舆情预警]【高】食堂过期食材 负面舆情"
    assert "命中规则" in msg["markdown"]["text"] and "@13800000000" in msg["markdown"]["text"]
    assert msg["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert "https://yq.example.org/events/ev-7" in msg["markdown"]["text"]


def test_dingtalk_bad_sign_reports_errmsg(receiver: Receiver) -> None:
    result = DingTalkChannel(receiver.url("/ding"), secret="wrong").send(make_alert())
    assert not result.ok and not result.retryable
    assert "310000" in (result.error or "") and "sign not match" in (result.error or "")


def test_dingtalk_without_secret_has_no_sign(receiver: Receiver) -> None:
    assert DingTalkChannel(receiver.url("/ding")).send(make_alert()).ok
    assert receiver.received[0].query == {}


def test_robot_answer_that_is_not_json_fails(receiver: Receiver) -> None:
    result = WeComChannel(receiver.url("/not-json")).send(make_alert())
    assert not result.ok and "errcode" in (result.error or "")


def test_wecom_markdown(receiver: Receiver) -> None:
    assert WeComChannel(receiver.url("/wecom")).send(make_alert()).ok
    content = receiver.received[0].json()["markdown"]["content"]
    assert content.startswith("### 食堂过期食材 负面舆情")
    assert "[查看详情](https://yq.example.org/events/ev-7)" in content


def test_wecom_long_alert_fits_4096_bytes(receiver: Receiver) -> None:
    alert = make_alert(n_samples=0)
    alert.samples = [
        AlertSample("weibo", str(i), "长" * 140, "https://w.example/" + str(i)) for i in range(40)
    ]
    assert WeComChannel(receiver.url("/wecom")).send(alert).ok
    content = receiver.received[0].json()["markdown"]["content"]
    assert len(content.encode()) <= 4096 and content.endswith(
        "(https://yq.example.org/events/ev-7)"
    )


# -- e-mail through a real SMTP server -------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"officer",
        b"pw",
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a certificate for the TLS SMTP tests")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _smtp(**kwargs: Any) -> tuple[Controller, Sink]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller, sink


def _parse(envelope: Envelope) -> EmailMessage:
    raw = envelope.original_content or b""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _check_mail(msg: EmailMessage, alert: Alert) -> None:
    assert msg["Subject"] == "[舆情预警]【高】食堂过期食材 负面舆情"
    assert msg["Message-ID"] == f"<{alert.id}@yuqing>"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "级别：高" in plain and "命中规则：食堂 AND (过期 OR 变质)" in plain
    assert "时间：2026-03-01 16:30" in plain  # shown in Asia/Shanghai
    assert "href='https://yq.example.org/events/ev-7'" in html.get_content()


def test_email_plain_with_login() -> None:
    controller, sink = _smtp(authenticator=_authenticator, auth_require_tls=False)
    try:
        alert = make_alert()
        channel = EmailChannel(
            "127.0.0.1", "yuqing@example.org", ["duty@example.org", "chief@example.org"],
            port=controller.port, security="none", username="officer", password="pw", timeout=5,
        )  # fmt: skip
        result = channel.send(alert)
        assert result.ok, result
        (envelope,) = sink.envelopes
        assert envelope.rcpt_tos == ["duty@example.org", "chief@example.org"]
        assert envelope.mail_from == "yuqing@example.org"
        _check_mail(_parse(envelope), alert)
    finally:
        controller.stop()


def test_email_refused_login_is_not_retried() -> None:
    controller, sink = _smtp(authenticator=_authenticator, auth_require_tls=False)
    try:
        channel = EmailChannel(
            "127.0.0.1", "y@example.org", ["d@example.org"], port=controller.port,
            security="none", username="officer", password="wrong",
        )  # fmt: skip
        result = channel.send(make_alert())
        assert not result.ok and not result.retryable and result.status == 535
        assert sink.envelopes == []
    finally:
        controller.stop()


def _server_context(tls_files: tuple[Path, Path]) -> Any:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    return context


def test_email_starttls(tls_files: tuple[Path, Path]) -> None:
    controller, sink = _smtp(
        tls_context=_server_context(tls_files), require_starttls=True, authenticator=_authenticator
    )
    try:
        alert = make_alert()
        channel = EmailChannel(
            "127.0.0.1", "y@example.org", ["d@example.org"], port=controller.port,
            security="starttls", username="officer", password="pw", ca_file=str(tls_files[0]),
        )  # fmt: skip
        assert channel.send(alert).ok
        _check_mail(_parse(sink.envelopes[0]), alert)
        untrusted = EmailChannel(
            "127.0.0.1",
            "y@example.org",
            ["d@example.org"],
            port=controller.port,
            security="starttls",
        )
        result = untrusted.send(alert)
        assert not result.ok and not result.retryable and "ca_file" in (result.error or "")
    finally:
        controller.stop()


def test_email_implicit_tls(tls_files: tuple[Path, Path]) -> None:
    controller, sink = _smtp(ssl_context=_server_context(tls_files))
    try:
        channel = EmailChannel(
            "127.0.0.1", "y@example.org", ["d@example.org"], port=controller.port,
            security="ssl", ca_file=str(tls_files[0]),
        )  # fmt: skip
        assert channel.send(make_alert()).ok
        assert len(sink.envelopes) == 1
    finally:
        controller.stop()


def test_email_server_down_is_retryable() -> None:
    channel = EmailChannel(
        "127.0.0.1",
        "y@example.org",
        ["d@example.org"],
        port=free_port(),
        security="none",
        timeout=1,
    )
    result = channel.send(make_alert())
    assert not result.ok and result.retryable


# -- the log ---------------------------------------------------------------------------------


def test_log_channel_file_and_logger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "logs" / "alerts.jsonl"
    channel = LogChannel(path)
    first, second = make_alert("r1"), make_alert("r2")
    assert channel.send(first).ok and channel.send(second).ok
    channel.close()
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(x) for x in lines] == [first.as_payload(), second.as_payload()]
    with caplog.at_level(logging.WARNING, logger="yuqing.alerts"):
        assert LogChannel().send(first).ok
    assert orjson.loads(caplog.records[-1].getMessage())["id"] == first.id


def test_log_channel_unwritable_path_fails(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = LogChannel(tmp_path / "file" / "alerts.jsonl").send(make_alert())
    assert not result.ok and "cannot write" in (result.error or "")


# -- configuration ---------------------------------------------------------------------------


def test_channel_from_config_builds_each_kind() -> None:
    configs: list[dict[str, Any]] = [
        {
            "kind": "webhook",
            "url": "https://h.example/hook",
            "secret": "s",
            "timeout": 3,
            "headers": {"X-A": "1"},
        },
        {
            "kind": "email",
            "host": "smtp.example.org",
            "sender": "a@example.org",
            "to": "b@example.org",
            "security": "ssl",
        },
        {
            "kind": "dingtalk",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "secret": "SEC",
        },
        {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
        {"kind": "log"},
    ]
    channels = [channel_from_config(c) for c in configs]
    assert [c.kind for c in channels] == ["webhook", "email", "dingtalk", "wecom", "log"]
    assert isinstance(channels[1], EmailChannel) and channels[1].port == 465
    for channel in channels:
        channel.close()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"kind": "sms"}, "kind 'sms' is not one of"),
        ({"url": "https://x"}, "kind None is not one of"),
        ({"kind": "webhook", "secret": "s"}, "missing required key 'url'"),
        ({"kind": "webhook", "url": "https://x"}, "missing required key 'secret'"),
        ({"kind": "webhook", "url": "ftp://x", "secret": "s"}, "must be an http(s) URL"),
        (
            {"kind": "webhook", "url": "https://x", "secret": "s", "timout": 3},
            "unknown key(s) timout",
        ),
        (
            {"kind": "webhook", "url": "https://x", "secret": "s", "timeout": "3"},
            "'timeout' must be a float",
        ),
        ({"kind": "webhook", "url": "https://x", "secret": "s", "timeout": 0}, "greater than 0"),
        ({"kind": "email", "host": "h", "sender": "a@b"}, "missing required key 'to'"),
        (
            {"kind": "email", "host": "h", "sender": "a@b", "to": [1]},
            "'to' must be a string or a list",
        ),
        (
            {"kind": "email", "host": "h", "sender": "a@b", "to": "c@d", "username": "u"},
            "both username and password",
        ),
        (
            {"kind": "email", "host": "h", "sender": "a@b", "to": "c@d", "security": "tls"},
            "security 'tls'",
        ),
        ({"kind": "dingtalk", "url": "https://x", "at_all": "yes"}, "'at_all' must be a bool"),
        ({"kind": "log", "name": ""}, "'name' must be a non-empty string"),
    ],
)
def test_channel_from_config_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        channel_from_config(config)
    assert message in str(info.value)


def test_channels_from_config_names() -> None:
    built = channels_from_config(
        [{"kind": "log"}, {"kind": "log", "path": "/tmp/x.jsonl"}, {"kind": "log", "name": "audit"}]
    )
    assert [c.name for c in built] == ["log", "log-2", "audit"]
    with pytest.raises(ConfigError, match="used twice"):
        channels_from_config([{"kind": "log", "name": "a"}, {"kind": "log", "name": "a"}])


def test_slow_receiver_is_a_callable_route(receiver: Receiver) -> None:
    """The receiver answers unknown paths with 404: a config typo is a permanent failure."""
    result = WebhookChannel(receiver.url("/typo"), SECRET).send(make_alert())
    assert (result.ok, result.status, result.retryable) == (False, 404, False)
