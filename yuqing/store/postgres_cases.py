"""The PostgreSQL side of cases: the shared SQL of :mod:`yuqing.store.sql_cases` (which
documents the record checks, the lost-update rule and the row lock a save takes) in
PostgreSQL's dialect, as functions over one connection that
:class:`yuqing.store.postgres.PostgresStore` wraps with its transactions and its error
translation.
"""

from __future__ import annotations

from yuqing.store.dialect import POSTGRES
from yuqing.store.sql_cases import CaseTables

_tables = CaseTables(POSTGRES)

save_case = _tables.save_case
get_case = _tables.get_case
cases = _tables.cases
