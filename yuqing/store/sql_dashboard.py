"""The reads behind the dashboard and the REST API (trends, distributions, event roll-ups,
event posts, the latest posts) and the saving of the clusterer's events, shared by both
backends (:mod:`yuqing.store.dialect`): counts come from the rollups
(:mod:`yuqing.store.rollups`), the rest from the dashboard queries
(:mod:`yuqing.store.sql_queries`). A backend gives its rollup reader, which brings its
queries: :mod:`yuqing.store.sqlite_rollups`, :mod:`yuqing.store.postgres_rollups`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from yuqing.models import Document
from yuqing.store import rollups
from yuqing.store.base import Dimension, EventOrder, EventRollup, TrendCount
from yuqing.store.dialect import Section
from yuqing.store.sql_rollups import SQLRollupReader

if TYPE_CHECKING:
    from yuqing.events.event import Event


class DashboardSection(Section):
    """The dashboard and API reads of the Store contract, and ``upsert_events``."""

    #: the backend's reader of the rollups; its ``queries`` are the backend's dashboard queries
    rollup_reader: ClassVar[type[SQLRollupReader]]

    def upsert_events(self, events: Sequence[Event]) -> int:
        """Insert or update the clusterer's events by id, in one transaction."""
        with self._write("saving events") as conn:
            return self.rollup_reader.queries.upsert_events(conn, events)

    def trend_counts(
        self,
        dimension: Dimension,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_id: str | None = None,
    ) -> list[TrendCount]:
        with self._read(f"counting posts by {dimension}") as conn:
            reader = self.rollup_reader(conn)
            return rollups.trend_counts(reader, dimension, since, until, event_id)

    def label_counts(
        self,
        dimension: Dimension,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> dict[str, int]:
        with self._read(f"counting posts by {dimension}") as conn:
            reader = self.rollup_reader(conn)
            return rollups.label_counts(reader, dimension, since, until, event_id, limit)

    def event_rollups(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[EventRollup]:
        with self._read("adding up events") as conn:
            reader = self.rollup_reader(conn)
            return rollups.event_rollups(reader, since, until, ids, limit)

    def event_documents(self, event_id: str, *, order: EventOrder, limit: int) -> list[Document]:
        with self._read(f"reading the posts of event {event_id}") as conn:
            return self.rollup_reader.queries.event_documents(conn, event_id, order, limit)

    def latest_documents(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
    ) -> list[Document]:
        with self._read("reading the latest documents") as conn:
            queries = self.rollup_reader.queries
            return queries.latest_documents(conn, since, until, sources, limit)
