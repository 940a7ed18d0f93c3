"""Users and their credentials, shared by the web app (:mod:`yuqing.web.auth`), the CLI
(``yuqing user ...``) and the demo.

- Passwords are hashed with argon2id (19 MiB, 2 passes: OWASP's recommendation); only the
  hash is stored, and a hash made with other parameters is redone at the next sign-in.
- A personal API token is ``yq_`` plus 43 random URL-safe characters (256 bits); the store
  keeps only its SHA-256 hex, so the token is shown once, when it is made.
- Roles, most rights first: ``admin`` (also manages users), ``analyst`` (changes rules,
  alerts, cases), ``viewer`` (reads only). :func:`role_allows` compares them.

Errors are :class:`UserError` (a UsageError: the CLI exits 2, the API answers 4xx) with a
``code`` the API puts in its error body.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from yuqing.errors import UsageError
from yuqing.store.base import ROLES, Role, Store, StoredToken, StoredUser

PASSWORD_MIN_CHARS = 8
TOKEN_PREFIX = "yq_"
ROLE_LABELS: dict[str, str] = {"admin": "管理员", "analyst": "分析员", "viewer": "只读"}
_USERNAME = re.compile(r"[\w.@-]{1,64}")
# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 0.02-0.1 s
# a check on a 2-core machine, where argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes)
# take 0.7 s and make the login form a way to load the server.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Checked when the user is unknown, so that a wrong name costs as a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class UserError(UsageError):
    """A user operation that cannot be done: ``code`` is bad_username, bad_role,
    weak_password, user_exists, unknown_user or last_admin."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_username(username: str) -> str:
    name = username.strip()
    if not _USERNAME.fullmatch(name):
        raise UserError(
            "bad_username",
            f"username {username!r}: use 1-64 letters, digits, Chinese characters or . _ - @",
        )
    return name


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise UserError("bad_role", f"role {role!r}: use one of {', '.join(ROLES)}")
    return cast(Role, role)


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` has at least the rights of ``needed`` (admin > analyst > viewer)."""
    return role in ROLES and ROLES.index(role) <= ROLES.index(needed)


def hash_password(password: str) -> str:
    if len(password) < PASSWORD_MIN_CHARS:
        raise UserError(
            "weak_password", f"the password needs at least {PASSWORD_MIN_CHARS} characters"
        )
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash takes as long as a wrong password."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def token_hash(token: str) -> str:
    """What the store keeps of an API token: the SHA-256 hex of its UTF-8 bytes."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    store: Store,
    username: str,
    *,
    role: str,
    password: str | None = None,
    display_name: str | None = None,
    department: str | None = None,
    now: datetime | None = None,
) -> StoredUser:
    """Add a user (UserError ``user_exists`` when the name is taken)."""
    name = check_username(username)
    user = StoredUser(
        username=name,
        display_name=(display_name or "").strip() or name,
        role=check_role(role),
        department=(department or "").strip() or None,
        created_at=now or datetime.now(UTC),
        password_hash=hash_password(password) if password is not None else None,
    )
    if not store.add_user(user):
        raise UserError("user_exists", f"user {name!r} already exists")
    return user


def require_user(store: Store, username: str) -> StoredUser:
    user = store.get_user(username)
    if user is None:
        raise UserError("unknown_user", f"there is no user {username!r}; see `yuqing user list`")
    return user


def change_user(
    store: Store,
    username: str,
    *,
    role: str | None = None,
    disabled: bool | None = None,
    display_name: str | None = None,
    department: str | None = None,
) -> StoredUser:
    """Change what is given (``department=""`` clears it); the changed user."""
    user = before = require_user(store, username)
    if role is not None:
        user = replace(user, role=check_role(role))
    if disabled is not None:
        user = replace(user, disabled=disabled)
    if display_name is not None and display_name.strip():
        user = replace(user, display_name=display_name.strip())
    if department is not None:
        user = replace(user, department=department.strip() or None)
    demoted = _is_admin(before) and not _is_admin(user)
    if demoted and not any(_is_admin(u) for u in store.users() if u.username != username):
        raise UserError(
            "last_admin", f"{username} is the only enabled admin: make another user admin first"
        )
    store.update_user(user)
    return user


def _is_admin(user: StoredUser) -> bool:
    return user.role == "admin" and not user.disabled


def set_password(store: Store, username: str, password: str) -> None:
    require_user(store, username)
    store.set_password_hash(username, hash_password(password))


def new_api_token(
    store: Store, username: str, *, name: str = "", now: datetime | None = None
) -> tuple[StoredToken, str]:
    """Make a personal API token for ``username``: (what is stored, the token itself: show
    it once, it cannot be read back)."""
    require_user(store, username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    stored = StoredToken(
        id=secrets.token_hex(4),
        username=username,
        name=name.strip()[:80],
        created_at=now or datetime.now(UTC),
    )
    store.add_api_token(stored, token_hash(token))
    return stored, token


def new_password() -> str:
    """A random password people can type (the demo's admin)."""
    return secrets.token_urlsafe(9)
