"""Exact and near-duplicate detection, and repost resolution (the ``dedup`` stage).

For each document, in batch order (so that results never depend on batch boundaries):

1. ``content_hash`` = blake2b-128 hex of ``norm_text``.
2. ``duplicate_of``: the earlier post with the same own text (exact hash), else one whose
   character-shingle set has Jaccard >= ``settings.jaccard`` with it. Candidates come from
   MinHash LSH bands (a lookup touches only the post's band keys, never all posts); each
   candidate is verified by exact Jaccard. The group's first post stays the original:
   ``duplicate_of`` always names it, never a chain of duplicates.
3. ``repost_of``: when ``quoted_text`` is non-empty, the indexed post whose own text it
   is (exact hash first, then near).

A post with empty own text is never a duplicate by its own text. A repost (non-empty
``quoted_text``) is a duplicate only of an earlier repost with the same own words *and*
the same quoted text: short repost comments such as 好! are not compared with plain posts.

Speed: signing, band keys and the lookups of a whole batch are vectorized
(:meth:`NearIndex.plan` also resolves keys shared by posts of the same batch); the loop
over posts only does Python work for the few that have a candidate. Memory is bounded:
at most ``max_entries`` posts, only those within ``window_days`` of the newest time seen,
evicted oldest first. See docs/dedup.md.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence

import numpy as np

from yuqing.errors import ConfigError
from yuqing.models import Document
from yuqing.pipeline.dedup_index import BatchPlan, NearIndex
from yuqing.pipeline.minhash import Banding, MinHasher, jaccard, key32, shingle_set
from yuqing.settings import DedupSettings

_DAY = 86_400.0
_REPOST_SEP = "\x00//"
_WARM_CHUNK = 4096


def content_hash(text: str) -> str:
    """Hex blake2b-128 of a normalized text: the exact-duplicate key stored on documents."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


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
            max_entries=settings.max_entries,
            window_seconds=settings.window_days * _DAY,
            keys_per_entry=settings.bands + 1,  # band keys and the exact-text key
        )

    # -- public API -----------------------------------------------------------------

    def process(self, batch: Sequence[Document]) -> list[Document]:
        """Mark each document of ``batch`` against the index and earlier batch members."""
        docs = list(batch)
        if docs:
            self._run(docs, mark=True)
        return docs

    def warm(self, docs: Iterable[Document]) -> int:
        """Re-index stored posts (oldest first) without changing them; returns how many.

        Feed the posts of the lookback window in the order they were processed (the
        store's (published_at, id) order) with their stored ``norm_text``,
        ``quoted_text`` and ``duplicate_of``: later results are then the same as if the
        process had never restarted.
        """
        before = self.index.next
        chunk: list[Document] = []
        for doc in docs:
            chunk.append(doc)
            if len(chunk) >= _WARM_CHUNK:
                self._run(chunk, mark=False)
                chunk = []
        if chunk:
            self._run(chunk, mark=False)
        return self.index.next - before

    @property
    def indexed(self) -> int:
        """Number of posts now in the index."""
        return len(self.index)

    # -- internals ------------------------------------------------------------------

    def _plan(
        self, docs: list[Document], mark: bool
    ) -> tuple[BatchPlan, list[int], list[int], list[int]]:
        """Sign and look up every own and quoted text of the batch in one vectorized pass.

        Returns the plan, each document's own row and quoted row (-1: none) and the 64-bit
        exact key of every row.
        """
        own_at = [i for i, doc in enumerate(docs) if doc.norm_text]
        quoted_at = [i for i, doc in enumerate(docs) if doc.quoted_text] if mark else []
        exact = [
            _exact_key(docs[i].norm_text + _REPOST_SEP + docs[i].quoted_text)
            if docs[i].quoted_text
            else int(docs[i].content_hash[:16], 16)  # = _exact_key(norm_text)
            if mark
            else _exact_key(docs[i].norm_text)  # (a stored hash is not trusted blindly)
            for i in own_at
        ]
        exact += [_exact_key(docs[i].quoted_text) for i in quoted_at]
        texts = [docs[i].norm_text for i in own_at] + [docs[i].quoted_text for i in quoted_at]
        bands = self._banding.bands
        keys = np.empty((len(texts), bands + 1), dtype=np.uint32)
        if texts:
            keys[:, :bands] = self._banding.keys(self._hasher.signatures(texts))
            keys[:, bands] = key32(np.array(exact, dtype=np.uint64))
        doc_of_row = np.array(own_at + quoted_at, dtype=np.int64)
        own = np.arange(len(texts)) < len(own_at)
        plan = self.index.plan(keys, doc_of_row, 2 * doc_of_row + own, own)  # quoted first
        own_row = [-1] * len(docs)
        quoted_row = [-1] * len(docs)
        for row, i in enumerate(own_at):
            own_row[i] = row
        for row, i in enumerate(quoted_at, start=len(own_at)):
            quoted_row[i] = row
        return plan, own_row, quoted_row, exact

    def _run(self, docs: list[Document], *, mark: bool) -> None:
        index = self.index
        blake2b = hashlib.blake2b
        for doc in docs:
            if mark or not doc.content_hash:  # = content_hash(doc.norm_text), inlined
                doc.content_hash = blake2b(doc.norm_text.encode(), digest_size=16).hexdigest()
        plan, own_row, quoted_row, exact = self._plan(docs, mark)
        exact_codes: list[int] = plan.codes[:, -1].tolist()
        near: dict[int, list[tuple[int, int]]] = {}
        for row, code, count in zip(*plan.pairs, strict=True):
            near.setdefault(row, []).append((code, count))
        written = [-1] * len(docs)  # the seq each post wrote to its own keys

        def resolve(code: int) -> int:
            return code if code >= -1 else written[-2 - code]

        def find(row: int, text: str, reposts: bool) -> int:
            """Seq of the best verified near match of row ``row`` (-1: none)."""
            hits = near.get(row)
            if hits is None:
                return -1
            score: dict[int, int] = {}
            for code, count in hits:
                seq = resolve(code)
                if seq >= 0 and index.alive(seq):
                    score[seq] = score.get(seq, 0) + count
            mine: set[str] | None = None
            for seq in sorted(score, key=lambda s: (-score[s], -s)):  # most bands first
                slot = seq % index.capacity
                if not reposts and index.reposts[slot]:
                    continue
                mine = mine or shingle_set(text, self.k)
                other = index.texts[slot]
                if other and jaccard(mine, shingle_set(other, self.k)) >= self.threshold:
                    return seq  # every member of a group names the same original
            return -1

        def exact_hit(row: int) -> int:
            seq = resolve(exact_codes[row])
            ok = seq >= 0 and index.alive(seq) and index.exact[seq % index.capacity] == exact[row]
            return seq if ok else -1

        for i, doc in enumerate(docs):
            when = doc.published_at or doc.ingested_at
            stamp = when.timestamp() if when is not None else math.nan
            if stamp > index.newest:
                index.advance(stamp)
            if mark:
                doc.duplicate_of = doc.duplicate_of_source = None
                doc.repost_of = doc.repost_of_source = None
                row = quoted_row[i]
                if row >= 0:
                    seq = exact_hit(row) if exact_codes[row] != -1 else -1
                    if seq < 0 and row in near:
                        seq = find(row, doc.quoted_text, reposts=True)
                    if seq >= 0:
                        slot = seq % index.capacity
                        doc.repost_of = index.ids[slot]
                        doc.repost_of_source = index.sources[slot]
            row = own_row[i]
            if row < 0:
                continue  # empty own text: never a duplicate, nothing to index
            seq = exact_hit(row) if exact_codes[row] != -1 else -1
            if seq >= 0:  # the group is already indexed under this exact text
                if mark:
                    slot = seq % index.capacity
                    doc.duplicate_of = index.root_ids[slot]
                    doc.duplicate_of_source = index.root_sources[slot]
                written[i] = seq
                continue
            is_repost = bool(doc.quoted_text)
            root: tuple[str, str] | None = None
            if mark and not is_repost and row in near:
                seq = find(row, doc.norm_text, reposts=False)
                if seq >= 0:
                    slot = seq % index.capacity
                    root = (index.root_ids[slot] or "", index.root_sources[slot] or "")
                    doc.duplicate_of, doc.duplicate_of_source = root
            elif not mark and doc.duplicate_of is not None:
                root = (doc.duplicate_of, doc.duplicate_of_source or doc.source)
            written[i] = index.add(
                doc.id, doc.source, doc.norm_text, stamp, root, exact[row], is_repost
            )
        seqs = np.array(written, dtype=np.int64)[plan.write_docs]
        index.table.write(plan.write_keys, seqs, plan.write_pos, index.head, index.next)


def _exact_key(text: str) -> int:
    """64-bit key of an exact text (the first half of its ``content_hash``): table hits
    are confirmed against it."""
    return int(content_hash(text)[:16], 16)
