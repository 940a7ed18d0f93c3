"""``yuqing user ...`` through the real command line: add (password from stdin), list,
token (printed once, works against the API), set, and the errors' exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from yuqing.settings import Settings
from yuqing.web import create_app


def user_cli(args: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", "--store", "sqlite:///u.db", "user", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_user_add_list_token_set(tmp_path: Path) -> None:
    added = user_cli(
        ["add", "王五", "--role", "admin", "--department", "网信办", "--password-stdin"],
        tmp_path,
        "long-password-1\n",
    )
    assert added.returncode == 0, added.stderr
    assert "王五" in added.stdout and "管理员" in added.stdout
    again = user_cli(["add", "王五", "--password-stdin"], tmp_path, "long-password-1\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    weak = user_cli(["add", "li", "--password-stdin"], tmp_path, "short\n")
    assert weak.returncode == 2 and "8 characters" in weak.stderr
    no_tty = user_cli(["add", "li"], tmp_path)
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr

    made = user_cli(["token", "王五", "--name", "脚本"], tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("yq_") and "shown only this once" in made.stderr
    listed = user_cli(["list"], tmp_path)
    assert "王五" in listed.stdout and "网信办" in listed.stdout and "admin" in listed.stdout

    last = user_cli(["set", "王五", "--role", "viewer"], tmp_path)
    assert last.returncode == 2 and "only enabled admin" in last.stderr
    assert user_cli(["set", "ghost", "--disable"], tmp_path).returncode == 2

    app = create_app(Settings.model_validate({"store": f"sqlite:///{tmp_path / 'u.db'}"}))
    with TestClient(app) as client:
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["user"]["department"] == "网信办"
