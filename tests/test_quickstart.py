"""The README's first quick-start command: the demo runs the pipeline over the start of its
story, prints its summary and login, serves the dashboard on the demo store and replays
the rest of the story into it (here at a high speed: seconds, not the default minutes)."""

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
                "--speed",
                "36000",
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
        head = re.search(r"read (\d+), stored (\d+), duplicates 0, rejected 0", output)
        assert head and head[1] == head[2] and 0 < int(head[1]) < 300, output[-3000:]
        assert (tmp_path / "demo" / "yuqing.db").exists()
        token = re.search(r"接口令牌: (\S+)", output)
        assert token, f"the demo printed no API token:\n{output[-3000:]}"
        deadline = time.monotonic() + 300
        while "演示场景播放完毕" not in log.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, f"the replay never ended:\n{log.read_text()}"
            time.sleep(0.2)
        assert proc.poll() is None, "the demo must keep serving after its story ends"
        stats = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/stats",
            headers={"Authorization": f"Bearer {token[1]}"},
            timeout=10,
        )
        assert stats.status_code == 200 and stats.json()["documents"] == 300
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
