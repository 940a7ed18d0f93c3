"""Stream URL parsing: defaults, options, and errors that say what is accepted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.errors import StoreURLError
from yuqing.streams.url import DEFAULT_BACKLOG, StreamURL, parse_stream_url


def test_design_example() -> None:
    url = parse_stream_url("redis://host:6379/0?stream=yuqing:posts&group=workers")
    assert url == StreamURL(host="host", port=6379, db=0, stream="yuqing:posts", group="workers")
    assert url.redis_url == "redis://host:6379/0"
    assert url.cursor_prefix == "yuqing:posts:cursor:"
    assert url.dead_stream == "yuqing:posts:dead"


def test_defaults_and_options() -> None:
    url = parse_stream_url("redis://localhost")
    assert (url.port, url.db, url.stream, url.group) == (6379, 0, "yuqing:posts", "workers")
    assert url.backlog == DEFAULT_BACKLOG and url.maxlen is None and url.consumer is None
    url = parse_stream_url(
        "rediss://u:p%40ss@10.0.0.5:6380/3?stream=s&group=g&consumer=w1&backlog=50&maxlen=900"
    )
    assert url.tls and (url.host, url.port, url.db) == ("10.0.0.5", 6380, 3)
    assert (url.stream, url.group, url.consumer, url.backlog, url.maxlen) == (
        "s",
        "g",
        "w1",
        50,
        900,
    )
    assert url.password == "p@ss"
    assert url.redis_url == "rediss://u:p%40ss@10.0.0.5:6380/3"
    assert "p@ss" not in url.describe()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://h/db", "scheme 'postgresql' is not supported"),
        ("yuqing:posts", "is not supported"),
        ("redis://", "names no host"),
        ("redis://h/posts", "must be a database number"),
        ("redis://h:notaport/0", "redis://host:6379/0"),
        ("redis://h/0?steam=x", "unknown option 'steam'"),
        ("redis://h/0?stream=", "option 'stream' is empty"),
        ("redis://h/0?stream=a&stream=b", "given twice"),
        ("redis://h/0?backlog=0", "backlog='0' must be a positive integer"),
        ("redis://h/0?maxlen=-5", "maxlen='-5' must be a positive integer"),
        ("redis://h/0?group=a%20b", "contains spaces"),
        ("redis://h/0#x", "fragment"),
    ],
)
def test_errors_say_what_and_how(url: str, fragment: str) -> None:
    with pytest.raises(StoreURLError) as info:
        parse_stream_url(url)
    assert fragment in str(info.value)
    assert repr(url) in str(info.value) or "given twice" in str(info.value)


@given(
    stream=st.from_regex(r"[a-z][a-z0-9:_-]{0,20}", fullmatch=True),
    db=st.integers(0, 15),
    port=st.integers(1, 65535),
)
def test_round_trip(stream: str, db: int, port: int) -> None:
    url = parse_stream_url(f"redis://example.org:{port}/{db}?stream={stream}")
    assert (url.stream, url.db, url.port) == (stream, db, port)
    assert parse_stream_url(url.redis_url + f"?stream={stream}") == url
