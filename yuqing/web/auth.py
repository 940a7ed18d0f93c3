"""Who may do what: sign-in, session cookies, API tokens, roles, CSRF and the login limit.

**Every route needs a signed-in user** except those marked :func:`public` (the login page,
``/api/v1/health``, plotly.min.js); ``/openapi.json``, ``/docs`` and ``/static`` are not API
routes and stay open. :func:`authorize` runs before every route of the app (it is the app's
own dependency, so each router included later gets it too). Without a user an API request
gets 401 JSON, a page a redirect to ``/login?next=...``.

**Who.** In this order: ``Authorization: Bearer <token>`` (a token from ``web.api_tokens``:
an admin service principal, so push clients and ``yuqing demo`` keep working; or a personal
token, looked up by its SHA-256); else the session cookie ``yuqing_session``: HMAC-SHA256
signed (key ``web.secret_key``, else one made once and kept in the store), HttpOnly,
SameSite=Lax, Secure with ``web.secure_cookies``, valid ``web.session_hours``; it names the
user, its expiry, a fingerprint of the password hash (changing the password ends every
session) and the session's CSRF token. The user is read again on every request, so a
disabled user or a changed role takes effect at once.

**What.** A route needs, by default, ``read`` (viewer) for GET/HEAD/OPTIONS and ``write``
(analyst) for POST/PUT/PATCH/DELETE. An endpoint declares otherwise with a decorator under
its route decorator: :func:`reads` (an unsafe method that changes nothing), :func:`writes`,
:func:`admin_only` or :func:`public`. A role short of it gets 403.

**CSRF.** A cookie-authenticated unsafe request must send the session's CSRF token, which is
also in the (readable) ``yuqing_csrf`` cookie, as the ``X-CSRF-Token`` header or the
``csrf_token`` form field (double submit, bound to the signed session). Bearer requests need
none: browsers do not add that header by themselves.

**Login limit.** 5 failed sign-ins of one username from one address within 5 minutes lock
that pair for the rest of the window (429). Counted per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import orjson
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from yuqing.privacy.masking import set_visibility
from yuqing.settings import Settings
from yuqing.store.base import Role, Store, StoredUser
from yuqing.users import ROLE_LABELS, role_allows, token_hash
from yuqing.web.deps import ApiError, WebState, web_state

SESSION_COOKIE = "yuqing_session"
CSRF_COOKIE = "yuqing_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_FAILURES = 5
LOGIN_WINDOW_SECONDS = 300.0

Access = Literal["public", "read", "write", "admin"]
_NEEDED: dict[str, Role] = {"read": "viewer", "write": "analyst", "admin": "admin"}
_ACCESS_ATTR = "__yuqing_access__"
F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------- route declarations
def access(level: Access) -> Callable[[F], F]:
    """Declare what an endpoint needs (put it under ``@router.get(...)``)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _ACCESS_ATTR, level)
        return endpoint

    return mark


public = access("public")
reads = access("read")
writes = access("write")
admin_only = access("admin")


def route_access(request: Request) -> Access:
    """What the matched route needs: its declaration, else read for safe methods and write
    for the others."""
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    level: Access | None = getattr(endpoint, _ACCESS_ATTR, None)
    if level is not None:
        return level
    return "read" if request.method in SAFE_METHODS else "write"


# ---------------------------------------------------------------- who is asking
@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts for; ``via`` says how it proved it (``service``: a token of
    ``web.api_tokens``, with admin rights and no user row)."""

    username: str
    display_name: str
    role: Role
    via: Literal["session", "token", "service"]
    department: str | None = None
    csrf: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def allows(self, needed: Role) -> bool:
        return role_allows(self.role, needed)


SERVICE = Principal("api-token", "API 令牌（web.api_tokens）", "admin", "service")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def password_fingerprint(password_hash: str | None) -> str:
    """Changes whenever the password does: a session remembers it."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


class SessionCodec:
    """Session cookie values: ``base64(JSON payload) "." base64(HMAC-SHA256)``."""

    def __init__(self, secret: bytes, hours: float, now: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.seconds = int(hours * 3600)
        self._now = now

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def encode(self, user: StoredUser, csrf: str) -> str:
        payload = {
            "u": user.username,
            "e": int(self._now()) + self.seconds,
            "p": password_fingerprint(user.password_hash),
            "c": csrf,
        }
        body = _b64(orjson.dumps(payload))
        return f"{body}.{self._sign(body)}"

    def decode(self, value: str) -> dict[str, Any] | None:
        """The payload of a well-signed, unexpired cookie; None otherwise."""
        body, _, signature = value.partition(".")
        if not body or not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            payload = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
            return None
        if payload["e"] < self._now():
            return None
        return payload


class LoginLimiter:
    """At most ``failures`` failed sign-ins per key within ``window`` seconds."""

    def __init__(
        self,
        failures: int = LOGIN_FAILURES,
        window: float = LOGIN_WINDOW_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window = window
        self._now = now
        self._seen: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, key: tuple[str, str]) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        with self._lock:
            now = self._now()
            times = self._recent(key, now)
            if len(times) < self.failures:
                return 0.0
            return max(0.0, times[0] + self.window - now)

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            now = self._now()
            self._recent(key, now).append(now)
            if len(self._seen) > 10_000:  # forget quiet keys so memory stays flat
                for old in [k for k, t in self._seen.items() if not self._recent(k, now)]:
                    del self._seen[old]

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._seen.pop(key, None)


class Auth:
    """The app's sign-in state: the session codec (made on first use) and the login limit.
    ``app.state.auth`` holds it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limiter = LoginLimiter()
        self._codec: SessionCodec | None = None
        self._lock = threading.Lock()

    def codec(self, store: Store) -> SessionCodec:
        if self._codec is None:
            with self._lock:
                if self._codec is None:
                    secret = self.settings.web.secret_key or store.app_secret(
                        "session-cookie", secrets.token_urlsafe(32)
                    )
                    self._codec = SessionCodec(secret.encode(), self.settings.web.session_hours)
        return self._codec

    def start_session(self, response: Response, store: Store, user: StoredUser) -> None:
        """Set the session and CSRF cookies for ``user`` on ``response``."""
        csrf = secrets.token_urlsafe(24)
        codec = self.codec(store)
        secure = self.settings.web.secure_cookies
        response.set_cookie(
            SESSION_COOKIE,
            codec.encode(user, csrf),
            max_age=codec.seconds,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )
        set_csrf_cookie(response, csrf, secure=secure, max_age=codec.seconds)

    def end_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")


def set_csrf_cookie(response: Response, value: str, *, secure: bool, max_age: int) -> None:
    """The CSRF cookie: readable by the page's scripts (not HttpOnly), sent same-site only."""
    response.set_cookie(
        CSRF_COOKIE, value, max_age=max_age, samesite="lax", secure=secure, path="/"
    )


def auth_of(request: Request) -> Auth:
    found: Auth = request.app.state.auth
    return found


def _user_principal(
    user: StoredUser, via: Literal["session", "token"], csrf: str | None
) -> Principal:
    return Principal(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        via=via,
        department=user.department,
        csrf=csrf,
    )


def _bearer(header: str, state: WebState) -> Principal:
    scheme, _, given = header.partition(" ")
    token = given.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthorized", "send an API token as `Authorization: Bearer <token>`")
    presented = token.encode()
    if any(hmac.compare_digest(presented, t.encode()) for t in state.settings.web.api_tokens):
        return SERVICE
    with state.store() as store:
        user = store.user_for_token(token_hash(token))
    if user is None:
        raise ApiError(401, "unauthorized", "the API token is not valid")
    if user.disabled:
        raise ApiError(401, "unauthorized", f"user {user.username} is disabled")
    return _user_principal(user, "token", None)


def authenticate(request: Request) -> Principal | None:
    """The principal of a request (None: nobody signed in). A bad bearer token is an
    ApiError 401; a bad or stale cookie is just no session."""
    state = web_state(request)
    header = request.headers.get("authorization")
    if header is not None and header.strip():
        return _bearer(header, state)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with state.store() as store:
        payload = auth_of(request).codec(store).decode(cookie)
        user = store.get_user(str(payload["u"])) if payload else None
    if payload is None or user is None or user.disabled:
        return None
    if payload.get("p") != password_fingerprint(user.password_hash):
        return None
    return _user_principal(user, "session", str(payload.get("c") or ""))


class LoginRequiredError(ApiError):
    """Nobody is signed in: 401 JSON under /api/, a redirect to the login page elsewhere."""

    def __init__(self, message: str = "sign in, or send `Authorization: Bearer <token>`") -> None:
        super().__init__(401, "unauthorized", message)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _csrf_ok(request: Request, expected: str | None) -> bool:
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        kind = request.headers.get("content-type", "")
        if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            field = (await request.form()).get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def authorize(request: Request) -> None:
    """The app-wide dependency: find the principal (``request.state.principal``), then check
    the route's access level and, for cookie sessions, the CSRF token."""
    level = route_access(request)
    if level == "public":
        return
    principal = await run_in_threadpool(authenticate, request)
    if principal is None:
        raise LoginRequiredError()
    request.state.principal = principal
    # who sees author handles in this request (yuqing.privacy.masking)
    set_visibility(principal.role, web_state(request).settings.privacy.personal_roles)
    needed = _NEEDED[level]
    if not principal.allows(needed):
        if _is_api(request):
            message = f"this needs the {needed} role; {principal.username} is {principal.role}"
        else:
            message = f"此操作需要{ROLE_LABELS[needed]}权限（当前：{principal.role_label}）"
        raise ApiError(403, "forbidden", message)
    unsafe = principal.via == "session" and request.method not in SAFE_METHODS
    if unsafe and not await _csrf_ok(request, principal.csrf):
        raise ApiError(
            403,
            "csrf",
            f"missing or wrong CSRF token: send the {CSRF_COOKIE} cookie's value as the "
            "X-CSRF-Token header (or the csrf_token form field)",
        )


def principal_of(request: Request) -> Principal:
    """The principal :func:`authorize` found (routes that are not public only)."""
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:
        raise LoginRequiredError()
    return found
