"""`yuqing report` through the real CLI on the demo store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import docx


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_report_daily_docx_and_special_errors(tmp_path: Path) -> None:
    demo = run(["demo", "--dir", "d", "--posts", "300", "--no-serve"], tmp_path)
    assert demo.returncode == 0, demo.stderr
    store = ["--store", "sqlite:///d/yuqing.db"]
    res = run([*store, "report", "daily", "-o", "daily.docx"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "checked" in res.stderr
    text = "\n".join(p.text for p in docx.Document(str(tmp_path / "daily.docx")).paragraphs)
    assert "舆情日报" in text
    html = run([*store, "report", "weekly", "--format", "html", "-o", "weekly.html"], tmp_path)
    assert html.returncode == 0, html.stderr
    assert "舆情周报" in (tmp_path / "weekly.html").read_text(encoding="utf-8")
    pdf = run([*store, "report", "daily", "--format", "pdf", "-o", "daily.pdf"], tmp_path)
    assert pdf.returncode == 0, pdf.stderr
    data = (tmp_path / "daily.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000  # text, fonts and the chart
    missing = run([*store, "report", "special", "--event", "ev-nope"], tmp_path)
    assert missing.returncode == 2
    assert "ev-nope" in missing.stderr
