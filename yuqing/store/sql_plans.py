"""Monitoring plans (tables of migration 9), in SQL shared by both backends
(:mod:`yuqing.store.dialect`): the plans themselves and the poll state of each of their
sources.

A plan is kept whole as the JSON of ``Plan.as_dict()`` beside the columns that lists
filter and sort on (name, enabled, owner department, times). Like cases, the store does
not import the domain (:mod:`yuqing.plans`): it reads the few keys it needs (and the
sources' ids, to drop the poll state of sources a plan no longer has).

Poll state is one row per (plan, source): last poll, its outcome and HTTP status, the
validators for the next conditional GET (ETag, Last-Modified), consecutive failures, the
next poll time, the last error and the posts fetched. :meth:`PlansSection.claim_plan_source`
is the compare-and-set that lets several pollers (``yuqing run`` and ``yuqing serve``,
several machines on PostgreSQL) share one store without polling a source twice: one
``INSERT ... ON CONFLICT DO UPDATE ... WHERE next_poll_at <= now``, which PostgreSQL runs
on the conflicting row's latest version under its lock, and SQLite under its one writer,
so of several pollers exactly one takes a due poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import SOURCE_POLL_STATUSES, SourcePollState
from yuqing.store.dialect import Section
from yuqing.store.rows import from_micros, to_micros

_STATE_COLUMNS = (
    "plan_id, source_id, last_poll_at, status, http_status, etag, last_modified, failures, "
    "next_poll_at, last_error, posts_fetched, last_posts"
)


def _plan_columns(plan: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    plan_id = plan.get("id")
    if not isinstance(plan_id, str) or not plan_id.strip():
        raise StoreError(f"{where}: the plan record has no 'id'; save Plan.as_dict()")
    name = plan.get("name")
    if not isinstance(name, str) or not name.strip():
        raise StoreError(f"{where}: plan {plan_id}: the record has no 'name'")
    enabled = plan.get("enabled", True)
    if not isinstance(enabled, bool):
        raise StoreError(f"{where}: plan {plan_id}: 'enabled' must be true or false")
    department = plan.get("department")
    if department is not None and not isinstance(department, str):
        raise StoreError(f"{where}: plan {plan_id}: 'department' must be text")
    times: list[int | None] = []
    for key in ("created_at", "updated_at"):
        value = plan.get(key)
        if value is None:
            times.append(None)
            continue
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise StoreError(f"{where}: plan {plan_id}: {key} {value!r} is not ISO 8601") from exc
        times.append(to_micros(when, f"plan {plan_id} {key}"))
    return plan_id, name, enabled, department, times[0], times[1]


def _iso(micros: int) -> str:
    when = from_micros(micros)
    assert when is not None
    return when.isoformat()


def _source_ids(plan: Mapping[str, Any]) -> list[str]:
    sources = plan.get("sources") or []
    if not isinstance(sources, list):
        return []
    return [str(s["id"]) for s in sources if isinstance(s, Mapping) and s.get("id")]


def _state(row: tuple[Any, ...]) -> SourcePollState:
    return SourcePollState(
        plan_id=row[0],
        source_id=row[1],
        last_poll_at=from_micros(row[2]),
        status=row[3],
        http_status=row[4],
        etag=row[5],
        last_modified=row[6],
        failures=int(row[7]),
        next_poll_at=from_micros(row[8]),
        last_error=row[9],
        posts_fetched=int(row[10]),
        last_posts=int(row[11]),
    )


class PlansSection(Section):
    """The plans section of the Store contract."""

    def save_plan(self, plan: dict[str, Any]) -> bool:
        if not isinstance(plan, Mapping):
            raise StoreError(f"{self.label}: a plan must be saved as the dict of Plan.as_dict()")
        plan_id, name, enabled, department, created, updated = _plan_columns(plan, self.label)
        keep = _source_ids(plan)
        d = self.dialect
        with self._write(f"saving plan {plan_id}") as conn:
            row = conn.execute(
                f"SELECT created_at, updated_at FROM plans WHERE id = ?{d.for_update}", (plan_id,)
            ).fetchone()
            if created is None:
                created = row[0] if row is not None else updated
            if updated is None:
                updated = created if created is not None else (row[1] if row else None)
            if created is None or updated is None:
                raise StoreError(
                    f"{self.label}: plan {plan_id}: give created_at or updated_at (aware ISO 8601)"
                )
            record = {**plan, "created_at": _iso(created), "updated_at": _iso(updated)}
            try:
                data = orjson.dumps(record).decode()
            except TypeError as exc:
                raise StoreError(f"{self.label}: plan {plan_id} is not JSON-ready: {exc}") from exc
            new = d.upsert_is_new(
                conn,
                "INSERT INTO plans (id, name, enabled, department, created_at, updated_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, enabled = excluded.enabled, "
                "department = excluded.department, created_at = excluded.created_at, "
                "updated_at = excluded.updated_at, data = excluded.data",
                (plan_id, name, enabled, department, created, updated, data),
                "SELECT 1 FROM plans WHERE id = ?",
                (plan_id,),
            )
            kept, kept_params = d.text_in("source_id", keep)
            conn.execute(
                f"DELETE FROM plan_sources WHERE plan_id = ? AND NOT ({kept})",
                (plan_id, *kept_params),
            )
        return new

    def get_plan(self, plan_id: str) -> dict[str, Any] | None:
        with self._read(f"reading plan {plan_id}") as conn:
            row = conn.execute("SELECT data FROM plans WHERE id = ?", (plan_id,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def plans(
        self, *, enabled: bool | None = None, department: str | None = None
    ) -> list[dict[str, Any]]:
        where: list[str] = []
        params: list[object] = []
        if enabled is not None:
            where.append("enabled = ?")
            params.append(bool(enabled))
        if department is not None:
            where.append("department = ?")
            params.append(department)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._read("listing plans") as conn:
            rows = conn.execute(f"SELECT data FROM plans{clause} ORDER BY id", params).fetchall()
        return [dict(orjson.loads(data)) for (data,) in rows]

    def delete_plan(self, plan_id: str) -> bool:
        with self._write(f"deleting plan {plan_id}") as conn:
            conn.execute("DELETE FROM plan_sources WHERE plan_id = ?", (plan_id,))
            return conn.execute("DELETE FROM plans WHERE id = ?", (plan_id,)).rowcount > 0

    def plan_source_states(self, plan_id: str | None = None) -> list[SourcePollState]:
        clause, params = ("WHERE plan_id = ?", (plan_id,)) if plan_id is not None else ("", ())
        with self._read("reading the poll state of plan sources") as conn:
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
        with self._write(f"claiming source {source_id} of plan {plan_id}") as conn:
            if conn.execute("SELECT 1 FROM plans WHERE id = ?", (plan_id,)).fetchone() is None:
                raise StoreError(f"{self.label}: no plan {plan_id!r} to claim a source of")
            return (
                conn.execute(
                    "INSERT INTO plan_sources (plan_id, source_id, next_poll_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (plan_id, source_id) DO UPDATE SET "
                    "next_poll_at = excluded.next_poll_at "
                    "WHERE plan_sources.next_poll_at IS NULL OR plan_sources.next_poll_at <= ?",
                    (plan_id, source_id, until_us, now_us),
                ).rowcount
                > 0
            )

    def save_source_state(self, state: SourcePollState) -> None:
        if state.status is not None and state.status not in SOURCE_POLL_STATUSES:
            raise StoreError(
                f"{self.label}: poll status {state.status!r} is not one of "
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
        with self._write(what) as conn:
            found = conn.execute("SELECT 1 FROM plans WHERE id = ?", (state.plan_id,))
            if found.fetchone() is None:
                raise StoreError(f"{self.label}: no plan {state.plan_id!r} for this poll state")
            conn.execute(
                f"INSERT INTO plan_sources ({_STATE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (plan_id, source_id) DO UPDATE SET "
                "last_poll_at = excluded.last_poll_at, status = excluded.status, "
                "http_status = excluded.http_status, etag = excluded.etag, "
                "last_modified = excluded.last_modified, failures = excluded.failures, "
                "next_poll_at = excluded.next_poll_at, last_error = excluded.last_error, "
                "posts_fetched = excluded.posts_fetched, last_posts = excluded.last_posts",
                values,
            )
