"""Stream URLs: where the Redis stream lives and which consumer group reads it.

Accepted form (DESIGN.md "URLs and flags")::

    redis://[user:password@]host[:port][/db]?stream=yuqing:posts&group=workers
    rediss://...                      the same over TLS

Query options, all optional:

``stream``   the stream key (default ``yuqing:posts``)
``group``    the consumer group of the workers (default ``workers``)
``consumer`` this worker's name in the group (default ``<hostname>-<pid>``)
``backlog``  the publisher waits while the stream holds this many entries not yet
             processed (default 100000): backpressure
``maxlen``   a hard cap on the stream length (``XADD MAXLEN ~``); off by default because
             trimming drops posts that no worker has processed yet

Anything else is an error that says what is accepted, so a typo never falls back to a
default silently.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from yuqing.errors import StoreURLError

DEFAULT_STREAM: Final = "yuqing:posts"
DEFAULT_GROUP: Final = "workers"
DEFAULT_BACKLOG: Final = 100_000
_OPTIONS: Final = ("stream", "group", "consumer", "backlog", "maxlen")
ACCEPTED: Final = (
    f"redis://host:6379/0?stream=yuqing:posts&group=workers (options: {', '.join(_OPTIONS)})"
)


def default_consumer() -> str:
    """A consumer name unique on this machine: ``<hostname>-<pid>``."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True, slots=True)
class StreamURL:
    """A parsed stream URL (see the module docstring for the options)."""

    host: str
    port: int = 6379
    db: int = 0
    stream: str = DEFAULT_STREAM
    group: str = DEFAULT_GROUP
    consumer: str | None = None
    backlog: int = DEFAULT_BACKLOG
    maxlen: int | None = None
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @property
    def redis_url(self) -> str:
        """The connection URL for redis-py (no query options)."""
        auth = ""
        if self.password is not None:
            user = quote(self.username or "", safe="")
            auth = f"{user}:{quote(self.password, safe='')}@"
        elif self.username:
            auth = f"{quote(self.username, safe='')}@"
        scheme = "rediss" if self.tls else "redis"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{auth}{host}:{self.port}/{self.db}"

    def describe(self) -> str:
        """Where the stream is, for messages (never shows the password)."""
        return f"redis://{self.host}:{self.port}/{self.db} stream {self.stream!r}"

    @property
    def cursor_prefix(self) -> str:
        """Keys ``<prefix><source key>`` hold the publisher's source cursors."""
        return f"{self.stream}:cursor:"

    @property
    def dead_stream(self) -> str:
        """Entries that could not be processed go here, with the reason."""
        return f"{self.stream}:dead"

    @property
    def commits_stream(self) -> str:
        """The commit log: each committed batch's keys in commit order (capped)."""
        return f"{self.stream}:commits"

    @property
    def epoch_key(self) -> str:
        """Holds the storage position from which workers replay the ordered state (absent:
        0, the whole stored history); see yuqing.streams.ordered."""
        return f"{self.stream}:epoch"


def _positive(url: str, name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise StoreURLError(
            f"stream URL {url!r}: {name}={value!r} must be a positive integer; use {ACCEPTED}"
        )
    return int(value)


def parse_stream_url(url: str) -> StreamURL:
    """Parse ``url`` or raise StoreURLError saying what is wrong and what is accepted."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise StoreURLError(f"stream URL {url!r}: {exc}; use {ACCEPTED}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss"):
        raise StoreURLError(
            f"stream URL {url!r}: scheme {parts.scheme or '(none)'!r} is not supported; "
            f"use {ACCEPTED}"
        )
    if not parts.hostname:
        raise StoreURLError(f"stream URL {url!r} names no host; use {ACCEPTED}")
    if parts.fragment:
        raise StoreURLError(f"stream URL {url!r}: remove the #fragment; use {ACCEPTED}")
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise StoreURLError(
            f"stream URL {url!r}: the path {parts.path!r} must be a database number such as "
            f"/0; put the stream name in ?stream=; use {ACCEPTED}"
        )
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise StoreURLError(
                f"stream URL {url!r}: unknown option {name!r}; use {', '.join(_OPTIONS)}"
            )
        if name in options:
            raise StoreURLError(f"stream URL {url!r}: option {name!r} is given twice")
        if not value.strip():
            raise StoreURLError(f"stream URL {url!r}: option {name!r} is empty")
        options[name] = value.strip()
    for name in ("stream", "group", "consumer"):
        if name in options and any(ch.isspace() for ch in options[name]):
            raise StoreURLError(f"stream URL {url!r}: {name} {options[name]!r} contains spaces")
    return StreamURL(
        host=parts.hostname,
        port=port if port is not None else 6379,
        db=int(path) if path else 0,
        stream=options.get("stream", DEFAULT_STREAM),
        group=options.get("group", DEFAULT_GROUP),
        consumer=options.get("consumer"),
        backlog=_positive(url, "backlog", options["backlog"])
        if "backlog" in options
        else DEFAULT_BACKLOG,
        maxlen=_positive(url, "maxlen", options["maxlen"]) if "maxlen" in options else None,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=scheme == "rediss",
    )
