"""Document <-> table row conversion, shared by the SQL backends.

A row is a tuple in :data:`COLUMNS` order. Times are integer microseconds since the Unix
epoch in UTC (fast range queries, exact round-trip); lists and dicts are JSON text (orjson),
empty ones stored as NULL; ``tokens`` is space-joined; ``line`` and ``raw`` (per-run input
details) are not stored.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from typing import Any

import orjson

from yuqing.errors import StoreError
from yuqing.models import Document, RepostHop

COLUMNS: tuple[str, ...] = (
    "source",
    "id",
    "text",
    "norm_text",
    "quoted_text",
    "title",
    "url",
    "author",
    "author_followers",
    "author_verified",
    "published_at",
    "ingested_at",
    "region",
    "reposts",
    "comments",
    "likes",
    "parent_id",
    "extra",
    "repost_chain",
    "urls",
    "mentions",
    "hashtags",
    "emojis",
    "content_hash",
    "duplicate_of",
    "duplicate_of_source",
    "repost_of",
    "repost_of_source",
    "tokens",
    "keywords",
    "analysis",
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def to_micros(value: datetime | None, what: str = "time") -> int | None:
    """Aware datetime -> integer microseconds since the epoch (UTC); naive is an error."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{what} {value.isoformat()} has no time zone; store aware datetimes")
    return (value - EPOCH) // _ONE_US


def from_micros(value: int | None) -> datetime | None:
    """Integer microseconds since the epoch -> aware UTC datetime."""
    if value is None:
        return None
    return EPOCH + timedelta(microseconds=value)


def _json(value: Any, doc: Document, name: str) -> str | None:
    if not value:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:
        raise StoreError(
            f"document ({doc.source}, {doc.id}): field {name} cannot be stored as JSON: {exc}"
        ) from exc


_dumps = orjson.dumps
_NON_STR_KEYS = orjson.OPT_NON_STR_KEYS


def document_to_row(doc: Document, ingested_at: int) -> tuple[Any, ...]:
    """The row for ``doc``; ``ingested_at`` (microseconds) fills a missing ``doc.ingested_at``.

    Built in one expression without per-field checks (a naive time or a value that is not
    JSON fails with ``TypeError``); on any ``TypeError`` the row is built again field by
    field, which names the field that failed."""
    published, ingested, verified = doc.published_at, doc.ingested_at, doc.author_verified
    try:
        return (
            doc.source,
            doc.id,
            doc.text,
            doc.norm_text,
            doc.quoted_text,
            doc.title,
            doc.url,
            doc.author,
            doc.author_followers,
            None if verified is None else int(verified),
            None if published is None else (published - EPOCH) // _ONE_US,
            ingested_at if ingested is None else (ingested - EPOCH) // _ONE_US,
            doc.region,
            doc.reposts,
            doc.comments,
            doc.likes,
            doc.parent_id,
            _dumps(doc.extra, option=_NON_STR_KEYS).decode() if doc.extra else None,
            _dumps(doc.repost_chain, option=_NON_STR_KEYS).decode() if doc.repost_chain else None,
            _dumps(doc.urls, option=_NON_STR_KEYS).decode() if doc.urls else None,
            _dumps(doc.mentions, option=_NON_STR_KEYS).decode() if doc.mentions else None,
            _dumps(doc.hashtags, option=_NON_STR_KEYS).decode() if doc.hashtags else None,
            _dumps(doc.emojis, option=_NON_STR_KEYS).decode() if doc.emojis else None,
            doc.content_hash,
            doc.duplicate_of,
            doc.duplicate_of_source,
            doc.repost_of,
            doc.repost_of_source,
            " ".join(doc.tokens),
            _dumps(doc.keywords, option=_NON_STR_KEYS).decode() if doc.keywords else None,
            _dumps(doc.analysis, option=_NON_STR_KEYS).decode() if doc.analysis else None,
        )
    except TypeError:
        return _checked_row(doc, ingested_at)


def document_columns(docs: Sequence[Document], ingested_at: int) -> list[list[Any]]:
    """The rows of ``docs`` column by column (:data:`COLUMNS` order, one list each):
    :func:`document_to_row` of every document, transposed.

    Built one column at a time (a list comprehension per field, no tuple per row), which
    is what a batch write needs: the store leaves out the columns that are NULL in the
    whole batch. On any ``TypeError`` the rows are built one by one with
    :func:`document_to_row`, which names the field that failed."""
    try:
        columns: list[list[Any]] = [
            [d.source for d in docs],
            [d.id for d in docs],
            [d.text for d in docs],
            [d.norm_text for d in docs],
            [d.quoted_text for d in docs],
            [d.title for d in docs],
            [d.url for d in docs],
            [d.author for d in docs],
            [d.author_followers for d in docs],
            [None if (v := d.author_verified) is None else int(v) for d in docs],
            [None if (t := d.published_at) is None else (t - EPOCH) // _ONE_US for d in docs],
            _micros_column([d.ingested_at for d in docs], ingested_at),
            [d.region for d in docs],
            [d.reposts for d in docs],
            [d.comments for d in docs],
            [d.likes for d in docs],
            [d.parent_id for d in docs],
        ]
        columns += [
            _json_column([d.extra for d in docs]),
            _json_column([d.repost_chain for d in docs]),
            _json_column([d.urls for d in docs]),
            _json_column([d.mentions for d in docs]),
            _json_column([d.hashtags for d in docs]),
            _json_column([d.emojis for d in docs]),
            [d.content_hash for d in docs],
            [d.duplicate_of for d in docs],
            [d.duplicate_of_source for d in docs],
            [d.repost_of for d in docs],
            [d.repost_of_source for d in docs],
            [" ".join(d.tokens) for d in docs],
            _json_column([d.keywords for d in docs]),
            _json_column([d.analysis for d in docs]),
        ]
    except TypeError:
        rows = [document_to_row(doc, ingested_at) for doc in docs]  # raises, naming the field
        return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in COLUMNS]
    return columns


def _json_column(values: list[Any]) -> list[str | None]:
    """JSON text of each value, None for an empty one (as in :func:`document_to_row`)."""
    if not any(values):
        return [None] * len(values)
    dumps = _dumps
    return [dumps(v, option=_NON_STR_KEYS).decode() if v else None for v in values]


def rows_by_nulls(columns: list[list[Any]]) -> dict[tuple[bool, ...], list[tuple[Any, ...]]]:
    """The rows of a batch (given column by column) grouped by which columns are set, each
    without its NULLs, groups in the order of their first row and rows in batch order.
    Binding a None costs Python's sqlite3 as much as a whole short row; leaving NULL
    columns out of the INSERT (their default is NULL) nearly doubles the write rate.

    Columns set in every row or in none are decided once; only the columns that are NULL
    in some rows are looked at row by row, and each group's rows are gathered column by
    column (``itemgetter``), so no row tuple is built twice."""
    size = len(columns[0]) if columns else 0
    if not size:
        return {}
    nulls = [column.count(None) for column in columns]
    base = [count == 0 for count in nulls]
    mixed = [j for j, count in enumerate(nulls) if 0 < count < size]
    members: dict[tuple[bool, ...], list[int]] = {}
    if mixed:
        flags = [list(map(operator.is_not, columns[j], repeat(None))) for j in mixed]
        for i, key in enumerate(zip(*flags, strict=True)):
            members.setdefault(key, []).append(i)
    else:
        members[()] = list(range(size))
    groups: dict[tuple[bool, ...], list[tuple[Any, ...]]] = {}
    for key, rows in members.items():
        mask = base.copy()
        for j, flag in zip(mixed, key, strict=True):
            mask[j] = flag
        kept = list(compress(columns, mask))
        if len(rows) == size:
            groups[tuple(mask)] = list(zip(*kept, strict=True))
        elif len(rows) == 1:
            groups[tuple(mask)] = [tuple(column[rows[0]] for column in kept)]
        else:
            pick = operator.itemgetter(*rows)
            groups[tuple(mask)] = list(zip(*map(pick, kept), strict=True))
    return groups


def _micros_column(values: list[datetime | None], default: int) -> list[int]:
    """Microseconds of each time (``default`` for None); a batch's documents usually share
    one ``ingested_at`` object, converted once."""
    out: list[int] = []
    last: datetime | None = None
    micros = default
    for value in values:
        if value is not last:
            last = value
            micros = default if value is None else (value - EPOCH) // _ONE_US
        out.append(micros)
    return out


def _checked_row(doc: Document, ingested_at: int) -> tuple[Any, ...]:
    """:func:`document_to_row` field by field: raises StoreError naming what failed."""
    where = f"document ({doc.source}, {doc.id})"
    ingested = to_micros(doc.ingested_at, f"{where} ingested_at")
    return (
        doc.source,
        doc.id,
        doc.text,
        doc.norm_text,
        doc.quoted_text,
        doc.title,
        doc.url,
        doc.author,
        doc.author_followers,
        None if doc.author_verified is None else int(doc.author_verified),
        to_micros(doc.published_at, f"{where} published_at"),
        ingested_at if ingested is None else ingested,
        doc.region,
        doc.reposts,
        doc.comments,
        doc.likes,
        doc.parent_id,
        _json(doc.extra, doc, "extra"),
        _json(doc.repost_chain, doc, "repost_chain"),
        _json(doc.urls, doc, "urls"),
        _json(doc.mentions, doc, "mentions"),
        _json(doc.hashtags, doc, "hashtags"),
        _json(doc.emojis, doc, "emojis"),
        doc.content_hash,
        doc.duplicate_of,
        doc.duplicate_of_source,
        doc.repost_of,
        doc.repost_of_source,
        " ".join(doc.tokens),
        _json(doc.keywords, doc, "keywords"),
        _json(doc.analysis, doc, "analysis"),
    )


def _load(value: str | bytes | None) -> Any:
    return orjson.loads(value) if value else None


def row_to_document(row: Sequence[Any]) -> Document:
    """The Document for a row in :data:`COLUMNS` order (every stored field, aware times)."""
    (
        source,
        id_,
        text,
        norm_text,
        quoted_text,
        title,
        url,
        author,
        author_followers,
        author_verified,
        published_at,
        ingested_at,
        region,
        reposts,
        comments,
        likes,
        parent_id,
        extra,
        repost_chain,
        urls,
        mentions,
        hashtags,
        emojis,
        content_hash,
        duplicate_of,
        duplicate_of_source,
        repost_of,
        repost_of_source,
        tokens,
        keywords,
        analysis,
    ) = row
    chain = _load(repost_chain) or []
    return Document(
        id=id_,
        source=source,
        text=text,
        published_at=from_micros(published_at),
        title=title,
        url=url,
        author=author,
        author_followers=author_followers,
        author_verified=None if author_verified is None else bool(author_verified),
        region=region,
        reposts=reposts,
        comments=comments,
        likes=likes,
        parent_id=parent_id,
        extra=_load(extra) or {},
        norm_text=norm_text,
        quoted_text=quoted_text,
        repost_chain=[RepostHop(user=hop["user"], text=hop["text"]) for hop in chain],
        urls=_load(urls) or [],
        mentions=_load(mentions) or [],
        hashtags=_load(hashtags) or [],
        emojis=_load(emojis) or [],
        content_hash=content_hash,
        duplicate_of=duplicate_of,
        duplicate_of_source=duplicate_of_source,
        repost_of=repost_of,
        repost_of_source=repost_of_source,
        ingested_at=from_micros(ingested_at),
        tokens=tokens.split(" ") if tokens else [],
        keywords=[(word, score) for word, score in _load(keywords) or []],
        analysis=_load(analysis) or {},
    )
