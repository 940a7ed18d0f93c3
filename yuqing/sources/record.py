"""Turn one raw input record (a mapping) into a :class:`~yuqing.models.Document`.

This is the DESIGN.md input record contract in code: which fields exist, what types
they accept, how ``published_at`` is read, how a missing id is derived, and which
rejection code each broken record gets. Every source kind (JSONL, CSV, feeds, pages,
push) ends here, so the rules are the same whatever the input.

Rejections raise :class:`~yuqing.errors.RecordError` with one of the codes
``missing_text``, ``empty_text``, ``bad_type`` or ``bad_date``; the caller adds the raw
text and turns it into a :class:`~yuqing.models.Rejection`.

The function is on the hot path of ingest (tens of thousands of records a second), so
it avoids per-record allocations that are not needed: the column routing is computed
once per :class:`ColumnMapping`, and the common ISO timestamp goes through
:meth:`datetime.fromisoformat` (C) before any regular expression is tried.
"""

from __future__ import annotations

import email.utils
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, Final

from yuqing.errors import RecordError, UsageError
from yuqing.models import INPUT_FIELDS, Document

_KNOWN: Final = frozenset(INPUT_FIELDS)
_STR_FIELDS: Final = ("title", "url", "region")
_COUNT_FIELDS: Final = ("reposts", "comments", "likes")
_TRUE: Final = frozenset({"true", "1", "是", "yes", "y", "t"})
_FALSE: Final = frozenset({"false", "0", "否", "no", "n", "f"})
_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")

# 2020/01/19 12:30:00, 2020.1.19, 2020年1月19日 12时30分, 2020-1-9 8:05 +08:00
_LOOSE_TIME: Final = re.compile(
    r"""
    (?P<y>\d{4}) \s* [-/.年] \s* (?P<m>\d{1,2}) \s* [-/.月] \s* (?P<d>\d{1,2}) \s* 日?
    (?: (?:\s*|T)
        (?P<H>\d{1,2}) \s* [:时時点點] \s* (?P<M>\d{1,2}) \s* 分?
        (?: \s* [:] \s* (?P<S>\d{1,2}) (?:\.(?P<f>\d{1,6})\d*)? \s* 秒?
          | (?P<S2>\d{1,2}) \s* 秒 )?
    )?
    \s* (?P<z>Z|[+-]\d{2}:?\d{2})?
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class ColumnMapping:
    """Which input column feeds which record field.

    ``fields`` maps a field name of the input record contract to the column that holds
    it; ``text``, ``id`` and ``time`` are the ``--text-column``, ``--id-column`` and
    ``--time-column`` shortcuts (``time`` feeds ``published_at``). Columns named in a
    mapping are consumed; every other column that is not a contract field is kept under
    ``Document.extra``.
    """

    text: str | None = None
    id: str | None = None
    time: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    # column name -> field name, or None for "goes to extra"; built once.
    _routes: dict[str, str | None] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_field: dict[str, str] = {}
        for name, column in self.fields.items():
            if name not in _KNOWN:
                raise UsageError(
                    f"--column {name}={column}: {name!r} is not a record field; "
                    f"use one of {', '.join(INPUT_FIELDS)}"
                )
            by_field[name] = column
        shortcuts = (("text", self.text), ("id", self.id), ("published_at", self.time))
        for name, shortcut in shortcuts:
            if shortcut is not None:
                by_field[name] = shortcut
        # A field fed from another column leaves its own column to `extra`.
        routes: dict[str, str | None] = {
            name: None if name in by_field else name for name in INPUT_FIELDS
        }
        for name, column in by_field.items():
            routes[column] = name
        object.__setattr__(self, "_routes", routes)

    @classmethod
    def from_options(
        cls,
        text_column: str | None = None,
        id_column: str | None = None,
        time_column: str | None = None,
        column: Sequence[str] = (),
    ) -> ColumnMapping:
        """Build a mapping from the CLI flags; ``column`` items look like ``field=col``."""
        fields: dict[str, str] = {}
        for item in column:
            name, sep, col = item.partition("=")
            name, col = name.strip(), col.strip()
            if not sep or not name or not col:
                raise UsageError(
                    f"--column {item!r}: expected FIELD=COLUMN, for example --column text=content"
                )
            fields[name] = col
        return cls(text=text_column, id=id_column, time=time_column, fields=fields)

    def route(self, column: str) -> str | None:
        """The record field that ``column`` feeds, or None when it goes to ``extra``."""
        return self._routes.get(column)


_IDENTITY = ColumnMapping()


def parse_time(value: Any, zone: tzinfo) -> datetime:
    """Read a ``published_at`` value as an aware UTC datetime.

    Accepted: ISO 8601 (a time without zone, or a date alone, is in ``zone``); the loose
    forms ``2020-01-19 12:30``, ``2020/01/19 12:30:00``, ``2020年1月19日 12:30``; RFC
    2822 dates (feeds); an integer or digit string of 10 digits (epoch seconds) or 13
    digits (epoch milliseconds); a ``datetime``. Anything else raises ``ValueError``.
    """
    if isinstance(value, str):  # the usual case first
        text = value.strip()
        if len(text) in (10, 13) and text.isdigit() and text.isascii():  # = [0-9]+
            return _epoch(int(text))
        parsed = _parse_text_time(text)
    elif isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    elif isinstance(value, int | float):
        return _epoch(value)
    else:
        raise ValueError(f"not a time: {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"time out of range: {value!r}") from exc


def _epoch(value: float) -> datetime:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not an epoch time: {value!r}")
    digits = len(str(int(value)))
    if digits == 10:
        return datetime.fromtimestamp(value, UTC)
    if digits == 13:
        return datetime.fromtimestamp(value / 1000, UTC)
    raise ValueError(
        f"{value!r}: an epoch time needs 10 digits (seconds) or 13 digits (milliseconds)"
    )


def _parse_text_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return parsed
    match = _LOOSE_TIME.fullmatch(text)
    if match is None:
        if "," in text or " " in text:
            try:
                return email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                pass
        raise ValueError(f"unknown time format: {text!r}")
    g = match.groupdict()
    if g["H"] is None:
        return datetime.combine(date(int(g["y"]), int(g["m"]), int(g["d"])), datetime.min.time())
    second = g["S"] or g["S2"] or "0"
    micro = int((g["f"] or "0").ljust(6, "0"))
    tz: timezone | None = None
    if g["z"]:
        tz = _offset(g["z"])
    return datetime(
        int(g["y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), int(second), micro, tz
    )


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def derive_id(source: str, author: str | None, published_at: datetime | None, text: str) -> str:
    """The id of a record that has none: 16 hex chars of sha1(source, author, time, text)."""
    stamp = published_at.isoformat() if published_at is not None else ""
    key = "\x1f".join((source, author or "", stamp, text))
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _bad(name: str, value: Any, expected: str, line: int) -> RecordError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return RecordError("bad_type", f"field {name!r} must be {expected}, got {shown}", line)


def _without_nul(value: Any) -> Any:
    """``value`` with every U+0000 removed from its strings (nested lists and objects too).

    NUL is never part of a post's meaning, and PostgreSQL cannot store it in text or JSON:
    removed at the input, one stray character cannot make a server-mode batch fail, and both
    backends keep the same text."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _as_str(name: str, value: Any, line: int) -> str | None:
    if isinstance(value, str):
        value = _without_nul(value)
        return value if value.strip() else None
    raise _bad(name, value, "a string", line)


def _as_id(name: str, value: Any, line: int) -> str | None:
    if isinstance(value, str):
        value = (value.replace("\x00", "") if "\x00" in value else value).strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _bad(name, value, "a string or an integer", line)


def _as_count(name: str, value: Any, line: int) -> int | None:
    number: int
    if isinstance(value, bool):
        raise _bad(name, value, "a non-negative integer", line)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text:
            return None
        if not _INT_TEXT.fullmatch(text):
            raise _bad(name, value, "a non-negative integer", line)
        number = int(text)
    else:
        raise _bad(name, value, "a non-negative integer", line)
    if number < 0:
        raise _bad(name, value, "a non-negative integer", line)
    return number


def _as_bool(name: str, value: Any, line: int) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _bad(name, value, "true/false (also 1/0, 是/否)", line)


def to_document(
    record: Mapping[str, Any],
    *,
    line: int,
    default_source: str,
    zone: tzinfo,
    mapping: ColumnMapping = _IDENTITY,
    raw: str = "",
    now: datetime | None = None,
) -> Document:
    """Validate one input record and build its :class:`Document`, or raise RecordError.

    ``line`` is the 1-based physical line where the record starts (for messages),
    ``default_source`` fills a missing ``source``, naive times are in ``zone``.
    ``raw`` is the record's text as read; it is not needed to build the document (the
    caller keeps it for a rejection) and is accepted so that every source calls this
    the same way. ``Document.raw`` is the mapping itself, ``ingested_at`` is ``now``.
    """
    del raw  # the caller builds the Rejection with it
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    routes = mapping._routes
    for column, value in record.items():
        name = routes.get(column)
        if name is None:
            extra[_without_nul(column)] = _without_nul(value)
        elif value is not None:
            values[name] = value

    text = values.get("text")
    if text is None:
        column = mapping.text or mapping.fields.get("text", "text")
        raise RecordError("missing_text", f"no {column!r} field: every record needs a text", line)
    if not isinstance(text, str):
        raise _bad("text", text, "a string", line)
    text = _without_nul(text)
    if not text.strip():
        raise RecordError("empty_text", "the text is blank", line)

    published_at: datetime | None = None
    stamp = values.get("published_at")
    if stamp is not None and stamp != "":
        try:
            published_at = parse_time(stamp, zone)
        except ValueError as exc:
            raise RecordError("bad_date", f"published_at: {exc}", line) from exc

    source = default_source
    if "source" in values:
        source = _as_str("source", values["source"], line) or default_source
    author = _as_id("author", values["author"], line) if "author" in values else None
    doc_id = _as_id("id", values["id"], line) if "id" in values else None
    if doc_id is None:
        doc_id = derive_id(source, author, published_at, text)

    doc = Document(
        id=doc_id,
        source=source,
        text=text,
        published_at=published_at,
        author=author,
        extra=extra,
        line=line,
        raw=record if isinstance(record, dict) else dict(record),
        ingested_at=now if now is not None else datetime.now(UTC),
    )
    for name in _STR_FIELDS:
        if name in values:
            setattr(doc, name, _as_str(name, values[name], line))
    if "parent_id" in values:
        doc.parent_id = _as_id("parent_id", values["parent_id"], line)
    for name in _COUNT_FIELDS:
        if name in values:
            setattr(doc, name, _as_count(name, values[name], line) or 0)
    if "author_followers" in values:
        doc.author_followers = _as_count("author_followers", values["author_followers"], line)
    if "author_verified" in values:
        doc.author_verified = _as_bool("author_verified", values["author_verified"], line)
    return doc
