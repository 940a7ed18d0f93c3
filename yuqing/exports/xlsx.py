"""Excel (.xlsx) exports with openpyxl: one sheet per table, then a ``筛选条件`` sheet with
the filters used, when, in which zone and how many rows.

Times are written as Excel date-times in the export's zone, to the second (Excel has no time zones; the
zone is on the ``筛选条件`` sheet). Text is kept as text: a post that starts with ``=`` is
never turned into a formula, characters that XML cannot hold are dropped, and a text
longer than Excel's cell limit (32,767 characters) is cut with ``…``.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

# openpyxl ships no type hints (types-openpyxl is not a dependency): its objects are Any here.
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from yuqing.exports.model import Cell, Export, Table

FILTERS_SHEET = "筛选条件"
MAX_CELL = 32_767
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_WIDE = {"内容", "标题", "样例", "原因", "风险依据", "时效说明", "阶段依据", "定级理由"}


def _value(value: Cell, zone: ZoneInfo) -> Cell:
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None, microsecond=0)
    if isinstance(value, str):
        text: str = ILLEGAL_CHARACTERS_RE.sub("", value)
        return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
    return value


def _put(ws: Any, row: int, column: int, value: Cell, zone: ZoneInfo) -> None:
    cell = ws.cell(row=row, column=column, value=_value(value, zone))
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"  # post text that starts with "=" stays text, not a formula
    if isinstance(value, datetime):
        cell.number_format = TIME_FORMAT


def _table_sheet(ws: Any, table: Table, zone: ZoneInfo) -> None:
    bold = Font(bold=True)
    for col, name in enumerate(table.headers, start=1):
        _put(ws, 1, col, name, zone)
        ws.cell(row=1, column=col).font = bold
        width = 60 if name in _WIDE else max(10, min(24, 2 * len(name) + 4))
        ws.column_dimensions[get_column_letter(col)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    wide = [i for i, name in enumerate(table.headers, start=1) if name in _WIDE]
    for r, values in enumerate(table.rows, start=2):
        for col, value in enumerate(values, start=1):
            _put(ws, r, col, value, zone)
        for col in wide:
            ws.cell(row=r, column=col).alignment = wrap
    ws.freeze_panes = "A2"


def xlsx_bytes(export: Export) -> bytes:
    """The export as the bytes of an .xlsx file."""
    wb = Workbook()
    first = True
    for table in export.tables:
        ws = wb.active if first and wb.active is not None else wb.create_sheet()
        first = False
        ws.title = table.name
        _table_sheet(ws, table, export.zone)
    meta = wb.create_sheet(FILTERS_SHEET)
    _table_sheet(
        meta,
        Table(FILTERS_SHEET, ["项目", "值"], [list(p) for p in export.metadata()]),
        export.zone,
    )
    meta.column_dimensions["B"].width = 60
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
