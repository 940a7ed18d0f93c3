"""The SQLite side of the corrections log: the shared section
:mod:`yuqing.store.sql_corrections` over the store's connection, its transactions and its
error translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_corrections import CorrectionsSection


class SQLiteCorrections(SQLiteSection, CorrectionsSection):
    """``add_correction``, ``corrections`` and ``mark_false_alarm`` of the Store contract."""
