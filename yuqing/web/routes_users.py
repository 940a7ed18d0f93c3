"""``/api/v1/users``: who am I (any signed-in user), my personal API tokens, and, for admins,
listing, creating and changing users (role, department, display name, disabled, password).

A user is answered as ``{"username", "display_name", "role", "role_label", "department",
"disabled", "created_at", "last_login_at"}``; password hashes and token hashes never leave
the server, and a new token is shown once, in the answer that makes it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from yuqing.privacy.audit import record_request, user_change_action
from yuqing.store.base import Role, StoredToken, StoredUser
from yuqing.users import (
    ROLE_LABELS,
    UserError,
    change_user,
    create_user,
    hash_password,
    new_api_token,
    require_user,
)
from yuqing.web.auth import Principal, admin_only, principal_of, reads
from yuqing.web.deps import ApiError, WebState, web_state
from yuqing.web.routes_api import ERRORS, Token

router = APIRouter(prefix="/api/v1", tags=["users"], responses=ERRORS)
State = Annotated[WebState, Depends(web_state)]
Me = Annotated[Principal, Depends(principal_of)]
_STATUS = {"user_exists": 409, "last_admin": 409, "unknown_user": 404}


class NewUserBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role = "viewer"
    password: str | None = Field(None, max_length=1024, description="at least 8 characters")
    display_name: str | None = Field(None, max_length=80)
    department: str | None = Field(None, max_length=80, description="部门 (data scope)")


class UserChangeBody(BaseModel):
    role: Role | None = None
    disabled: bool | None = None
    display_name: str | None = Field(None, max_length=80)
    department: str | None = Field(None, max_length=80, description='"" clears it')
    password: str | None = Field(None, max_length=1024)


class TokenBody(BaseModel):
    name: str = Field("", max_length=80, description="what the token is for")


def user_dict(user: StoredUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "role_label": ROLE_LABELS[user.role],
        "department": user.department,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def _token_dict(token: StoredToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "created_at": token.created_at.isoformat()}


def _api_error(exc: UserError) -> ApiError:
    return ApiError(_STATUS.get(exc.code, 422), exc.code, str(exc))


def _own_user(me: Principal) -> str:
    if me.via == "service":
        raise ApiError(
            400, "no_user", "a web.api_tokens token belongs to no user; sign in as a user"
        )
    return me.username


@router.get("/users/me", summary="The signed-in user (or the service token) and its role")
def who_am_i(state: State, token: Token, me: Me) -> dict[str, Any]:
    if me.via == "service":
        user: dict[str, Any] = {
            "username": me.username,
            "display_name": me.display_name,
            "role": me.role,
            "role_label": me.role_label,
            "department": None,
        }
    else:
        with state.store() as store:
            user = user_dict(require_user(store, me.username))
    return {"ok": True, "user": user, "via": me.via}


@router.get("/users/me/tokens", summary="My personal API tokens (never the tokens themselves)")
def my_tokens(state: State, token: Token, me: Me) -> dict[str, Any]:
    username = _own_user(me)
    with state.store() as store:
        items = [_token_dict(t) for t in store.api_tokens(username)]
    return {"ok": True, "items": items}


@router.post("/users/me/tokens", summary="Make a personal API token (shown once)", status_code=201)
@reads
def make_token(state: State, token: Token, me: Me, body: TokenBody) -> dict[str, Any]:
    username = _own_user(me)
    with state.store() as store:
        stored, secret = new_api_token(store, username, name=body.name)
    return {"ok": True, "token": secret, **_token_dict(stored)}


@router.delete("/users/me/tokens/{token_id}", summary="Revoke one of my API tokens")
@reads
def revoke_token(state: State, token: Token, me: Me, token_id: str) -> dict[str, Any]:
    username = _own_user(me)
    with state.store() as store:
        mine = {t.id for t in store.api_tokens(username)}
        if token_id not in mine:
            raise ApiError(404, "not_found", f"you have no API token {token_id!r}")
        store.revoke_api_token(token_id)
    return {"ok": True, "revoked": token_id}


@router.get("/users", summary="Every user (admin)")
@admin_only
def list_users(state: State, token: Token) -> dict[str, Any]:
    with state.store() as store:
        return {"ok": True, "items": [user_dict(u) for u in store.users()]}


@router.post("/users", summary="Create a user (admin)", status_code=201)
@admin_only
def add_user(request: Request, state: State, token: Token, body: NewUserBody) -> dict[str, Any]:
    with state.store() as store:
        try:
            user = create_user(
                store,
                body.username,
                role=body.role,
                password=body.password,
                display_name=body.display_name,
                department=body.department,
            )
        except UserError as exc:
            raise _api_error(exc) from exc
        details = {"role": user.role, "department": user.department}
        record_request(request, "user_create", target=user.username, details=details, store=store)
    return {"ok": True, "user": user_dict(user)}


@router.patch(
    "/users/{username}", summary="Change a user's role, department, name, password or disable"
)
@admin_only
def change(
    request: Request, state: State, token: Token, username: str, body: UserChangeBody
) -> dict[str, Any]:
    with state.store() as store:
        before = store.get_user(username)
        try:
            new_hash = hash_password(body.password) if body.password is not None else None
            user = change_user(
                store,
                username,
                role=body.role,
                disabled=body.disabled,
                display_name=body.display_name,
                department=body.department,
            )
            if new_hash is not None:
                store.set_password_hash(username, new_hash)
        except UserError as exc:
            raise _api_error(exc) from exc
        if before is not None:  # audit: what changed, never the password itself
            action = user_change_action(before.role, user.role, before.disabled, user.disabled)
            details = body.model_dump(exclude_none=True, exclude={"password"})
            details |= {"password_changed": body.password is not None, "role_before": before.role}
            record_request(request, action, target=username, details=details, store=store)
    return {"ok": True, "user": user_dict(user)}


@router.post(
    "/users/{username}/tokens",
    summary="Make an API token for a user (admin; shown once)",
    status_code=201,
)
@admin_only
def issue_token(
    request: Request, state: State, token: Token, username: str, body: TokenBody
) -> dict[str, Any]:
    with state.store() as store:
        try:
            stored, secret = new_api_token(store, username, name=body.name)
        except UserError as exc:
            raise _api_error(exc) from exc
        details = {"api_token": stored.id, "name": stored.name}
        record_request(request, "user_change", target=username, details=details, store=store)
    return {"ok": True, "token": secret, "username": username, **_token_dict(stored)}
