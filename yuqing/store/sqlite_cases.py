"""The SQLite side of cases: the shared section :mod:`yuqing.store.sql_cases` (which
documents the record checks and the lost-update rule) over the store's connection, its
transactions and its error translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_cases import CasesSection


class SQLiteCases(SQLiteSection, CasesSection):
    """The cases section of the Store contract."""
