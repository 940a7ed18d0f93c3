"""Blocking an author (不再采集): the suppression list of authors whose posts are no
longer collected.

Deleting an author's posts on request (:mod:`yuqing.privacy.deletion`) puts the author on
the store's suppression list by default, so that a source delivering the same posts again
does not store them again. Ingest (:class:`yuqing.runtime.ingest.Ingestor`, the stream
workers of :mod:`yuqing.streams.worker`) checks the list once per batch (read again only
when it changed, :class:`BlocklistCache`) and drops the posts of listed authors before the
pipeline sees them; they are counted as ``blocked`` and never written anywhere (not to the
rejects file either: that would keep the personal data).

Handles compare exactly as ``delete-author`` does: the stored ``author`` field against the
handle asked for, stripped and without a leading ``@``. An entry is of one source or of
every source (``source`` None). Its limits (docs/privacy.md): a renamed account is a new
handle, a post that quotes or mentions the author is not the author's post, and an entry
blocks future collection only; posts already stored stay until deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.privacy.audit import record
from yuqing.store.base import Store, SuppressedAuthor


def handle_of(author: str) -> str:
    """A handle as delete-author and blocking compare it: stripped, without a leading @."""
    return author.strip().removeprefix("@")


def source_of(source: str | None) -> str | None:
    """One source's name, or None (every source) for a missing or blank one."""
    return source.strip() if source and source.strip() else None


@dataclass(slots=True, frozen=True)
class Blocklist:
    """The suppression list as ingest checks it: each listed author's sources, '' for an
    entry of every source. An empty list costs one truth test a batch, a listed one a dict
    look-up a post."""

    by_author: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Sequence[SuppressedAuthor]) -> Blocklist:
        sources: dict[str, set[str]] = {}
        for entry in entries:
            sources.setdefault(entry.author, set()).add(entry.source or "")
        return cls({author: frozenset(names) for author, names in sources.items()})

    @classmethod
    def read(cls, store: Store) -> Blocklist:
        """The store's list now (one small query)."""
        return cls.of(store.suppressed_authors())

    def __bool__(self) -> bool:
        return bool(self.by_author)

    def blocks(self, doc: Document) -> bool:
        if doc.author is None:
            return False
        sources = self.by_author.get(doc.author)
        return sources is not None and ("" in sources or doc.source in sources)

    def split(self, docs: list[Document]) -> tuple[list[Document], int]:
        """``docs`` without those of blocked authors, and how many were dropped."""
        if not self.by_author or not docs:
            return docs, 0
        listed = self.by_author.keys()
        kept = [d for d in docs if d.author not in listed or not self.blocks(d)]
        return kept, len(docs) - len(kept)


class BlocklistCache:
    """The suppression list of one ingest path, read again only when the store's mark
    (:meth:`~yuqing.store.base.Store.suppression_mark`, one tiny query) has changed: the
    per-batch cost does not grow with the list."""

    __slots__ = ("_list", "_mark")

    def __init__(self) -> None:
        self._mark: tuple[int, int] | None = None
        self._list = Blocklist()

    def current(self, store: Store) -> Blocklist:
        mark = store.suppression_mark()  # before the list: a change in between is seen next time
        if mark != self._mark:
            self._list = Blocklist.read(store)
            self._mark = mark
        return self._list


def block_author(
    store: Store,
    author: str,
    *,
    actor: str,
    source: str | None = None,
    client: str = "",
    reason: str = "",
    audit: bool = True,
) -> SuppressedAuthor:
    """Put ``author`` (of ``source``, else of every source) on the suppression list; log it
    as ``block_author`` unless ``audit`` is off (delete-author logs it in its own entry)."""
    handle = handle_of(author)
    if not handle:
        raise UsageError("name the author to block (the handle, without @)")
    entry = SuppressedAuthor(
        author=handle,
        source=source_of(source),
        actor=actor or "unknown",
        at=datetime.now(UTC),
        reason=reason,
    )
    new = store.suppress_author(entry)
    if audit:
        details: dict[str, object] = {"source": entry.source, "new": new}
        if reason:
            details["reason"] = reason
        record(store, "block_author", entry.actor, client=client, target=handle, details=details)
    return entry


def unblock_author(
    store: Store, author: str, *, actor: str, source: str | None = None, client: str = ""
) -> bool:
    """Take (author, source) off the suppression list; log it when it was there. False when
    there was no such entry (an entry of every source is only removed without ``source``)."""
    handle = handle_of(author)
    if not handle:
        raise UsageError("name the author to unblock (the handle, without @)")
    chosen = source_of(source)
    removed = store.unsuppress_author(handle, chosen)
    if removed:
        record(
            store, "unblock_author", actor, client=client, target=handle, details={"source": chosen}
        )
    return removed
