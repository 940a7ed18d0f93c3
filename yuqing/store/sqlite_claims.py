"""The SQLite side of claims (rumour verdicts): the shared section
:mod:`yuqing.store.sql_claims` over the store's connection, its transactions and its error
translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_claims import ClaimsSection


class SQLiteClaims(SQLiteSection, ClaimsSection):
    """``save_claim``, ``get_claim`` and ``claims`` of the Store contract."""
