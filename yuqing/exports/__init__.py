"""Exports (导出): search results, an event's posts and figures, alerts and cases as Excel
(.xlsx) or CSV files, with the filters used written into the file. See docs/operations.md.

Build an :class:`Export` from the store (:mod:`yuqing.exports.tables`,
:mod:`yuqing.exports.event`), then :func:`render` it::

    export = search_export(store, "食堂", zone=settings.zone, now=datetime.now(UTC))
    Path("out.xlsx").write_bytes(render(export, "xlsx"))

The CLI (``yuqing export ...``) and the API (``/api/v1/export/...``) are thin shells over
these functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from yuqing.errors import UsageError
from yuqing.exports.csv import csv_bytes, read_csv_export
from yuqing.exports.event import event_export
from yuqing.exports.model import Export, ExportNotFoundError, Table
from yuqing.exports.tables import alerts_export, cases_export, search_export
from yuqing.exports.xlsx import FILTERS_SHEET, xlsx_bytes

ExportFormat = Literal["xlsx", "csv"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def render(export: Export, fmt: str) -> bytes:
    """The bytes of the export's file in ``fmt`` (xlsx or csv)."""
    if fmt == "xlsx":
        return xlsx_bytes(export)
    if fmt == "csv":
        return csv_bytes(export)
    raise UsageError(f"export format {fmt!r}: use xlsx or csv")


def format_for(out: Path | None, fmt: str | None) -> str:
    """The format asked for, else the one the output file's extension names (else xlsx)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(f"--format {fmt!r}: use xlsx or csv")
        return fmt
    suffix = out.suffix.lower().lstrip(".") if out is not None else ""
    return suffix if suffix in FORMATS else "xlsx"


__all__ = [
    "FILTERS_SHEET",
    "FORMATS",
    "MEDIA_TYPES",
    "Export",
    "ExportFormat",
    "ExportNotFoundError",
    "Table",
    "alerts_export",
    "cases_export",
    "event_export",
    "format_for",
    "read_csv_export",
    "render",
    "search_export",
]
