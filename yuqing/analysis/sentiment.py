"""Sentiment of posts: positive / neutral / negative with a score in -1..1.

The shipped model is a binary linear model (see :mod:`yuqing.analysis.textmodel`)
trained on Weibo, ChnSentiCorp, hotel and e-commerce reviews. ``score = 2 * P(positive)
- 1``. **Neutral** is decided by the score: ``|score| < neutral_threshold``, a threshold
stored in the artifact and tuned on SMP2020-EWECT train (its ``neutral`` class against
happy -> positive, angry/sad/fear -> negative) for the best three-way macro-F1. A text
that is empty after normalization (only emoji or a link) is neutral with score 0 and a
reason. Binary evaluations read the sign of the score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from yuqing.analysis.features import EMOTICON_RE, Trace
from yuqing.analysis.textmodel import ArtifactModel

_URL_RE = re.compile(r"https?://\S+|www\.\S+")
EMPTY_REASON = "文本规范化后为空（仅表情、链接或符号），按中性处理"


def polarity(score: float, neutral_threshold: float) -> str:
    """The label of a sentiment score in -1..1: neutral inside the threshold, else its sign."""
    if abs(score) < neutral_threshold:
        return "neutral"
    return "positive" if score > 0 else "negative"


@dataclass(frozen=True)
class SentimentResult:
    """One post's sentiment; ``reason`` is set when the label was not the model's call."""

    label: str
    score: float
    explain: list[str] = field(default_factory=list)
    reason: str | None = None


def is_empty(norm: str) -> bool:
    """True when a normalized text has nothing to analyse (no letter, digit or emoticon)."""
    cleaned = _URL_RE.sub("", norm) if ("http" in norm or "www." in norm) else norm
    for ch in cleaned:  # usually returns at the first character
        if ch.isalnum():
            return False
    return not EMOTICON_RE.search(cleaned)


class SentimentModel(ArtifactModel):
    """Loads the sentiment artifact lazily (once per process) and labels batches."""

    task = "sentiment"

    @property
    def neutral_threshold(self) -> float:
        return float(self.model.meta.get("neutral_threshold", 0.2))

    def predict(self, texts: Sequence[str], explain_k: int = 3) -> list[SentimentResult]:
        """Label, score and (``explain_k`` > 0) the phrases behind it, per text."""
        norms, features, trace = self.featurize(texts)
        return self.predict_features(texts, norms, features, explain_k, trace)

    def predict_features(
        self,
        texts: Sequence[str],
        norms: Sequence[str],
        features: sp.csr_matrix,
        explain_k: int = 3,
        trace: Trace | None = None,
    ) -> list[SentimentResult]:
        """Like :meth:`predict` from texts already featurized with the model's config.

        ``trace`` (from ``Featurizer.transform_traced``) makes explanations cheap; without
        it the batch is tokenized again when ``explain_k`` > 0.
        """
        model = self.model
        trace = self.trace_for(norms, explain_k, trace)
        if len(texts) == 0:
            return []
        proba = model.proba_matrix(features)
        positive = model.classes.index("positive")
        scores = np.clip(2.0 * proba[:, positive] - 1.0, -1.0, 1.0)
        threshold = self.neutral_threshold
        labels: list[str | None] = []
        for norm, s in zip(norms, scores.tolist(), strict=True):
            if is_empty(norm):
                labels.append(None)
            else:
                labels.append(polarity(s, threshold))
        why: list[list[str]] = [[] for _ in texts]
        if explain_k > 0 and trace is not None:
            targets = [lab if lab != "neutral" else None for lab in labels]
            why = model.explain_batch(texts, trace, targets, explain_k)
        out: list[SentimentResult] = []
        for label, s, phrases in zip(labels, scores.tolist(), why, strict=True):
            if label is None:
                out.append(SentimentResult("neutral", 0.0, [], EMPTY_REASON))
            else:
                out.append(SentimentResult(label, round(float(s), 4), phrases))
        return out
