"""Users, their personal API tokens and the app's own secrets (tables of migration 6), in
SQL shared by both backends (:mod:`yuqing.store.dialect`).

Passwords and tokens never reach the store in clear: ``users.password_hash`` is an argon2
hash and ``api_tokens.token_hash`` the SHA-256 hex of the token (both made in
:mod:`yuqing.users`). ``app_secret`` is one ``INSERT ... ON CONFLICT DO NOTHING`` then a
read in the same transaction: concurrent processes that race on a new secret all get the
one that committed first.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, cast

from yuqing.errors import StoreError
from yuqing.store.base import ROLES, Role, StoredToken, StoredUser
from yuqing.store.dialect import Section
from yuqing.store.rows import from_micros, to_micros

_USER_COLUMNS = (
    "username, display_name, role, department, password_hash, disabled, created_at, last_login_at"
)
_TOKEN_COLUMNS = "id, username, name, created_at"


def _user(row: tuple[Any, ...]) -> StoredUser:
    created = from_micros(row[6])
    assert created is not None
    return StoredUser(
        username=row[0],
        display_name=row[1],
        role=cast(Role, row[2]),
        department=row[3],
        password_hash=row[4],
        disabled=bool(row[5]),
        created_at=created,
        last_login_at=from_micros(row[7]),
    )


def _token(row: tuple[Any, ...]) -> StoredToken:
    created = from_micros(row[3])
    assert created is not None
    return StoredToken(id=row[0], username=row[1], name=row[2], created_at=created)


class UsersSection(Section):
    """The users section of the Store contract."""

    def _check_role(self, user: StoredUser) -> None:
        if user.role not in ROLES:
            raise StoreError(
                f"{self.label}: user {user.username}: unknown role {user.role!r}; "
                f"use one of {', '.join(ROLES)}"
            )

    def add_user(self, user: StoredUser) -> bool:
        self._check_role(user)
        row = (
            user.username,
            user.display_name,
            user.role,
            user.department,
            user.password_hash,
            bool(user.disabled),
            to_micros(user.created_at, f"{self.label}: user {user.username}: created_at"),
            to_micros(user.last_login_at, f"{self.label}: user {user.username}: last_login_at"),
        )
        with self._write(f"adding user {user.username}") as conn:
            cursor = conn.execute(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (username) DO NOTHING",
                row,
            )
            return cursor.rowcount == 1

    def get_user(self, username: str) -> StoredUser | None:
        with self._read(f"reading user {username}") as conn:
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)
            ).fetchone()
        return _user(row) if row else None

    def users(self) -> list[StoredUser]:
        with self._read("listing users") as conn:
            rows = conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username").fetchall()
        return [_user(row) for row in rows]

    def update_user(self, user: StoredUser) -> bool:
        self._check_role(user)
        with self._write(f"updating user {user.username}") as conn:
            cursor = conn.execute(
                "UPDATE users SET display_name = ?, role = ?, department = ?, disabled = ? "
                "WHERE username = ?",
                (user.display_name, user.role, user.department, bool(user.disabled), user.username),
            )
            return cursor.rowcount == 1

    def set_password_hash(self, username: str, password_hash: str | None) -> bool:
        with self._write(f"setting the password of {username}") as conn:
            cursor = conn.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
            )
            return cursor.rowcount == 1

    def record_login(self, username: str, at: datetime) -> bool:
        micros = to_micros(at, f"{self.label}: login of {username}")
        with self._write(f"recording the login of {username}") as conn:
            cursor = conn.execute(
                "UPDATE users SET last_login_at = ? WHERE username = ?", (micros, username)
            )
            return cursor.rowcount == 1

    def add_api_token(self, token: StoredToken, token_hash: str) -> None:
        where = f"{self.label}: API token {token.id} of {token.username}"
        micros = to_micros(token.created_at, f"{where}: created_at")
        with self._write(f"adding API token {token.id}") as conn:
            owner = conn.execute("SELECT 1 FROM users WHERE username = ?", (token.username,))
            if owner.fetchone() is None:
                raise StoreError(f"{where}: there is no user {token.username!r}")
            inserted = conn.execute(
                f"INSERT INTO api_tokens ({_TOKEN_COLUMNS}, token_hash) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (token.id, token.username, token.name, micros, token_hash),
            ).rowcount
            if not inserted:
                raise StoreError(f"{where}: this token id or token is already stored")

    def api_tokens(self, username: str | None = None) -> list[StoredToken]:
        sql = f"SELECT {_TOKEN_COLUMNS} FROM api_tokens"
        args: tuple[str, ...] = ()
        if username is not None:
            sql += " WHERE username = ?"
            args = (username,)
        with self._read("listing API tokens") as conn:
            rows = conn.execute(sql + " ORDER BY created_at, id", args).fetchall()
        return [_token(row) for row in rows]

    def user_for_token(self, token_hash: str) -> StoredUser | None:
        columns = ", ".join(f"u.{c.strip()}" for c in _USER_COLUMNS.split(","))
        with self._read("looking up an API token") as conn:
            row = conn.execute(
                f"SELECT {columns} FROM api_tokens t JOIN users u ON u.username = t.username "
                "WHERE t.token_hash = ?",
                (token_hash,),
            ).fetchone()
        return _user(row) if row else None

    def revoke_api_token(self, token_id: str) -> bool:
        with self._write(f"revoking API token {token_id}") as conn:
            return conn.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,)).rowcount == 1

    def app_secret(self, name: str, candidate: str) -> str:
        if not candidate:
            raise StoreError(f"{self.label}: app secret {name!r}: an empty secret is not stored")
        with self._write(f"reading app secret {name}") as conn:
            conn.execute(
                "INSERT INTO app_secrets (name, value, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO NOTHING",
                (name, candidate, time.time_ns() // 1000),
            )
            row = conn.execute("SELECT value FROM app_secrets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise StoreError(f"{self.label}: app secret {name!r} vanished while it was read")
        return str(row[0])
