"""The PostgreSQL side of monitoring plans and the poll state of their sources (tables of
migration 9); semantics and record checks: :mod:`yuqing.store.sqlite_plans`.

A mixin of :class:`yuqing.store.postgres.PostgresStore`. ``claim_plan_source`` is one
``INSERT ... ON CONFLICT DO UPDATE ... WHERE next_poll_at <= now``: PostgreSQL locks the
conflicting row and re-checks the condition on its latest version, so of several pollers
on several machines exactly one takes a due poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from psycopg.rows import TupleRow

from yuqing.errors import StoreError
from yuqing.store.base import SOURCE_POLL_STATUSES, SourcePollState
from yuqing.store.rows import to_micros
from yuqing.store.sqlite_plans import _STATE_COLUMNS, _iso, _plan_columns, _source_ids, _state

MIGRATION_NAME = "monitoring plans and the poll state of their sources"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE plans (
        id TEXT COLLATE "C" PRIMARY KEY,
        name TEXT NOT NULL,
        enabled BOOLEAN NOT NULL DEFAULT TRUE,
        department TEXT,
        created_at BIGINT NOT NULL,    -- microseconds since the epoch, UTC
        updated_at BIGINT NOT NULL,
        data TEXT NOT NULL             -- Plan.as_dict() as JSON
    )""",
    "CREATE INDEX plans_department ON plans (department) WHERE department IS NOT NULL",
    """CREATE TABLE plan_sources (
        plan_id TEXT COLLATE "C" NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
        source_id TEXT COLLATE "C" NOT NULL,
        last_poll_at BIGINT,
        status TEXT,                   -- ok | not_modified | error
        http_status INTEGER,
        etag TEXT,
        last_modified TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll_at BIGINT,           -- also the lease of a claimed poll
        last_error TEXT,
        posts_fetched BIGINT NOT NULL DEFAULT 0,
        last_posts BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (plan_id, source_id)
    )""",
    "CREATE INDEX plan_sources_due ON plan_sources (next_poll_at)",
)

_PLACEHOLDERS = ", ".join(["%s"] * 12)


class PostgresPlans:
    """The plans section of the Store contract."""

    if TYPE_CHECKING:
        url: str
        where: str

        def _errors(self, what: str) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

        def _transaction(
            self, what: str
        ) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

    def save_plan(self, plan: dict[str, Any]) -> bool:
        if not isinstance(plan, Mapping):
            raise StoreError(f"{self.where}: a plan must be saved as the dict of Plan.as_dict()")
        plan_id, name, enabled, department, created, updated = _plan_columns(plan, self.where)
        keep = _source_ids(plan)
        with self._transaction(f"saving plan {plan_id}") as conn:
            row = conn.execute(
                "SELECT created_at, updated_at FROM plans WHERE id = %s FOR UPDATE", (plan_id,)
            ).fetchone()
            if created is None:
                created = row[0] if row is not None else updated
            if updated is None:
                updated = created if created is not None else (row[1] if row else None)
            if created is None or updated is None:
                raise StoreError(
                    f"{self.where}: plan {plan_id}: give created_at or updated_at (aware ISO 8601)"
                )
            record = {**plan, "created_at": _iso(created), "updated_at": _iso(updated)}
            try:
                data = orjson.dumps(record).decode()
            except TypeError as exc:
                raise StoreError(f"{self.where}: plan {plan_id} is not JSON-ready: {exc}") from exc
            new = conn.execute(
                "INSERT INTO plans (id, name, enabled, department, created_at, updated_at, data) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, enabled = excluded.enabled, "
                "department = excluded.department, created_at = excluded.created_at, "
                "updated_at = excluded.updated_at, data = excluded.data RETURNING (xmax = 0)",
                (plan_id, name, bool(enabled), department, created, updated, data),
            ).fetchone()
            conn.execute(
                "DELETE FROM plan_sources WHERE plan_id = %s AND NOT (source_id = ANY(%s::text[]))",
                (plan_id, keep),
            )
        return bool(new and new[0])

    def get_plan(self, plan_id: str) -> dict[str, Any] | None:
        with self._errors(f"reading plan {plan_id}") as conn:
            row = conn.execute("SELECT data FROM plans WHERE id = %s", (plan_id,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def plans(
        self, *, enabled: bool | None = None, department: str | None = None
    ) -> list[dict[str, Any]]:
        where: list[str] = []
        params: list[object] = []
        if enabled is not None:
            where.append("enabled = %s")
            params.append(bool(enabled))
        if department is not None:
            where.append("department = %s")
            params.append(department)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._errors("listing plans") as conn:
            rows = conn.execute(f"SELECT data FROM plans{clause} ORDER BY id", params).fetchall()
        return [dict(orjson.loads(data)) for (data,) in rows]

    def delete_plan(self, plan_id: str) -> bool:
        with self._transaction(f"deleting plan {plan_id}") as conn:
            conn.execute("DELETE FROM plan_sources WHERE plan_id = %s", (plan_id,))
            return conn.execute("DELETE FROM plans WHERE id = %s", (plan_id,)).rowcount > 0

    def plan_source_states(self, plan_id: str | None = None) -> list[SourcePollState]:
        clause, params = ("WHERE plan_id = %s", (plan_id,)) if plan_id is not None else ("", ())
        with self._errors("reading the poll state of plan sources") as conn:
            rows = conn.execute(
                f"SELECT {_STATE_COLUMNS} FROM plan_sources {clause} ORDER BY plan_id, source_id",
                params,
            ).fetchall()
        return [_state(row) for row in rows]

    def claim_plan_source(
        self, plan_id: str, source_id: str, now: datetime, until: datetime
    ) -> bool:
        now_us = to_micros(now, "claim time")
        until_us = to_micros(until, "claim lease")
        with self._transaction(f"claiming source {source_id} of plan {plan_id}") as conn:
            if conn.execute("SELECT 1 FROM plans WHERE id = %s", (plan_id,)).fetchone() is None:
                raise StoreError(f"{self.where}: no plan {plan_id!r} to claim a source of")
            return (
                conn.execute(
                    "INSERT INTO plan_sources (plan_id, source_id, next_poll_at) "
                    "VALUES (%s, %s, %s) ON CONFLICT (plan_id, source_id) DO UPDATE SET "
                    "next_poll_at = excluded.next_poll_at "
                    "WHERE plan_sources.next_poll_at IS NULL OR plan_sources.next_poll_at <= %s",
                    (plan_id, source_id, until_us, now_us),
                ).rowcount
                > 0
            )

    def save_source_state(self, state: SourcePollState) -> None:
        if state.status is not None and state.status not in SOURCE_POLL_STATUSES:
            raise StoreError(
                f"{self.where}: poll status {state.status!r} is not one of "
                f"{', '.join(SOURCE_POLL_STATUSES)}"
            )
        values = (
            state.plan_id,
            state.source_id,
            to_micros(state.last_poll_at, "last_poll_at"),
            state.status,
            state.http_status,
            state.etag,
            state.last_modified,
            state.failures,
            to_micros(state.next_poll_at, "next_poll_at"),
            state.last_error,
            state.posts_fetched,
            state.last_posts,
        )
        what = f"saving the poll state of {state.plan_id}/{state.source_id}"
        with self._transaction(what) as conn:
            found = conn.execute("SELECT 1 FROM plans WHERE id = %s", (state.plan_id,))
            if found.fetchone() is None:
                raise StoreError(f"{self.where}: no plan {state.plan_id!r} for this poll state")
            conn.execute(
                f"INSERT INTO plan_sources ({_STATE_COLUMNS}) VALUES ({_PLACEHOLDERS}) "
                "ON CONFLICT (plan_id, source_id) DO UPDATE SET "
                "last_poll_at = excluded.last_poll_at, status = excluded.status, "
                "http_status = excluded.http_status, etag = excluded.etag, "
                "last_modified = excluded.last_modified, failures = excluded.failures, "
                "next_poll_at = excluded.next_poll_at, last_error = excluded.last_error, "
                "posts_fetched = excluded.posts_fetched, last_posts = excluded.last_posts",
                values,
            )
