"""The records and value types of the Store contract (yuqing.store.base): what the store's
methods take and return, with the enumerations they accept. Kept apart from the protocol so
that each stays readable; ``yuqing.store.base`` re-exports every name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from yuqing.errors import StoreError

if TYPE_CHECKING:
    from yuqing.alerts.alert import Alert

# What trend and distribution queries can group by: every post, an analysis label
# (sentiment, emotion, risk type), the source, the region names of ``analysis["regions"]``
# (else the input ``region``), or the event id.
Dimension = Literal["total", "sentiment", "emotion", "risk", "source", "region", "event"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
EventOrder = Literal["time", "engagement", "risk"]
# false_alarm: an analyst marked it a false alarm (yuqing.corrections); it is not escalated
AlertStatus = Literal["new", "acknowledged", "false_alarm"]
ALERT_STATUSES: tuple[str, ...] = get_args(AlertStatus)
SLOT_SECONDS = 900  # trend counts come in UTC quarter-hours (every zone offset is a multiple)


@dataclass(slots=True, frozen=True)
class AddResult:
    """What ``add_documents`` did: ``stored`` posts were new, ``existing`` were already there
    (same source and id), and are not changed."""

    stored: int
    existing: int


@dataclass(slots=True, frozen=True)
class TrendCount:
    """Posts published in the UTC quarter-hour starting at ``start`` with this ``value`` of
    the dimension. Callers cut quarter-hours into hours or days of their own zone."""

    start: datetime
    value: str
    count: int


@dataclass(slots=True)
class EventRollup:
    """One event as its stored posts add it up (grouped by ``analysis["event_id"]``).

    ``hourly`` holds (UTC hour start, posts) for the hours with posts, oldest first;
    ``stored`` is the clusterer's ``Event.as_dict()`` when it was upserted, else None.
    """

    id: str
    posts: int
    first_seen: datetime | None
    last_seen: datetime | None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    sentiment: dict[str, int] = field(default_factory=dict)
    emotion: dict[str, int] = field(default_factory=dict)
    risk: dict[str, int] = field(default_factory=dict)
    hourly: list[tuple[datetime, int]] = field(default_factory=list)
    stored: dict[str, Any] | None = None

    @property
    def title(self) -> str:
        return str(self.stored.get("title") or "") if self.stored else ""


@dataclass(slots=True)
class StoredAlert:
    """An alert as the store keeps it: the :class:`~yuqing.alerts.alert.Alert` (with the
    latest ``suppressed`` count), its insertion number ``seq`` (increasing: the alert
    stream's cursor) and whether a person acknowledged it, who and when."""

    alert: Alert
    seq: int
    status: AlertStatus = "new"
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


@dataclass(slots=True)
class StoredRule:
    """A monitoring rule saved through the API (``[[monitor.rules]]`` keys: ``triggers``
    is the list of trigger tables, checked by yuqing.alerts.rules_config on load)."""

    id: str
    name: str
    query: str
    triggers: list[dict[str, Any]]
    enabled: bool = True
    severity: str = "medium"
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def as_table(self) -> dict[str, Any]:
        """The rule as a ``[[monitor.rules]]`` table, for ``rules_config.load_rules``."""
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "triggers": self.triggers,
            "severity": self.severity,
            "enabled": self.enabled,
        }


class StoreConflictError(StoreError):
    """A write refused because the stored record changed since the caller read it (a lost
    update was prevented): read it again, apply the change again, save again."""


CASE_STATUSES: tuple[str, ...] = ("new", "assessing", "responding", "monitoring", "closed")


# -- users (yuqing.users, yuqing.web.auth) ----------------------------------------------------
Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)  # most rights first


@dataclass(slots=True, frozen=True)
class StoredUser:
    """A person who may sign in to the dashboard and the API. ``role``: viewer reads,
    analyst also changes rules, alerts and cases, admin also manages users. ``department``
    (部门, free text, may be None) scopes data in later features. ``password_hash`` is the
    argon2 hash (None: cannot sign in with a password, only with an API token); it is
    kept out of ``repr`` and never leaves the server."""

    username: str
    display_name: str
    role: Role
    created_at: datetime
    department: str | None = None
    disabled: bool = False
    last_login_at: datetime | None = None
    password_hash: str | None = field(default=None, repr=False)


@dataclass(slots=True, frozen=True)
class StoredToken:
    """A personal API token of ``username``; the store keeps only the SHA-256 of the token
    (the token itself is shown once, when it is made). ``id`` names it for listing and
    revoking."""

    id: str
    username: str
    name: str
    created_at: datetime


CLAIM_VERDICTS: tuple[str, ...] = ("true", "false", "unverified")  # yuqing.rumors


# -- corrections (yuqing.corrections) ----------------------------------------------------------
CorrectionKind = Literal[
    "sentiment", "emotion", "risk", "event_merge", "event_split", "false_alarm"
]
CORRECTION_KINDS: tuple[str, ...] = get_args(CorrectionKind)


@dataclass(slots=True)
class Correction:
    """One analyst correction as the corrections log keeps it: ``kind`` of change, its
    ``target`` (``"source/id"`` of a post for label kinds, the surviving or split event id for
    event kinds, an alert id), the ``old`` and ``new`` values (JSON-ready), ``by`` whom,
    ``at`` when (aware), an optional ``note``. ``id`` is given by the store (0 before)."""

    kind: CorrectionKind
    target: str
    old: Any
    new: Any
    by: str
    at: datetime
    note: str = ""
    id: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "old": self.old,
            "new": self.new,
            "by": self.by,
            "at": self.at.isoformat(),
            "note": self.note,
        }


# -- monitoring plans (yuqing.plans) ------------------------------------------------------------
PollStatus = Literal["ok", "not_modified", "error"]
SOURCE_POLL_STATUSES: tuple[str, ...] = get_args(PollStatus)


@dataclass(slots=True)
class SourcePollState:
    """How one source of one monitoring plan was last polled: when, with what outcome
    (``ok`` new content read, ``not_modified`` a 304, ``error``) and HTTP status, the
    validators for the next conditional GET (``etag``, ``last_modified``), errors in a row
    (``failures``), when it is due again (``next_poll_at``, also the lease of a claimed
    poll), the last error, and the posts it stored: ``last_posts`` in the last poll,
    ``posts_fetched`` in all."""

    plan_id: str
    source_id: str
    last_poll_at: datetime | None = None
    status: PollStatus | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_poll_at: datetime | None = None
    last_error: str | None = None
    posts_fetched: int = 0
    last_posts: int = 0


# -- privacy (yuqing.privacy): the audit log, retention and deletion of personal data ----------
AuditAction = Literal[
    "login",
    "login_failed",
    "export",
    "user_create",
    "user_change",
    "role_change",
    "user_disable",
    "plan_delete",
    "delete_author",
    "retention",
    "block_author",
    "unblock_author",
]
AUDIT_ACTIONS: tuple[str, ...] = get_args(AuditAction)


@dataclass(slots=True, frozen=True)
class SuppressedAuthor:
    """An author whose posts are no longer collected (yuqing.privacy.blocking): the handle
    as ``delete_author`` compares it, of one ``source`` (None: of every source), who asked
    (``actor``), when (``at``, aware) and why."""

    author: str
    source: str | None
    actor: str
    at: datetime
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "author": self.author,
            "source": self.source,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "reason": self.reason,
        }


# -- subscriptions (yuqing.alerts.subscriptions): a user's delivery of one plan's alerts --------
SubscriptionMode = Literal["immediate", "hourly", "daily"]
SUBSCRIPTION_MODES: tuple[str, ...] = get_args(SubscriptionMode)


@dataclass(slots=True)
class Subscription:
    """``username`` gets the alerts of plan ``plan_id`` on the ``[[alerts.channels]]``
    channel ``channel``: each at once (``immediate``) or in an hourly or daily digest. One
    per user and plan; ``updated_at`` (aware) is when it was last saved."""

    username: str
    plan_id: str
    channel: str
    mode: SubscriptionMode
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "plan_id": self.plan_id,
            "channel": self.channel,
            "mode": self.mode,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(slots=True)
class AuditEntry:
    """One line of the append-only audit log: ``action`` done by ``actor`` (a username, or
    ``cli:<os user>``) at ``at`` (aware) from ``client`` (an IP address, ``cli``), on
    ``target`` (a username, an export kind, an author handle), with JSON-ready ``details``.
    ``id`` is given by the store (0 before)."""

    action: AuditAction
    actor: str
    at: datetime
    client: str = ""
    target: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    id: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "client": self.client,
            "target": self.target,
            "details": self.details,
        }
