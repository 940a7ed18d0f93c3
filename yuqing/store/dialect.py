"""What the SQLite and PostgreSQL stores need to run one SQL text on both backends.

The store sections shared by the two backends (``yuqing/store/sql_*.py``) write their SQL
once, with SQLite's qmark (``?``) parameters, against a :class:`Connection`: a
``sqlite3.Connection`` is one as it is; a psycopg connection is wrapped in
:class:`PyformatConnection`, which rewrites ``?`` to psycopg's ``%s``. What else differs
between the dialects is the little that :class:`Dialect` describes (the two-argument
maximum, row locks, telling an insert from an update in an upsert, the id of a new row, ``IN``
over a list, the serialization of writers that draw ids in commit order).

A section of the Store contract that both backends share is a mixin deriving from
:class:`Section`; each backend mixes it with :class:`SQLiteSection` or
:class:`PostgresSection`, which give it the store's name, its connection for reads and its
transactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Union, cast

if TYPE_CHECKING:
    import sqlite3

    import psycopg
    from psycopg.rows import TupleRow


#: the parameters of one statement
Params = Sequence[Any]


class Cursor(Protocol):
    """The part of a DB-API cursor the shared sections use."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def __iter__(self) -> Iterator[tuple[Any, ...]]: ...


class Connection(Protocol):
    """A connection that takes qmark (``?``) SQL: ``sqlite3.Connection`` or
    :class:`PyformatConnection`."""

    def execute(self, sql: str, params: Params = ..., /) -> Cursor: ...

    def executemany(self, sql: str, params: Iterable[Params], /) -> object: ...


@lru_cache(maxsize=1024)
def pyformat(sql: str) -> str:
    """``sql`` with its qmark parameters as psycopg's ``%s`` (and a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PyformatConnection:
    """A psycopg connection that takes the shared sections' qmark SQL."""

    __slots__ = ("conn",)

    def __init__(self, conn: psycopg.Connection[TupleRow]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = (), /) -> psycopg.Cursor[TupleRow]:
        return self.conn.execute(pyformat(sql), params)

    def executemany(self, sql: str, params: Iterable[Params], /) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(pyformat(sql), params)


#: a connection as the backends hold it
DriverConnection = Union["sqlite3.Connection", "psycopg.Connection[TupleRow]"]


def psycopg_connection(conn: Connection) -> psycopg.Connection[TupleRow]:
    """The psycopg connection under a :class:`PyformatConnection`, for what only
    PostgreSQL's side does."""
    assert isinstance(conn, PyformatConnection), "not a PostgreSQL connection"
    return conn.conn


class Dialect:
    """Where SQLite and PostgreSQL differ, for the SQL the backends share."""

    #: the two-argument maximum: ``MAX`` in SQLite, ``GREATEST`` in PostgreSQL
    greatest: ClassVar[str]
    #: appended to a read that precedes a write of the same row: SQLite's write
    #: transactions (BEGIN IMMEDIATE) already exclude other writers
    for_update: ClassVar[str]
    #: appended to a read of a row that a write depends on (a referenced row)
    for_share: ClassVar[str]

    def adapt(self, conn: DriverConnection) -> Connection:
        """``conn`` as a :class:`Connection` that takes qmark SQL."""
        raise NotImplementedError

    def limit(self, limit: int) -> int | None:
        """The parameter of ``LIMIT ?``, where a negative ``limit`` means no limit."""
        return limit

    def chunks(self, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """``values`` in slices small enough for one :meth:`text_in` each."""
        raise NotImplementedError

    def text_in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """``column`` among the text ``values``: a condition and its parameters."""
        raise NotImplementedError

    def upsert_is_new(
        self, conn: Connection, upsert: str, params: Params, exists: str, key: Params
    ) -> bool:
        """Run ``upsert`` (``INSERT ... ON CONFLICT DO UPDATE``); True when it inserted.
        ``exists`` selects the row by ``key`` (for SQLite, which reads before writing)."""
        raise NotImplementedError

    def insert_id(self, conn: Connection, insert: str, params: Params) -> int:
        """Run ``insert`` (one row of a table keyed by an integer ``pk``); the new pk."""
        raise NotImplementedError

    def serialize_writers(self, conn: Connection, table: str) -> None:
        """Make writers of ``table`` take turns until they commit, so that the ids they
        draw become visible in order (see :mod:`yuqing.store.postgres_alerts`)."""


class SQLiteDialect(Dialect):
    greatest = "MAX"
    for_update = ""
    for_share = ""
    #: bound parameters per statement, well under SQLite's limit
    chunk = 500

    def adapt(self, conn: DriverConnection) -> Connection:
        return cast("sqlite3.Connection", conn)

    def chunks(self, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
        for start in range(0, len(values), self.chunk):
            yield values[start : start + self.chunk]

    def text_in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def upsert_is_new(
        self, conn: Connection, upsert: str, params: Params, exists: str, key: Params
    ) -> bool:
        # race-free: the caller's transaction (BEGIN IMMEDIATE) excludes other writers
        existed = conn.execute(exists, key).fetchone()
        conn.execute(upsert, params)
        return existed is None

    def insert_id(self, conn: Connection, insert: str, params: Params) -> int:
        # lastrowid, not RETURNING: that needs SQLite 3.35
        cursor = cast("sqlite3.Cursor", conn.execute(insert, params))
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def serialize_writers(self, conn: Connection, table: str) -> None:
        """Nothing to do: SQLite has one writer at a time."""


class PostgresDialect(Dialect):
    greatest = "GREATEST"
    for_update = " FOR UPDATE"
    for_share = " FOR SHARE"

    def adapt(self, conn: DriverConnection) -> Connection:
        return PyformatConnection(cast("psycopg.Connection[TupleRow]", conn))

    def limit(self, limit: int) -> int | None:
        # SQLite reads a negative LIMIT as no limit; PostgreSQL's LIMIT NULL is that
        return None if limit < 0 else limit

    def chunks(self, values: Sequence[Any]) -> Iterator[Sequence[Any]]:
        if values:
            yield values

    def text_in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?::text[])", [list(values)]

    def upsert_is_new(
        self, conn: Connection, upsert: str, params: Params, exists: str, key: Params
    ) -> bool:
        # xmax = 0 only on a freshly inserted row version: new vs replaced, race-free
        row = conn.execute(f"{upsert} RETURNING (xmax = 0)", params).fetchone()
        return bool(row and row[0])

    def insert_id(self, conn: Connection, insert: str, params: Params) -> int:
        row = conn.execute(f"{insert} RETURNING pk", params).fetchone()
        assert row is not None
        return int(row[0])

    def serialize_writers(self, conn: Connection, table: str) -> None:
        # SHARE ROW EXCLUSIVE conflicts with itself, not with readers
        conn.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()


class Section:
    """A section of the Store contract written once for both backends: what it needs from
    the store. A backend mixes it with :class:`SQLiteSection` or :class:`PostgresSection`."""

    dialect: ClassVar[Dialect]

    if TYPE_CHECKING:

        @property
        def label(self) -> str:
            """The store's name in messages (its URL, without a password)."""

        def _read(self, what: str) -> AbstractContextManager[Connection]:
            """The connection for a read, its errors translated into StoreError."""

        def _write(self, what: str) -> AbstractContextManager[Connection]:
            """One write transaction, committed on return, rolled back on any error."""


class SQLiteSection(Section):
    """The hooks of a :class:`Section` in :class:`yuqing.store.sqlite.SQLiteStore`."""

    dialect: ClassVar[Dialect] = SQLITE

    if TYPE_CHECKING:
        url: str
        _conn: sqlite3.Connection

        def _errors(self, what: str) -> AbstractContextManager[None]: ...

        def _transaction(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...

    @property
    def label(self) -> str:
        return self.url

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        with self._errors(what):
            yield self._conn

    def _write(self, what: str) -> AbstractContextManager[Connection]:
        return self._transaction(what)


class PostgresSection(Section):
    """The hooks of a :class:`Section` in :class:`yuqing.store.postgres.PostgresStore`."""

    dialect: ClassVar[Dialect] = POSTGRES

    if TYPE_CHECKING:
        where: str

        def _errors(self, what: str) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

        def _transaction(
            self, what: str
        ) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

    @property
    def label(self) -> str:
        return self.where

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        with self._errors(what) as conn:
            yield PyformatConnection(conn)

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        with self._transaction(what) as conn:
            yield PyformatConnection(conn)
