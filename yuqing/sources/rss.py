"""RSS and Atom feeds as a source, parsed with feedparser.

Each entry becomes one record: ``text`` is the entry's content (or summary) with HTML
reduced to plain text, falling back to the title for headline-only feeds; ``id`` is the
entry id or link, so reading the same feed again stores nothing twice. The body is
fetched with httpx (see :func:`yuqing.sources.web.fetch`) rather than by feedparser,
so timeouts and errors are ours.

A feed is always read whole (feeds are small). The cursor's position is the number of
entries consumed and its fingerprint a hash of the entry ids in order: resuming skips
the consumed entries only when the feed is unchanged, otherwise it starts over and the
ids keep the store idempotent.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson

from yuqing.errors import RecordError, SourceError
from yuqing.models import Cursor, Document, Rejection
from yuqing.sources.base import SourceBatch, rejection
from yuqing.sources.record import to_document
from yuqing.sources.web import host_of, is_url, read_bytes

_BLOCK_TAGS: Final = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "pre", "section", "article", "header", "footer", "hr", "dd", "dt"}
)
_SKIP_TAGS: Final = frozenset({"script", "style", "noscript", "template"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; block tags become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blank runs collapsed."""
    if "<" not in fragment and "&" not in fragment:
        return fragment.strip()
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _iso(moment: datetime | None) -> str | None:
    """Times go into the record as ISO strings, so ``Document.raw`` stays plain JSON."""
    return moment.isoformat() if moment is not None else None


def _entry_text(entry: Any) -> str:
    for content in entry.get("content") or ():
        text = html_to_text(content.get("value") or "")
        if text:
            return text
    summary = html_to_text(entry.get("summary") or "")
    return summary or html_to_text(entry.get("title") or "")


class FeedSource:
    """An RSS or Atom feed (URL or local file): one record per entry.

    ``source`` is ``default_source``, else the feed's title, else the host (or the file
    stem). Rejections carry the entry's 1-based position as their ``line``.
    """

    kind = "rss"

    def __init__(
        self,
        url_or_path: str | Path,
        *,
        zone: ZoneInfo,
        default_source: str | None = None,
        now: datetime | None = None,
    ) -> None:
        spec = str(url_or_path)
        self.key = spec if is_url(spec) else str(Path(spec).resolve())
        self.zone = zone
        self.default_source = default_source
        self.now = now

    def __repr__(self) -> str:
        return f"FeedSource({self.key!r})"

    def _parse(self) -> Any:
        import feedparser

        parsed = feedparser.parse(read_bytes(self.key))
        if parsed.get("bozo") and not parsed.get("entries"):
            problem = parsed.get("bozo_exception") or "unknown error"
            raise SourceError(f"{self.key}: not a readable RSS/Atom feed: {problem}")
        return parsed

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        """Yield the feed's entries in batches of at most ``size``."""
        if size < 1:
            raise ValueError("batch size must be at least 1")
        parsed = self._parse()
        entries = list(parsed.get("entries") or ())
        ids = "\n".join(str(e.get("id") or e.get("link") or "") for e in entries)
        fingerprint = hashlib.sha1(ids.encode("utf-8"), usedforsecurity=False).hexdigest()
        first = 0
        if start is not None and start.source_key == self.key and start.fingerprint == fingerprint:
            first = min(start.position, len(entries))
        feed = parsed.get("feed") or {}
        source = self.default_source or html_to_text(feed.get("title") or "")
        if not source:
            source = host_of(self.key) if is_url(self.key) else Path(self.key).stem
        now = self.now if self.now is not None else datetime.now(UTC)
        for begin in range(first, len(entries), size):
            batch = SourceBatch()
            for index in range(begin, min(begin + size, len(entries))):
                item = self._item(entries[index], index + 1, source, now)
                if isinstance(item, Document):
                    batch.documents.append(item)
                else:
                    batch.rejections.append(item)
                batch.read += 1
            end = begin + batch.read
            batch.cursor = Cursor(self.key, end, end, fingerprint)
            yield batch

    def _item(self, entry: Any, number: int, source: str, now: datetime) -> Document | Rejection:
        record: dict[str, Any] = {}
        for name, value in (
            ("id", entry.get("id") or entry.get("link")),
            ("title", html_to_text(entry.get("title") or "")),
            ("url", entry.get("link")),
            ("author", entry.get("author")),
            ("published_at", _iso(_entry_time(entry))),
            ("text", _entry_text(entry)),
        ):
            if value:
                record[name] = value
        try:
            return to_document(record, line=number, default_source=source, zone=self.zone, now=now)
        except RecordError as exc:
            raw = orjson.dumps(record, default=str).decode("utf-8")
            return rejection(exc, raw, number)
