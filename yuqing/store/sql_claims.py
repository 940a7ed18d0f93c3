"""Claims (rumour verdicts, table of migration 7), in SQL shared by both backends
(:mod:`yuqing.store.dialect`).

A claim is kept whole as the JSON of ``yuqing.rumors.Claim.as_dict()`` beside the columns
that lists filter and sort on (verdict, event, last update). The store does not import
:mod:`yuqing.rumors`: it reads the few keys it indexes and keeps the rest as given.

**Lost updates.** Every verdict appends one entry to the claim's ``history``, which is
append-only. A save is accepted when the stored history is a prefix of the new one;
otherwise another writer saved first and the save raises
:class:`~yuqing.store.base.StoreConflictError`. ``version`` (the history's length) makes
the common check a column comparison. The stored claim is read with the dialect's row lock
(``FOR UPDATE`` in PostgreSQL; SQLite has one writer), so a second writer of the same claim
waits for the first to commit and is then checked against what it saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from yuqing.errors import StoreError
from yuqing.store.base import CLAIM_VERDICTS, StoreConflictError
from yuqing.store.dialect import Section
from yuqing.store.rows import to_micros


def _text(claim: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = claim.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise StoreError(f"{where}: the claim record has no {key!r}; save Claim.as_dict()")
        return None
    if not isinstance(value, str):
        raise StoreError(f"{where}: the claim's {key!r} must be text, got {type(value).__name__}")
    return value


def _micros(value: object, where: str) -> int:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise StoreError(f"{where}: updated_at {value!r} is not an ISO 8601 time") from exc
    if when.tzinfo is None:
        raise StoreError(f"{where}: updated_at {value!r} has no time zone; save aware times")
    micros = to_micros(when, "updated_at")
    assert micros is not None
    return micros


def claim_columns(claim: Mapping[str, Any], where: str) -> tuple[Any, ...]:
    """The indexed columns of a claim record, checked: (id, statement, verdict, event_id,
    updated_at, version)."""
    if not isinstance(claim, Mapping):
        raise StoreError(f"{where}: a claim must be saved as the dict of Claim.as_dict()")
    claim_id = _text(claim, "id", where)
    where = f"{where}: claim {claim_id}"
    statement = _text(claim, "statement", where)
    verdict = _text(claim, "verdict", where)
    if verdict not in CLAIM_VERDICTS:
        raise StoreError(f"{where}: verdict {verdict!r} is not one of {', '.join(CLAIM_VERDICTS)}")
    history = claim.get("history") or []
    if not isinstance(history, list):
        raise StoreError(f"{where}: history must be a list (the verdicts given so far)")
    updated = _micros(claim.get("updated_at"), where)
    event_id = _text(claim, "event_id", where, required=False)
    return claim_id, statement, verdict, event_id, updated, len(history)


def check_history(
    where: str, claim_id: str, stored: Mapping[str, Any], given: Mapping[str, Any]
) -> None:
    """StoreConflictError unless the stored history is a prefix of the given one."""
    before = list(stored.get("history") or [])
    after = list(given.get("history") or [])
    if after[: len(before)] != before:
        raise StoreConflictError(
            f"{where}: claim {claim_id} was changed since this copy was read (stored: "
            f"{len(before)} verdicts, this copy: {len(after)}); read the claim again, "
            "apply the change again and save"
        )


class ClaimsSection(Section):
    """``save_claim``, ``get_claim`` and ``claims`` of the Store contract."""

    def save_claim(self, claim: dict[str, Any]) -> bool:
        columns = claim_columns(claim, self.label)
        claim_id = columns[0]
        try:
            data = orjson.dumps(claim).decode()
        except TypeError as exc:
            raise StoreError(f"{self.label}: claim {claim_id} is not JSON-ready: {exc}") from exc
        with self._write(f"saving claim {claim_id}") as conn:
            inserted = conn.execute(
                "INSERT INTO claims (id, statement, verdict, event_id, updated_at, version, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (*columns, data),
            ).rowcount
            if inserted:
                return True
            row = conn.execute(
                f"SELECT data FROM claims WHERE id = ?{self.dialect.for_update}", (claim_id,)
            ).fetchone()
            if row is not None:
                check_history(self.label, claim_id, orjson.loads(row[0]), orjson.loads(data))
            conn.execute(
                "UPDATE claims SET statement = ?, verdict = ?, event_id = ?, "
                "updated_at = ?, version = ?, data = ? WHERE id = ?",
                (*columns[1:], data, claim_id),
            )
        return False

    def get_claim(self, claim_id: str) -> dict[str, Any] | None:
        with self._read(f"reading claim {claim_id}") as conn:
            row = conn.execute("SELECT data FROM claims WHERE id = ?", (claim_id,)).fetchone()
        return None if row is None else dict(orjson.loads(row[0]))

    def claims(
        self,
        *,
        verdict: str | None = None,
        event_id: str | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        if verdict is not None and verdict not in CLAIM_VERDICTS:
            raise StoreError(
                f"{self.label}: claim verdict {verdict!r} is not one of {', '.join(CLAIM_VERDICTS)}"
            )
        where: list[str] = []
        params: list[object] = []
        for column, value in (("verdict", verdict), ("event_id", event_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._read("listing claims") as conn:
            rows = conn.execute(
                f"SELECT data FROM claims {clause} ORDER BY updated_at DESC, id DESC LIMIT ?",
                [*params, max(limit, 0)],
            ).fetchall()
        return [dict(orjson.loads(data)) for (data,) in rows]
