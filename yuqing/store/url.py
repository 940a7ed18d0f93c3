"""Open a store from its URL: the one place where a URL picks a backend.

Accepted forms::

    sqlite:///yuqing.db          relative to the working folder
    sqlite:////abs/path/yuqing.db
    sqlite:///:memory:           a private in-memory store (tests)
    postgresql://user@host/db    server mode (not yet available)
"""

from __future__ import annotations

from pathlib import Path

from yuqing.errors import StoreURLError
from yuqing.store.base import Store
from yuqing.store.sqlite import SQLiteStore

ACCEPTED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory: "
    "or postgresql://user@host/db"
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


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store at ``url``; with ``migrate`` (the default) bring its schema up to date
    first (``yuqing db migrate`` opens with ``migrate=False`` and calls ``migrate()``).

    Raises StoreURLError for a URL it does not understand, MigrationError for a schema newer
    than this code, StoreError when the database cannot be opened.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        store = SQLiteStore(sqlite_path(url), url)
    elif scheme in ("postgresql", "postgres"):
        raise StoreURLError("PostgreSQL store arrives with server mode (issue 8)")
    else:
        raise StoreURLError(f"store URL {url!r} is not understood; use {ACCEPTED}")
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
