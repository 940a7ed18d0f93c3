"""The Store contract. Every backend (SQLite now, PostgreSQL in server mode) implements it,
and one contract test suite (tests/store/) runs over all of them. No SQL outside store/.
The records the methods take and return live in yuqing.store.records and are re-exported
here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from yuqing.models import Cursor, Document, SearchHit, StoreStats
from yuqing.store.records import (
    ALERT_STATUSES,
    AUDIT_ACTIONS,
    CASE_STATUSES,
    CLAIM_VERDICTS,
    CORRECTION_KINDS,
    DIMENSIONS,
    ROLES,
    SLOT_SECONDS,
    SOURCE_POLL_STATUSES,
    SUBSCRIPTION_MODES,
    AddResult,
    AlertStatus,
    AuditAction,
    AuditEntry,
    Correction,
    CorrectionKind,
    Dimension,
    EventOrder,
    EventRollup,
    PollStatus,
    Role,
    SourcePollState,
    StoreConflictError,
    StoredAlert,
    StoredRule,
    StoredToken,
    StoredUser,
    Subscription,
    SubscriptionMode,
    SuppressedAuthor,
    TrendCount,
)

if TYPE_CHECKING:
    from yuqing.alerts.alert import Alert
    from yuqing.alerts.delivery import DeliveryAttempt
    from yuqing.events.event import Event

__all__ = [
    "ALERT_STATUSES",
    "AUDIT_ACTIONS",
    "CASE_STATUSES",
    "CLAIM_VERDICTS",
    "CORRECTION_KINDS",
    "DIMENSIONS",
    "ROLES",
    "SLOT_SECONDS",
    "SOURCE_POLL_STATUSES",
    "SUBSCRIPTION_MODES",
    "AddResult",
    "AlertStatus",
    "AuditAction",
    "AuditEntry",
    "Correction",
    "CorrectionKind",
    "Dimension",
    "EventOrder",
    "EventRollup",
    "PollStatus",
    "Role",
    "SourcePollState",
    "Store",
    "StoreConflictError",
    "StoredAlert",
    "StoredRule",
    "StoredToken",
    "StoredUser",
    "Subscription",
    "SubscriptionMode",
    "SuppressedAuthor",
    "TrendCount",
]


class Store(Protocol):
    url: str

    def migrate(self) -> int:
        """Bring the schema up to date; return the schema version."""
        ...

    def add_documents(self, docs: Sequence[Document], cursor: Cursor | None = None) -> AddResult:
        """Insert new documents (idempotent by (source, id)) and, in the same transaction,
        save ``cursor``; a crash loses nothing that this call reported stored."""
        ...

    def existing_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (source, id) keys are already stored."""
        ...

    def get_document(self, source: str, id: str) -> Document | None: ...

    def duplicate_count(self, source: str, id: str) -> int | None:
        """How many later posts were marked duplicate_of this one (None: no such post)."""
        ...

    def recent_documents(self, since: datetime, limit: int) -> Iterator[Document]:
        """Documents ingested or published since ``since`` (newest last), to warm the
        near-duplicate index after a restart."""
        ...

    def get_cursor(self, source_key: str) -> Cursor | None: ...

    def documents_after(self, position: int, limit: int = 1000) -> list[tuple[int, Document]]:
        """Up to ``limit`` stored documents after storage ``position`` (0: from the first),
        in storage order, each with its position: page through the whole history by passing
        the last position back. Positions only grow; they are not ids."""
        ...

    def update_analysis(self, updates: Sequence[tuple[str, str, dict[str, Any]]]) -> int:
        """Replace the ``analysis`` of stored documents given as (source, id, analysis), in one
        transaction; return how many were found and changed (unknown keys are skipped). An
        analysis that is not a JSON object raises StoreError naming it, and nothing changes."""
        ...

    def index_pending(self, limit: int = 10_000) -> int:
        """Index up to ``limit`` stored documents for search that are not indexed yet;
        return how many were indexed (0 when search is up to date)."""
        ...

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
    ) -> list[SearchHit]:
        """Substring search on the normalized (Simplified) text; 2-character queries work."""
        ...

    def count_matches(self, query: str) -> int: ...

    def stats(self) -> StoreStats: ...

    # -- what the dashboard and the API read ---------------------------------------------

    def upsert_events(self, events: Sequence[Event]) -> int:
        """Save the clusterer's events (insert or replace by id); return how many."""
        ...

    def trend_counts(
        self,
        dimension: Dimension,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_id: str | None = None,
    ) -> list[TrendCount]:
        """Posts per UTC quarter-hour and value of ``dimension`` (``since`` inclusive,
        ``until`` exclusive, on published_at), optionally of one event; posts without a
        value are left out (``total`` counts every post under the value ``""``)."""
        ...

    def label_counts(
        self,
        dimension: Dimension,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        event_id: str | None = None,
        limit: int = 100,
    ) -> dict[str, int]:
        """The ``limit`` most frequent values of ``dimension``, largest first."""
        ...

    def event_rollups(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[EventRollup]:
        """The ``limit`` largest events by posts in the window (or exactly ``ids``), with
        their posts in the window added up; largest first."""
        ...

    def event_documents(self, event_id: str, *, order: EventOrder, limit: int) -> list[Document]:
        """Posts of one event: ``time`` oldest first, ``engagement`` by reposts + comments
        + likes, ``risk`` by the higher of the rumour and group-incident scores."""
        ...

    def latest_documents(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Sequence[str] = (),
        limit: int = 20,
    ) -> list[Document]:
        """The newest documents by published_at in the window, newest first."""
        ...

    # -- alerts, their deliveries and the monitoring rules saved through the API -----------

    def add_alerts(self, alerts: Sequence[Alert]) -> int:
        """Save alerts, idempotent by id: a stored alert keeps its status and only its
        ``suppressed`` count may grow. Returns how many were new."""
        ...

    def alerts(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: AlertStatus | None = None,
        rule_id: str | None = None,
        limit: int = 100,
    ) -> list[StoredAlert]:
        """Stored alerts, newest first (``created_at`` in [since, until))."""
        ...

    def alerts_after(self, seq: int, limit: int = 100) -> list[StoredAlert]:
        """Alerts stored after the one numbered ``seq`` (0: from the first), oldest first:
        the alert stream reads these."""
        ...

    def get_alert(self, alert_id: str) -> StoredAlert | None: ...

    def last_alert_seq(self) -> int:
        """The ``seq`` of the newest stored alert (0 when there is none)."""
        ...

    def acknowledge_alert(self, alert_id: str, who: str, at: datetime) -> bool:
        """Mark an alert acknowledged by ``who`` at ``at``; False when it already was (the
        first acknowledgement stays). An unknown id raises StoreError naming it."""
        ...

    def record_delivery(self, attempt: DeliveryAttempt) -> None:
        """Append one delivery attempt to the delivery log."""
        ...

    def deliveries(self, *, alert_id: str | None = None, limit: int = 100) -> list[DeliveryAttempt]:
        """Delivery attempts, newest first (of one alert, or of all)."""
        ...

    def save_rule(
        self,
        rule_id: str,
        name: str,
        query: str,
        triggers_json: str,
        enabled: bool,
        *,
        severity: str = "medium",
    ) -> bool:
        """Insert or replace a monitoring rule; True when it is new. ``triggers_json`` is a
        JSON array of trigger tables (StoreError when it is not)."""
        ...

    def rules(self) -> list[StoredRule]:
        """The saved monitoring rules, by id."""
        ...

    def delete_rule(self, rule_id: str) -> bool:
        """Delete a saved rule; False when there was none with that id."""
        ...

    # -- cases (yuqing.cases): the whole case as Case.as_dict() plus indexed columns -------

    def save_case(self, case: dict[str, Any]) -> bool:
        """Insert or update a case given as ``Case.as_dict()``; True when it is new.

        Optimistic: every change to a case appends to its action log, so the stored log
        must be a prefix of the given one; when it is not (someone saved a change since
        this copy was read) StoreConflictError names the case and the stored last action,
        and nothing is written. A record without an id, title, level, status or an aware
        ``opened_at`` raises StoreError."""
        ...

    def get_case(self, case_id: str) -> dict[str, Any] | None:
        """The stored ``Case.as_dict()`` of this id, or None."""
        ...

    def cases(
        self,
        *,
        status: str | None = None,
        event_id: str | None = None,
        alert_id: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Stored cases (``Case.as_dict()``), newest opened first, optionally only those
        with ``status`` (StoreError for an unknown one), of one event or one alert."""
        ...

    # -- claims (yuqing.rumors): rumour verdicts as Claim.as_dict() plus indexed columns ------

    def save_claim(self, claim: dict[str, Any]) -> bool:
        """Insert or update a claim given as ``Claim.as_dict()``; True when it is new.

        Optimistic like cases: every verdict appends to the claim's ``history``, so the
        stored history must be a prefix of the given one, else StoreConflictError names the
        claim and nothing is written. A record without an id, a statement, a verdict of
        ``CLAIM_VERDICTS`` or an aware ``updated_at`` raises StoreError."""
        ...

    def get_claim(self, claim_id: str) -> dict[str, Any] | None:
        """The stored ``Claim.as_dict()`` of this id, or None."""
        ...

    def claims(
        self,
        *,
        verdict: str | None = None,
        event_id: str | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Stored claims (``Claim.as_dict()``), most recently updated first, optionally only
        those with ``verdict`` (StoreError for an unknown one) or of one event."""
        ...

    # -- users, their API tokens and the app's secrets (yuqing.users, yuqing.web.auth) -------

    def add_user(self, user: StoredUser) -> bool:
        """Insert a user (with its ``password_hash``, if any); False, and nothing changes,
        when the username is taken. An unknown role or a naive ``created_at`` raises
        StoreError."""
        ...

    def get_user(self, username: str) -> StoredUser | None:
        """The user of this name (exact match), with its password hash; None if none."""
        ...

    def users(self) -> list[StoredUser]:
        """Every user (disabled ones too), by username."""
        ...

    def update_user(self, user: StoredUser) -> bool:
        """Save ``display_name``, ``role``, ``department`` and ``disabled`` of the stored user
        with this username (not the password hash, created_at or last_login_at); False when
        there is no such user."""
        ...

    def set_password_hash(self, username: str, password_hash: str | None) -> bool:
        """Replace a user's password hash (None: no password sign-in); False if no user."""
        ...

    def record_login(self, username: str, at: datetime) -> bool:
        """Set the user's ``last_login_at``; False when there is no such user."""
        ...

    def add_api_token(self, token: StoredToken, token_hash: str) -> None:
        """Save a personal API token by the SHA-256 hex of the token. StoreError when the
        user does not exist or the id or hash is already stored."""
        ...

    def api_tokens(self, username: str | None = None) -> list[StoredToken]:
        """Stored tokens (of one user, or of all), oldest first; never the hashes."""
        ...

    def user_for_token(self, token_hash: str) -> StoredUser | None:
        """The owner of the token with this SHA-256 hex (disabled or not), or None."""
        ...

    def revoke_api_token(self, token_id: str) -> bool:
        """Delete a token by id; False when there was none."""
        ...

    def app_secret(self, name: str, candidate: str) -> str:
        """The secret stored under ``name``; when there is none yet, store ``candidate`` and
        return it (atomic: every process of one store gets the same secret)."""
        ...

    # -- corrections (yuqing.corrections): the corrections log ------------------------------

    def add_correction(
        self,
        correction: Correction,
        updates: Sequence[tuple[str, str, dict[str, Any]]] = (),
    ) -> Correction:
        """Append ``correction`` to the corrections log and, in the same transaction, replace
        the analysis of the documents in ``updates`` (as :meth:`update_analysis`); return the
        correction with its ``id``. An unknown kind, a blank ``by`` or ``target``, a naive
        ``at`` or values that are not JSON raise StoreError, and nothing changes."""
        ...

    def corrections(
        self,
        *,
        kind: str | None = None,
        target: str | None = None,
        after: int = 0,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[Correction]:
        """Logged corrections (of one kind, of one target), with ``id`` > ``after``; newest
        first, or oldest first to page through the whole log by passing the last id back."""
        ...

    def mark_false_alarm(self, alert_id: str, correction: Correction) -> bool:
        """Set an alert's status to ``false_alarm`` (who and when in ``acknowledged_by`` /
        ``acknowledged_at``) and log ``correction``, in one transaction; False (nothing
        logged) when it already was one. An unknown id raises StoreError naming it."""
        ...

    # -- monitoring plans (yuqing.plans): Plan.as_dict() plus indexed columns, poll state ------

    def save_plan(self, plan: dict[str, Any]) -> bool:
        """Insert or replace a plan given as ``Plan.as_dict()``; True when it is new. The
        stored ``created_at`` stays when the record has none; the poll state of sources the
        plan no longer lists (by source ``id``) is dropped. A record without an id or name,
        with a non-boolean ``enabled`` or without any aware time raises StoreError."""
        ...

    def get_plan(self, plan_id: str) -> dict[str, Any] | None:
        """The stored ``Plan.as_dict()`` of this id, or None."""
        ...

    def plans(
        self, *, enabled: bool | None = None, department: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored plans by id, optionally only enabled (or disabled) ones, or one owner
        department's."""
        ...

    def delete_plan(self, plan_id: str) -> bool:
        """Delete a plan and its sources' poll state; False when there was none."""
        ...

    def plan_source_states(self, plan_id: str | None = None) -> list[SourcePollState]:
        """Poll state of the sources of one plan (or of all), by plan then source id; a
        source never claimed has none."""
        ...

    def claim_plan_source(
        self, plan_id: str, source_id: str, now: datetime, until: datetime
    ) -> bool:
        """Take the next poll of a source when it is due (no state yet, or ``next_poll_at``
        at or before ``now``): set ``next_poll_at`` to ``until`` (a lease, so that a
        poller that dies does not hold it forever) and return True; False when it is not
        due or another poller took it. Atomic across connections and processes. An
        unknown plan raises StoreError."""
        ...

    def save_source_state(self, state: SourcePollState) -> None:
        """Write a source's poll state after its poll (insert or replace). An unknown plan
        or status raises StoreError."""
        ...

    # -- privacy (yuqing.privacy): audit log, retention, deletion and blocking of authors ------

    def add_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append ``entry`` to the audit log; return it with its ``id``. The log is
        append-only: the store has no way to change or delete an entry (and refuses an
        UPDATE of one). An unknown action, a blank actor, a naive ``at`` or details that
        are not a JSON object raise StoreError."""
        ...

    def audit_log(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        after: int = 0,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[AuditEntry]:
        """Audit entries with ``at`` in [since, until), of one actor or action, ``id`` >
        ``after``; newest first, or oldest first to page through the whole log."""
        ...

    def remove_texts(
        self,
        before: datetime,
        *,
        source: str | None = None,
        exclude_sources: Sequence[str] = (),
        limit: int = 5000,
        dry_run: bool = False,
    ) -> int:
        """Retention: remove the raw text and personal fields (text, norm_text, quoted_text,
        title, url, author and its followers and verified flag, repost chain, urls, mentions,
        tokens, extra, the analysis's ``explain`` words) of up to ``limit`` posts published
        (else ingested) before ``before`` whose text is still there, of one ``source`` or of
        every source but ``exclude_sources``, and take them out of the search index, in one
        transaction. Labels, event ids, counts, times, sources, regions, keywords and
        duplicate links stay, so trends and event figures do not change. Returns how many
        posts (with ``dry_run``: how many would be changed, without the limit)."""
        ...

    def delete_author_documents(
        self, author: str, *, source: str | None = None, dry_run: bool = False
    ) -> int:
        """Delete every stored post whose ``author`` is exactly ``author`` (of one source, or
        of all), with its search index entry, in one transaction; return how many (with
        ``dry_run``: how many would go). A blank author raises StoreError."""
        ...

    def suppress_author(self, entry: SuppressedAuthor) -> bool:
        """Put ``entry`` on the suppression list (insert, or replace the actor, time and
        reason of the same author and source); True when new. Ingest drops the posts of
        listed authors. A blank author or actor, or a naive ``at``, raises StoreError."""
        ...

    def unsuppress_author(self, author: str, source: str | None = None) -> bool:
        """Take (author, source) off the suppression list (``source`` None: the entry of
        every source); False when it was not there."""
        ...

    def suppressed_authors(self) -> list[SuppressedAuthor]:
        """The suppression list, by author then source (every source first)."""
        ...

    def suppression_mark(self) -> tuple[int, int]:
        """A cheap mark of the suppression list that changes whenever an entry is added or
        removed (not when one is replaced), for callers that cache the list."""
        ...

    # -- subscriptions (yuqing.alerts.subscriptions): one per user and plan -----------------

    def save_subscription(self, subscription: Subscription) -> bool:
        """Insert or replace the subscription of (username, plan_id); True when new. An
        unknown user or plan, or a mode not in SUBSCRIPTION_MODES, raises StoreError."""
        ...

    def subscriptions(
        self, *, username: str | None = None, plan_id: str | None = None
    ) -> list[Subscription]:
        """The subscriptions (of one user, of one plan), by username then plan id. Deleting
        a plan or a user deletes theirs."""
        ...

    def delete_subscription(self, username: str, plan_id: str) -> bool:
        """Delete one; False when there was none."""
        ...

    def close(self) -> None: ...
