"""The PostgreSQL side of monitoring plans and the poll state of their sources: the tables
of migration 9 and the shared section :mod:`yuqing.store.sql_plans` (a mixin of
:class:`yuqing.store.postgres.PostgresStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import PostgresSection
from yuqing.store.sql_plans import PlansSection

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


class PostgresPlans(PostgresSection, PlansSection):
    """The plans section of the Store contract."""
