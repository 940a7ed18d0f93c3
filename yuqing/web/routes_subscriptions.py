"""``/api/v1/users/me/subscriptions``: the signed-in user's subscriptions to monitoring plans
(:mod:`yuqing.alerts.subscriptions`): per plan, the alerts at once (``immediate``) or in an
``hourly`` or ``daily`` digest, on a ``[[alerts.channels]]`` channel that reaches the user.

- ``GET``: ``{"ok", "items": [{"username", "plan_id", "channel", "mode", "updated_at"}],
  "channels": [configured channel names], "modes": [...]}``;
- ``PUT /users/me/subscriptions/{plan_id}`` with ``{"mode", "channel"}``: subscribe or
  change (``created`` says which); a plan that does not exist or that the user's data scope
  does not show answers 404, a channel not in ``[[alerts.channels]]`` 422;
- ``DELETE /users/me/subscriptions/{plan_id}``: unsubscribe (404 when not subscribed).

Any signed-in user (viewers too) manages their own; a ``web.api_tokens`` service token
belongs to no user and gets 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from yuqing.alerts.rules_config import channel_names
from yuqing.privacy.guards import plan_not_found
from yuqing.privacy.scope import request_scope
from yuqing.store.base import SUBSCRIPTION_MODES, Subscription, SubscriptionMode
from yuqing.web.auth import Principal, principal_of, reads
from yuqing.web.deps import ApiError, WebState, web_state
from yuqing.web.routes_api import ERRORS, Token
from yuqing.web.routes_users import _own_user

router = APIRouter(prefix="/api/v1", tags=["users"], responses=ERRORS)
State = Annotated[WebState, Depends(web_state)]
Me = Annotated[Principal, Depends(principal_of)]


class SubscriptionBody(BaseModel):
    mode: SubscriptionMode = Field(description="immediate, hourly or daily")
    channel: str = Field(
        min_length=1, max_length=80, description="a [[alerts.channels]] name that reaches you"
    )


@router.get("/users/me/subscriptions", summary="My subscriptions to monitoring plans")
def my_subscriptions(state: State, token: Token, me: Me) -> dict[str, Any]:
    username = _own_user(me)
    with state.store() as store:
        items = [s.as_dict() for s in store.subscriptions(username=username)]
    return {
        "ok": True,
        "items": items,
        "channels": channel_names(state.settings.alerts.channels),
        "modes": list(SUBSCRIPTION_MODES),
    }


@router.put(
    "/users/me/subscriptions/{plan_id}",
    summary="Subscribe to a plan's alerts (immediate, hourly or daily digest) or change it",
)
@reads
def subscribe(
    request: Request, state: State, token: Token, me: Me, plan_id: str, body: SubscriptionBody
) -> dict[str, Any]:
    username = _own_user(me)
    channels = channel_names(state.settings.alerts.channels)
    if body.channel not in channels:
        raise ApiError(
            422,
            "unknown_channel",
            f"no channel {body.channel!r} in [[alerts.channels]]; "
            f"configured: {', '.join(channels) or 'none'}",
        )
    subscription = Subscription(username, plan_id, body.channel, body.mode, state.clock.now())
    with state.store() as store:
        data = store.get_plan(plan_id)
        if data is None or not request_scope(request).sees_plan(data):
            raise plan_not_found(plan_id)
        created = store.save_subscription(subscription)
    return {"ok": True, "created": created, "subscription": subscription.as_dict()}


@router.delete("/users/me/subscriptions/{plan_id}", summary="Unsubscribe from a plan")
@reads
def unsubscribe(state: State, token: Token, me: Me, plan_id: str) -> dict[str, Any]:
    username = _own_user(me)
    with state.store() as store:
        deleted = store.delete_subscription(username, plan_id)
    if not deleted:
        raise ApiError(404, "not_found", f"you are not subscribed to plan {plan_id!r}")
    return {"ok": True, "deleted": plan_id}
