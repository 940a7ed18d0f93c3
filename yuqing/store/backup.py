"""Backing up and restoring a store (``yuqing db backup FILE``, ``yuqing db restore FILE``),
chosen by the store URL's scheme.

**SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database
page by page in one read transaction, so it is safe while other processes read and write
the store (in WAL mode writers are not even blocked), and the copy is one consistent
snapshot. The backup is a plain SQLite file (journal mode DELETE, checked with
``PRAGMA quick_check``), written under a temporary name and renamed when complete.
Restoring copies it back with the same API, into the live file.

**PostgreSQL**: ``pg_dump --format=custom`` and ``pg_restore`` (the PostgreSQL client
programs, the server's major version or newer). The store is the database of the URL, or
the one schema that the URL's ``options=-csearch_path=NAME`` selects.

**Restoring** refuses a store that holds anything unless ``force`` is given; it reads the
backup's schema version first and refuses one newer than this code (upgrade yuqing
first), and it migrates an older one to the current schema after the copy. A PostgreSQL
store newer than the backup is refused even with ``force`` (tables of the newer
migrations would be left behind): restore into an empty database instead.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from yuqing.errors import MigrationError, StoreError, StoreURLError, UsageError
from yuqing.store.migrations import LATEST as SQLITE_LATEST
from yuqing.store.migrations import current_version
from yuqing.store.url import ACCEPTED, open_store, sqlite_path

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
_SKIP_TABLES = ("schema_migrations", "sqlite_", "search_index")  # empty-check ignores these


class BackupError(StoreError):
    """A backup or restore could not be made, or was refused (the message says why and
    what to do)."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """A backup made: where, of which schema version, how many bytes."""

    path: Path
    backend: str
    schema_version: int
    size: int


@dataclass(frozen=True, slots=True)
class RestoreInfo:
    """A restore done: the backup's schema version and the store's after migrating (None
    when the store could not be opened to migrate it, with ``note`` saying why)."""

    backend: str
    backup_version: int
    schema_version: int | None
    note: str = ""


def _scheme(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise StoreURLError(f"store URL {url!r} is not understood; use {ACCEPTED}")


def backup_store(url: str, dest: Path, *, overwrite: bool = False) -> BackupInfo:
    """Write a backup of the store at ``url`` to ``dest``; an existing ``dest`` is refused
    unless ``overwrite``."""
    dest = Path(dest)
    if dest.exists() and not overwrite:
        raise UsageError(f"{dest} already exists: choose another file or pass --force")
    if not dest.parent.is_dir():
        raise UsageError(f"folder {dest.parent} does not exist: create it first")
    if _scheme(url) == "sqlite":
        return _sqlite_backup(url, dest)
    from yuqing.store import backup_pg

    return backup_pg.backup(url, dest)


def restore_store(url: str, src: Path, *, force: bool = False) -> RestoreInfo:
    """Restore the backup ``src`` into the store at ``url`` and migrate it to the current
    schema; see the module docstring for what is refused."""
    src = Path(src)
    if not src.is_file():
        raise UsageError(f"backup file {src} does not exist")
    with src.open("rb") as fh:
        magic = fh.read(16)
    backend = _scheme(url)
    kind = "postgresql" if magic.startswith(PG_MAGIC) else "sqlite" if magic == SQLITE_MAGIC else ""
    if not kind:
        raise BackupError(f"{src} is neither a SQLite backup nor a pg_dump custom-format archive")
    if kind != backend:
        raise BackupError(
            f"{src} is a {kind} backup and {url} a {backend} store: restore it into a "
            f"{kind} store (--store), or export and re-ingest the posts"
        )
    if backend == "sqlite":
        return _sqlite_restore(url, src, force=force)
    from yuqing.store import backup_pg

    return backup_pg.restore(url, src, force=force)


# -- SQLite ---------------------------------------------------------------------------------


def _sqlite_file(url: str) -> str:
    path = sqlite_path(url)
    if path == ":memory:":
        raise UsageError(f"{url} is an in-memory store: there is nothing on disk to back up")
    return path


def _connect(path: str | Path, what: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
    except sqlite3.Error as exc:
        raise BackupError(f"{what} {path}: cannot open it: {exc}") from exc
    return conn


def _sqlite_backup(url: str, dest: Path) -> BackupInfo:
    path = _sqlite_file(url)
    if not Path(path).is_file():
        raise BackupError(f"{url}: no store file at {Path(path).resolve()}")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    source = _connect(path, "store")
    try:
        target = _connect(partial, "backup file")
        try:
            source.backup(target)  # one step: one consistent snapshot
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            check = target.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise BackupError(f"{dest}: the copy fails SQLite's quick_check: {check}")
            version = current_version(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{url}: backup to {dest} failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    if version == 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"{url} is not a yuqing store (no schema_migrations table)")
    partial.replace(dest)
    return BackupInfo(dest, "sqlite", version, dest.stat().st_size)


def sqlite_backup_version(src: Path) -> int:
    """The schema version of a SQLite backup file (BackupError when it is not a yuqing
    store's backup)."""
    try:
        conn = sqlite3.connect(f"file:{Path(src).resolve()}?mode=ro", uri=True)
        try:
            version = current_version(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{src} cannot be read as a SQLite backup: {exc}") from exc
    if version == 0:
        raise BackupError(f"{src} is not a yuqing backup (no schema_migrations table)")
    return version


def sqlite_contents(conn: sqlite3.Connection) -> dict[str, int]:
    """Tables of a SQLite store that hold rows, with a row count capped at 1 (schema
    bookkeeping and the search index are not counted; other virtual tables are counted
    through their shadow tables)."""
    names = [
        str(name)
        for name, ddl in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        if not str(name).startswith(_SKIP_TABLES)
        and not str(ddl or "").upper().startswith("CREATE VIRTUAL")  # FTS: its shadow tables count
    ]
    found: dict[str, int] = {}
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {quoted})").fetchone() == (1,):
            found[name] = 1
    return found


def check_version(version: int, latest: int, src: Path) -> None:
    if version > latest:
        raise MigrationError(
            f"{src} has schema version {version}, newer than this yuqing knows ({latest}): "
            "upgrade yuqing, then restore it"
        )


def _remove_sqlite(path: str) -> None:
    for name in (path, f"{path}-wal", f"{path}-shm"):
        Path(name).unlink(missing_ok=True)


def _sqlite_restore(url: str, src: Path, *, force: bool) -> RestoreInfo:
    path = _sqlite_file(url)
    version = sqlite_backup_version(src)
    check_version(version, SQLITE_LATEST, src)
    if Path(path).exists():
        conn = _connect(path, "store")
        try:
            held = sqlite_contents(conn)
        except sqlite3.Error as exc:
            if not force:
                raise BackupError(
                    f"{url}: cannot read the store to restore into ({exc}); pass --force to "
                    "replace it with the backup"
                ) from exc
            held = {}
            _remove_sqlite(path)  # a broken file: replaced by a fresh one below
        finally:
            conn.close()
        if held and not force:
            raise BackupError(
                f"{url} is not empty (it holds {', '.join(sorted(held))}): restoring would "
                "replace it; pass --force to do so, or restore into a new store (--store)"
            )
    source = _connect(Path(src).resolve(), "backup file")
    try:
        target = _connect(path, "store")
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{url}: restore from {src} failed: {exc}") from exc
    finally:
        source.close()
    store = open_store(url)  # migrates an older backup to the current schema
    try:
        now = store.stats().schema_version
    finally:
        store.close()
    return RestoreInfo("sqlite", version, now)


# -- shared by the PostgreSQL path -----------------------------------------------------------


def pg_schema(url: str) -> str | None:
    """The schema named by ``options=-csearch_path=NAME`` in a PostgreSQL URL, else None
    (the whole database)."""
    options = " ".join(parse_qs(urlsplit(url).query).get("options", []))
    match = re.search(r"-c\s*search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", unquote(options))
    return match.group(1) if match else None


def client_program(name: str) -> str:
    """The path of a PostgreSQL client program (BackupError naming the package if absent)."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client programs "
            "(apt install postgresql-client; the server's major version or newer)"
        )
    return found


def client_dbname(url: str) -> tuple[str, dict[str, str]]:
    """A ``--dbname`` conninfo for the client programs without the password, and the
    environment that carries it (so that it never shows in the process list)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    password = params.pop("password", None)
    env = {"PGPASSWORD": password} if password else {}
    return make_conninfo(**params), env


def run_client(args: list[str], what: str, env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL client program; its stdout, or BackupError with its last words."""
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
        )
    except OSError as exc:
        raise BackupError(f"{what}: cannot run {args[0]}: {exc}") from exc
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:]) or f"exit {done.returncode}"
        raise BackupError(f"{what} failed: {tail}")
    return done.stdout


# -- what `yuqing doctor` reads -----------------------------------------------------------------


def code_version(url: str) -> int:
    """The schema version this code brings a store at ``url`` to."""
    if _scheme(url) == "sqlite":
        return SQLITE_LATEST
    from yuqing.store.backup_pg import latest

    return latest()


def read_schema_version(url: str) -> int | None:
    """The schema version of the store at ``url`` without changing anything: None when a
    SQLite file does not exist yet, 0 for a database without yuqing's tables. StoreError
    when it cannot be read."""
    if _scheme(url) == "postgresql":
        from yuqing.store.backup_pg import stored_version

        return stored_version(url)
    path = sqlite_path(url)
    if path == ":memory:":
        return 0
    if not Path(path).is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            return current_version(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{url}: cannot read the store: {exc}") from exc
