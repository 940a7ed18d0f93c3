"""`yuqing drill list|validate|run` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_drill_list_and_fast_run(tmp_path: Path) -> None:
    listed = run(["drill", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in ("school-food-safety", "px-project-protest", "cherry-blossom-festival"):
        assert name in listed.stdout
    res = run(
        [
            "--store",
            "sqlite:///drill.db",
            "drill",
            "run",
            "school-food-safety",
            "--speed",
            "0",
            "--report",
            "report.json",
        ],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["stored"] == report["posts"] > 500
    assert report["timeline"]
    again = run(["--store", "sqlite:///drill.db", "drill", "run", "school-food-safety"], tmp_path)
    assert again.returncode == 2  # a drill needs its own, empty store
    assert "empty" in again.stderr or "store" in again.stderr


def test_drill_validate_reports_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: 测试\nphases: 3\n", encoding="utf-8")
    res = run(["drill", "validate", str(bad)], tmp_path)
    assert res.returncode == 1
    assert "bad.yaml" in res.stderr
    assert "line" in res.stderr or ":" in res.stderr


def test_drill_score_of_an_idle_trainee(tmp_path: Path) -> None:
    res = run(
        [
            "--store",
            "sqlite:///d.db",
            "drill",
            "run",
            "cherry-blossom-festival",
            "--speed",
            "0",
            "--report",
            "r.json",
        ],
        tmp_path,
    )
    assert res.returncode == 0, res.stderr
    scored = run(
        [
            "--store",
            "sqlite:///d.db",
            "drill",
            "score",
            "r.json",
            "--html",
            "s.html",
            "--json",
            "s.json",
        ],
        tmp_path,
    )
    assert scored.returncode == 0, scored.stderr
    score = json.loads((tmp_path / "s.json").read_text())
    assert 0 <= score["total"] <= 100
    assert "未发布" in (tmp_path / "s.html").read_text(encoding="utf-8")
