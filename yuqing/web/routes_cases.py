"""REST API v1 of cases (立案 and handling, docs/response.md): open a case from an event,
an alert or a title; list and read cases; change status, level, owner; attach a
contingency plan and tick its items; add, check and publish statements; measure a
statement's effect; list the plans; draft a statement from facts.

Reads follow the API's token rule (a token once any is configured); every change needs a
token, as acknowledging alerts does. A change reads the case, applies the domain method
(which checks and logs it with the app's clock and ``by``) and saves it; the store
refuses a copy that someone changed in between (409 ``conflict``). Errors have the API's
one shape: 404 unknown case, event, alert, plan or statement; 409 a status move the flow
does not allow or a change to a closed case; 422 any other invalid change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from yuqing.cases import (
    STATUSES,
    Case,
    CaseStatus,
    DeadlinePolicy,
    StatementFacts,
    check_statement,
    draft_statement,
)
from yuqing.cases.overdue_alerts import deadline_policy
from yuqing.cases.repository import StoreCaseRepository
from yuqing.privacy.guards import guard_alert, guard_case
from yuqing.privacy.scope import request_scope
from yuqing.web import cases_view
from yuqing.web.auth import reads
from yuqing.web.cases_view import case_errors
from yuqing.web.deps import ApiError, WebState, acting_user, time_param
from yuqing.web.routes_api import ERRORS, Limit, State, Token

router = APIRouter(
    prefix="/api/v1",
    tags=["cases"],
    responses={**ERRORS, 409: ERRORS[400]},
)
Who = Field(
    None, max_length=80, description="who does it, for the action log (default: the signed-in user)"
)


def policy(state: WebState) -> DeadlinePolicy:
    """The first-statement deadlines of the ``[cases]`` settings."""
    return deadline_policy(state.settings)


class OpenBody(BaseModel):
    """Open from ``event_id`` (the level is suggested from its heat and risk), from
    ``alert_id`` (and its event, if it has one) or from a ``title`` alone (level IV)."""

    event_id: str | None = Field(None, max_length=200)
    alert_id: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=200, description="default: the event's title")
    owner: str | None = Field(None, max_length=80)
    departments: list[str] = Field(default_factory=list, max_length=30)
    by: str | None = Who


class TransitionBody(BaseModel):
    to: str = Field(description="new, assessing, responding, monitoring or closed")
    note: str = Field("", max_length=2000)
    by: str | None = Who


class LevelBody(BaseModel):
    level: str = Field(description="I-IV, 1-4 or 特别重大/重大/较大/一般")
    reason: str = Field(max_length=2000, description="required: why the level changes")
    by: str | None = Who


class OwnerBody(BaseModel):
    owner: str | None = Field(None, max_length=80, description="牵头负责")
    departments: list[str] = Field(default_factory=list, max_length=30, description="联动部门")
    by: str | None = Who


class PlanBody(BaseModel):
    plan_id: str = Field(max_length=64, description="a plan id from GET /api/v1/plans")
    by: str | None = Who


class TickBody(BaseModel):
    item: str = Field(max_length=140, description="plan/item, or the bare item id if unique")
    note: str = Field("", max_length=2000)
    undo: bool = Field(False, description="reopen a ticked item (needs a reason)")
    reason: str = Field("", max_length=2000)
    by: str | None = Who


class FactsBody(BaseModel):
    """The facts of a 情况通报 (yuqing.cases.StatementFacts); times are ISO 8601."""

    event: str = Field(max_length=200)
    issuer: str = Field(max_length=200)
    occurred_at: str
    place: str = Field(max_length=200)
    summary: str = Field(max_length=2000)
    known: list[str] = Field(default_factory=list, max_length=50)
    measures: list[str] = Field(default_factory=list, max_length=50)
    next_steps: list[str] = Field(default_factory=list, max_length=50)
    next_update_at: str | None = None
    hotline: str | None = Field(None, max_length=80)
    issued_at: str | None = None
    concern: str = Field("感谢社会各界和广大网民的关注与监督。", max_length=500)
    apology: str | None = Field(None, max_length=500)


class StatementBody(BaseModel):
    """A draft: its ``text``, or ``facts`` to draft it from the template."""

    text: str | None = Field(None, max_length=20_000)
    facts: FactsBody | None = None
    by: str | None = Who


class TextBody(BaseModel):
    text: str = Field(max_length=20_000)


class PublishBody(BaseModel):
    channel: str = Field("", max_length=80, description="官方微博, 官网, 新闻发布会 ...")
    at: str | None = Field(None, description="when it went out, if earlier than now")
    by: str | None = Who


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    by: str | None = Who


def payload(state: WebState, case: Case) -> dict[str, Any]:
    settings = state.settings
    return cases_view.case_dict(case, state.clock.now(), settings.zone, policy(state))


def _change(state: WebState, case_id: str, change: Callable[[Case], object]) -> dict[str, Any]:
    """Read the case, apply ``change``, save; answer the changed case."""
    with state.store() as store, case_errors():
        repo = StoreCaseRepository(store)
        case = repo.get_case(case_id)
        change(case)
        repo.update_case(case)
    return {"ok": True, "case": payload(state, case)}


def _facts(body: FactsBody, state: WebState) -> StatementFacts:
    settings = state.settings
    occurred = time_param("facts.occurred_at", body.occurred_at, settings)
    if occurred is None:
        raise ApiError(422, "invalid_request", "facts.occurred_at: when did it happen?")
    return StatementFacts(
        event=body.event,
        issuer=body.issuer,
        occurred_at=occurred,
        place=body.place,
        summary=body.summary,
        known=tuple(body.known),
        measures=tuple(body.measures),
        next_steps=tuple(body.next_steps),
        next_update_at=time_param("next_update_at", body.next_update_at, settings),
        hotline=body.hotline,
        issued_at=time_param("issued_at", body.issued_at, settings),
        concern=body.concern,
        apology=body.apology,
    )


def _draft(facts: StatementFacts, state: WebState) -> str:
    with case_errors():
        return draft_statement(facts, tz=state.settings.zone)


@router.post(
    "/cases", summary="Open a case (立案) from an event, an alert or a title", status_code=201
)
def open_case(request: Request, state: State, token: Token, body: OpenBody) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    if body.alert_id is not None:
        guard_alert(request, state, body.alert_id)  # nor open one from its alert
    with state.store() as store:
        case, suggestion = cases_view.open_case(
            store,
            state.clock,
            who=acting_user(request, body.by),
            event_id=body.event_id,
            alert_id=body.alert_id,
            title=body.title,
            owner=body.owner,
            departments=request_scope(request).own(body.departments, body.owner),
        )
    return {"ok": True, "case": payload(state, case), "suggestion": suggestion}


@router.get("/cases", summary="Cases, newest opened first, with deadline and timeliness")
def list_cases(
    request: Request,
    state: State,
    token: Token,
    status: Annotated[str | None, Query(description=", ".join(STATUSES))] = None,
    event_id: Annotated[str | None, Query(description="only this event's cases")] = None,
    alert_id: Annotated[str | None, Query(description="only cases opened from this alert")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    if status is not None and status not in STATUSES:
        raise ApiError(400, "bad_request", f"status {status!r}: use one of {', '.join(STATUSES)}")
    scope = request_scope(request)
    with state.store() as store, case_errors():
        found = StoreCaseRepository(store).list_cases(
            status=status,
            event_id=event_id,
            alert_id=alert_id,
            limit=max(limit, 5000) if scope.restricted else limit,
        )
    items = [payload(state, c) for c in found if scope.sees_case(c)][:limit]
    return {"ok": True, "count": len(items), "items": items}


@router.get("/cases/{case_id}", summary="One case: checklist, statements, action log, deadline")
def get_case(request: Request, state: State, token: Token, case_id: str) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    with state.store() as store, case_errors():
        case = StoreCaseRepository(store).get_case(case_id)
    return {"ok": True, "case": payload(state, case)}


@router.post("/cases/{case_id}/transition", summary="Change the status (the flow is checked)")
def transition(
    request: Request, state: State, token: Token, case_id: str, body: TransitionBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    to: CaseStatus | str = body.to
    return _change(
        state,
        case_id,
        lambda c: c.transition(
            to, who=acting_user(request, body.by), clock=state.clock, note=body.note
        ),
    )


@router.post("/cases/{case_id}/level", summary="Change the level, with a reason")
def change_level(
    request: Request, state: State, token: Token, case_id: str, body: LevelBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    return _change(
        state,
        case_id,
        lambda c: c.change_level(
            body.level, reason=body.reason, who=acting_user(request, body.by), clock=state.clock
        ),
    )


@router.post("/cases/{case_id}/owner", summary="Set the owner and add departments (多部门联动)")
def set_owner(
    request: Request, state: State, token: Token, case_id: str, body: OwnerBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    if not (body.owner and body.owner.strip()) and not body.departments:
        raise ApiError(422, "invalid_request", "send an owner, departments or both")

    def change(case: Case) -> None:
        who = acting_user(request, body.by)
        if body.owner and body.owner.strip():
            case.set_owner(body.owner, who=who, clock=state.clock)
        for department in body.departments:
            case.add_department(department, who=who, clock=state.clock)

    return _change(state, case_id, change)


@router.post("/cases/{case_id}/plan", summary="Attach a contingency plan (预案) by id")
def attach_plan(
    request: Request, state: State, token: Token, case_id: str, body: PlanBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    plan = cases_view.plans().get(body.plan_id)
    if plan is None:
        raise ApiError(
            404,
            "not_found",
            f"no plan {body.plan_id!r}; plans: {', '.join(sorted(cases_view.plans()))}",
        )
    return _change(
        state,
        case_id,
        lambda c: c.attach_plan(plan, who=acting_user(request, body.by), clock=state.clock),
    )


@router.post("/cases/{case_id}/tick", summary="Tick a checklist item done (or reopen it)")
def tick(
    request: Request, state: State, token: Token, case_id: str, body: TickBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404

    def change(case: Case) -> None:
        if body.undo:
            case.untick(
                body.item, who=acting_user(request, body.by), clock=state.clock, reason=body.reason
            )
        else:
            case.tick(
                body.item, who=acting_user(request, body.by), clock=state.clock, note=body.note
            )

    return _change(state, case_id, change)


@router.post("/cases/{case_id}/notes", summary="Add a remark to the action log")
def add_note(
    request: Request, state: State, token: Token, case_id: str, body: NoteBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    return _change(
        state,
        case_id,
        lambda c: c.note(body.text, who=acting_user(request, body.by), clock=state.clock),
    )


@router.post("/cases/{case_id}/statements", summary="Add a draft statement", status_code=201)
def add_statement(
    request: Request, state: State, token: Token, case_id: str, body: StatementBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    if body.text is not None:
        text = body.text
    elif body.facts is not None:
        text = _draft(_facts(body.facts, state), state)
    else:
        raise ApiError(422, "invalid_request", "send the draft's text, or facts to draft it from")
    added: list[str] = []

    def change(case: Case) -> None:
        added.append(
            case.add_statement(text, who=acting_user(request, body.by), clock=state.clock).id
        )

    out = _change(state, case_id, change)
    out["statement_id"] = added[0]
    return out


def _check(state: WebState, case: Case, text: str) -> dict[str, Any]:
    with case_errors():
        found = check_statement(text, case=case, now=state.clock.now(), policy=policy(state))
    return cases_view.check_dict(found)


@router.post(
    "/cases/{case_id}/statements/{statement_id}/check",
    summary="Check a stored draft against the four principles (及时/有效/解决问题/态度诚恳)",
)
@reads
def check_stored(
    request: Request, state: State, token: Token, case_id: str, statement_id: str
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    with state.store() as store, case_errors():
        case = StoreCaseRepository(store).get_case(case_id)
        text = case.statement(statement_id).text
    return {"ok": True, "statement_id": statement_id, "check": _check(state, case, text)}


@router.post("/cases/{case_id}/check", summary="Check any text against the four principles")
@reads
def check_text(
    request: Request, state: State, token: Token, case_id: str, body: TextBody
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    with state.store() as store, case_errors():
        case = StoreCaseRepository(store).get_case(case_id)
    return {"ok": True, "check": _check(state, case, body.text)}


@router.post(
    "/cases/{case_id}/statements/{statement_id}/publish", summary="Record a statement published"
)
def publish(
    request: Request,
    state: State,
    token: Token,
    case_id: str,
    statement_id: str,
    body: Annotated[PublishBody | None, Body()] = None,
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    given = body or PublishBody.model_validate({})
    at = time_param("at", given.at, state.settings)
    return _change(
        state,
        case_id,
        lambda c: c.publish_statement(
            statement_id,
            who=acting_user(request, given.by),
            clock=state.clock,
            at=at,
            channel=given.channel,
        ),
    )


@router.get("/cases/{case_id}/effect", summary="A statement's effect on its event's posts")
def effect(
    request: Request,
    state: State,
    token: Token,
    case_id: str,
    statement: Annotated[str | None, Query(description="default: the first published")] = None,
    hours: Annotated[float, Query(gt=0, le=168, description="window before and after")] = 6,
) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    now = state.clock.now()
    with state.store() as store:
        with case_errors():
            case = StoreCaseRepository(store).get_case(case_id)
        found = cases_view.case_effect(
            store, case, now, statement_id=statement, window=timedelta(hours=hours)
        )
    return {"ok": True, "effect": cases_view.effect_dict(found, state.settings.zone)}


@router.get("/plans", summary="The contingency plans (预案) that can be attached")
def list_plans(request: Request, state: State, token: Token) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    items = [cases_view.plan_dict(p) for p in cases_view.plans().values()]
    return {"ok": True, "count": len(items), "items": items}


@router.post("/statements/draft", summary="Draft a 情况通报 from facts (nothing is stored)")
@reads
def draft(request: Request, state: State, token: Token, body: FactsBody) -> dict[str, Any]:
    del token
    guard_case(request, state)  # another department's case is 404
    return {"ok": True, "text": _draft(_facts(body, state), state)}
