"""The README's first quick-start command: the demo runs the pipeline, prints its summary
and serves the dashboard on the demo store."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readme_demo_command(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(REPO / "scripts" / "dev.sh"),
                "demo",
                "--dir",
                str(tmp_path / "demo"),
                "--posts",
                "300",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "120"},
        )
    try:
        page = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        output = log.read_text()
        assert page is not None, f"the dashboard never answered:\n{output[-3000:]}"
        assert page.status_code == 200
        assert "登录舆情监测" in page.text  # the dashboard asks to sign in
        login = re.search(r"看板登录: 用户名 admin\s+密码 (\S+)", output)
        assert login, f"the demo printed no login:\n{output[-3000:]}"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            http.get("/login")
            form = {"username": "admin", "password": login[1]}
            form["csrf_token"] = http.cookies["yuqing_csrf"]
            overview = http.post("/login", data=form, follow_redirects=True)
        assert overview.status_code == 200 and "演示管理员" in overview.text
        assert "演示场景" in output
        assert "read 300, stored 300, duplicates 0, rejected 0" in output
        assert (tmp_path / "demo" / "yuqing.db").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
