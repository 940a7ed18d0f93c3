"""Numbered schema migrations of the SQLite store.

Each migration is a list of statements applied in one transaction together with its row in
``schema_migrations``; the schema version is the highest applied number. Migrations are only
ever appended: never edit one that has shipped, add the next number instead.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from yuqing.errors import MigrationError
from yuqing.store import sqlite_privacy, sqlite_rollups, sqlite_subscriptions
from yuqing.store.searchtext import FTS_TOKENIZER


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "documents and cursors",
        (
            """CREATE TABLE documents (
                pk INTEGER PRIMARY KEY,
                source TEXT NOT NULL,
                id TEXT NOT NULL,
                text TEXT NOT NULL,
                norm_text TEXT NOT NULL DEFAULT '',
                quoted_text TEXT NOT NULL DEFAULT '',
                title TEXT,
                url TEXT,
                author TEXT,
                author_followers INTEGER,
                author_verified INTEGER,
                published_at INTEGER,          -- microseconds since the epoch, UTC
                ingested_at INTEGER,           -- microseconds since the epoch, UTC
                region TEXT,
                reposts INTEGER NOT NULL DEFAULT 0,
                comments INTEGER NOT NULL DEFAULT 0,
                likes INTEGER NOT NULL DEFAULT 0,
                parent_id TEXT,
                extra TEXT,                    -- JSON object or NULL when empty
                repost_chain TEXT,             -- JSON [{user, text}] or NULL
                urls TEXT,
                mentions TEXT,
                hashtags TEXT,
                emojis TEXT,
                content_hash TEXT NOT NULL DEFAULT '',
                duplicate_of TEXT,
                duplicate_of_source TEXT,
                repost_of TEXT,
                repost_of_source TEXT,
                duplicates INTEGER NOT NULL DEFAULT 0,  -- stored posts that duplicate this one
                tokens TEXT NOT NULL DEFAULT '',        -- space-joined
                keywords TEXT,                 -- JSON [[word, score]] or NULL
                analysis TEXT,                 -- JSON object or NULL
                indexed INTEGER NOT NULL DEFAULT 0,     -- 1 once in the search index
                UNIQUE (source, id)
            )""",
            "CREATE INDEX documents_published_at ON documents (published_at)",
            "CREATE INDEX documents_content_hash ON documents (content_hash)",
            """CREATE TABLE cursors (
                source_key TEXT PRIMARY KEY,
                position INTEGER NOT NULL,
                line INTEGER NOT NULL,
                fingerprint TEXT NOT NULL DEFAULT '',
                updated_at INTEGER NOT NULL
            )""",
        ),
    ),
    Migration(
        2,
        "bigram search index",
        (
            # Contentless: the text lives in documents; rowid = documents.pk.
            f"""CREATE VIRTUAL TABLE search_index USING fts5(
                terms, content='', columnsize=0, tokenize="{FTS_TOKENIZER}"
            )""",
            "CREATE INDEX documents_unindexed ON documents (pk) WHERE indexed = 0",
        ),
    ),
    Migration(
        3,
        "analysis columns and events for the dashboard",
        (
            # Virtual generated columns: computed from the analysis JSON on read, so the write
            # path is unchanged and rows stored before this migration have them too; the
            # indexes below store the computed values.
            "ALTER TABLE documents ADD COLUMN sentiment TEXT "
            "GENERATED ALWAYS AS (json_extract(analysis, '$.sentiment')) VIRTUAL",
            "ALTER TABLE documents ADD COLUMN emotion TEXT "
            "GENERATED ALWAYS AS (json_extract(analysis, '$.emotion')) VIRTUAL",
            "ALTER TABLE documents ADD COLUMN risk_type TEXT "
            "GENERATED ALWAYS AS (json_extract(analysis, '$.risk.type')) VIRTUAL",
            "ALTER TABLE documents ADD COLUMN event_id TEXT "
            "GENERATED ALWAYS AS (json_extract(analysis, '$.event_id')) VIRTUAL",
            "CREATE INDEX documents_event ON documents (event_id, published_at) "
            "WHERE event_id IS NOT NULL",
            # Covers the trend queries: a time range grouped by label or source.
            "CREATE INDEX documents_time_labels ON documents "
            "(published_at, sentiment, emotion, risk_type, source)",
            """CREATE TABLE events (
                id TEXT PRIMARY KEY,
                title TEXT NOT NULL DEFAULT '',
                first_source TEXT NOT NULL,
                first_id TEXT NOT NULL,
                first_seen INTEGER NOT NULL,   -- microseconds since the epoch, UTC
                last_seen INTEGER NOT NULL,
                size INTEGER NOT NULL,
                status TEXT NOT NULL,
                data TEXT NOT NULL,            -- Event.as_dict() as JSON
                updated_at INTEGER NOT NULL
            )""",
            "CREATE INDEX events_last_seen ON events (last_seen)",
        ),
    ),
    Migration(
        4,
        "alerts, delivery log and monitoring rules",
        (
            # seq: insertion order, the cursor of the alert stream (ids are hashes).
            """CREATE TABLE alerts (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                rule_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                severity TEXT NOT NULL,
                event_id TEXT,
                created_at INTEGER NOT NULL,   -- microseconds since the epoch, UTC
                suppressed INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'new',   -- new | acknowledged
                acknowledged_by TEXT,
                acknowledged_at INTEGER,
                data TEXT NOT NULL             -- Alert.as_payload() as JSON
            )""",
            "CREATE INDEX alerts_created ON alerts (created_at, seq)",
            "CREATE INDEX alerts_rule ON alerts (rule_id, created_at)",
            "CREATE INDEX alerts_status ON alerts (status, created_at)",
            """CREATE TABLE deliveries (
                pk INTEGER PRIMARY KEY,
                alert_id TEXT NOT NULL,
                rule_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                at INTEGER NOT NULL,
                ok INTEGER NOT NULL,
                final INTEGER NOT NULL,
                data TEXT NOT NULL             -- DeliveryAttempt.to_dict() as JSON
            )""",
            "CREATE INDEX deliveries_alert ON deliveries (alert_id, pk)",
            """CREATE TABLE monitor_rules (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                query TEXT NOT NULL,
                triggers TEXT NOT NULL,        -- JSON array of trigger tables
                severity TEXT NOT NULL DEFAULT 'medium',
                enabled INTEGER NOT NULL DEFAULT 1,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            )""",
        ),
    ),
    Migration(
        5,
        "cases",
        (
            # The whole case is Case.as_dict() as JSON; the columns are what lists filter and
            # sort on. version = the length of the case's action log (every change appends
            # one): the optimistic check that refuses lost updates (sqlite_cases.py).
            """CREATE TABLE cases (
                id TEXT PRIMARY KEY,
                title TEXT NOT NULL,
                level TEXT NOT NULL,
                status TEXT NOT NULL,
                event_id TEXT,
                alert_id TEXT,
                owner TEXT,
                opened_at INTEGER NOT NULL,    -- microseconds since the epoch, UTC
                updated_at INTEGER NOT NULL,   -- the last action's time
                version INTEGER NOT NULL,
                data TEXT NOT NULL             -- Case.as_dict() as JSON
            )""",
            "CREATE INDEX cases_status ON cases (status, opened_at)",
            "CREATE INDEX cases_event ON cases (event_id, opened_at) WHERE event_id IS NOT NULL",
            "CREATE INDEX cases_alert ON cases (alert_id) WHERE alert_id IS NOT NULL",
            "CREATE INDEX cases_opened ON cases (opened_at)",
        ),
    ),
    Migration(
        6,
        "users, API tokens and app secrets",
        (
            # role: admin | analyst | viewer; password_hash: argon2 (NULL: token sign-in only)
            """CREATE TABLE users (
                username TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                role TEXT NOT NULL,
                department TEXT,
                password_hash TEXT,
                disabled INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,   -- microseconds since the epoch, UTC
                last_login_at INTEGER
            )""",
            # Only the SHA-256 hex of a token is kept; the token is shown once.
            """CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL DEFAULT '',
                created_at INTEGER NOT NULL
            )""",
            "CREATE INDEX api_tokens_user ON api_tokens (username, created_at)",
            # Secrets the app makes for itself (the session-cookie key), shared by processes.
            """CREATE TABLE app_secrets (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_at INTEGER NOT NULL
            )""",
        ),
    ),
    Migration(
        7,
        "claims (rumour verdicts)",
        (
            # The whole claim is Claim.as_dict() as JSON; version = the length of its
            # verdict history (the optimistic check of sqlite_claims.py).
            """CREATE TABLE claims (
                id TEXT PRIMARY KEY,
                statement TEXT NOT NULL,
                verdict TEXT NOT NULL,         -- true | false | unverified
                event_id TEXT,
                updated_at INTEGER NOT NULL,   -- microseconds since the epoch, UTC
                version INTEGER NOT NULL,
                data TEXT NOT NULL             -- Claim.as_dict() as JSON
            )""",
            "CREATE INDEX claims_updated ON claims (updated_at)",
            "CREATE INDEX claims_verdict ON claims (verdict, updated_at)",
            "CREATE INDEX claims_event ON claims (event_id) WHERE event_id IS NOT NULL",
        ),
    ),
    Migration(
        8,
        "corrections log",
        (
            # One row per analyst correction (yuqing.corrections): what (kind), of what
            # (target: "source/id" of a post, an event id, an alert id), the old and new
            # value as JSON, who, when, and a note. Append-only.
            """CREATE TABLE corrections (
                pk INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,            -- sentiment | emotion | risk | event_merge | event_split | false_alarm
                target TEXT NOT NULL,
                old_value TEXT,                -- JSON or NULL
                new_value TEXT,                -- JSON or NULL
                corrected_by TEXT NOT NULL,
                corrected_at INTEGER NOT NULL, -- microseconds since the epoch, UTC
                note TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX corrections_target ON corrections (target, pk)",
            "CREATE INDEX corrections_kind ON corrections (kind, pk)",
        ),
    ),
    Migration(
        9,
        "monitoring plans and the poll state of their sources",
        (
            # The whole plan is Plan.as_dict() as JSON (yuqing.plans); the columns are what
            # lists filter on. department: the owner department (data scope comes later).
            """CREATE TABLE plans (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                enabled INTEGER NOT NULL DEFAULT 1,
                department TEXT,
                created_at INTEGER NOT NULL,   -- microseconds since the epoch, UTC
                updated_at INTEGER NOT NULL,
                data TEXT NOT NULL             -- Plan.as_dict() as JSON
            )""",
            "CREATE INDEX plans_department ON plans (department) WHERE department IS NOT NULL",
            # One row per polled source of a plan; next_poll_at is also the lease of a
            # claimed poll (sqlite_plans.claim_plan_source).
            """CREATE TABLE plan_sources (
                plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
                source_id TEXT NOT NULL,
                last_poll_at INTEGER,
                status TEXT,                   -- ok | not_modified | error
                http_status INTEGER,
                etag TEXT,
                last_modified TEXT,
                failures INTEGER NOT NULL DEFAULT 0,   -- errors in a row
                next_poll_at INTEGER,
                last_error TEXT,
                posts_fetched INTEGER NOT NULL DEFAULT 0,
                last_posts INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (plan_id, source_id)
            )""",
            "CREATE INDEX plan_sources_due ON plan_sources (next_poll_at)",
        ),
    ),
    Migration(
        10,
        "audit log (privacy)",
        (
            # Append-only (yuqing.privacy.audit): who did what, when, from where. The store
            # offers no update or delete, and a trigger refuses UPDATE.
            """CREATE TABLE audit_log (
                pk INTEGER PRIMARY KEY,
                action TEXT NOT NULL,          -- login | login_failed | export | ...
                actor TEXT NOT NULL,
                at INTEGER NOT NULL,           -- microseconds since the epoch, UTC
                client TEXT NOT NULL DEFAULT '',
                target TEXT NOT NULL DEFAULT '',
                details TEXT NOT NULL DEFAULT '{}'   -- JSON object
            )""",
            "CREATE INDEX audit_log_at ON audit_log (at, pk)",
            "CREATE INDEX audit_log_actor ON audit_log (actor, pk)",
            """CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        ),
    ),
    # Pre-aggregated counts, their upkeep triggers, backfilled (yuqing.store.sqlite_rollups).
    Migration(11, sqlite_rollups.MIGRATION_NAME, sqlite_rollups.MIGRATION_STATEMENTS),
    # Users' subscriptions to plans (yuqing.store.sqlite_subscriptions).
    Migration(12, sqlite_subscriptions.MIGRATION_NAME, sqlite_subscriptions.MIGRATION_STATEMENTS),
    Migration(
        13,
        "drop the unused content_hash index",
        (
            # No query reads documents by content_hash (near-duplicates are found by the
            # dedup stage's own index), and each insert paid for a random B-tree position
            # in it: about 4 us a post of the write path (docs/PERFORMANCE.md).
            "DROP INDEX IF EXISTS documents_content_hash",
        ),
    ),
    # Authors no longer collected (yuqing.privacy.blocking, yuqing.store.sqlite_privacy).
    Migration(
        14,
        sqlite_privacy.SUPPRESSION_MIGRATION_NAME,
        sqlite_privacy.SUPPRESSION_MIGRATION_STATEMENTS,
    ),
)

LATEST = MIGRATIONS[-1].version

_BOOTSTRAP = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)"""


def current_version(conn: sqlite3.Connection) -> int:
    """The highest applied migration (0 for a new database)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def apply_migrations(conn: sqlite3.Connection, where: str, target: int = LATEST) -> int:
    """Apply the pending migrations up to ``target`` in one transaction; return the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Idempotent: a database at
    ``target`` is left alone. A database newer than this code raises MigrationError.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(_BOOTSTRAP)
            version = current_version(conn)
            if version > LATEST:
                raise MigrationError(
                    f"{where}: schema version {version} is newer than this yuqing knows "
                    f"({LATEST}); upgrade yuqing or open another store"
                )
            for migration in MIGRATIONS:
                if version < migration.version <= target:
                    for statement in migration.statements:
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        (migration.version, migration.name, time.time_ns() // 1000),
                    )
                    version = migration.version
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise MigrationError(f"{where}: cannot migrate the schema: {exc}") from exc
    return version
