"""Open a store from its URL: the one place where a URL picks a backend.

Accepted forms::

    sqlite:///yuqing.db          relative to the working folder
    sqlite:////abs/path/yuqing.db
    sqlite:///:memory:           a private in-memory store (tests)
    postgresql://user[:password]@host[:port]/db[?option=value&...]   server mode
    postgres://...               the same

A PostgreSQL URL is a libpq connection URI: its query options (``sslmode``,
``connect_timeout``, ``application_name``, ``options=-csearch_path%3Dmyschema``, ...) go to
libpq as they are; the store lives in the first schema of the ``search_path``. psycopg is
imported only when such a URL is opened, so the embedded mode never loads it. Messages
never show the password (:func:`redact_url`).
"""

from __future__ import annotations

import re
from pathlib import Path

from yuqing.errors import StoreURLError
from yuqing.store.base import Store
from yuqing.store.sqlite import SQLiteStore

ACCEPTED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory: "
    "or postgresql://user@host/db"
)
_PASSWORD_IN_AUTHORITY = re.compile(r"(://[^/@:?#]*:)[^@/?#]*@")
_PASSWORD_OPTION = re.compile(r"(password=)[^&#]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    return _PASSWORD_OPTION.sub(r"\1***", _PASSWORD_IN_AUTHORITY.sub(r"\1***@", url))


def check_postgres_url(url: str) -> None:
    """Raise StoreURLError unless ``url`` is a libpq URI that names a database."""
    shown = redact_url(url)
    try:
        from psycopg import Error as PsycopgError
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        raise StoreURLError(
            f"store URL {shown!r} needs psycopg 3: pip install 'psycopg[binary]'"
        ) from exc
    try:
        params = conninfo_to_dict(url)
    except PsycopgError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "not understood"
        raise StoreURLError(
            f"store URL {shown!r} is not a valid PostgreSQL URL ({reason}); use "
            "postgresql://user[:password]@host[:port]/database[?option=value]"
        ) from exc
    if not params.get("dbname"):
        raise StoreURLError(
            f"store URL {shown!r} names no database; use postgresql://user@host/database"
        )


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL (``:memory:`` kept as is)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise StoreURLError(f"store URL {url!r} is not a SQLite URL; use {ACCEPTED}")
    path = url[len(prefix) :]
    if not path or "?" in path or "#" in path:
        raise StoreURLError(
            f"store URL {url!r} names no database file (options after ? are not supported); "
            f"use {ACCEPTED}"
        )
    if path == ":memory:":
        return path
    folder = Path(path).parent
    if not folder.is_dir():
        raise StoreURLError(
            f"store URL {url!r}: folder {folder.resolve()} does not exist; create it or pick "
            "another path"
        )
    return path


def is_memory_url(url: str) -> bool:
    """Whether ``url`` names a private in-memory SQLite store (``sqlite:///:memory:``),
    which no other connection can see."""
    return url.startswith("sqlite:") and sqlite_path(url) == ":memory:"


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url``; with ``migrate`` (the default) bring its schema up to date
    first (``yuqing db migrate`` opens with ``migrate=False`` and calls ``migrate()``).

    Raises StoreURLError for a URL it does not understand, MigrationError for a schema newer
    than this code, StoreError when the database cannot be opened.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    store: Store
    if scheme == "sqlite":
        store = SQLiteStore(sqlite_path(url), url)
    elif scheme in ("postgresql", "postgres"):
        check_postgres_url(url)
        from yuqing.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        raise StoreURLError(f"store URL {redact_url(url)!r} is not understood; use {ACCEPTED}")
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
