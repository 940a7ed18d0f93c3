"""The Store contract. Every backend (SQLite now, PostgreSQL in server mode) implements it,
and one contract test suite (tests/store/) runs over all of them. No SQL outside store/."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from yuqing.errors import StoreError
from yuqing.models import Cursor, Document, SearchHit, StoreStats

if TYPE_CHECKING:
    from yuqing.alerts.alert import Alert
    from yuqing.alerts.delivery import DeliveryAttempt
    from yuqing.events.event import Event

# What trend and distribution queries can group by: every post, an analysis label
# (sentiment, emotion, risk type), the source, the region names of ``analysis["regions"]``
# (else the input ``region``), or the event id.
Dimension = Literal["total", "sentiment", "emotion", "risk", "source", "region", "event"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
EventOrder = Literal["time", "engagement", "risk"]
AlertStatus = Literal["new", "acknowledged"]
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

    def close(self) -> None: ...
