"""The Store contract. Every backend (SQLite now, PostgreSQL in server mode) implements it,
and one contract test suite (tests/store/) runs over all of them. No SQL outside store/."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from yuqing.models import Cursor, Document, SearchHit, StoreStats

if TYPE_CHECKING:
    from yuqing.events.event import Event

# What trend and distribution queries can group by: every post, an analysis label
# (sentiment, emotion, risk type), the source, the region names of ``analysis["regions"]``
# (else the input ``region``), or the event id.
Dimension = Literal["total", "sentiment", "emotion", "risk", "source", "region", "event"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
EventOrder = Literal["time", "engagement", "risk"]
SLOT_SECONDS = 900  # trend counts come in UTC quarter-hours (every zone offset is a multiple)


@dataclass(slots=True, frozen=True)
class AddResult:
    """What ``add_documents`` did: ``stored`` posts were new, ``existing`` were already there
    (same source and id), and are not changed."""

    stored: int
    existing: int


@dataclass(slots=True, frozen=True)
class TrendCount:
    """Posts published in the UTC quarter-hour starting at ``start`` with this ``value`` of
    the dimension. Callers cut quarter-hours into hours or days of their own zone."""

    start: datetime
    value: str
    count: int


@dataclass(slots=True)
class EventRollup:
    """One event as its stored posts add it up (grouped by ``analysis["event_id"]``).

    ``hourly`` holds (UTC hour start, posts) for the hours with posts, oldest first;
    ``stored`` is the clusterer's ``Event.as_dict()`` when it was upserted, else None.
    """

    id: str
    posts: int
    first_seen: datetime | None
    last_seen: datetime | None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    sentiment: dict[str, int] = field(default_factory=dict)
    emotion: dict[str, int] = field(default_factory=dict)
    risk: dict[str, int] = field(default_factory=dict)
    hourly: list[tuple[datetime, int]] = field(default_factory=list)
    stored: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return str(self.stored.get("title") or "") if self.stored else ""


class Store(Protocol):
    url: str

    def migrate(self) -> int:
        """Bring the schema up to date; return the schema version."""
        ...

    def add_documents(self, docs: Sequence[Document], cursor: Cursor | None = None) -> AddResult:
        """Insert new documents (idempotent by (source, id)) and, in the same transaction,
        save ``cursor``; a crash loses nothing that this call reported stored."""
        ...

    def existing_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (source, id) keys are already stored."""
        ...

    def get_document(self, source: str, id: str) -> Document | None: ...

    def duplicate_count(self, source: str, id: str) -> int | None:
        """How many later posts were marked duplicate_of this one (None: no such post)."""
        ...

    def recent_documents(self, since: datetime, limit: int) -> Iterator[Document]:
        """Documents ingested or published since ``since`` (newest last), to warm the
        near-duplicate index after a restart."""
        ...

    def get_cursor(self, source_key: str) -> Cursor | None: ...

    def index_pending(self, limit: int = 10_000) -> int:
        """Index up to ``limit`` stored documents for search that are not indexed yet;
        return how many were indexed (0 when search is up to date)."""
        ...

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
    ) -> list[SearchHit]:
        """Substring search on the normalized (Simplified) text; 2-character queries work."""
        ...

    def count_matches(self, query: str) -> int: ...

    def stats(self) -> StoreStats: ...

    # -- what the dashboard and the API read ---------------------------------------------

    def upsert_events(self, events: Sequence[Event]) -> int:
        """Save the clusterer's events (insert or replace by id); return how many."""
        ...

    def trend_counts(
        self,
        dimension: Dimension,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_id: str | None = None,
    ) -> list[TrendCount]:
        """Posts per UTC quarter-hour and value of ``dimension`` (``since`` inclusive,
        ``until`` exclusive, on published_at), optionally of one event; posts without a
        value are left out (``total`` counts every post under the value ``""``)."""
        ...

    def label_counts(
        self,
        dimension: Dimension,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> dict[str, int]:
        """The ``limit`` most frequent values of ``dimension``, largest first."""
        ...

    def event_rollups(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[EventRollup]:
        """The ``limit`` largest events by posts in the window (or exactly ``ids``), with
        their posts in the window added up; largest first."""
        ...

    def event_documents(self, event_id: str, *, order: EventOrder, limit: int) -> list[Document]:
        """Posts of one event: ``time`` oldest first, ``engagement`` by reposts + comments
        + likes, ``risk`` by the higher of the rumour and group-incident scores."""
        ...

    def latest_documents(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
    ) -> list[Document]:
        """The newest documents by published_at in the window, newest first."""
        ...

    def close(self) -> None: ...
