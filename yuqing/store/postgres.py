"""The PostgreSQL store: the server-mode backend of :class:`yuqing.store.base.Store`.

One psycopg 3 connection per store object, in autocommit mode with explicit transactions
(use a store object from one thread at a time; open one per worker or thread). Several
processes may write to one database at once, and the contract holds for each of them:

* ``add_documents`` is idempotent by (source, id) under concurrent writers: the keys go
  first into ``document_keys`` with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (sorted,
  so two writers never wait on each other in opposite orders), and only the keys that this
  transaction inserted are written to ``documents`` (by ``COPY``), queued for search and
  counted. A writer that races another on the same key waits for the other's commit and then
  skips it; each key is stored exactly once;
* posts are partitioned by publication month (:mod:`yuqing.store.postgres_partitions`);
* search: :mod:`yuqing.store.postgres_search`; dashboard reads:
  :mod:`yuqing.store.postgres_rollups` and :mod:`yuqing.store.postgres_queries`; alerts (``seq`` in commit order):
  :mod:`yuqing.store.postgres_alerts`; cases (row locks): :mod:`yuqing.store.postgres_cases`;
  users: :mod:`yuqing.store.postgres_users`; claims: :mod:`yuqing.store.postgres_claims`;
  corrections: :mod:`yuqing.store.postgres_corrections`; plans:
  :mod:`yuqing.store.postgres_plans`; schema: :mod:`yuqing.store.postgres_migrations`.

Errors are translated to StoreError naming the store (its URL without the password) and
the operation. A dropped connection is reopened on the next call.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg.types.string import TextLoader

from yuqing.errors import StoreError
from yuqing.models import Cursor, Document, SearchHit, StoreStats
from yuqing.store import postgres_rollups, postgres_search
from yuqing.store.base import AddResult
from yuqing.store.postgres_alerts import PostgresAlerts
from yuqing.store.postgres_cases import PostgresCases
from yuqing.store.postgres_claims import PostgresClaims
from yuqing.store.postgres_corrections import PostgresCorrections
from yuqing.store.postgres_history import PostgresHistory
from yuqing.store.postgres_migrations import apply_migrations, current_version
from yuqing.store.postgres_partitions import Partitions, month_of
from yuqing.store.postgres_plans import PostgresPlans
from yuqing.store.postgres_privacy import PostgresPrivacy
from yuqing.store.postgres_rollups import PostgresDashboard
from yuqing.store.postgres_rows import SELECT_COLUMNS, fetch_by_position, lookup_keys
from yuqing.store.postgres_subscriptions import PostgresSubscriptions
from yuqing.store.postgres_users import PostgresUsers
from yuqing.store.rows import COLUMNS, document_to_row, from_micros, row_to_document, to_micros
from yuqing.store.url import redact_url

_PUBLISHED = COLUMNS.index("published_at")
_JSONB = "analysis"  # jsonb refuses the escaped NUL (\u0000) that text columns keep
_COPY_DOCUMENTS = f"COPY documents (pk, {SELECT_COLUMNS}) FROM STDIN"
_RETRIES = 3  # a deadlock or serialization failure is retried this many times


def error_text(exc: BaseException) -> str:
    """psycopg's message on one line (no DETAIL/HINT/CONTEXT blocks, no query text)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class PostgresStore(
    PostgresHistory,
    PostgresDashboard,
    PostgresAlerts,
    PostgresCases,
    PostgresClaims,
    PostgresUsers,
    PostgresCorrections,
    PostgresPlans,
    PostgresPrivacy,
    PostgresSubscriptions,
):
    """A store in one PostgreSQL schema (the first of the connection's ``search_path``).
    Open it with :func:`yuqing.store.url.open_store`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = redact_url(url)
        self._partitions = Partitions()
        self._closed = False
        self._conn = self._connect()

    # -- plumbing -------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[TupleRow]:
        try:
            options: dict[str, Any] = {}
            if "connect_timeout" not in conninfo_to_dict(self.url):
                options["connect_timeout"] = 10
            conn = psycopg.connect(self.url, autocommit=True, **options)
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.where}: cannot connect to PostgreSQL: {error_text(exc)}; check that the "
                "server runs, the database exists and the role may log in"
            ) from exc
        conn.adapters.register_loader("jsonb", TextLoader)  # JSON text, parsed by orjson
        return conn

    def _live(self) -> psycopg.Connection[TupleRow]:
        if self._conn.closed:
            if self._closed:
                raise StoreError(f"{self.where}: the store was closed; open it again")
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _errors(self, what: str) -> Iterator[psycopg.Connection[TupleRow]]:
        """Translate psycopg errors into StoreError naming the store and the operation."""
        try:
            yield self._live()
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: {what} failed: {error_text(exc)}") from exc

    @contextmanager
    def _transaction(self, what: str) -> Iterator[psycopg.Connection[TupleRow]]:
        """One transaction, committed before returning, rolled back on any error."""
        with self._errors(what) as conn, conn.transaction():
            yield conn

    def migrate(self) -> int:
        return apply_migrations(self._live(), self.where)

    def schema_version(self) -> int:
        with self._errors("reading the schema version") as conn:
            return current_version(conn)

    def close(self) -> None:
        self._closed = True
        self._conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------------

    def add_documents(self, docs: Sequence[Document], cursor: Cursor | None = None) -> AddResult:
        """Insert new documents and save ``cursor`` in one transaction, committed on return
        (see the module docstring for concurrent writers). A new document with
        ``duplicate_of`` adds one to its original's ``duplicates`` count in the same
        transaction; a missing ``ingested_at`` is stored as now; search indexing is left to
        :meth:`index_pending`."""
        now = time.time_ns() // 1000
        first: dict[tuple[str, str], Document] = {}
        for doc in docs:
            first.setdefault(doc.key, doc)  # a key repeated in the batch: the first one wins
        rows = {key: _checked_row(doc, now) for key, doc in sorted(first.items())}
        with self._errors("creating month partitions") as conn:
            self._partitions.ensure(conn, (month_of(row[_PUBLISHED]) for row in rows.values()))
        for attempt in range(_RETRIES):
            try:
                with self._transaction("adding documents") as conn:
                    stored = self._add(conn, docs, rows, cursor, now)
                return AddResult(stored=stored, existing=len(docs) - stored)
            except StoreError as exc:
                retry = isinstance(
                    exc.__cause__,
                    psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure,
                )
                if not retry or attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _add(
        conn: psycopg.Connection[TupleRow],
        docs: Sequence[Document],
        rows: dict[tuple[str, str], tuple[Any, ...]],
        cursor: Cursor | None,
        now: int,
    ) -> int:
        keys = list(rows)
        new = {
            (source, id_): int(pk)
            for source, id_, pk in conn.execute(
                "INSERT INTO document_keys (source, id, published_at) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
                "ON CONFLICT (source, id) DO NOTHING RETURNING source, id, pk",
                (
                    [s for s, _ in keys],
                    [i for _, i in keys],
                    [rows[k][_PUBLISHED] for k in keys],
                ),
            ).fetchall()
        }
        if new:
            with conn.cursor().copy(_COPY_DOCUMENTS) as copy:
                for key in keys:
                    if key in new:
                        copy.write_row((new[key], *rows[key]))
            stored_keys = [k for k in keys if k in new]
            conn.execute(
                "INSERT INTO search_queue (pk, published_at) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                ([new[k] for k in stored_keys], [rows[k][_PUBLISHED] for k in stored_keys]),
            )
            originals = _new_duplicates(docs, set(new))
            if originals:
                with conn.cursor() as cur:
                    cur.executemany(
                        "UPDATE document_keys SET duplicates = duplicates + %s "
                        "WHERE source = %s AND id = %s",
                        [(n, src, id_) for (src, id_), n in sorted(originals.items())],
                    )
        if cursor is not None:
            conn.execute(
                "INSERT INTO cursors (source_key, position, line, fingerprint, updated_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source_key) DO UPDATE SET "
                "position = excluded.position, line = excluded.line, "
                "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
                (cursor.source_key, cursor.position, cursor.line, cursor.fingerprint, now),
            )
        return len(new)

    def index_pending(self, limit: int = 10_000) -> int:
        """Add up to ``limit`` queued documents (oldest position first) to the search index
        in one transaction; return how many (0 when search is up to date)."""
        with self._errors("indexing documents for search") as conn:
            return postgres_search.index_pending(conn, limit)

    # -- reads ----------------------------------------------------------------------------

    def existing_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        with self._errors("looking up existing keys") as conn:
            return set(lookup_keys(conn, keys))

    def get_document(self, source: str, id: str) -> Document | None:
        with self._errors(f"reading document ({source}, {id})") as conn:
            position = lookup_keys(conn, [(source, id)]).get((source, id))
            if position is None:
                return None
            row = fetch_by_position(conn, [position], SELECT_COLUMNS).get(position[0])
        return None if row is None else row_to_document(row[1:])

    def duplicate_count(self, source: str, id: str) -> int | None:
        """How many stored posts duplicate this one (None when it is not stored)."""
        with self._errors(f"reading document ({source}, {id})") as conn:
            row = conn.execute(
                "SELECT duplicates FROM document_keys WHERE source = %s AND id = %s",
                (source, id),
            ).fetchone()
        return None if row is None else int(row[0])

    def recent_documents(self, since: datetime, limit: int) -> Iterator[Document]:
        """The newest ``limit`` documents published or ingested at or after ``since``, in
        (published_at, source, id) order, newest last."""
        start = to_micros(since, "since")
        with self._errors("reading recent documents") as conn:
            rows = conn.execute(
                f"SELECT {SELECT_COLUMNS} FROM documents "
                "WHERE published_at >= %s OR ingested_at >= %s "
                "ORDER BY published_at DESC NULLS LAST, source DESC, id DESC LIMIT %s",
                (start, start, None if limit < 0 else limit),
            ).fetchall()
        return (row_to_document(row) for row in reversed(rows))

    def get_cursor(self, source_key: str) -> Cursor | None:
        with self._errors(f"reading the cursor of {source_key}") as conn:
            row = conn.execute(
                "SELECT source_key, position, line, fingerprint FROM cursors WHERE source_key = %s",
                (source_key,),
            ).fetchone()
        return None if row is None else Cursor(row[0], int(row[1]), int(row[2]), row[3])

    # -- search ---------------------------------------------------------------------------

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
        with self._errors(f"searching for {query!r}") as conn:
            return postgres_search.search(conn, query, since, until, sources, limit)

    def count_matches(self, query: str) -> int:
        """How many indexed documents :meth:`search` would find without a limit."""
        with self._errors(f"counting matches of {query!r}") as conn:
            return len(postgres_search.search(conn, query, None, None, (), None))

    def stats(self) -> StoreStats:
        with self._errors("reading statistics") as conn:
            # counts from the rollups of migration 11 (and the posts without a time)
            first, last = conn.execute(
                "SELECT MIN(published_at), MAX(published_at) FROM documents"
            ).fetchone() or (None, None)
            queued = conn.execute("SELECT COUNT(*) FROM search_queue").fetchone()
            sources, dups, reposts = postgres_rollups.stats_counts(conn)
            total = sum(sources.values())
            version = current_version(conn)
            cursors = conn.execute("SELECT COUNT(*) FROM cursors").fetchone()
            months = len(self._partitions.refresh(conn))
        return StoreStats(
            documents=int(total),
            duplicates=int(dups),
            reposts=int(reposts),
            indexed=int(total) - int(queued[0] if queued else 0),
            sources=sources,
            first_published=from_micros(first),
            last_published=from_micros(last),
            schema_version=version,
            extra={
                "cursors": int(cursors[0] if cursors else 0),
                "database": self.where,
                "month_partitions": months,
            },
        )


def _checked_row(doc: Document, now: int) -> tuple[Any, ...]:
    """The row of ``doc``; PostgreSQL text (and a ``jsonb`` string) cannot hold U+0000, so it
    is refused here, naming the post and the field, instead of failing deep in COPY."""
    row = document_to_row(doc, now)
    for name, value in zip(COLUMNS, row, strict=True):
        if isinstance(value, str) and ("\x00" in value or (name == _JSONB and "\\u0000" in value)):
            raise StoreError(
                f"document ({doc.source}, {doc.id}): {name} contains a NUL character (U+0000), "
                "which PostgreSQL cannot store; remove it before storing"
            )
    return row


def _new_duplicates(docs: Sequence[Document], stored: set[tuple[str, str]]) -> Counter[Any]:
    """Originals' keys -> how many duplicates stored by this call point at them (the first
    occurrence of a key in the batch is the one stored)."""
    seen: set[tuple[str, str]] = set()
    counts: Counter[Any] = Counter()
    for doc in docs:
        key = doc.key
        if key in seen:
            continue
        seen.add(key)
        if doc.duplicate_of is not None and key in stored:
            counts[(doc.duplicate_of_source or doc.source, doc.duplicate_of)] += 1
    return counts
