"""The SQLite store: the embedded default backend of :class:`yuqing.store.base.Store`.

One connection per store object, in autocommit mode with explicit transactions; a store
object belongs to the thread that opened it (sqlite3 refuses use from another thread). WAL
journal with ``synchronous=NORMAL``: a killed process loses nothing committed; a power cut
may lose the last transactions but never corrupts the file.

Writes and search indexing are separate steps: :meth:`add_documents` stores a batch and its
source cursor in one transaction; :meth:`index_pending` adds stored rows to the bigram search
index (see :mod:`yuqing.store.searchtext`) in rowid order, so search may lag a little behind
ingest.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from itertools import compress, islice

from yuqing.errors import StoreError
from yuqing.models import Cursor, Document, SearchHit, StoreStats
from yuqing.store import sqlite_rollups, sqlite_search
from yuqing.store.base import AddResult
from yuqing.store.migrations import apply_migrations, current_version
from yuqing.store.rows import (
    COLUMNS,
    document_columns,
    from_micros,
    row_to_document,
    rows_by_nulls,
    to_micros,
)
from yuqing.store.searchtext import index_terms, query_terms, split_query
from yuqing.store.sqlite_alerts import SQLiteAlerts
from yuqing.store.sqlite_cases import SQLiteCases
from yuqing.store.sqlite_claims import SQLiteClaims
from yuqing.store.sqlite_corrections import SQLiteCorrections
from yuqing.store.sqlite_history import SQLiteHistory
from yuqing.store.sqlite_plans import SQLitePlans
from yuqing.store.sqlite_privacy import SQLitePrivacy
from yuqing.store.sqlite_rollups import SQLiteDashboard
from yuqing.store.sqlite_subscriptions import SQLiteSubscriptions
from yuqing.store.sqlite_users import SQLiteUsers

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM documents"
_KEY_CHUNK = 500  # ids per IN (...) query
SNIPPET_CHARS = 60


class SQLiteStore(
    SQLiteHistory,
    SQLiteDashboard,
    SQLiteAlerts,
    SQLiteCases,
    SQLiteClaims,
    SQLiteUsers,
    SQLiteCorrections,
    SQLitePlans,
    SQLitePrivacy,
    SQLiteSubscriptions,
):
    """A store in one SQLite file (or ``:memory:``). Open it with
    :func:`yuqing.store.url.open_store`; use it from one thread."""

    def __init__(self, path: str, url: str) -> None:
        self.url = url
        self.path = path
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, cached_statements=512)
            for pragma in (
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = NORMAL",
                "PRAGMA foreign_keys = ON",
                "PRAGMA busy_timeout = 5000",
                "PRAGMA cache_size = -32768",
                "PRAGMA temp_store = MEMORY",
            ):
                self._conn.execute(pragma)
        except sqlite3.Error as exc:
            raise StoreError(f"{url}: cannot open the SQLite database: {exc}") from exc

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Translate sqlite3 errors into StoreError naming the store and the operation."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{self.url}: {what} failed: {exc}") from exc

    @contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed before returning, rolled back on any error."""
        with self._errors(what):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def migrate(self) -> int:
        return apply_migrations(self._conn, self.url)

    def schema_version(self) -> int:
        with self._errors("reading the schema version"):
            return current_version(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------

    def add_documents(self, docs: Sequence[Document], cursor: Cursor | None = None) -> AddResult:
        """Insert new documents and save ``cursor`` in one transaction, committed on return.

        Existing (source, id) keys are skipped unchanged. A new document with ``duplicate_of``
        adds one to its original's ``duplicates`` count in the same transaction. A missing
        ``ingested_at`` is stored as now. Search indexing is left to :meth:`index_pending`.
        """
        now = time.time_ns() // 1000
        first = {(doc.source, doc.id): doc for doc in docs}
        if len(first) < len(docs):  # a key repeated in the batch: the first one wins
            first = {}
            for doc in docs:
                first.setdefault((doc.source, doc.id), doc)
        columns = document_columns(list(first.values()), now)
        groups = rows_by_nulls(columns)
        dups = [key for key, doc in first.items() if doc.duplicate_of is not None]
        with self._transaction("adding documents") as conn:
            before = self._existing(conn, dups) if dups else set()
            stored = 0
            last = sqlite_rollups.last_pk(conn)
            for mask, group in groups.items():
                stored += conn.executemany(_insert_sql(mask), group).rowcount
            if stored and last is not None:
                # the counts of migration 11; all stored: their times are in the rows
                published = columns[_PUBLISHED] if stored == len(first) else None
                sqlite_rollups.add_stored(conn, last, first, published)
            if dups:
                originals = Counter(
                    (first[key].duplicate_of_source or key[0], first[key].duplicate_of)
                    for key in dups
                    if key not in before
                )
                conn.executemany(
                    "UPDATE documents SET duplicates = duplicates + ? WHERE source = ? AND id = ?",
                    [(n, src, id_) for (src, id_), n in originals.items()],
                )
            if cursor is not None:
                conn.execute(
                    "INSERT INTO cursors (source_key, position, line, fingerprint, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_key) DO UPDATE SET "
                    "position = excluded.position, line = excluded.line, "
                    "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                    (cursor.source_key, cursor.position, cursor.line, cursor.fingerprint, now),
                )
        return AddResult(stored=stored, existing=len(docs) - stored)

    def index_pending(self, limit: int = 10_000) -> int:
        """Add up to ``limit`` unindexed documents (oldest rowid first) to the search index in
        one transaction; return how many (0 when search is up to date)."""
        with self._transaction("indexing documents for search") as conn:
            pending = conn.execute(
                "SELECT pk, norm_text, quoted_text, title FROM documents "
                "WHERE indexed = 0 ORDER BY pk LIMIT ?",
                (limit,),
            ).fetchall()
            if not pending:
                return 0
            conn.executemany(
                "INSERT INTO search_index (rowid, terms) VALUES (?, ?)",
                [
                    (pk, index_terms(f"{norm} {quoted} {title or ''}"))
                    for pk, norm, quoted, title in pending
                ],
            )
            conn.execute(
                "UPDATE documents SET indexed = 1 WHERE indexed = 0 AND pk <= ?",
                (pending[-1][0],),
            )
        return len(pending)

    # -- reads ----------------------------------------------------------------------------

    @staticmethod
    def _existing(
        conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Stored keys among ``keys``: ``source = ? AND id IN (...)`` per source, so that each
        lookup is a search of the (source, id) index, never a scan."""
        by_source: dict[str, list[str]] = {}
        for source, id_ in dict.fromkeys(keys):
            by_source.setdefault(source, []).append(id_)
        found: set[tuple[str, str]] = set()
        for source, ids in by_source.items():
            for start in range(0, len(ids), _KEY_CHUNK):
                chunk = ids[start : start + _KEY_CHUNK]
                found.update(
                    conn.execute(
                        f"SELECT source, id FROM documents WHERE source = ? AND id IN "
                        f"({', '.join('?' * len(chunk))})",
                        [source, *chunk],
                    ).fetchall()
                )
        return found

    def existing_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        with self._errors("looking up existing keys"):
            return self._existing(self._conn, keys)

    def get_document(self, source: str, id: str) -> Document | None:
        with self._errors(f"reading document ({source}, {id})"):
            row = self._conn.execute(
                f"{_SELECT} WHERE source = ? AND id = ?", (source, id)
            ).fetchone()
        return None if row is None else row_to_document(row)

    def duplicate_count(self, source: str, id: str) -> int | None:
        """How many stored posts duplicate this one (None when it is not stored)."""
        with self._errors(f"reading document ({source}, {id})"):
            row = self._conn.execute(
                "SELECT duplicates FROM documents WHERE source = ? AND id = ?", (source, id)
            ).fetchone()
        return None if row is None else int(row[0])

    def recent_documents(self, since: datetime, limit: int) -> Iterator[Document]:
        """The newest ``limit`` documents published or ingested at or after ``since``, in
        (published_at, source, id) order, newest last."""
        start = to_micros(since, "since")
        with self._errors("reading recent documents"):
            rows = self._conn.execute(
                f"{_SELECT} WHERE published_at >= ? OR ingested_at >= ? "
                "ORDER BY published_at DESC, source DESC, id DESC LIMIT ?",
                (start, start, limit),
            ).fetchall()
        return (row_to_document(row) for row in reversed(rows))

    def get_cursor(self, source_key: str) -> Cursor | None:
        with self._errors(f"reading the cursor of {source_key}"):
            row = self._conn.execute(
                "SELECT source_key, position, line, fingerprint FROM cursors WHERE source_key = ?",
                (source_key,),
            ).fetchone()
        return None if row is None else Cursor(row[0], row[1], row[2], row[3])

    # -- search ---------------------------------------------------------------------------

    def _candidates(
        self,
        query: str,
        since: datetime | None,
        until: datetime | None,
        sources: Sequence[str],
    ) -> Iterator[tuple[SearchHit, list[str]]]:
        """Verified matches, newest first, each with the query terms."""
        match = query_terms(query)
        terms = split_query(query)
        sql = [
            "SELECT d.source, d.id, d.text, d.published_at, d.author, d.url, d.norm_text, "
            "d.quoted_text, d.title FROM search_index s JOIN documents d ON d.pk = s.rowid "
            "WHERE search_index MATCH ?"
        ]
        params: list[object] = [match]
        if since is not None:
            sql.append("AND d.published_at >= ?")
            params.append(to_micros(since, "since"))
        if until is not None:
            sql.append("AND d.published_at < ?")
            params.append(to_micros(until, "until"))
        if sources:
            sql.append(f"AND d.source IN ({', '.join('?' * len(sources))})")
            params.extend(sources)
        sql.append("ORDER BY d.published_at DESC, d.pk DESC")
        with self._errors(f"searching for {query!r}"):
            rows = self._conn.execute(" ".join(sql), params)
            for source, id_, text, published, author, url, norm, quoted, title in rows:
                snippet = make_snippet(terms, (norm, quoted, title or ""))
                if snippet is not None:
                    hit = SearchHit(source, id_, text, from_micros(published), snippet, author, url)
                    yield hit, terms

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
    ) -> list[SearchHit]:
        """Documents whose normalized text, quoted text or title contains every
        whitespace-separated term of ``query`` as a substring, newest first; ``since`` is
        inclusive and ``until`` exclusive (on published_at). Only indexed documents are found.
        Raises UsageError for a query with nothing to search for."""
        with self._errors(f"searching for {query!r}"):
            newest = sqlite_search.newest_hits(self._conn, query, since, until, sources, limit)
        if newest is not None:  # a frequent term: found walking the newest posts
            return newest
        found = islice(self._candidates(query, since, until, sources), limit)
        return [hit for hit, _ in found]

    def count_matches(self, query: str) -> int:
        """How many indexed documents :meth:`search` would find without a limit."""
        return sum(1 for _ in self._candidates(query, None, None, ()))

    def stats(self) -> StoreStats:
        """Counts from the rollups (posts with a time) and the posts without a time; the
        rest are single index lookups: cheap on any size of store."""
        with self._errors("reading statistics"):
            conn = self._conn
            first, last = conn.execute(
                "SELECT MIN(published_at), MAX(published_at) FROM documents"
            ).fetchone()
            unindexed = conn.execute("SELECT COUNT(*) FROM documents WHERE indexed = 0").fetchone()
            sources, dups, reposts = sqlite_rollups.stats_counts(conn)
            total = sum(sources.values())
            version = current_version(conn)
            cursors = conn.execute("SELECT COUNT(*) FROM cursors").fetchone()[0]
        return StoreStats(
            documents=total,
            duplicates=dups,
            reposts=reposts,
            indexed=total - unindexed[0],
            sources=sources,
            first_published=from_micros(first),
            last_published=from_micros(last),
            schema_version=version,
            extra={"cursors": cursors, "path": self.path},
        )


_PUBLISHED = COLUMNS.index("published_at")


@lru_cache(maxsize=256)
def _insert_sql(mask: tuple[bool, ...]) -> str:
    names = list(compress(COLUMNS, mask))
    return (
        f"INSERT INTO documents ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        "ON CONFLICT (source, id) DO NOTHING"
    )


def make_snippet(
    terms: Sequence[str], fields: Sequence[str], width: int = SNIPPET_CHARS
) -> str | None:
    """About ``width`` characters around the first term's first match with the match in
    【】, or None when some term occurs in none of the fields (the index over-matched)."""
    lowered = [field.lower() for field in fields]
    first: tuple[int, int, int] | None = None  # field index, position, length
    for n, term in enumerate(terms):
        for f, text in enumerate(lowered):
            pos = text.find(term)
            if pos >= 0:
                if n == 0:
                    first = (f, pos, len(term))
                break
        else:
            return None
    if first is None:
        return None
    f, pos, length = first
    text = fields[f] if len(fields[f]) == len(lowered[f]) else lowered[f]
    before = max(0, (width - length) // 2)
    start = max(0, pos - before)
    end = min(len(text), max(start + width, pos + length))
    head = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return f"{head}{text[start:pos]}【{text[pos : pos + length]}】{text[pos + length : end]}{tail}"
