"""The audit log (审计日志): who signed in (or failed to), exported, deleted, or changed a
user's role, when, from where, with what details.

Entries go to the store's append-only ``audit_log`` (:meth:`~yuqing.store.base.Store.add_audit`;
the store has no way to change or delete one). The web app records them with
:func:`record_request` (actor: the signed-in user; client: the peer address, which behind a
reverse proxy is the proxy's unless uvicorn runs with ``--proxy-headers``); the CLI with
:func:`record` and :func:`cli_actor` (``cli:<operating-system user>``, client ``cli``).
Read it with ``yuqing audit`` or ``GET /api/v1/audit`` (admins only).
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from yuqing.store.base import AuditAction, AuditEntry, Store

if TYPE_CHECKING:
    from fastapi import Request

CLI_CLIENT = "cli"


def cli_actor() -> str:
    """The actor of a command run from a terminal: ``cli:<operating-system user>``."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "unknown"
    return f"cli:{name}"


def record(
    store: Store,
    action: AuditAction,
    actor: str,
    *,
    client: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry (``at`` defaults to now) and return it with its id."""
    entry = AuditEntry(
        action=action,
        actor=actor or "unknown",
        at=at or datetime.now(UTC),
        client=client,
        target=target,
        details=dict(details or {}),
    )
    return store.add_audit(entry)


def client_of(request: Request) -> str:
    """The address the request came from (the direct peer)."""
    return request.client.host if request.client else ""


def actor_of(request: Request) -> str:
    """The signed-in user of the request (``api-token`` for a service token)."""
    principal = getattr(request.state, "principal", None)
    return str(principal.username) if principal is not None else "anonymous"


def record_request(
    request: Request,
    action: AuditAction,
    *,
    target: str = "",
    details: dict[str, Any] | None = None,
    actor: str | None = None,
    store: Store | None = None,
) -> AuditEntry:
    """Record an action done through the web app (in ``store``, else one opened for it)."""
    from yuqing.web.deps import web_state

    who = actor if actor is not None else actor_of(request)
    if store is not None:
        return record(store, action, who, client=client_of(request), target=target, details=details)
    with web_state(request).store() as opened:
        return record(
            opened, action, who, client=client_of(request), target=target, details=details
        )


def user_change_action(
    before_role: str, after_role: str, before_disabled: bool, after_disabled: bool
) -> AuditAction:
    """How a change of a user is logged: a role change and disabling are their own actions
    (the ones an auditor looks for), anything else is ``user_change``."""
    if before_role != after_role:
        return "role_change"
    if after_disabled and not before_disabled:
        return "user_disable"
    return "user_change"
