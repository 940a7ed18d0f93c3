"""Monthly partitions of the PostgreSQL store's posts, created as posts arrive.

``documents`` and ``search_index`` are range-partitioned on ``published_at`` (bigint
microseconds, UTC) with one partition per UTC calendar month, named
``documents_p202405`` / ``search_index_p202405``, for months from :data:`FIRST_YEAR` up to
:data:`END_YEAR` (exclusive). Posts without a time, or with a time outside those years (a
clock at zero, a typo), go to the ``*_default`` partitions, whose CHECK constraint
(migration 1/2) keeps them to exactly that: a month's posts can never land in the default
partition, so creating a month partition never has to move rows, and PostgreSQL skips
scanning the default partition when it creates one.

:meth:`Partitions.ensure` runs before the write transaction of ``add_documents``: a month
not yet known is looked up in the catalog and, when missing, created (for both tables) in a
short transaction of its own under an advisory lock of the schema, so that concurrent
writers never race on ``CREATE TABLE``. Creating a partition briefly locks the parent
table; it happens once a month per table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from yuqing.store.rows import to_micros

FIRST_YEAR = 1990
END_YEAR = 2100
PARENTS = ("documents", "search_index")
# pg_advisory_xact_lock class of partition creation (see postgres_migrations.LOCK_MIGRATE).
LOCK_PARTITIONS = 7_100_002

Month = tuple[int, int]


def _start(year: int, month: int) -> int:
    micros = to_micros(datetime(year, month, 1, tzinfo=UTC))
    assert micros is not None
    return micros


FIRST_MICROS = _start(FIRST_YEAR, 1)  # 631152000000000, as in the default partitions' CHECK
END_MICROS = _start(END_YEAR, 1)  # 4102444800000000


def month_of(published_at: int | None) -> Month | None:
    """The (year, month) partition of a time in microseconds, or None: the default one."""
    if published_at is None or not FIRST_MICROS <= published_at < END_MICROS:
        return None
    when = datetime.fromtimestamp(published_at // 1_000_000, tz=UTC)
    return when.year, when.month


def month_bounds(month: Month) -> tuple[int, int]:
    """[start, end) of a month in microseconds since the epoch."""
    year, number = month
    after = (year + 1, 1) if number == 12 else (year, number + 1)
    return _start(year, number), _start(*after)


def partition_name(parent: str, month: Month) -> str:
    return f"{parent}_p{month[0]:04d}{month[1]:02d}"


class Partitions:
    """The month partitions known to exist in one schema (a cache over the catalog)."""

    def __init__(self) -> None:
        self._known: set[Month] = set()

    def ensure(self, conn: psycopg.Connection[TupleRow], months: Iterable[Month | None]) -> int:
        """Create the partitions of ``months`` that do not exist yet (None: the default one,
        which always exists); return how many months were created. Must run outside a
        transaction (it commits its own)."""
        wanted = {m for m in months if m is not None} - self._known
        if not wanted:
            return 0
        self.refresh(conn)
        missing = sorted(wanted - self._known)
        if not missing:
            return 0
        with conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (LOCK_PARTITIONS,)
            )
            for month in missing:
                start, end = month_bounds(month)
                for parent in PARENTS:
                    conn.execute(
                        sql.SQL(
                            "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} "
                            "FOR VALUES FROM ({}) TO ({})"
                        ).format(
                            sql.Identifier(partition_name(parent, month)),
                            sql.Identifier(parent),
                            sql.Literal(start),
                            sql.Literal(end),
                        )
                    )
        self._known.update(missing)
        return len(missing)

    def refresh(self, conn: psycopg.Connection[TupleRow]) -> set[Month]:
        """Read the month partitions that exist for *both* tables from the catalog."""
        per_parent: list[set[Month]] = []
        for parent in PARENTS:
            rows = conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(%s)",
                (parent,),
            ).fetchall()
            found: set[Month] = set()
            prefix = f"{parent}_p"
            for (name,) in rows:
                digits = str(name).removeprefix(prefix)
                if len(digits) == 6 and digits.isdigit() and str(name).startswith(prefix):
                    found.add((int(digits[:4]), int(digits[4:])))
            per_parent.append(found)
        self._known = set.intersection(*per_parent)
        return set(self._known)
