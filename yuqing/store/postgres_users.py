"""The PostgreSQL side of users, their personal API tokens and the app's own secrets: the
tables of migration 6 and the shared section :mod:`yuqing.store.sql_users` (a mixin of
:class:`yuqing.store.postgres.PostgresStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import PostgresSection
from yuqing.store.sql_users import UsersSection

MIGRATION_NAME = "users, API tokens and app secrets"
MIGRATION_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE users (
        username TEXT COLLATE "C" PRIMARY KEY,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL,            -- admin | analyst | viewer
        department TEXT,
        password_hash TEXT,            -- argon2; NULL: token sign-in only
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at BIGINT NOT NULL,    -- microseconds since the epoch, UTC
        last_login_at BIGINT
    )""",
    """CREATE TABLE api_tokens (
        id TEXT COLLATE "C" PRIMARY KEY,
        username TEXT COLLATE "C" NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,   -- SHA-256 hex; the token is shown once
        name TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL
    )""",
    "CREATE INDEX api_tokens_user ON api_tokens (username, created_at)",
    """CREATE TABLE app_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )""",
)


class PostgresUsers(PostgresSection, UsersSection):
    """The users section of the Store contract."""
