"""The PostgreSQL side of the dashboard and API queries: the shared SQL of
:mod:`yuqing.store.sql_queries` (which documents the semantics), with the parts that read the
analysis JSON in ``jsonb``, and the label columns of migration 3 stored (generated).

Windows on ``published_at`` prune the month partitions. Orders that involve a possibly NULL
column spell out SQLite's NULL placement (first when ascending, last when descending), and
text ties are broken by code point (``COLLATE "C"``), as SQLite does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from yuqing.store.dialect import POSTGRES
from yuqing.store.sql_queries import VALUE, DashboardQueries


def _score(key: str) -> str:
    path = f"d.analysis -> 'risk' -> '{key}'"
    return f"CASE WHEN jsonb_typeof({path}) = 'number' THEN ({path})::float8 ELSE 0 END"


_REGIONS = (
    "CASE WHEN jsonb_typeof(d.analysis -> 'regions') = 'array' "
    "THEN d.analysis -> 'regions' ELSE '[]'::jsonb END"
)


class PostgresQueries(DashboardQueries):
    dialect = POSTGRES
    order: ClassVar[Mapping[str, str]] = {
        "time": "d.published_at ASC NULLS FIRST, d.pk ASC",
        "engagement": "(d.reposts + d.comments + d.likes) DESC, d.published_at ASC NULLS FIRST, "
        "d.pk ASC",
        "risk": f"GREATEST({_score('rumor')}, {_score('group_incident')}) DESC, "
        "d.published_at ASC NULLS FIRST, d.pk ASC",
    }

    def grouped_sql(
        self, dimension: str, where: list[str], select: str, group: str, event_id: str | None
    ) -> str:
        if dimension != "region":
            value = VALUE[dimension]
            cond = " AND ".join([*where, f"{value} IS NOT NULL"])
            return (
                f'SELECT {select}({value}) COLLATE "C" AS v, COUNT(*) FROM documents d '
                f"WHERE {cond} GROUP BY {group}v"
            )
        # Region names from analysis["regions"]; the input region where the analysis found none.
        cond = " AND ".join(where)
        return (
            f'SELECT {select}v COLLATE "C" AS v, COUNT(*) FROM ('
            f"SELECT d.published_at AS published_at, r.value ->> 'name' AS v "
            f"FROM documents d CROSS JOIN LATERAL jsonb_array_elements({_REGIONS}) r "
            f"WHERE {cond} UNION ALL SELECT d.published_at, d.region FROM documents d "
            f"WHERE {cond} AND d.region IS NOT NULL AND jsonb_array_length({_REGIONS}) = 0"
            f") d WHERE v IS NOT NULL GROUP BY {group}v"
        )


QUERIES = PostgresQueries()
