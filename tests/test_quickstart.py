"""The README's first quick-start command runs the demo end to end."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_demo_command(tmp_path: Path) -> None:
    res = subprocess.run(
        [
            str(REPO / "scripts" / "dev.sh"),
            "demo",
            "--dir",
            str(tmp_path / "demo"),
            "--posts",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "演示场景" in res.stdout
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("read 300, stored 300, duplicates 0, rejected 0"), last
    assert (tmp_path / "demo" / "yuqing.db").exists()
