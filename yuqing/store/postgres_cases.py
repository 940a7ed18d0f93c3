"""The PostgreSQL side of cases: the shared section :mod:`yuqing.store.sql_cases` (which
documents the record checks, the lost-update rule and the row lock a save takes; a mixin of
:class:`yuqing.store.postgres.PostgresStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import PostgresSection
from yuqing.store.sql_cases import CasesSection


class PostgresCases(PostgresSection, CasesSection):
    """The cases section of the Store contract."""
