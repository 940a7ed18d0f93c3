"""The SQLite side of cases: the shared SQL of :mod:`yuqing.store.sql_cases` (which
documents the record checks and the lost-update rule) in SQLite's dialect, as functions over
one connection that :class:`yuqing.store.sqlite.SQLiteStore` wraps with its transactions and
its error translation.
"""

from __future__ import annotations

from yuqing.store.dialect import SQLITE
from yuqing.store.sql_cases import CaseTables

_tables = CaseTables(SQLITE)

save_case = _tables.save_case
get_case = _tables.get_case
cases = _tables.cases
