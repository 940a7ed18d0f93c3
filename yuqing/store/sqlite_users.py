"""The SQLite side of users, their personal API tokens and the app's own secrets: the
shared section :mod:`yuqing.store.sql_users` over the store's connection, its transactions
and its error translation (a mixin of :class:`yuqing.store.sqlite.SQLiteStore`).
"""

from __future__ import annotations

from yuqing.store.dialect import SQLiteSection
from yuqing.store.sql_users import UsersSection


class SQLiteUsers(SQLiteSection, UsersSection):
    """The users section of the Store contract."""
