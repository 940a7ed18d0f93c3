"""The Store contract. Every backend (SQLite now, PostgreSQL in server mode) implements it,
and one contract test suite (tests/store/) runs over all of them. No SQL outside store/."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from yuqing.models import Cursor, Document, SearchHit, StoreStats


@dataclass(slots=True, frozen=True)
class AddResult:
    """What ``add_documents`` did: ``stored`` posts were new, ``existing`` were already there
    (same source and id), and are not changed."""

    stored: int
    existing: int


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

    def close(self) -> None: ...
