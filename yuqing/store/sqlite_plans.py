"""The SQLite side of monitoring plans and the poll state of their sources: the shared
section :mod:`yuqing.store.sql_plans` over the store's connection, its transactions and its
error translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_plans import PlansSection


class SQLitePlans(SQLiteSection, PlansSection):
    """The plans section of the Store contract."""
