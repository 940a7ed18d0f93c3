"""A real local HTTP server in a thread that serves RSS feeds the way polite servers do:
an ``ETag`` on every feed, ``304 Not Modified`` when ``If-None-Match`` matches, and
scripted failures (``503`` with ``Retry-After``). Every request is logged with its path,
headers and the time of the test's clock when it arrived, so that tests check the order
and the gaps of requests on the test clock, never on the wall clock."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from yuqing.clock import ManualClock
from yuqing.settings import Settings

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def rss(title: str, items: list[tuple[str, str]]) -> bytes:
    """An RSS 2.0 feed with (guid, text) items."""
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{text[:12]}</title><link>https://news.example.org/{guid}</link>"
        f"<description>{text}</description><pubDate>Mon, 04 May 2026 07:00:00 GMT</pubDate></item>"
        for guid, text in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example.org/</link>{entries}</channel></rss>"
    ).encode()


@dataclass
class Logged:
    path: str
    headers: dict[str, str]
    at: datetime | None
    status: int


@dataclass
class FeedServer:
    """Feeds by path; ``fail[path]`` = (status, Retry-After) answers instead, once each
    time it is set."""

    base: str
    feeds: dict[str, bytes] = field(default_factory=dict)
    fail: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    clock: Callable[[], datetime] | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def requests(self, path: str) -> list[Logged]:
        return [r for r in self.log if r.path == path]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            del format, args

        def do_GET(self) -> None:
            at = server.clock() if server.clock is not None else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            if self.path in server.fail:
                status, retry = server.fail.pop(self.path)
                server.log.append(Logged(self.path, headers, at, status))
                self.send_response(status)
                if retry is not None:
                    self.send_header("Retry-After", retry)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = server.feeds.get(self.path)
            if body is None:
                server.log.append(Logged(self.path, headers, at, 404))
                self.send_error(404)
                return
            etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
            if headers.get("if-none-match") == etag:
                server.log.append(Logged(self.path, headers, at, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            server.log.append(Logged(self.path, headers, at, 200))
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def plan_settings(tmp_path: Path, **extra: object) -> Settings:
    """Settings for plan tests: a file store, no analysis models (rules match on text), a
    log alert channel ``duty`` and a 10 s per-host interval."""
    data: dict[str, object] = {
        "store": f"sqlite:///{tmp_path / 'plans.db'}",
        "run": {"analysis": False, "events": False},
        "alerts": {
            "channels": [{"kind": "log", "name": "duty", "path": str(tmp_path / "alerts.log")}]
        },
        "plans": {"host_interval": "10s", "min_interval": "1m"},
    }
    data.update(extra)
    return Settings.model_validate(data)
