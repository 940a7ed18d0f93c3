"""One stream entry per accepted record, and the Redis connection both sides open.

An entry has one field, ``post``: JSON of ::

    {"v": 1, "record": {...}, "extra": {...}, "line": 12,
     "source_key": "/abs/path/posts.jsonl", "ingested_at": "2026-..."}

``record`` is the input record as validated by the publisher, under the contract's field
names (DESIGN.md input record) with its ``id`` and ``source`` filled in (derived ids are
derived once, by the publisher) and ``published_at`` as ISO 8601 in UTC; ``extra`` holds the
unknown fields apart, so that a column called ``extra`` or one routed away by ``--column``
cannot collide with a contract field. The worker rebuilds the Document through the same
:func:`~yuqing.sources.record.to_document`, so an entry that does not follow the contract is
rejected there with the usual reason instead of crashing the worker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import orjson
import redis

from yuqing.errors import RecordError, StoreError
from yuqing.models import INPUT_FIELDS, Document
from yuqing.sources.record import to_document
from yuqing.streams.url import StreamURL

VERSION: Final = 1
FIELD: Final = b"post"


def connect(target: StreamURL) -> redis.Redis:
    """A client for ``target``; checks the server answers (StoreError when it does not)."""
    client = redis.Redis.from_url(target.redis_url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise StoreError(
            f"{target.describe()}: cannot reach Redis ({exc}); start it or fix --stream"
        ) from exc
    return client


def encode(doc: Document, source_key: str) -> bytes:
    """The ``post`` field of the entry for ``doc`` (see the module docstring)."""
    record: dict[str, Any] = {}
    for name in INPUT_FIELDS:
        value = getattr(doc, name)
        if value is None:
            continue
        record[name] = value.isoformat() if isinstance(value, datetime) else value
    body = {
        "v": VERSION,
        "record": record,
        "extra": doc.extra,
        "line": doc.line,
        "source_key": source_key,
        "ingested_at": doc.ingested_at.isoformat() if doc.ingested_at else None,
    }
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


def decode(fields: dict[bytes, bytes]) -> Document:
    """The Document of one entry; RecordError (code ``entry``, or the record's own code)
    when the entry is not one this version wrote or its record breaks the contract."""
    raw = fields.get(FIELD)
    if raw is None:
        raise RecordError("entry", "stream entry has no 'post' field; not written by yuqing")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError("entry", f"stream entry is not valid JSON: {exc}") from exc
    if not isinstance(body, dict) or body.get("v") != VERSION:
        version = body.get("v") if isinstance(body, dict) else None
        raise RecordError(
            "entry", f"stream entry version {version!r} is not {VERSION}; upgrade the worker"
        )
    record, extra, line = body.get("record"), body.get("extra") or {}, body.get("line")
    if not isinstance(record, dict) or not isinstance(extra, dict):
        raise RecordError("entry", "stream entry: 'record' and 'extra' must be JSON objects")
    line = line if isinstance(line, int) else 0
    if not isinstance(record.get("source"), str) or "id" not in record:
        raise RecordError("entry", "stream entry: the record has no source or id", line)
    try:
        stamp = body.get("ingested_at")
        ingested = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError as exc:
        raise RecordError("entry", f"stream entry: bad ingested_at {stamp!r}", line) from exc
    doc = to_document(
        record,
        line=line,
        default_source=record["source"],
        zone=UTC,
        now=ingested if ingested is not None and ingested.tzinfo else datetime.now(UTC),
    )
    doc.extra.update(extra)
    return doc


def source_key_of(fields: dict[bytes, bytes]) -> str:
    """The source key an entry came from, for messages ('' when unknown)."""
    try:
        body = orjson.loads(fields.get(FIELD, b"{}"))
    except orjson.JSONDecodeError:
        return ""
    key = body.get("source_key") if isinstance(body, dict) else None
    return key if isinstance(key, str) else ""
