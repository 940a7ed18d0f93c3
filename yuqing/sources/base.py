"""What every input source provides: batches of documents and rejections, and a cursor.

A source is a small object (one per file, feed or page) whose :meth:`Source.batches`
yields :class:`SourceBatch` objects. Each batch carries the :class:`~yuqing.models.Cursor`
just after its last record, so that ingest stores the cursor with the batch and a
restart resumes with ``batches(size, start=cursor)`` instead of reading everything
again. Rejected records travel beside the documents, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from yuqing.errors import RecordError
from yuqing.models import Cursor, Document, Rejection


@dataclass
class SourceBatch:
    """Up to ``size`` records of one source; ``read`` = documents + rejections."""

    documents: list[Document] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    cursor: Cursor | None = None
    read: int = 0


@runtime_checkable
class Source(Protocol):
    """One input: a file, a feed or a page. ``key`` is its absolute path or URL."""

    key: str

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        """Yield batches of at most ``size`` records, resuming after ``start`` if it fits."""
        ...


def rejection(error: RecordError, raw: str, line: int) -> Rejection:
    """Turn a RecordError into a Rejection; ``line`` is used when the error has none."""
    return Rejection(
        line=error.line if error.line is not None else line,
        code=error.code,
        reason=error.reason,
        raw=raw,
    )
