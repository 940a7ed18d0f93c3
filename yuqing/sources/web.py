"""A single web page as a source: main text and metadata extracted with trafilatura.

The page is fetched with httpx (a URL) or read from disk (a saved ``.html`` file),
then ``trafilatura.bare_extraction`` finds the main text, title, author, date and site
name. The page becomes one record, validated by the same rules as every other input
(:func:`yuqing.sources.record.to_document`). Its id is the page URL when known, so
fetching the same page again updates rather than duplicates it.

:func:`fetch` is also used by the feed source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from yuqing.errors import RecordError, SourceError
from yuqing.models import Cursor, Rejection
from yuqing.sources.base import SourceBatch, rejection
from yuqing.sources.record import parse_time, to_document

USER_AGENT: Final = "yuqing/0.1 (+https://github.com/yuqing)"
TIMEOUT_S: Final = 20.0
MAX_FETCH_BYTES: Final = 32 << 20
# <meta> names that carry the publication time with hour and minute; trafilatura's
# date (htmldate) keeps the day only, which is too coarse for hourly trends.
_TIME_METAS: Final = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish_date",
)


class _MetaTimes(HTMLParser):
    """Collects the publication-time ``<meta>`` tags of a page's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {name: value or "" for name, value in attrs}
        key = (values.get("property") or values.get("name") or values.get("itemprop") or "").lower()
        if key in _TIME_METAS and values.get("content"):
            self.found.setdefault(key, values["content"])


def _published_time(html: str) -> str | None:
    """The most precise publication time in the page's ``<meta>`` tags, if any."""
    end = html.lower().find("</head>")
    parser = _MetaTimes()
    parser.feed(html if end < 0 else html[:end])
    for key in _TIME_METAS:
        value = parser.found.get(key)
        if value is None:
            continue
        try:
            parse_time(value, UTC)  # only a time that reads; else trafilatura's date
        except ValueError:
            continue
        return value
    return None


def is_url(spec: str) -> bool:
    """True for an ``http://`` or ``https://`` address."""
    return spec.lower().startswith(("http://", "https://"))


def fetch(url: str, *, timeout: float = TIMEOUT_S) -> bytes:
    """GET ``url`` (following redirects) and return the body; errors become SourceError."""
    import httpx

    try:
        with (
            httpx.Client(
                follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT}
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise SourceError(
                    f"{url}: the server answered HTTP {response.status_code}; check the address"
                )
            body = bytearray()
            for part in response.iter_bytes():
                body += part
                if len(body) > MAX_FETCH_BYTES:
                    raise SourceError(f"{url}: the response is over {MAX_FETCH_BYTES:,} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: cannot fetch: {exc}") from exc


def read_bytes(spec: str) -> bytes:
    """The body of a URL or the bytes of a local file; errors become SourceError."""
    if is_url(spec):
        return fetch(spec)
    try:
        return Path(spec).read_bytes()
    except OSError as exc:
        raise SourceError(f"{spec}: cannot read: {exc.strerror or exc}") from exc


def _decode(body: bytes) -> str:
    """Enough of the page as text to read its head: UTF-8, else GB18030 (GBK pages)."""
    head = body[: 256 * 1024]
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError:
        return head.decode("gb18030", "replace")


def host_of(url: str) -> str:
    """The host name of a URL, without ``www.``."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


class PageSource:
    """One web page (URL or local HTML file) -> one record.

    ``source`` is ``default_source``, else the page's site name, else the host (or the
    file stem). A page where no main text can be found is rejected as ``missing_text``.
    The cursor fingerprint is a hash of the page bytes: an unchanged page is skipped on
    resume, a changed one is read again.
    """

    kind = "page"

    def __init__(
        self,
        url_or_path: str | Path,
        *,
        zone: ZoneInfo,
        default_source: str | None = None,
        now: datetime | None = None,
    ) -> None:
        spec = str(url_or_path)
        self.url = spec if is_url(spec) else None
        self.key = spec if self.url else str(Path(spec).resolve())
        self.zone = zone
        self.default_source = default_source
        self.now = now

    def __repr__(self) -> str:
        return f"PageSource({self.key!r})"

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        """Yield one batch with the page's record (or its rejection)."""
        body = read_bytes(self.key)
        fingerprint = hashlib.sha1(body, usedforsecurity=False).hexdigest()
        if start is not None and start.source_key == self.key and start.fingerprint == fingerprint:
            return
        record, source = self._record(body)
        batch = SourceBatch(cursor=Cursor(self.key, 1, 1, fingerprint), read=1)
        if "text" not in record:
            raw = self.key
            reason = "no main text could be extracted from the page"
            batch.rejections.append(Rejection(1, "missing_text", reason, raw))
        else:
            try:
                batch.documents.append(
                    to_document(
                        record,
                        line=1,
                        default_source=source,
                        zone=self.zone,
                        now=self.now if self.now is not None else datetime.now(UTC),
                    )
                )
            except RecordError as exc:
                batch.rejections.append(rejection(exc, str(record.get("url", self.key)), 1))
        yield batch

    def _record(self, body: bytes) -> tuple[dict[str, Any], str]:
        """The page's record and the source name to use when it has none."""
        import trafilatura

        try:
            result = trafilatura.bare_extraction(
                body, url=self.url, with_metadata=True, include_comments=False
            )
        except Exception as exc:  # trafilatura/lxml raise many kinds on broken input
            raise SourceError(f"{self.key}: cannot parse the page: {exc}") from exc
        meta: dict[str, Any] = {}
        if result is not None:
            meta = result if isinstance(result, dict) else result.as_dict()
        url = meta.get("url") or self.url
        fallback = self.default_source or meta.get("sitename") or ""
        if not fallback:
            fallback = host_of(url) if url else Path(self.key).stem
        record: dict[str, Any] = {}
        text = (meta.get("text") or "").strip()
        if text:
            record["text"] = text
        for name, value in (
            ("id", url),
            ("url", url),
            ("title", meta.get("title")),
            ("author", meta.get("author")),
            ("published_at", _published_time(_decode(body)) or meta.get("date")),
        ):
            if value:
                record[name] = value
        return record, fallback
