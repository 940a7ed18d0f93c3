"""PDF briefings: the HTML rendering laid out by WeasyPrint (pure Python over the system's
Pango, which Debian ships; CJK text needs a CJK font such as fonts-noto-cjk)."""

from __future__ import annotations

from pathlib import Path

from yuqing.errors import UsageError
from yuqing.reports.model import Briefing
from yuqing.reports.render_html import render_html


def render_pdf(briefing: Briefing, out_path: Path) -> Path:
    """Write ``briefing`` as a PDF to ``out_path``; return the path."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing from the system
        raise UsageError(
            f"PDF reports need WeasyPrint and the Pango library ({exc}); "
            "install them (pip install weasyprint; apt install libpango-1.0-0 libpangoft2-1.0-0) "
            "or use --format docx/html"
        ) from exc
    try:
        weasyprint.HTML(string=render_html(briefing)).write_pdf(str(out_path))
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out_path}: {exc}") from exc
    return out_path
