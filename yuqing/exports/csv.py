"""CSV exports: UTF-8 with a byte-order mark (so Excel opens Chinese correctly), comma
separated, CRLF line ends, the filters first.

Layout (every line is a CSV record)::

    # yuqing 导出
    # 导出内容：搜索结果
    # 关键词：食堂
    # ...                          one "# label：value" record per filter and fact
                                   an empty line
    # 表：搜索结果                   each table: its name,
    发布时间,来源,编号,...            its header,
    2026-11-20 08:00:00,weibo,...  its rows,
                                   an empty line before the next table

A comment record is one field that starts with ``#``; every table has at least two
columns, so a data row is never read as a comment, and a post's text that starts with
``#`` is safe. :func:`read_csv_export` reads the layout back. Times are written as
``YYYY-MM-DD HH:MM:SS`` in the export's zone (written among the filters as 时区).

Text that a spreadsheet would run as a formula (a field starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading ``'``, as OWASP advises against
CSV injection; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from yuqing.errors import UsageError
from yuqing.exports.model import Cell, Export

BOM = "\ufeff"
HEADER = "# yuqing 导出"
TABLE_PREFIX = "# 表："
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _field(value: Cell, zone: ZoneInfo) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return value


def _comment(label: str, value: str) -> list[str]:
    return [f"# {label}：{' '.join(value.split())}"]


def csv_text(export: Export) -> str:
    """The export as CSV text (without the byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([HEADER])
    writer.writerows(_comment(label, value) for label, value in export.metadata())
    for table in export.tables:
        writer.writerow([])
        writer.writerow([TABLE_PREFIX + table.name])
        writer.writerow(table.headers)
        writer.writerows([_field(v, export.zone) for v in row] for row in table.rows)
    return out.getvalue()


def csv_bytes(export: Export) -> bytes:
    """The export as the bytes of a .csv file: UTF-8 with a byte-order mark."""
    return (BOM + csv_text(export)).encode("utf-8")


@dataclass(slots=True)
class CsvExport:
    """A CSV export read back: its facts and filters (label -> value) and its tables
    (name -> header row then data rows, every field a string)."""

    filters: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[list[str]]] = field(default_factory=dict)


def read_csv_export(data: bytes | str) -> CsvExport:
    """Parse the layout that :func:`csv_bytes` writes; UsageError when it is not one."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix(BOM)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0] != [HEADER]:
        raise UsageError(f"not a yuqing CSV export: it does not start with {HEADER!r}")
    found = CsvExport()
    current: list[list[str]] | None = None
    for row in rows[1:]:
        if not row:
            current = None
        elif len(row) == 1 and row[0].startswith(TABLE_PREFIX):
            current = found.tables.setdefault(row[0][len(TABLE_PREFIX) :], [])
        elif len(row) == 1 and row[0].startswith("# ") and current is None:
            label, _, value = row[0][2:].partition("：")
            found.filters[label] = value
        elif current is not None:
            current.append(row)
        else:
            raise UsageError(f"unexpected CSV record outside a table: {row[:3]!r}")
    return found
