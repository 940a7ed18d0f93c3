"""The PostgreSQL side of :mod:`yuqing.store.backup`: ``pg_dump --format=custom`` and
``pg_restore`` run as subprocesses, psycopg for the checks around them.

The store is the database of the URL, or the schema that ``options=-csearch_path=NAME``
selects (then only that schema is dumped, and restoring replaces that schema). Restoring
reads the backup's ``schema_migrations`` out of the archive with ``pg_restore
--data-only`` before touching the database.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql

from yuqing.errors import StoreURLError
from yuqing.store.backup import (
    BackupError,
    BackupInfo,
    RestoreInfo,
    check_version,
    client_dbname,
    client_program,
    pg_schema,
    run_client,
)
from yuqing.store.url import open_store, redact_url


def latest() -> int:
    """The schema version the PostgreSQL store's migrations reach."""
    try:
        from yuqing.store.postgres_migrations import LATEST
    except ImportError:  # the PostgreSQL store is not installed: same numbers as SQLite
        from yuqing.store.migrations import LATEST
    return LATEST


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise BackupError(f"{redact_url(url)}: cannot connect: {exc}") from exc


def _tables(conn: psycopg.Connection[tuple[object, ...]], schema: str | None) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = COALESCE(%s, current_schema()) AND c.relkind IN ('r', 'p') "
        "AND NOT c.relispartition ORDER BY 1",
        (schema,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _qualified(schema: str | None, table: str) -> sql.Composable:
    return sql.Identifier(schema, table) if schema else sql.Identifier(table)


def _version(conn: psycopg.Connection[tuple[object, ...]], schema: str | None) -> int:
    if "schema_migrations" not in _tables(conn, schema):
        return 0
    query = sql.SQL("SELECT MAX(version) FROM {}").format(_qualified(schema, "schema_migrations"))
    row = conn.execute(query).fetchone()
    return int(row[0] or 0) if row else 0  # type: ignore[call-overload]


def stored_version(url: str) -> int:
    """The schema version of the store at ``url`` (0 when it has no yuqing tables)."""
    with _connect(url) as conn:
        return _version(conn, pg_schema(url))


def backup(url: str, dest: Path) -> BackupInfo:
    """pg_dump the store at ``url`` into ``dest`` (custom format, written under a temporary
    name and renamed when complete)."""
    schema = pg_schema(url)
    with _connect(url) as conn:
        version = _version(conn, schema)
    if version == 0:
        raise BackupError(f"{redact_url(url)} is not a yuqing store (no schema_migrations table)")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    args = [client_program("pg_dump"), "--format=custom", f"--file={partial}"]
    if schema:
        args.append(f"--schema={schema}")
    dbname, env = client_dbname(url)
    try:
        run_client([*args, f"--dbname={dbname}"], f"pg_dump of {redact_url(url)}", env)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dest)
    return BackupInfo(dest, "postgresql", version, dest.stat().st_size)


def archive_version(src: Path) -> int:
    """The highest ``schema_migrations.version`` in a pg_dump archive, read with
    ``pg_restore --data-only`` (no database needed)."""
    out = run_client(
        [
            client_program("pg_restore"),
            "--data-only",
            "--table=schema_migrations",
            "--file=-",
            str(src),
        ],
        f"reading {src}",
    )
    versions: list[int] = []
    copying = False
    for line in out.splitlines():
        if line.startswith("COPY ") and "schema_migrations" in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying and line.split("\t", 1)[0].isdigit():
            versions.append(int(line.split("\t", 1)[0]))
    if not versions:
        raise BackupError(f"{src} holds no schema_migrations rows: not a yuqing backup")
    return max(versions)


def _held(conn: psycopg.Connection[tuple[object, ...]], schema: str | None) -> list[str]:
    held = []
    for table in _tables(conn, schema):
        if table == "schema_migrations":
            continue
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(_qualified(schema, table))
        row = conn.execute(query).fetchone()
        if row and row[0]:
            held.append(table)
    return held


def restore(url: str, src: Path, *, force: bool) -> RestoreInfo:
    """pg_restore ``src`` into the store at ``url``; see :mod:`yuqing.store.backup`."""
    version = archive_version(src)
    check_version(version, latest(), src)
    schema = pg_schema(url)
    where = redact_url(url) + (f" (schema {schema})" if schema else "")
    with _connect(url) as conn:
        tables = _tables(conn, schema)
        current = _version(conn, schema)
        held = _held(conn, schema)
        if tables and current == 0:
            raise BackupError(
                f"{where} holds tables that are not a yuqing store ({', '.join(tables[:5])}): "
                "restore into an empty database or schema"
            )
        if held and not force:
            raise BackupError(
                f"{where} is not empty (it holds {', '.join(held[:8])}): restoring would "
                "replace it; pass --force to do so, or restore into an empty database"
            )
        if current > version and not schema:
            raise BackupError(
                f"{where} is at schema version {current}, newer than the backup's {version}: "
                "restore into an empty database (createdb) and point --store at it"
            )
        if schema:  # the archive creates the schema: replace it whole
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    args = [client_program("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction"]
    if not schema and tables:
        args += ["--clean", "--if-exists"]
    dbname, env = client_dbname(url)
    run_client([*args, f"--dbname={dbname}", str(src)], f"pg_restore into {where}", env)
    return RestoreInfo("postgresql", version, *_migrate(url))


def _migrate(url: str) -> tuple[int | None, str]:
    try:
        store = open_store(url)
    except StoreURLError as exc:
        return None, f"not migrated: {exc}; run `yuqing db migrate` once it is"
    try:
        return store.stats().schema_version, ""
    finally:
        store.close()
