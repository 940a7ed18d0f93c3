"""Sparse text features of a post for event clustering, and the small vector helpers.

A post's vector is a ``dict[str, float]`` of unit length: its words (``doc.tokens``,
single characters and stopwords already dropped by the segmenter) weighted by
``(1 + ln tf) * idf`` with the document frequencies shipped with the keyword stage (so a
post's vector does not depend on the rest of the stream), plus one ``#tag`` feature per
hashtag and, optionally, ``~``-prefixed character bigrams. Words come from the post's
own words (a bare repost has none: it joins its original's event through ``repost_of``
or stays out of events). Vectors are small (a short post has 5-20 words), so a Python
dict beats numpy here: the cost is in the few dict lookups per candidate event.

:class:`StreamDf` rescales a vector by how common each feature is in the recent stream:
words every current story shares (武汉, 肺炎 in an epidemic) weigh less than the words
of one story, which the fixed reference table cannot know.
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Iterable

from yuqing.models import Document
from yuqing.pipeline.keywords import IdfTable

__all__ = ["BIGRAM_PREFIX", "HASHTAG_PREFIX", "FeatureExtractor", "StreamDf", "dot", "norm"]

HASHTAG_PREFIX = "#"
"""Features that stand for a hashtag start with ``#`` (words never do: the normalizer
removes the marks and the segmenter drops punctuation)."""

BIGRAM_PREFIX = "~"
"""Features that stand for a character bigram of the text start with ``~`` (a word never
does: the segmenter drops punctuation), so a bigram never collides with a word."""

_CACHE_SIZE = 200_000
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def dot(vec: dict[str, float], other: dict[str, float]) -> float:
    """Dot product of two sparse vectors (iterates the smaller one)."""
    if len(vec) > len(other):
        vec, other = other, vec
    get = other.get
    return sum(weight * get(feat, 0.0) for feat, weight in vec.items())


def norm(vec: dict[str, float]) -> float:
    """Euclidean length of a sparse vector."""
    return math.sqrt(sum(weight * weight for weight in vec.values()))


class FeatureExtractor:
    """Turns a document into its unit-length sparse vector.

    ``hashtag_weight``: the weight of each ``#tag`` feature relative to the word part
    (which has length 1 before the final normalization). ``min_idf``: words whose idf is
    below it (the most common words of the reference corpus) are left out: they link
    unrelated stories. ``max_words``: only the heaviest words of a long post are kept,
    so that a long post weighs as much as a short one and costs as little.
    ``bigram_weight`` (0: off): adds the character bigrams of the post's Han text
    (``~``-prefixed features, hashtag text included) with this length relative to the
    word part, for spellings the segmenter splits differently; they carry no fixed idf,
    only the stream's (:class:`StreamDf`). ``max_bigrams``: the first bigrams kept.
    """

    def __init__(
        self,
        *,
        idf: IdfTable | None = None,
        hashtag_weight: float = 1.0,
        min_idf: float = 0.0,
        max_words: int = 24,
        ignore_hashtags: Iterable[str] = (),
        bigram_weight: float = 0.0,
        max_bigrams: int = 32,
    ) -> None:
        self.idf = idf if idf is not None else IdfTable.default()
        self.hashtag_weight = hashtag_weight
        self.min_idf = min_idf
        self.max_words = max_words
        self.ignore_hashtags = frozenset(ignore_hashtags)
        self.bigram_weight = bigram_weight
        self.max_bigrams = max_bigrams
        self._idf_cache: dict[str, float] = {}

    def _weight(self, token: str) -> float:
        weight = self._idf_cache.get(token)
        if weight is None:
            if len(self._idf_cache) >= _CACHE_SIZE:
                self._idf_cache.clear()
            weight = 0.0
            if len(token) > 1 or not token.isascii():
                idf = self.idf.idf(token)
                weight = idf if idf >= self.min_idf else 0.0
            self._idf_cache[token] = weight
        return weight

    def hashtags(self, doc: Document) -> list[str]:
        """The post's hashtags that count as event signals, in order, without repeats."""
        seen: dict[str, None] = {}
        for tag in doc.hashtags:
            tag = tag.strip()
            if tag and tag not in self.ignore_hashtags:
                seen[tag] = None
        return list(seen)

    def vector(self, doc: Document, tags: list[str]) -> dict[str, float]:
        """The unit-length vector of ``doc`` (empty when it has no usable word or tag)."""
        counts: dict[str, int] = {}
        for token in doc.tokens:
            counts[token] = counts.get(token, 0) + 1
        if self.ignore_hashtags and doc.hashtags:
            # the words of a campaign hashtag (kept in norm_text) are no signal either
            for tag in doc.hashtags:
                if tag in self.ignore_hashtags:
                    for token in [t for t in counts if t in tag]:
                        del counts[token]
        words: dict[str, float] = {}
        for token, count in counts.items():
            weight = self._weight(token)
            if weight:
                words[token] = (1.0 + math.log(count)) * weight
        if len(words) > self.max_words:
            ranked = sorted(words.items(), key=lambda item: (-item[1], item[0]))
            words = dict(ranked[: self.max_words])
        length = norm(words)
        vec = {feat: weight / length for feat, weight in words.items()} if length else {}
        if self.bigram_weight > 0 and vec:
            grams = self.bigrams(doc)
            glen = norm(grams)
            if glen:
                scale = self.bigram_weight / glen
                for feat, weight in grams.items():
                    vec[feat] = weight * scale
        if tags and self.hashtag_weight > 0:
            each = self.hashtag_weight / math.sqrt(len(tags))
            for tag in tags:
                vec[HASHTAG_PREFIX + tag] = each
        length = norm(vec)
        if not length:
            return {}
        return {feat: weight / length for feat, weight in vec.items()}

    def bigrams(self, doc: Document) -> dict[str, float]:
        """Character bigrams of the post's Han runs (campaign hashtags left out),
        weighted ``1 + ln tf``; at most ``max_bigrams``, the first ones kept."""
        text = doc.norm_text or doc.text
        if self.ignore_hashtags and doc.hashtags:
            for tag in doc.hashtags:
                if tag in self.ignore_hashtags:
                    text = text.replace(tag, " ")
        counts: dict[str, int] = {}
        for run in _HAN_RUN.findall(text):
            for i in range(len(run) - 1):
                feat = BIGRAM_PREFIX + run[i : i + 2]
                if feat in counts:
                    counts[feat] += 1
                elif len(counts) < self.max_bigrams:
                    counts[feat] = 1
        return {feat: 1.0 + math.log(count) for feat, count in counts.items()}


class StreamDf:
    """Document frequencies over the last ``window`` posts with a vector, and the
    reweighting they give.

    :meth:`reweight` counts the post, then multiplies each feature's weight by
    ``(ln((1 + n) / (1 + df)) + 1) / (ln(1 + n) + 1)`` (a smooth idf over the ``n``
    posts in the window, scaled to at most 1) and returns the unit-length result. The
    window is a FIFO of the posts' feature lists, so memory is bounded by ``window``
    times the features of a post, and the result depends only on the posts before it
    in stream order (deterministic, the same in one batch or many).
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self._posts: deque[tuple[str, ...]] = deque()
        self._df: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._posts)

    def reweight(self, vec: dict[str, float]) -> dict[str, float]:
        """Count ``vec``'s features in the window and return it reweighted (unit length;
        an empty vector is returned as is and not counted)."""
        if not vec:
            return vec
        feats = tuple(vec)
        self._posts.append(feats)
        df = self._df
        df.update(feats)
        if len(self._posts) > self.window:
            for feat in self._posts.popleft():
                count = df[feat] - 1
                if count:
                    df[feat] = count
                else:
                    del df[feat]
        n = len(self._posts)
        top = math.log(1 + n) + 1
        out = {
            feat: weight * (math.log((1 + n) / (1 + df[feat])) + 1) / top
            for feat, weight in vec.items()
        }
        length = norm(out)
        return {feat: weight / length for feat, weight in out.items()}
