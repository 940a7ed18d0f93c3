"""Feed and page sources over a body already fetched (by the poller's conditional GET),
so that parsing, ids and records stay exactly those of :mod:`yuqing.sources.rss` and
:mod:`yuqing.sources.web`; only the fetching is the poller's."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.errors import RecordError, SourceError
from yuqing.models import Cursor, Rejection
from yuqing.sources.base import SourceBatch, rejection
from yuqing.sources.record import to_document
from yuqing.sources.rss import FeedSource
from yuqing.sources.web import PageSource

__all__ = ["FetchedFeed", "FetchedPage"]


class FetchedFeed(FeedSource):
    """An RSS/Atom feed whose body the poller fetched; key and ids as FeedSource's."""

    def __init__(
        self,
        url: str,
        body: bytes,
        *,
        zone: ZoneInfo,
        default_source: str | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__(url, zone=zone, default_source=default_source, now=now)
        self._body = body

    def _parse(self) -> Any:
        import feedparser

        parsed = feedparser.parse(self._body)
        if parsed.get("bozo") and not parsed.get("entries"):
            problem = parsed.get("bozo_exception") or "unknown error"
            raise SourceError(f"{self.key}: not a readable RSS/Atom feed: {problem}")
        return parsed


class FetchedPage(PageSource):
    """A web page whose body the poller fetched; one record, as PageSource makes it."""

    def __init__(
        self,
        url: str,
        body: bytes,
        *,
        zone: ZoneInfo,
        default_source: str | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__(url, zone=zone, default_source=default_source, now=now)
        self._body = body

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        body = self._body
        fingerprint = hashlib.sha1(body, usedforsecurity=False).hexdigest()
        if start is not None and start.source_key == self.key and start.fingerprint == fingerprint:
            return
        record, source = self._record(body)
        batch = SourceBatch(cursor=Cursor(self.key, 1, 1, fingerprint), read=1)
        if "text" not in record:
            reason = "no main text could be extracted from the page"
            batch.rejections.append(Rejection(1, "missing_text", reason, self.key))
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
