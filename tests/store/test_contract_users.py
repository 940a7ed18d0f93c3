"""The users section of the Store contract: users, personal API tokens (hashed) and the app's
secrets, over every backend of the ``store`` fixture."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import StoreError
from yuqing.store.base import Store, StoredToken, StoredUser

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def user(name: str = "zhang", **changes: object) -> StoredUser:
    base = StoredUser(
        username=name,
        display_name="张三",
        role="analyst",
        created_at=T0,
        department="网信办",
        password_hash="$argon2id$fake",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_add_get_list_users(store: Store) -> None:
    assert store.get_user("zhang") is None
    assert store.users() == []
    assert store.add_user(user()) is True
    assert store.add_user(user(display_name="别人")) is False  # the name is taken
    assert store.add_user(user("li", role="viewer", department=None, password_hash=None))
    got = store.get_user("zhang")
    assert got == user()
    assert got is not None and got.created_at == T0 and got.last_login_at is None
    assert "argon2" not in repr(got)  # the hash stays out of logs
    assert [u.username for u in store.users()] == ["li", "zhang"]
    li = store.get_user("li")
    assert li is not None and li.department is None and li.password_hash is None
    assert store.get_user("Zhang") is None  # exact names


def test_add_user_checks_role_and_time(store: Store) -> None:
    with pytest.raises(StoreError, match="role"):
        store.add_user(user(role="boss"))
    with pytest.raises(StoreError, match="time zone"):
        store.add_user(user(created_at=datetime(2026, 1, 1)))  # noqa: DTZ001


def test_update_user_password_and_login(store: Store) -> None:
    store.add_user(user())
    changed = replace(user(), role="viewer", disabled=True, department=None, display_name="张")
    assert store.update_user(changed) is True
    got = store.get_user("zhang")
    assert got is not None
    assert (got.role, got.disabled, got.department, got.display_name) == (
        "viewer",
        True,
        None,
        "张",
    )
    assert got.password_hash == "$argon2id$fake"  # update_user leaves the hash alone
    assert store.update_user(user("nobody")) is False
    with pytest.raises(StoreError, match="role"):
        store.update_user(user(role="root"))

    assert store.set_password_hash("zhang", "$argon2id$new") is True
    assert store.set_password_hash("nobody", "x") is False
    later = T0 + timedelta(hours=3)
    assert store.record_login("zhang", later) is True
    assert store.record_login("nobody", later) is False
    got = store.get_user("zhang")
    assert got is not None and got.password_hash == "$argon2id$new"
    assert got.last_login_at == later


def test_api_tokens_are_found_by_hash_and_revoked(store: Store) -> None:
    store.add_user(user())
    store.add_user(user("li", role="viewer"))
    first = StoredToken(id="t1", username="zhang", name="脚本", created_at=T0)
    second = StoredToken(id="t2", username="li", name="", created_at=T0 + timedelta(1))
    store.add_api_token(first, "a" * 64)
    store.add_api_token(second, "b" * 64)
    assert store.api_tokens() == [first, second]
    assert store.api_tokens("li") == [second]
    found = store.user_for_token("a" * 64)
    assert found is not None and found.username == "zhang" and found.role == "analyst"
    assert store.user_for_token("c" * 64) is None
    with pytest.raises(StoreError, match="no user"):
        store.add_api_token(StoredToken("t3", "ghost", "", T0), "d" * 64)
    with pytest.raises(StoreError, match="already stored"):
        store.add_api_token(StoredToken("t4", "zhang", "", T0), "a" * 64)
    assert store.revoke_api_token("t1") is True
    assert store.revoke_api_token("t1") is False
    assert store.user_for_token("a" * 64) is None
    assert store.api_tokens() == [second]


def test_app_secret_is_made_once(store: Store) -> None:
    assert store.app_secret("session", "first") == "first"
    assert store.app_secret("session", "second") == "first"
    assert store.app_secret("other", "x") == "x"
    with pytest.raises(StoreError, match="empty"):
        store.app_secret("blank", "")
