"""Reading posts of the partitioned ``documents`` table by key or storage position.

``documents`` has no unique index of its own (a unique index of a partitioned table must
contain the partition key, ``published_at``, which may be NULL); ``document_keys`` maps
each (source, id) to its storage position ``pk`` and its ``published_at``. Every read by
key or position therefore goes key -> (pk, published_at) -> one partition: the queries
here name the partition key (``published_at = ANY(...)`` or ``IS NULL``), so PostgreSQL
reads only the partitions that hold the rows instead of probing the ``pk`` index of every
month.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from yuqing.store.rows import COLUMNS

SELECT_COLUMNS = ", ".join(COLUMNS)
_KEY_CHUNK = 5000

Position = tuple[int, int | None]  # (pk, published_at)


def fetch_by_position(
    conn: psycopg.Connection[TupleRow], positions: Sequence[Position], columns: str
) -> dict[int, tuple[Any, ...]]:
    """Rows of ``documents`` (``pk`` first, then ``columns``) of these positions, by pk."""
    dated = [(pk, at) for pk, at in positions if at is not None]
    undated = [pk for pk, at in positions if at is None]
    found: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(dated), _KEY_CHUNK):
        chunk = dated[start : start + _KEY_CHUNK]
        rows = conn.execute(
            f"SELECT pk, {columns} FROM documents WHERE pk = ANY(%s) AND published_at = ANY(%s)",
            ([pk for pk, _ in chunk], sorted({at for _, at in chunk})),
        ).fetchall()
        found.update((row[0], row) for row in rows)
    for start in range(0, len(undated), _KEY_CHUNK):
        chunk_pks = undated[start : start + _KEY_CHUNK]
        rows = conn.execute(
            f"SELECT pk, {columns} FROM documents WHERE pk = ANY(%s) AND published_at IS NULL",
            (chunk_pks,),
        ).fetchall()
        found.update((row[0], row) for row in rows)
    return found


def lookup_keys(
    conn: psycopg.Connection[TupleRow], keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Position]:
    """(source, id) -> (pk, published_at) of the stored ones among ``keys``."""
    unique = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], Position] = {}
    for start in range(0, len(unique), _KEY_CHUNK):
        chunk = unique[start : start + _KEY_CHUNK]
        rows = conn.execute(
            "SELECT k.source, k.id, k.pk, k.published_at FROM document_keys k "
            "JOIN unnest(%s::text[], %s::text[]) AS q(source, id) "
            "ON k.source = q.source AND k.id = q.id",
            ([s for s, _ in chunk], [i for _, i in chunk]),
        ).fetchall()
        found.update(((source, id_), (pk, at)) for source, id_, pk, at in rows)
    return found
