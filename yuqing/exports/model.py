"""What an export is before it becomes a file: named tables of cells, and the filters
that chose their rows (written into every file, so a spreadsheet handed on says what it
holds and what it leaves out).

Cells are plain values: text, numbers, ``None`` (an empty cell) and aware datetimes, which
the writers show in the export's zone (Excel has no time zones; the zone is written among
the filters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from yuqing import __version__
from yuqing.errors import UsageError

Cell = str | int | float | datetime | None
ExportKind = Literal["search", "event", "alerts", "cases"]
EXPORT_KINDS: tuple[str, ...] = get_args(ExportKind)
ANY = "不限"  # the value of a filter that was not set
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ExportNotFoundError(UsageError):
    """The thing to export (an event) is not in the store."""


@dataclass(slots=True)
class Table:
    """One sheet of an xlsx file, one section of a CSV file. ``name`` is at most 31
    characters (Excel's limit for sheet names)."""

    name: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.name) > 31 or not self.name:
            raise ValueError(f"table name {self.name!r} must have 1 to 31 characters")
        if len(self.headers) < 2:
            raise ValueError(f"table {self.name!r} needs at least two columns")


@dataclass(slots=True)
class Export:
    """An export: its ``kind`` and Chinese ``title``, the ``filters`` used as (label,
    value) pairs in the order a person reads them, its tables, the zone its times are
    shown in and when it was made. ``subject`` names what was exported (an event id) in
    the file name."""

    kind: ExportKind
    title: str
    filters: list[tuple[str, str]]
    tables: list[Table]
    zone: ZoneInfo
    created_at: datetime
    subject: str = ""

    @property
    def rows(self) -> int:
        """Rows in the main table (the last one: the posts, alerts or cases)."""
        return len(self.tables[-1].rows) if self.tables else 0

    def metadata(self) -> list[tuple[str, str]]:
        """What the file says about itself: title, the filters, then when, which zone,
        how many rows and which yuqing made it."""
        made = self.created_at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        return [
            ("导出内容", self.title),
            *self.filters,
            ("导出时间", made),
            ("时区", str(self.zone)),
            *((f"行数·{t.name}", str(len(t.rows))) for t in self.tables),
            ("生成程序", f"yuqing {__version__}"),
        ]

    def filename(self, fmt: str) -> str:
        """An ASCII file name such as ``yuqing-event-e12-20261120-0930.xlsx``."""
        stamp = self.created_at.astimezone(self.zone).strftime("%Y%m%d-%H%M")
        subject = _UNSAFE.sub("_", self.subject).strip("._-")[:40]
        parts = ["yuqing", self.kind, *([subject] if subject else []), stamp]
        return "-".join(parts) + f".{fmt}"


def filter_value(value: object, zone: ZoneInfo | None = None) -> str:
    """A filter's value as written into the file: ``不限`` when it was not set, lists
    joined with ``、``, times in ISO 8601 (in ``zone`` when given)."""
    if value is None or value == "" or value == [] or value == ():
        return ANY
    if isinstance(value, datetime):
        return (value.astimezone(zone) if zone is not None else value).isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)
