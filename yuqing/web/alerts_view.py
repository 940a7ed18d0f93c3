"""What the alert and rule routes share: alerts and rules as JSON, the rule test over
stored posts, rule validation, and the server-sent event stream of new alerts.

The stream polls the store every :data:`POLL_SECONDS` for alerts numbered after the last
one sent (``StoredAlert.seq``), so it sees alerts saved by any process that writes the
store (``yuqing run``, a push, a test), and sends a comment line every
:data:`HEARTBEAT_SECONDS` so proxies keep the connection open. It ends when the client
goes away (Starlette cancels the generator; the loop also checks between polls). It sends
only the alerts in the principal's department scope (:mod:`yuqing.privacy.alert_scope`);
the others move its cursor on without being sent.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import orjson
from fastapi import Request

from yuqing.alerts.alert import KIND_LABELS, SEVERITY_LABELS
from yuqing.alerts.matcher import RuleMatcher
from yuqing.alerts.rule_syntax import RuleSyntaxError
from yuqing.alerts.rules_config import MonitorRule
from yuqing.errors import ConfigError
from yuqing.models import Document
from yuqing.privacy.alert_scope import alert_filter, reserved_rule_id
from yuqing.privacy.scope import Scope, request_scope
from yuqing.settings import Settings
from yuqing.store.base import Store, StoredAlert, StoredRule
from yuqing.store.saved_rules import config_rule_ids, load_saved_rule
from yuqing.web import views
from yuqing.web.deps import ApiError, WebState

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0
STREAM_BATCH = 100
MAX_SCAN = 20_000


def _local(when: datetime | None, zone: ZoneInfo) -> str | None:
    return when.astimezone(zone).isoformat() if when is not None else None


def alert_dict(stored: StoredAlert, zone: ZoneInfo) -> dict[str, Any]:
    """An alert as the API and the stream send it: the webhook payload (docs/alerts.md)
    with local times, plus ``seq``, ``status``, ``acknowledged_by``, ``acknowledged_at``
    and the Chinese labels of kind and severity."""
    alert = stored.alert
    out = alert.as_payload()
    out["created_at"] = _local(alert.created_at, zone)
    for sample, original in zip(out["samples"], alert.samples, strict=True):
        sample["published_at"] = _local(original.published_at, zone)
    out.update(
        seq=stored.seq,
        status=stored.status,
        acknowledged_by=stored.acknowledged_by,
        acknowledged_at=_local(stored.acknowledged_at, zone),
        kind_label=KIND_LABELS.get(alert.kind, alert.kind),
        severity_label=SEVERITY_LABELS.get(alert.severity, alert.severity),
    )
    return out


def rule_dict(rule: StoredRule, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "query": rule.query,
        "triggers": rule.triggers,
        "severity": rule.severity,
        "enabled": rule.enabled,
        "source": "store",
        "created_at": _local(rule.created_at, zone),
        "updated_at": _local(rule.updated_at, zone),
    }


def config_rules(settings: Settings) -> list[dict[str, Any]]:
    """yuqing.toml's ``[[monitor.rules]]`` as the rules list shows them (read-only)."""
    out: list[dict[str, Any]] = []
    for table in settings.monitor.rules:
        rule_id = str(table.get("id", ""))
        out.append(
            {
                "id": rule_id,
                "name": str(table.get("name", rule_id)),
                "query": str(table.get("query", "")),
                "triggers": table.get("triggers", [{"kind": "match"}]),
                "severity": str(table.get("severity", "medium")),
                "enabled": bool(table.get("enabled", True)),
                "source": "config",
                "created_at": None,
                "updated_at": None,
            }
        )
    return out


def syntax_error(exc: RuleSyntaxError) -> ApiError:
    """The 422 answer of a query that does not parse, with its 1-based column."""
    return ApiError(422, "rule_syntax", str(exc), {"column": exc.column})


def matcher_for(query: str) -> RuleMatcher:
    """A matcher holding ``query`` alone; RuleSyntaxError when it does not parse."""
    matcher = RuleMatcher()
    matcher.add("test", query)
    return matcher


def new_rule_id(name: str, query: str) -> str:
    return "rule-" + hashlib.sha256(f"{name}\x1f{query}".encode()).hexdigest()[:10]


def check_rule(rule: StoredRule, settings: Settings) -> MonitorRule | None:
    """Check a rule before saving it, as ``yuqing run`` will load it: 422 ``rule_syntax``
    (with the column), 409 ``rule_conflict`` (an id of yuqing.toml or a reserved one,
    :func:`~yuqing.privacy.alert_scope.reserved_rule_id`), 422 ``invalid_rule``
    (a trigger, severity or channel that does not check)."""
    try:
        matcher_for(rule.query)
    except RuleSyntaxError as exc:
        raise syntax_error(exc) from exc
    if reserved_rule_id(rule.id):  # alerts of these ids follow a plan's or case's scope
        raise ApiError(
            409,
            "rule_conflict",
            f"rule id {rule.id!r} is reserved: ids starting with 'plan:' name monitoring "
            "plans' rules, 'case-deadline' and 'digest' the system's; choose another id",
        )
    if rule.id in config_rule_ids(settings):
        raise ApiError(
            409,
            "rule_conflict",
            f"rule id {rule.id!r} is defined in yuqing.toml [[monitor.rules]]; "
            "choose another id (rules of yuqing.toml are edited in the file)",
        )
    try:
        return load_saved_rule(rule, settings, label="")
    except ConfigError as exc:
        raise ApiError(422, "invalid_rule", str(exc)) from exc


def preview_rule(
    store: Store,
    query: str,
    zone: ZoneInfo,
    *,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    scan: int = 2000,
) -> dict[str, Any]:
    """Evaluate ``query`` on ``text`` (when given) and on the newest ``scan`` stored posts
    in [since, until): how many matched and the first ``limit`` of them, newest first.
    RuleSyntaxError when the query does not parse."""
    matcher = matcher_for(query)
    text_matches = None
    if text is not None and text.strip():
        text_matches = bool(matcher.match(Document(id="test", source="test", text=text)))
    docs = store.latest_documents(since=since, until=until, limit=min(max(scan, 1), MAX_SCAN))
    hits = [doc for doc, ids in zip(docs, matcher.match_batch(docs), strict=True) if ids]
    return {
        "ok": True,
        "query": query,
        "text_matches": text_matches,
        "scanned": len(docs),
        "matched": len(hits),
        "items": [views.document_dict(d, zone) for d in hits[:limit]],
    }


def _after(state: WebState, seq: int, scope: Scope) -> tuple[list[StoredAlert], int, bool]:
    """The alerts after ``seq`` that ``scope`` sees, the seq read up to, and whether a
    whole batch was read (more may be waiting)."""
    with state.store() as store:
        found = store.alerts_after(seq, STREAM_BATCH)
        visible = alert_filter(scope, store)  # fresh each poll: plans and cases change
        kept = [stored for stored in found if visible(stored)]
    last = found[-1].seq if found else seq
    return kept, last, len(found) >= STREAM_BATCH


def _last(state: WebState) -> int:
    with state.store() as store:
        return store.last_alert_seq()


def start_seq(request: Request, after: int | None) -> int | None:
    """Where a stream starts: ``Last-Event-ID`` (a reconnecting EventSource), else
    ``after``, else None (from the newest alert on)."""
    header = request.headers.get("last-event-id", "").strip()
    if header.isdigit():
        return int(header)
    return after


async def alert_events(request: Request, state: WebState, after: int | None) -> AsyncIterator[str]:
    """Server-sent events: ``event: alert`` with ``id: <seq>`` and the alert as JSON data,
    for each alert stored after ``after`` (None: after the newest at connection time)."""
    zone = state.settings.zone
    scope = request_scope(request)
    seq = after if after is not None else await anyio.to_thread.run_sync(_last, state)
    yield f"retry: 2000\n: stream of new alerts after {seq}\n\n"
    beat = time.monotonic()
    while not await request.is_disconnected():
        found, seq, full = await anyio.to_thread.run_sync(_after, state, seq, scope)
        for stored in found:
            data = orjson.dumps(alert_dict(stored, zone)).decode()
            yield f"id: {stored.seq}\nevent: alert\ndata: {data}\n\n"
        if time.monotonic() - beat >= HEARTBEAT_SECONDS:
            beat = time.monotonic()
            yield ": keep-alive\n\n"
        if not full:
            await anyio.sleep(POLL_SECONDS)
