"""``yuqing user ...``: the people who may sign in to the dashboard and the API.

``add`` (password prompted twice, or read from stdin with ``--password-stdin``), ``list``,
``token`` (a personal API token, printed once), ``set`` (role, department, display name,
disable/enable) and ``password``. Roles: admin, analyst, viewer (docs/security.md).
Registers on the one app of :mod:`yuqing.cli`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from yuqing.cli import _open_store, app, state
from yuqing.console import out_console
from yuqing.errors import UsageError
from yuqing.privacy.audit import CLI_CLIENT, cli_actor, record, user_change_action
from yuqing.users import ROLE_LABELS, change_user, create_user, new_api_token, set_password

user_app = typer.Typer(help="Users (用户): who may sign in, with which role.", no_args_is_help=True)
app.add_typer(user_app, name="user")

Name = Annotated[str, typer.Argument(help="The username (登录名).")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UsageError("--password-stdin: stdin gave no password")
        return line
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password: pass it with --password-stdin")
    password: str = typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("add")
def add_user(
    username: Name,
    role: Annotated[str, typer.Option("--role", help="admin, analyst or viewer.")] = "viewer",
    department: Annotated[
        str | None, typer.Option("--department", help="Department (部门), for data scope.")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Name shown in the dashboard.")
    ] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user who signs in with a password (at least 8 characters)."""
    password = _read_password(password_stdin)
    store = _open_store(state.settings())
    try:
        user = create_user(
            store,
            username,
            role=role,
            password=password,
            display_name=display_name,
            department=department,
        )
        details = {"role": user.role, "department": user.department}
        record(
            store, "user_create", cli_actor(), client=CLI_CLIENT, target=username, details=details
        )
    finally:
        store.close()
    out_console.print(f"已创建用户 {user.username}（{ROLE_LABELS[user.role]}）")


@user_app.command("list")
def list_users() -> None:
    """The users: role, department, disabled, last sign-in."""
    store = _open_store(state.settings())
    try:
        users = store.users()
        tokens = store.api_tokens()
    finally:
        store.close()
    if not users:
        out_console.print("还没有用户：yuqing user add NAME --role admin")
        return
    table = Table(header_style="bold")
    for column in ("用户名", "显示名", "角色", "部门", "状态", "令牌", "最近登录"):
        table.add_column(column)
    for user in users:
        table.add_row(
            user.username,
            user.display_name,
            f"{user.role} {ROLE_LABELS[user.role]}",
            user.department or "",
            "停用" if user.disabled else "启用",
            str(sum(t.username == user.username for t in tokens)),
            user.last_login_at.isoformat(timespec="seconds") if user.last_login_at else "",
        )
    out_console.print(table)


@user_app.command("token")
def make_token(
    username: Name,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "",
) -> None:
    """Make a personal API token for the user and print it once (it is stored hashed)."""
    store = _open_store(state.settings())
    try:
        stored, token = new_api_token(store, username, name=name)
    finally:
        store.close()
    print(token, flush=True)
    print(
        f"token {stored.id} of {username}: send it as `Authorization: Bearer <token>`; "
        "it is shown only this once",
        file=sys.stderr,
    )


@user_app.command("set")
def set_user(
    username: Name,
    role: Annotated[str | None, typer.Option("--role", help="admin, analyst or viewer.")] = None,
    department: Annotated[
        str | None, typer.Option("--department", help='Department ("" clears it).')
    ] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    disabled: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Stop or allow sign-ins.")
    ] = None,
) -> None:
    """Change a user's role, department, display name, or disable/enable it."""
    store = _open_store(state.settings())
    try:
        before = store.get_user(username)
        user = change_user(
            store,
            username,
            role=role,
            disabled=disabled,
            display_name=display_name,
            department=department,
        )
        if before is not None:  # audit log: what changed (yuqing.privacy.audit)
            asked = {"role": role, "disabled": disabled, "department": department}
            details = {k: v for k, v in asked.items() if v is not None}
            details["role_before"] = before.role
            action = user_change_action(before.role, user.role, before.disabled, user.disabled)
            record(store, action, cli_actor(), client=CLI_CLIENT, target=username, details=details)
    finally:
        store.close()
    status = "停用" if user.disabled else "启用"
    out_console.print(f"{user.username}: {ROLE_LABELS[user.role]}，{status}")


@user_app.command("password")
def change_password(username: Name, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password (its open sessions end)."""
    password = _read_password(password_stdin)
    store = _open_store(state.settings())
    try:
        set_password(store, username, password)
    finally:
        store.close()
    out_console.print(f"已更新 {username} 的密码")
