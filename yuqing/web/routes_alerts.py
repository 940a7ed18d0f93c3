"""REST API v1 of alerts and monitoring rules: list and acknowledge alerts, a server-sent
event stream of new alerts, and the rules saved in the store (list, create or replace,
delete, test a query on stored posts).

Reads follow the API's token rule (a token once any is configured); acknowledging and
changing rules always need one, as pushing posts does. Errors have the API's one shape.
Alerts follow the principal's department scope (:mod:`yuqing.privacy.alert_scope`): the
list and the stream leave out what it does not see, one alert out of scope is a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import orjson
from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from yuqing.alerts.alert import SEVERITIES
from yuqing.alerts.rule_syntax import RuleSyntaxError
from yuqing.privacy.alert_scope import visible_alerts
from yuqing.privacy.guards import alert_not_found, guard_alert
from yuqing.privacy.scope import request_scope
from yuqing.store.base import AlertStatus, StoredRule
from yuqing.web import alerts_view
from yuqing.web.auth import reads
from yuqing.web.deps import ApiError, WebState, acting_user, time_param
from yuqing.web.routes_api import ERRORS, Limit, Since, State, Token, Until

router = APIRouter(prefix="/api/v1", tags=["alerts and rules"], responses=ERRORS)

SeverityName = Literal["low", "medium", "high", "critical"]
assert set(get_args(SeverityName)) == set(SEVERITIES)
RULE_ID = r"^[^/\s?#]{1,80}$"


class AckBody(BaseModel):
    by: str | None = Field(
        None, max_length=80, description="who acknowledges (default: the signed-in user)"
    )


class RuleBody(BaseModel):
    """A monitoring rule with the keys of ``[[monitor.rules]]`` (docs/monitoring.md)."""

    id: str | None = Field(
        None, pattern=RULE_ID, description="unique id; default: derived from name and query"
    )
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(min_length=1, max_length=4000, description="the rule language")
    triggers: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"kind": "match"}],
        description='trigger tables, e.g. [{"kind": "count", "threshold": 20, "window": "1h"}]',
    )
    severity: SeverityName = "medium"
    enabled: bool = True


class RuleTestBody(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    text: str | None = Field(None, max_length=100_000, description="also test this text")
    since: str | None = Field(None, description="only posts at or after this time")
    until: str | None = Field(None, description="only posts before this time")
    limit: int = Field(20, ge=1, le=200, description="matching posts to return")
    scan: int = Field(
        2000, ge=1, le=alerts_view.MAX_SCAN, description="newest stored posts to evaluate"
    )


@router.get("/alerts", summary="Stored alerts, newest first")
def list_alerts(
    request: Request,
    state: State,
    token: Token,
    since: Since = None,
    until: Until = None,
    status: Annotated[
        AlertStatus | None, Query(description="new, acknowledged or false_alarm")
    ] = None,
    rule_id: Annotated[str | None, Query(description="only this rule's alerts")] = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    del token
    settings = state.settings
    lo = time_param("since", since, settings)
    hi = time_param("until", until, settings)
    with state.store() as store:
        found = visible_alerts(
            store,
            request_scope(request),  # a department's own alerts and the shared ones
            since=lo,
            until=hi,
            status=status,
            rule_id=rule_id,
            limit=limit,
        )
    items = [alerts_view.alert_dict(s, settings.zone) for s in found]
    return {"ok": True, "count": len(items), "items": items}


@router.get(
    "/alerts/stream",
    summary="Server-sent events: each new alert as `event: alert`",
    response_class=StreamingResponse,
)
async def stream_alerts(
    request: Request,
    state: State,
    token: Token,
    after: Annotated[
        int | None, Query(ge=0, description="send alerts after this seq (default: only new ones)")
    ] = None,
) -> StreamingResponse:
    del token
    return _event_stream(request, state, alerts_view.start_seq(request, after))


def _event_stream(request: Request, state: WebState, after: int | None) -> StreamingResponse:
    return StreamingResponse(
        alerts_view.alert_events(request, state, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/alerts/{alert_id}", summary="One stored alert")
def get_alert(request: Request, state: State, token: Token, alert_id: str) -> dict[str, Any]:
    del token
    guard_alert(request, state, alert_id)  # another department's alert is 404
    with state.store() as store:
        found = store.get_alert(alert_id)
    if found is None:
        raise alert_not_found(alert_id)
    return {"ok": True, "alert": alerts_view.alert_dict(found, state.settings.zone)}


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert (needs a token)")
def acknowledge(
    request: Request,
    state: State,
    token: Token,
    alert_id: str,
    body: Annotated[AckBody | None, Body()] = None,
) -> dict[str, Any]:
    del token
    guard_alert(request, state, alert_id)  # another department's alert is 404
    who = acting_user(request, body.by if body is not None else None)
    with state.store() as store:
        if store.get_alert(alert_id) is None:
            raise alert_not_found(alert_id)
        changed = store.acknowledge_alert(alert_id, who, datetime.now(UTC))
        found = store.get_alert(alert_id)
    assert found is not None
    return {
        "ok": True,
        "changed": changed,
        "alert": alerts_view.alert_dict(found, state.settings.zone),
    }


@router.get("/rules", summary="Monitoring rules: saved in the store, and from yuqing.toml")
def list_rules(request: Request, state: State, token: Token) -> dict[str, Any]:
    del token
    zone = state.settings.zone
    with state.store() as store:
        stored = [alerts_view.rule_dict(r, zone) for r in store.rules()]
    items = stored + alerts_view.config_rules(state.settings)
    return {"ok": True, "count": len(items), "items": items}


@router.post("/rules", summary="Create or replace a saved rule (needs a token)", status_code=201)
def save_rule(
    request: Request, response: Response, state: State, token: Token, body: RuleBody
) -> dict[str, Any]:
    del token
    rule = StoredRule(
        id=(body.id or alerts_view.new_rule_id(body.name, body.query)).strip(),
        name=body.name.strip(),
        query=body.query,
        triggers=body.triggers,
        enabled=body.enabled,
        severity=body.severity,
    )
    alerts_view.check_rule(rule, state.settings)
    with state.store() as store:
        created = store.save_rule(
            rule.id,
            rule.name,
            rule.query,
            orjson.dumps(rule.triggers).decode(),
            rule.enabled,
            severity=rule.severity,
        )
        saved = next(r for r in store.rules() if r.id == rule.id)
    if not created:
        response.status_code = 200
    return {
        "ok": True,
        "created": created,
        "rule": alerts_view.rule_dict(saved, state.settings.zone),
    }


@router.delete("/rules/{rule_id}", summary="Delete a saved rule (needs a token)")
def delete_rule(request: Request, state: State, token: Token, rule_id: str) -> dict[str, Any]:
    del token
    if rule_id in {r["id"] for r in alerts_view.config_rules(state.settings)}:
        raise ApiError(
            409,
            "rule_conflict",
            f"rule {rule_id!r} is defined in yuqing.toml; remove it from the file",
        )
    with state.store() as store:
        deleted = store.delete_rule(rule_id)
    if not deleted:
        raise ApiError(404, "not_found", f"no saved rule {rule_id!r}")
    return {"ok": True, "deleted": rule_id}


@router.post("/rules/test", summary="Test a query on a text and on recent stored posts")
@reads
def try_rule(request: Request, state: State, token: Token, body: RuleTestBody) -> dict[str, Any]:
    del token
    settings = state.settings
    lo = time_param("since", body.since, settings)
    hi = time_param("until", body.until, settings)
    with state.store() as store:
        try:
            return alerts_view.preview_rule(
                store,
                body.query,
                settings.zone,
                text=body.text,
                since=lo,
                until=hi,
                limit=body.limit,
                scan=body.scan,
            )
        except RuleSyntaxError as exc:
            raise alerts_view.syntax_error(exc) from exc
