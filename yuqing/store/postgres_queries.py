"""The PostgreSQL queries behind the dashboard and the REST API: trends, distributions, event
roll-ups and event posts, and the ``events`` table. The same results as
:mod:`yuqing.store.sqlite_queries` (that module documents the semantics); this one reads the
stored generated columns of migration 3 and ``jsonb`` for regions and risk scores.

Windows on ``published_at`` prune the month partitions. Orders that involve a possibly NULL
column spell out SQLite's NULL placement (first when ascending, last when descending), and
text ties are broken by code point (``COLLATE "C"``), as SQLite does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from psycopg.rows import TupleRow

from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.store.base import (
    DIMENSIONS,
    SLOT_SECONDS,
    Dimension,
    EventOrder,
    EventRollup,
    TrendCount,
)
from yuqing.store.rows import COLUMNS, from_micros, row_to_document, to_micros

if TYPE_CHECKING:
    from yuqing.events.event import Event

Conn = psycopg.Connection[TupleRow]

_SLOT_US = SLOT_SECONDS * 1_000_000
_HOUR_US = 3_600_000_000
_SELECT_DOCS = f"SELECT {', '.join('d.' + c for c in COLUMNS)} FROM documents d"
_VALUE: dict[str, str] = {
    "total": "''",
    "sentiment": "d.sentiment",
    "emotion": "d.emotion",
    "risk": "d.risk_type",
    "source": "d.source",
    "event": "d.event_id",
}


def _score(key: str) -> str:
    path = f"d.analysis -> 'risk' -> '{key}'"
    return f"CASE WHEN jsonb_typeof({path}) = 'number' THEN ({path})::float8 ELSE 0 END"


_ORDER: dict[str, str] = {
    "time": "d.published_at ASC NULLS FIRST, d.pk ASC",
    "engagement": "(d.reposts + d.comments + d.likes) DESC, d.published_at ASC NULLS FIRST, "
    "d.pk ASC",
    "risk": f"GREATEST({_score('rumor')}, {_score('group_incident')}) DESC, "
    "d.published_at ASC NULLS FIRST, d.pk ASC",
}
_REGIONS = (
    "CASE WHEN jsonb_typeof(d.analysis -> 'regions') = 'array' "
    "THEN d.analysis -> 'regions' ELSE '[]'::jsonb END"
)


def _limit(limit: int) -> int | None:
    """SQLite reads a negative LIMIT as no limit; PostgreSQL's ``LIMIT NULL`` is that."""
    return None if limit < 0 else limit


def _check_dimension(dimension: str) -> None:
    if dimension not in DIMENSIONS:
        raise UsageError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")


def _window(
    since: datetime | None, until: datetime | None, event_id: str | None
) -> tuple[list[str], list[object]]:
    where = ["d.published_at IS NOT NULL"]
    params: list[object] = []
    if since is not None:
        where.append("d.published_at >= %s")
        params.append(to_micros(since, "since"))
    if until is not None:
        where.append("d.published_at < %s")
        params.append(to_micros(until, "until"))
    if event_id is not None:
        where.append("d.event_id = %s")
        params.append(event_id)
    return where, params


def _grouped_sql(dimension: str, where: list[str], select: str, group: str) -> str:
    """``SELECT {select}v, COUNT(*) ... GROUP BY {group}v`` for one dimension."""
    if dimension != "region":
        value = _VALUE[dimension]
        cond = " AND ".join([*where, f"{value} IS NOT NULL"])
        return (
            f'SELECT {select}({value}) COLLATE "C" AS v, COUNT(*) FROM documents d WHERE {cond} '
            f"GROUP BY {group}v"
        )
    # Region names from analysis["regions"]; the input region where the analysis found none.
    cond = " AND ".join(where)
    return (
        f'SELECT {select}v COLLATE "C" AS v, COUNT(*) FROM ('
        f"SELECT d.published_at AS published_at, r.value ->> 'name' AS v "
        f"FROM documents d CROSS JOIN LATERAL jsonb_array_elements({_REGIONS}) r WHERE {cond} "
        f"UNION ALL SELECT d.published_at, d.region FROM documents d WHERE {cond} "
        f"AND d.region IS NOT NULL AND jsonb_array_length({_REGIONS}) = 0"
        f") d WHERE v IS NOT NULL GROUP BY {group}v"
    )


def trend_counts(
    conn: Conn,
    dimension: Dimension,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None,
) -> list[TrendCount]:
    _check_dimension(dimension)
    where, params = _window(since, until, event_id)
    select = f"d.published_at / {_SLOT_US} AS slot, "
    sql = _grouped_sql(dimension, where, select, "slot, ")
    if dimension == "region":
        params = params * 2
    rows = conn.execute(sql + " ORDER BY slot, v", params).fetchall()
    out: list[TrendCount] = []
    for slot, value, count in rows:
        start = from_micros(int(slot) * _SLOT_US)
        assert start is not None
        out.append(TrendCount(start, str(value), int(count)))
    return out


def label_counts(
    conn: Conn,
    dimension: Dimension,
    since: datetime | None,
    until: datetime | None,
    event_id: str | None,
    limit: int,
) -> dict[str, int]:
    _check_dimension(dimension)
    where, params = _window(since, until, event_id)
    sql = _grouped_sql(dimension, where, "", "")
    if dimension == "region":
        params = params * 2
    rows = conn.execute(
        f"{sql} ORDER BY COUNT(*) DESC, v LIMIT %s", [*params, _limit(limit)]
    ).fetchall()
    return {str(value): int(count) for value, count in rows}


def upsert_events(conn: Conn, events: Sequence[Event]) -> int:
    now = time.time_ns() // 1000
    rows = [
        (
            e.id,
            e.title,
            e.first_post[0],
            e.first_post[1],
            to_micros(e.first_seen, f"event {e.id} first_seen"),
            to_micros(e.last_seen, f"event {e.id} last_seen"),
            e.size,
            e.status,
            orjson.dumps(e.as_dict()).decode(),
            now,
        )
        for e in sorted(events, key=lambda e: e.id)  # one lock order for concurrent writers
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (id, title, first_source, first_id, first_seen, last_seen, "
            "size, status, data, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
            "last_seen = excluded.last_seen, size = excluded.size, status = excluded.status, "
            "data = excluded.data, updated_at = excluded.updated_at",
            rows,
        )
    return len(rows)


def event_rollups(
    conn: Conn,
    since: datetime | None,
    until: datetime | None,
    ids: Sequence[str] | None,
    limit: int,
) -> list[EventRollup]:
    """Two passes, as in SQLite: the top events by posts in the window (or ``ids``), then one
    grouped query over their posts for the hourly series and the label mixes."""
    where, params = _window(since, until, None)
    cond = " AND ".join([*where, "d.event_id IS NOT NULL"])
    if ids is not None:
        chosen = list(dict.fromkeys(ids))[:limit]
        if not chosen:
            return []
        cond += " AND d.event_id = ANY(%s)"
        params = [*params, chosen]
    rows = conn.execute(
        "SELECT d.event_id, COUNT(*), MIN(d.published_at), MAX(d.published_at), "
        f"SUM(d.reposts), SUM(d.comments), SUM(d.likes) FROM documents d WHERE {cond} "
        "GROUP BY d.event_id ORDER BY COUNT(*) DESC, d.event_id LIMIT %s",
        [*params, _limit(limit)],
    ).fetchall()
    if not rows:
        return []
    rollups = {
        eid: EventRollup(
            id=eid,
            posts=int(n),
            first_seen=from_micros(first),
            last_seen=from_micros(last),
            reposts=int(reposts or 0),
            comments=int(comments or 0),
            likes=int(likes or 0),
        )
        for eid, n, first, last, reposts, comments, likes in rows
    }
    where_ids = " AND ".join([*where, "d.event_id = ANY(%s)"])
    mix_params = [*_window(since, until, None)[1], list(rollups)]
    hours: dict[str, dict[int, int]] = defaultdict(dict)
    for eid, hour, source, sentiment, emotion, risk, n in conn.execute(
        f"SELECT d.event_id, d.published_at / {_HOUR_US}, d.source, d.sentiment, d.emotion, "
        f"d.risk_type, COUNT(*) FROM documents d WHERE {where_ids} "
        "GROUP BY 1, 2, 3, 4, 5, 6",
        mix_params,
    ):
        r = rollups[eid]
        n = int(n)
        hours[eid][int(hour)] = hours[eid].get(int(hour), 0) + n
        _bump(r.sources, source, n)
        _bump(r.sentiment, sentiment, n)
        _bump(r.emotion, emotion, n)
        _bump(r.risk, risk, n)
    for eid, data in conn.execute(
        "SELECT id, data FROM events WHERE id = ANY(%s)", (list(rollups),)
    ):
        rollups[eid].stored = orjson.loads(data)
    for eid, r in rollups.items():
        r.hourly = [(_hour(h), n) for h, n in sorted(hours[eid].items())]
        for counter in (r.sources, r.sentiment, r.emotion, r.risk):
            ordered = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            counter.clear()
            counter.update(ordered)
    return list(rollups.values())


def _bump(counter: dict[str, int], key: Any, n: int) -> None:
    if key is not None:
        counter[str(key)] = counter.get(str(key), 0) + n


def _hour(index: int) -> datetime:
    start = from_micros(index * _HOUR_US)
    assert start is not None
    return start


def event_documents(conn: Conn, event_id: str, order: EventOrder, limit: int) -> list[Document]:
    if order not in _ORDER:
        raise UsageError(f"unknown order {order!r}; use one of {', '.join(_ORDER)}")
    rows = conn.execute(
        f"{_SELECT_DOCS} WHERE d.event_id = %s ORDER BY {_ORDER[order]} LIMIT %s",
        (event_id, _limit(limit)),
    ).fetchall()
    return [row_to_document(row) for row in rows]


def latest_documents(
    conn: Conn,
    since: datetime | None,
    until: datetime | None,
    sources: Sequence[str],
    limit: int,
) -> list[Document]:
    where, params = _window(since, until, None)
    if sources:
        where.append("d.source = ANY(%s)")
        params.append(list(sources))
    rows = conn.execute(
        f"{_SELECT_DOCS} WHERE {' AND '.join(where)} "
        "ORDER BY d.published_at DESC, d.pk DESC LIMIT %s",
        [*params, _limit(limit)],
    ).fetchall()
    return [row_to_document(row) for row in rows]
