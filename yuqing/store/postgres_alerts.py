"""The PostgreSQL side of alerts, their delivery log and the monitoring rules saved through
the API (tables of migration 4): the shared section :mod:`yuqing.store.sql_alerts` (a mixin
of :class:`yuqing.store.postgres.PostgresStore`); the semantics are described there.

**The alert stream's cursor.** ``seq`` comes from an identity sequence, and a sequence
alone hands out numbers in call order, not commit order: with two workers, the one that
drew seq 10 may commit after the one that drew 11, and a reader that already moved its
cursor past 11 would never see 10. ``add_alerts`` therefore starts by locking the ``alerts``
table in SHARE ROW EXCLUSIVE mode (it conflicts with itself, not with readers;
:meth:`yuqing.store.dialect.Dialect.serialize_writers`): writers of alerts take turns, each
draws its numbers and commits before the next draws.
PostgreSQL makes a commit visible before it releases the transaction's locks, so the
guarantee is: *when a reader sees an alert with seq n, every alert with a smaller seq is
either visible too or will never exist* (a rolled-back batch leaves a gap, which readers
simply skip). Alerts are rare next to posts, so the serialization costs nothing measurable.
"""

from __future__ import annotations

from yuqing.store.dialect import PostgresSection
from yuqing.store.sql_alerts import AlertsSection


class PostgresAlerts(PostgresSection, AlertsSection):
    """The alerts, delivery log and saved rules section of the Store contract."""
