"""Chinese substring search in the PostgreSQL store: the bigram terms of
:mod:`yuqing.store.searchtext` as a ``tsvector`` with a GIN index, verified in Python.

The index holds exactly the terms the SQLite store gives its FTS5 table
(:func:`~yuqing.store.searchtext.index_terms`: overlapping CJK bigrams, the last character
of a run paired with an end mark, Latin words whole and lower-cased), as lexemes of a
``tsvector`` built without any text-search parser. A query becomes a ``tsquery`` that ANDs
the same terms FTS5 would put in its phrase, the last one as a prefix (``'iph':*``,
``'学':*``) where FTS5 uses a prefix, so the candidates are a superset of FTS5's. The
``tsvector`` keeps no positions, so candidates are then verified exactly as the SQLite
store verifies them (:func:`~yuqing.store.sqlite.make_snippet`: every query term a
substring of the lower-cased normalized text, quoted text or title): the hits and their
order (newest first) are the SQLite store's. Two-character queries (酒店) are an indexed
lookup of one lexeme; one-character queries a prefix lookup.

Why not pg_trgm: it finds 2-character queries only by scanning (a ``LIKE '%酒店%'`` has no
trigram to look up), and those are the most common Chinese queries; figures in
docs/postgres.md and docs/PERFORMANCE.md (``benchmarks/pg_search.py``).

Writes do not index: ``add_documents`` queues the new positions in ``search_queue`` and
:func:`index_pending` moves them into ``search_index`` (``FOR UPDATE SKIP LOCKED``, so
several workers may index at once without waiting on each other).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import TupleRow

from yuqing.models import SearchHit
from yuqing.store.postgres_rows import Position, fetch_by_position
from yuqing.store.rows import from_micros, to_micros
from yuqing.store.searchtext import _run_terms, index_terms, query_terms, split_query
from yuqing.store.sqlite import make_snippet

MAX_LEXEME_BYTES = 1000  # PostgreSQL's limit is 2047; longer words are left out (verified anyway)
MAX_LEXEMES = 50_000  # keeps a huge post's tsvector under PostgreSQL's 1 MB limit
_HIT_COLUMNS = "source, id, text, published_at, author, url, norm_text, quoted_text, title"
_TEXT_CHUNK = 2000


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _fits(lexeme: str) -> bool:
    return len(lexeme.encode()) <= MAX_LEXEME_BYTES


def tsvector_text(text: str) -> str:
    """The ``tsvector`` literal of a post's searchable text (its unique terms). Terms are runs
    of letters, digits and CJK characters (plus the end mark), so they never hold a quote or
    a backslash and need no escaping (checked once on the whole literal, cheaply)."""
    unique = [t for t in dict.fromkeys(index_terms(text).split()) if len(t) < 250 or _fits(t)]
    if len(unique) > MAX_LEXEMES:
        unique = unique[:MAX_LEXEMES]
    literal = "'" + "' '".join(unique) + "'" if unique else ""
    if "\\" in literal or literal.count("'") != 2 * len(unique):
        return " ".join(_quote(t) for t in unique)
    return literal


def ts_query(query: str) -> str | None:
    """The ``tsquery`` of a search query: the FTS5 phrase terms of every query term, ANDed,
    the last term of a phrase as a prefix where FTS5 makes it one. None when every term is too
    long to look up (then every post is a candidate). Raises UsageError, exactly as the SQLite
    store does, for a query with nothing to search for."""
    query_terms(query)  # the same validation and message as SQLite
    parts: list[str] = []
    for term in split_query(query):
        runs = _run_terms(term)
        if not runs:
            continue
        lexemes: list[str] = []
        for index, (terms, is_cjk) in enumerate(runs):
            if is_cjk and index == len(runs) - 1:
                # the post's run may go on: drop the end-marked term; one character alone
                # becomes a prefix of whatever term it starts
                terms = terms[:-1] or [terms[0][0]]
            lexemes.extend(terms)
        last_terms, last_is_cjk = runs[-1]
        prefix = not last_is_cjk or len(last_terms) == 1
        quoted = [_quote(lex) for lex in lexemes]
        if prefix:
            quoted[-1] += ":*"
        parts.extend(q for q, lex in zip(quoted, lexemes, strict=True) if _fits(lex))
    parts = list(dict.fromkeys(parts))
    return " & ".join(parts) if parts else None


def index_pending(conn: psycopg.Connection[TupleRow], limit: int) -> int:
    """Index up to ``limit`` queued posts (oldest position first) in one transaction;
    positions another worker is indexing right now are skipped, not waited for."""
    with conn.transaction():
        picked: list[Position] = [
            (int(pk), at)
            for pk, at in conn.execute(
                "DELETE FROM search_queue WHERE pk IN (SELECT pk FROM search_queue "
                "ORDER BY pk LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING pk, published_at",
                (max(limit, 0),),
            ).fetchall()
        ]
        if not picked:
            return 0
        rows = fetch_by_position(
            conn, picked, "published_at, source, norm_text, quoted_text, title"
        )
        with conn.cursor().copy(
            "COPY search_index (pk, published_at, source, terms) FROM STDIN"
        ) as copy:
            for pk, _ in sorted(picked):
                row = rows.get(pk)
                if row is None:  # deleted meanwhile (no such path today): nothing to index
                    continue
                _, published, source, norm, quoted, title = row
                copy.write_row(
                    (pk, published, source, tsvector_text(f"{norm} {quoted} {title or ''}"))
                )
    return len(picked)


def search(
    conn: psycopg.Connection[TupleRow],
    query: str,
    since: datetime | None,
    until: datetime | None,
    sources: Sequence[str],
    limit: int | None,
) -> list[SearchHit]:
    """Verified hits, newest first (``published_at`` DESC, NULL last, then position DESC,
    the SQLite store's order); all of them when ``limit`` is None."""
    if limit is not None and limit <= 0:
        return []
    tsquery = ts_query(query)
    terms = split_query(query)
    where = ["s.terms @@ %s::tsquery" if tsquery is not None else "TRUE"]
    params: list[Any] = [tsquery] if tsquery is not None else []
    if since is not None:
        where.append("s.published_at >= %s")
        params.append(to_micros(since, "since"))
    if until is not None:
        where.append("s.published_at < %s")
        params.append(to_micros(until, "until"))
    if sources:
        where.append("s.source = ANY(%s)")
        params.append(list(sources))
    base = (
        f"SELECT s.pk, s.published_at FROM search_index s WHERE {' AND '.join(where)} "
        "ORDER BY s.published_at DESC NULLS LAST, s.pk DESC"
    )
    hits: list[SearchHit] = []
    page = None if limit is None else limit + 50
    offset = 0
    while True:
        if page is None:
            candidates = conn.execute(base, params).fetchall()
        else:
            paged = [*params, page, offset]
            candidates = conn.execute(f"{base} LIMIT %s OFFSET %s", paged).fetchall()
        for start in range(0, len(candidates), _TEXT_CHUNK):
            chunk: list[Position] = [
                (int(pk), at) for pk, at in candidates[start : start + _TEXT_CHUNK]
            ]
            rows = fetch_by_position(conn, chunk, _HIT_COLUMNS)
            for pk, _ in chunk:
                row = rows.get(pk)
                if row is None:
                    continue
                _, source, id_, text, published, author, url, norm, quoted, title = row
                snippet = make_snippet(terms, (norm, quoted, title or ""))
                if snippet is None:
                    continue
                hits.append(
                    SearchHit(source, id_, text, from_micros(published), snippet, author, url)
                )
                if limit is not None and len(hits) >= limit:
                    return hits
        if page is None or len(candidates) < page:
            return hits
        offset += page
        page *= 2
