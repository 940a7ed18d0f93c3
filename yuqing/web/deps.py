"""What every route shares: the application state (settings, a store per request, the
push pipeline), the API error type and its JSON shape and time parameters. Who may call
a route is decided before it runs, in :mod:`yuqing.web.auth`.

A store object belongs to the thread that opened it (SQLite), and FastAPI runs sync
routes in a thread pool, so each route opens its own store with :meth:`WebState.store`
(a connection costs well under a millisecond) and closes it before returning.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from yuqing.clock import Clock, SystemClock
from yuqing.errors import UsageError, YuqingError
from yuqing.settings import Settings
from yuqing.sources.record import parse_time
from yuqing.store.base import Store
from yuqing.store.url import open_store


class ApiError(YuqingError):
    """An API request that cannot be served: answered as
    ``{"ok": false, "error": {"code", "message", "details"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message, "details": details}}


class WebState:
    """Settings and shared objects of one app; ``app.state.web`` holds it."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()  # cases: action times, deadlines
        self._migrated = False
        self._lock = threading.Lock()
        from yuqing.web.push import PushService

        self.push = PushService(settings, self.clock)  # closed by push_lifespan

    @contextmanager
    def store(self) -> Iterator[Store]:
        """A store for this request's thread; the schema is migrated on the first open."""
        if not self._migrated:
            with self._lock:
                if not self._migrated:
                    open_store(self.settings.store).close()
                    self._migrated = True
        store = open_store(self.settings.store, migrate=False)
        try:
            yield store
        finally:
            store.close()


def acting_user(request: Request, by: str | None) -> str:
    """Who acted, for a route's ``by`` field: the name given, else the signed-in user (the
    service principal's name for a token of ``web.api_tokens``)."""
    given = (by or "").strip()
    if given:
        return given
    principal = getattr(request.state, "principal", None)
    return str(principal.username) if principal is not None else "api"


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def time_param(name: str, value: str | None, settings: Settings) -> datetime | None:
    """An ISO 8601 time (or date, or epoch seconds) of a query parameter; a naive time is in
    the configured zone. A bad value is an ApiError 400 naming the parameter."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return parse_time(int(text) if text.isdigit() else text, settings.zone)
    except (ValueError, YuqingError) as exc:
        raise ApiError(
            400,
            "bad_time",
            f"{name}: {value!r} is not a time; use ISO 8601 such as 2026-11-20 or "
            "2026-11-20T08:00:00+08:00",
        ) from exc


def usage_error(exc: UsageError) -> ApiError:
    return ApiError(400, "bad_request", str(exc))


def now_utc() -> datetime:
    return datetime.now(UTC)
