"""The PostgreSQL side of claims (rumour verdicts, table of migration 7); the record checks
and the lost-update rule are :mod:`yuqing.store.sqlite_claims`' (reused from there), only
the locking differs: the stored claim is read ``FOR UPDATE``, so a second writer of the
same claim waits for the first to commit and is then checked against what it saved.

A mixin of :class:`yuqing.store.postgres.PostgresStore`; :data:`MIGRATION_STATEMENTS` are
the statements of its migration 7.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from psycopg.rows import TupleRow

from yuqing.errors import StoreError
from yuqing.store.base import CLAIM_VERDICTS
from yuqing.store.sqlite_claims import check_history, claim_columns

MIGRATION_NAME = "claims (rumour verdicts)"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE claims (
        id TEXT COLLATE "C" PRIMARY KEY,
        statement TEXT NOT NULL,
        verdict TEXT NOT NULL,         -- true | false | unverified
        event_id TEXT,
        updated_at BIGINT NOT NULL,    -- microseconds since the epoch, UTC
        version INTEGER NOT NULL,      -- the length of the verdict history
        data TEXT NOT NULL             -- Claim.as_dict() as JSON
    )""",
    "CREATE INDEX claims_updated ON claims (updated_at)",
    "CREATE INDEX claims_verdict ON claims (verdict, updated_at)",
    "CREATE INDEX claims_event ON claims (event_id) WHERE event_id IS NOT NULL",
)


class PostgresClaims:
    """``save_claim``, ``get_claim`` and ``claims`` of the Store contract."""

    if TYPE_CHECKING:
        url: str
        where: str

        def _errors(self, what: str) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

        def _transaction(
            self, what: str
        ) -> AbstractContextManager[psycopg.Connection[TupleRow]]: ...

    def save_claim(self, claim: dict[str, Any]) -> bool:
        columns = claim_columns(claim, self.where)
        claim_id = columns[0]
        try:
            data = orjson.dumps(claim).decode()
        except TypeError as exc:
            raise StoreError(f"{self.where}: claim {claim_id} is not JSON-ready: {exc}") from exc
        with self._transaction(f"saving claim {claim_id}") as conn:
            inserted = conn.execute(
                "INSERT INTO claims (id, statement, verdict, event_id, updated_at, version, data) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                (*columns, data),
            ).rowcount
            if inserted:
                return True
            row = conn.execute(
                "SELECT data FROM claims WHERE id = %s FOR UPDATE", (claim_id,)
            ).fetchone()
            if row is not None:
                check_history(self.where, claim_id, orjson.loads(row[0]), orjson.loads(data))
            conn.execute(
                "UPDATE claims SET statement = %s, verdict = %s, event_id = %s, "
                "updated_at = %s, version = %s, data = %s WHERE id = %s",
                (*columns[1:], data, claim_id),
            )
        return False

    def get_claim(self, claim_id: str) -> dict[str, Any] | None:
        with self._errors(f"reading claim {claim_id}") as conn:
            row = conn.execute("SELECT data FROM claims WHERE id = %s", (claim_id,)).fetchone()
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
                f"{self.where}: claim verdict {verdict!r} is not one of {', '.join(CLAIM_VERDICTS)}"
            )
        where: list[str] = []
        params: list[object] = []
        for column, value in (("verdict", verdict), ("event_id", event_id)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._errors("listing claims") as conn:
            rows = conn.execute(
                f"SELECT data FROM claims {clause} ORDER BY updated_at DESC, id DESC LIMIT %s",
                [*params, max(limit, 0)],
            ).fetchall()
        return [dict(orjson.loads(data)) for (data,) in rows]
