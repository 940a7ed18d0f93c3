"""The PostgreSQL side of claims (rumour verdicts): the table of migration 7 and the shared
section :mod:`yuqing.store.sql_claims` (a mixin of
:class:`yuqing.store.postgres.PostgresStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import PostgresSection
from yuqing.store.sql_claims import ClaimsSection

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


class PostgresClaims(PostgresSection, ClaimsSection):
    """``save_claim``, ``get_claim`` and ``claims`` of the Store contract."""
