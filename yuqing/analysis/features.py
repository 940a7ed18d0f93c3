"""Hashed text features shared by the sentiment, emotion and rumour models.

One :class:`FeatureConfig` describes the feature space (it is stored inside every model
artifact), and :class:`Featurizer` turns a batch of raw texts into a sparse matrix in
that space. The three default models use the same configuration, so a caller that runs
all three can featurize a batch once (:meth:`Featurizer.transform`) and hand the matrix
to each model.

Features of one text (after normalization: NFKC, Traditional -> Simplified, lowercase,
cut to ``max_chars``):

* character 1..3-grams of the text with Weibo emoticon codes removed;
* emoticon codes such as ``[泪]`` ``[哈哈]`` as features of their own (``E:``);
* rjieba words of two or more characters (``W:``);
* a word in the scope of a negation (``N:``) or after a degree word (``D:``);
* punctuation signals: repeated ``!`` / ``?`` (``P:``).

Counts are damped with ``log1p`` and each row is L2-normalized. Hashing uses
scikit-learn's :class:`~sklearn.feature_extraction.FeatureHasher` (signed 32-bit
MurmurHash3), so :meth:`Featurizer.surfaces` can recompute which bucket each surface
form of a given text went to; that is how explanations map weights back to text.

Batches are featurized by :func:`_batch`, vectorized with numpy (its own MurmurHash3
over UTF-8 byte spans): the result is bit-identical to FeatureHasher over
:meth:`Featurizer.tokens`, which stays as the reference (and for tests).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import rjieba
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher

FEATURE_SCHEMA = 1

EMOTICON_RE = re.compile(r"\[[^\[\]\s]{1,8}\]")
"""Weibo emoticon codes: ``[泪]``, ``[哈哈]``, ``[中国赞]``."""

_NEGATION_WORDS = "不 没 没有 别 未 无 非 莫 勿 毋 不是 不太 不会 不能 不要 不用 并非 毫无 绝非 从未 从不 决不 别再"
_DEGREE_WORDS = "很 太 超 极 最 非常 特别 十分 极其 相当 真 真的 好 挺 蛮 更 越来越 有点 有些 稍微 略 过于 实在 简直 超级 巨"
NEGATIONS = frozenset(_NEGATION_WORDS.split(" "))
DEGREES = frozenset(_DEGREE_WORDS.split(" "))
_SCOPE_END = frozenset("，。！？；,.!?;…~～ \n\t")
_NEG_SCOPE = 3


def _fallback_normalize(text: str) -> str:
    return str(_t2s().convert(unicodedata.normalize("NFKC", text))).lower()


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _normalizer() -> Callable[[str], str]:
    """The pipeline's ``normalize_text`` when present, else the same recipe inline."""
    try:
        from yuqing.pipeline.normalize import normalize_text
    except ImportError:
        return _fallback_normalize
    return normalize_text


def normalize(text: str) -> str:
    """NFKC + Traditional -> Simplified + lowercase (the pipeline's normalizer)."""
    return _normalizer()(text)


def strip_emoticons(text: str) -> str:
    """Remove Weibo emoticon codes (``[泪]``), e.g. to evaluate without the label source."""
    return EMOTICON_RE.sub("", text)


@dataclass(frozen=True)
class FeatureConfig:
    """The hashed feature space; stored in each artifact so the model reads its own."""

    n_features: int = 1 << 20
    ngram_min: int = 1
    ngram_max: int = 3
    words: bool = True
    emoticons: bool = True
    markers: bool = True
    max_chars: int = 2000
    schema: int = FEATURE_SCHEMA

    def to_dict(self) -> dict[str, int | bool]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in data.items()})


class Featurizer:
    """Turns raw texts into the L2-normalized hashed matrix of a :class:`FeatureConfig`."""

    def __init__(self, config: FeatureConfig | None = None) -> None:
        self.config = config or FeatureConfig()
        self._hasher = FeatureHasher(
            n_features=self.config.n_features, input_type="string", alternate_sign=False
        )

    def prepare(self, text: str) -> str:
        """The normalized, length-capped form every feature is computed from."""
        return normalize(text or "")[: self.config.max_chars]

    def tokens(self, norm: str) -> list[str]:
        """Feature names of one normalized text (with repeats; counted by the hasher)."""
        return [name for name, _ in self._named(norm)]

    def surfaces(self, norm: str) -> list[tuple[str, str]]:
        """(feature name, surface form in the normalized text) of one normalized text."""
        return self._named(norm)

    def _named(self, norm: str) -> list[tuple[str, str]]:
        cfg = self.config
        out: list[tuple[str, str]] = []
        body = norm
        if cfg.emoticons:
            codes = EMOTICON_RE.findall(norm)
            out.extend(("E:" + code, code) for code in codes)
            if codes:
                body = EMOTICON_RE.sub(" ", norm)
        body = " ".join(body.split())
        n = len(body)
        for size in range(cfg.ngram_min, cfg.ngram_max + 1):
            for i in range(n - size + 1):
                gram = body[i : i + size]
                if " " in gram:
                    continue
                out.append((gram, gram))
        if cfg.words and body:
            words = rjieba.cut(body)
            out.extend(("W:" + w, w) for w in words if len(w) > 1 and not w.isspace())
            if cfg.markers:
                out.extend(_marker_features(words))
        if cfg.markers:
            bangs = body.count("!")
            if bangs >= 2:
                out.append(("P:!!", "!!"))
            if bangs >= 4:
                out.append(("P:!!!!", "!!!!"))
            if body.count("?") >= 2:
                out.append(("P:??", "??"))
        return out

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Feature matrix (rows = texts) with log1p counts, each row L2-normalized."""
        return self.transform_normalized([self.prepare(t) for t in texts])

    def transform_normalized(self, norms: Iterable[str]) -> sp.csr_matrix:
        """Like :meth:`transform` for texts already passed through :meth:`prepare`."""
        from yuqing.analysis.feature_batch import _batch

        return _batch(self.config, list(norms), traced=False)[0]

    def transform_traced(self, norms: Sequence[str]) -> tuple[sp.csr_matrix, Trace]:
        """:meth:`transform_normalized` plus the :class:`Trace` that explanations read.

        Tokenizes once for both; everything after rjieba is vectorized over the batch.
        """
        from yuqing.analysis.feature_batch import _batch

        matrix, trace = _batch(self.config, list(norms), traced=True)
        assert trace is not None
        return matrix, trace

    def indices(self, names: Sequence[str]) -> np.ndarray:
        """Hash bucket of each feature name (the same buckets :meth:`transform` uses)."""
        joined = "\n".join(names).encode("utf-8", "surrogatepass")
        from yuqing.analysis.feature_batch import _buckets, _spans_of_lines

        return _buckets(*_spans_of_lines(joined, len(names)), self.config.n_features)


def surface_of(name: str) -> str:
    """The text a feature name stands for: the n-gram, word or emoticon code itself.

    Negation and degree markers (``N:`` ``D:``) and punctuation signals give "" (they
    are not explained as phrases; the n-grams around them are).
    """
    if len(name) > 2 and name[1] == ":" and name[0].isupper():
        return name[2:] if name[0] in "WE" else ""
    return name


@dataclass
class Trace:
    """Where the features of a featurized batch came from, for explanations.

    ``text`` holds the batch's bodies and emoticon codes; a *group* is one distinct
    surface (n-gram, word or emoticon code) of one text, spelled ``text[start:start+len]``.
    Groups are sorted by text: ``group_offsets[i]:group_offsets[i+1]`` are text ``i``'s.
    A *pair* is one distinct feature name of a group (an n-gram and the equal word are
    two) with its hash bucket and its value in the row. ``group_order`` ranks the groups
    of a text by first appearance (emoticons, then n-grams by size and position, then
    words); ``group_usable`` marks surfaces that may be shown (all letters/digits, or an
    emoticon code). Negation/degree markers are not traced (they are not phrases).
    """

    text: str
    pair_group: np.ndarray
    pair_bucket: np.ndarray
    pair_value: np.ndarray
    group_row: np.ndarray
    group_start: np.ndarray
    group_len: np.ndarray
    group_order: np.ndarray
    group_usable: np.ndarray
    group_offsets: np.ndarray

    def surface(self, group: int) -> str:
        start = int(self.group_start[group])
        return self.text[start : start + int(self.group_len[group])]


def _marker_features(words: list[str]) -> list[tuple[str, str]]:
    """Negation scope (next few words until punctuation) and degree-word markers."""
    out: list[tuple[str, str]] = []
    scope = 0
    negator = ""
    prev = ""
    for w in words:
        if w in _SCOPE_END or (len(w) == 1 and w in _SCOPE_END):
            scope = 0
            prev = ""
            continue
        if w in NEGATIONS:
            scope = _NEG_SCOPE
            negator = w
            prev = w
            continue
        if scope > 0 and not w.isspace():
            out.append(("N:" + w, negator + w))
            scope -= 1
        if prev in DEGREES:
            out.append(("D:" + w, prev + w))
        prev = w
    return out


def align(original: str, max_chars: int) -> tuple[str, list[int]] | None:
    """Normalized text with, per normalized character, its index in ``original``.

    Normalizes character by character; returns None when that differs from normalizing
    the whole text (phrase-level conversion), in which case callers keep normalized forms.
    """
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(original):
        norm = normalize(ch)
        pieces.append(norm)
        origin.extend([i] * len(norm))
    joined = "".join(pieces)
    if joined != normalize(original):
        return None
    return joined[:max_chars], origin[:max_chars]


# ---- vectorized batch featurization ------------------------------------------------
# Per text, Python only normalizes, finds emoticon codes, calls rjieba once and names
# words and markers. Character n-grams, all MurmurHash3 hashing, the counting and the
# trace are numpy/scipy operations over the whole batch (the per-feature Python of
# FeatureHasher made featurization 5x slower). The matrix is bit-identical to hashing
# the names of :meth:`Featurizer.tokens` with FeatureHasher and finishing it as before.
