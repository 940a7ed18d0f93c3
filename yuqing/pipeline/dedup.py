"""Exact and near-duplicate detection, and repost resolution (the ``dedup`` stage).

For each document, in batch order (so that results never depend on batch boundaries):

1. ``content_hash`` = blake2b-128 hex of ``norm_text``.
2. ``duplicate_of``: the earlier post with the same own text (exact hash), else one whose
   character-shingle set has Jaccard >= ``settings.jaccard`` with it. Candidates come from
   MinHash LSH buckets (a lookup touches only the buckets of the post's bands, never all
   posts); each candidate is verified by exact Jaccard. The group's first post stays the
   original: ``duplicate_of`` always names it, never a chain of duplicates.
3. ``repost_of``: when ``quoted_text`` is non-empty, the indexed post whose own text it
   is (exact hash first, then near).

A post with empty own text is never a duplicate by its own text. A repost (non-empty
``quoted_text``) is a duplicate only of an earlier repost with the same own words *and*
the same quoted text: short repost comments such as 好! are not compared with plain posts.

Memory is bounded: the index holds at most ``max_entries`` posts, only those within
``window_days`` of the newest time seen, evicted oldest first. See docs/dedup.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from yuqing.errors import ConfigError
from yuqing.models import Document
from yuqing.pipeline.dedup_index import Entry, NearIndex
from yuqing.pipeline.minhash import Banding, MinHasher, jaccard, shingle_set
from yuqing.settings import DedupSettings

_DAY = 86_400.0
_REPOST_SEP = "\x00//"


def content_hash(text: str) -> str:
    """Hex blake2b-128 of a normalized text: the exact-duplicate key stored on documents."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(slots=True)
class _Plan:
    """What one document needs from the batch-wide MinHash pass."""

    keys: list[int] | None  # band keys of the own text (None: empty own text)
    quoted_keys: list[int] | None  # band keys of the quoted text (None: not a repost)


class Deduplicator:
    """Pipeline stage ``dedup``: fills content_hash, duplicate_of(_source), repost_of(_source)."""

    name = "dedup"

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings
        self.k = settings.shingle
        self.threshold = settings.jaccard
        if settings.num_perm % settings.bands:
            raise ConfigError(
                f"dedup settings: num_perm ({settings.num_perm}) must be a multiple of bands "
                f"({settings.bands}); set dedup.bands to a divisor such as 32"
            )
        self._hasher = MinHasher(settings.shingle, settings.num_perm)
        self._banding = Banding(settings.num_perm, settings.bands)
        self.index = NearIndex(
            max_entries=settings.max_entries, window_seconds=settings.window_days * _DAY
        )

    # -- public API -----------------------------------------------------------------

    def process(self, batch: Sequence[Document]) -> list[Document]:
        """Mark each document of ``batch`` against the index and earlier batch members."""
        docs = list(batch)
        for doc, plan in zip(docs, self._plan(docs), strict=True):
            self._visit(doc, plan, mark=True)
        return docs

    def warm(self, docs: Iterable[Document]) -> int:
        """Re-index stored posts (oldest first) without changing them; returns how many.

        Feed the posts of the lookback window in the order they were processed (the
        store's (published_at, id) order) with their stored ``norm_text``,
        ``quoted_text`` and ``duplicate_of``: later results are then the same as if the
        process had never restarted.
        """
        count = 0
        chunk: list[Document] = []
        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= 4096:
                count += self._warm_chunk(chunk)
                chunk = []
        if chunk:
            count += self._warm_chunk(chunk)
        return count

    @property
    def indexed(self) -> int:
        """Number of posts now in the index."""
        return len(self.index)

    # -- internals ------------------------------------------------------------------

    def _warm_chunk(self, chunk: list[Document]) -> int:
        before = self.index.inserted
        for doc, plan in zip(chunk, self._plan(chunk, with_quoted=False), strict=True):
            self._visit(doc, plan, mark=False)
        return self.index.inserted - before

    def _plan(self, docs: Sequence[Document], *, with_quoted: bool = True) -> list[_Plan]:
        """Sign every own text and quoted text of the batch in one vectorized pass."""
        own_at = [i for i, doc in enumerate(docs) if doc.norm_text]
        quoted_at = [i for i, doc in enumerate(docs) if doc.quoted_text] if with_quoted else []
        texts = [docs[i].norm_text for i in own_at] + [docs[i].quoted_text for i in quoted_at]
        plans = [_Plan(None, None) for _ in docs]
        if texts:
            keys = self._banding.keys(self._hasher.signatures(texts))
            for i, row in zip(own_at, keys, strict=False):
                plans[i].keys = row
            for i, row in zip(quoted_at, keys[len(own_at) :], strict=True):
                plans[i].quoted_keys = row
        return plans

    def _visit(self, doc: Document, plan: _Plan, *, mark: bool) -> None:
        index = self.index
        own = doc.norm_text
        if mark or not doc.content_hash:
            doc.content_hash = content_hash(own)
        when = _timestamp(doc)
        index.advance(when)
        is_repost = bool(doc.quoted_text)
        if mark:
            doc.duplicate_of = doc.duplicate_of_source = None
            doc.repost_of = doc.repost_of_source = None
            if is_repost:
                target = self._find(doc.quoted_text, plan.quoted_keys, reposts=True)
                if target is not None:
                    doc.repost_of, doc.repost_of_source = target.id, target.source
        if not own or plan.keys is None:
            return  # empty own text: never a duplicate, nothing to index
        exact_key = (
            content_hash(own + _REPOST_SEP + doc.quoted_text) if is_repost else doc.content_hash
        )
        root: tuple[str, str] | None = None
        exact = index.exact(exact_key)
        if exact is not None:
            if mark:
                doc.duplicate_of, doc.duplicate_of_source = exact.root
            return  # the group is already indexed under this exact text
        if mark and not is_repost:
            near = self._find(own, plan.keys, reposts=False, exact=False)
            if near is not None:
                root = near.root
        if root is not None:
            doc.duplicate_of, doc.duplicate_of_source = root
        elif not mark and doc.duplicate_of is not None:
            root = (doc.duplicate_of, doc.duplicate_of_source or doc.source)
        index.add(doc.id, doc.source, own, when, root, exact_key, plan.keys, repost=is_repost)

    def _find(
        self, text: str, keys: list[int] | None, *, reposts: bool, exact: bool = True
    ) -> Entry | None:
        """The indexed post whose own text is ``text`` exactly, else the best near match.

        ``reposts`` True also accepts reposts' own texts (for ``repost_of``); near
        duplicates of a plain post are only sought among plain posts. ``exact`` False
        skips the exact lookup (the caller has done it).
        """
        if exact:
            hit = self.index.exact(content_hash(text))
            if hit is not None:
                return hit
        if keys is None:
            return None
        candidates = self.index.candidates(keys)
        if not candidates:
            return None
        mine = shingle_set(text, self.k)
        best: Entry | None = None
        best_sim = 0.0
        for entry in candidates:  # oldest first: ties keep the earliest post
            if entry.repost and not reposts:
                continue
            sim = jaccard(mine, shingle_set(entry.text, self.k))
            if sim >= self.threshold and sim > best_sim:
                best, best_sim = entry, sim
        return best


def _timestamp(doc: Document) -> float | None:
    when = doc.published_at or doc.ingested_at
    return when.timestamp() if when is not None else None
