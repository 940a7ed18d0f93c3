"""Newest-first search for frequent terms in the SQLite store, without collecting every match.

The store's plain search (:meth:`yuqing.store.sqlite.SQLiteStore._candidates`) asks FTS5
for every matching row, joins each with its post and sorts them all by time: fine for a rare
term, seconds for a term in half of a million posts (食堂), where the newest twenty are all
that is wanted. :func:`newest_hits` walks the posts the other way round: newest first down
the ``published_at`` index (or ``(source, published_at)`` for one source), in growing
batches; each post is verified as the plain search verifies it (every query term a
substring: :func:`~yuqing.store.sqlite.make_snippet`), and the few that pass are checked
against the search index (``MATCH`` with ``rowid IN (...)``: an indexed post, as FTS5 finds
it), so the hits and their order are exactly the plain search's. When the term turns out
rare (at the rate found so far the walk would read more than :data:`WALK_BUDGET` posts), or
the walk runs out of posts with a time while posts without one could still follow, it gives
up (None) and the caller runs the plain search, which is then cheap.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from yuqing.models import SearchHit
from yuqing.store.rows import from_micros, to_micros
from yuqing.store.searchtext import query_terms, split_query

WALK_BUDGET = 4000  # posts read at most before the plain search is cheaper
FIRST_BATCH = 100
_COLUMNS = "pk, source, id, text, published_at, author, url, norm_text, quoted_text, title"


def newest_hits(
    conn: sqlite3.Connection,
    query: str,
    since: datetime | None,
    until: datetime | None,
    sources: Sequence[str],
    limit: int,
) -> list[SearchHit] | None:
    """The first ``limit`` hits of the plain search, or None when walking costs more."""
    from yuqing.store.sqlite import make_snippet

    match = query_terms(query)  # raises UsageError exactly as the plain search does
    terms = split_query(query)
    if limit <= 0:
        return []
    index = "documents_source_time" if len(sources) == 1 else "documents_published_at"
    where = ["published_at IS NOT NULL"]
    params: list[object] = []
    if since is not None:
        where.append("published_at >= ?")
        params.append(to_micros(since, "since"))
    if until is not None:
        where.append("published_at < ?")
        params.append(to_micros(until, "until"))
    if sources:
        where.append(f"source IN ({', '.join('?' * len(sources))})")
        params.extend(sources)
    base = f"SELECT {_COLUMNS} FROM documents INDEXED BY {index} WHERE {' AND '.join(where)}"
    order = " ORDER BY published_at DESC, pk DESC LIMIT ?"
    hits: list[SearchHit] = []
    scanned = 0
    batch = FIRST_BATCH
    last: tuple[int, int] | None = None  # (published_at, pk) of the last post read
    while True:
        if last is None:
            rows = conn.execute(base + order, [*params, batch]).fetchall()
        else:
            rows = conn.execute(
                f"{base} AND published_at <= ? AND NOT (published_at = ? AND pk >= ?){order}",
                [*params, last[0], last[0], last[1], batch],
            ).fetchall()
        scanned += len(rows)
        passed: list[tuple[int, SearchHit]] = []
        for pk, source, id_, text, published, author, url, norm, quoted, title in rows:
            snippet = make_snippet(terms, (norm, quoted, title or ""))
            if snippet is not None:
                hit = SearchHit(source, id_, text, from_micros(published), snippet, author, url)
                passed.append((pk, hit))
        if passed:
            indexed = _indexed(conn, match, [pk for pk, _ in passed])
            hits.extend(hit for pk, hit in passed if pk in indexed)
        if len(hits) >= limit:
            return hits[:limit]
        if len(rows) < batch:  # no more posts with a time in the window
            # posts without a time come last, unless a bound leaves them out
            return hits if since is not None or until is not None else None
        # at the rate found so far, would the walk stay within the budget?
        if scanned * limit > WALK_BUDGET * max(len(hits), 0.5) and scanned >= FIRST_BATCH * 3:
            return None
        if scanned >= WALK_BUDGET:
            return None
        last = (int(rows[-1][4]), int(rows[-1][0]))
        batch = min(batch * 2, WALK_BUDGET - scanned)


def _indexed(conn: sqlite3.Connection, match: str, pks: list[int]) -> set[int]:
    """Which of these posts the search index finds for ``match``."""
    found: set[int] = set()
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        found.update(
            pk
            for (pk,) in conn.execute(
                "SELECT rowid FROM search_index WHERE search_index MATCH ? "
                f"AND rowid IN ({', '.join('?' * len(chunk))})",
                [match, *chunk],
            )
        )
    return found
