"""Fine-grained emotion of posts: joy, anger, sadness, fear, surprise, neutral.

The shipped model is a six-class linear model over the shared hashed features (one-vs-rest
sigmoids normalized to sum to 1, per-class offsets tuned for macro-F1 in the intercepts),
trained on SMP2020-EWECT train plus the mapped Li2016 (CLUE) and NLPCC 2013 Weibo sets
(like, happiness -> joy; disgust -> anger; none -> neutral). A text that is empty after
normalization gets ``neutral`` with all its mass and a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from yuqing.analysis.features import Trace
from yuqing.analysis.sentiment import EMPTY_REASON, is_empty
from yuqing.analysis.textmodel import ArtifactModel

EMOTIONS = ("joy", "anger", "sadness", "fear", "surprise", "neutral")


@dataclass(frozen=True)
class EmotionResult:
    """One post's emotion; ``scores`` covers all six emotions and sums to 1."""

    label: str
    scores: dict[str, float]
    explain: list[str] = field(default_factory=list)
    reason: str | None = None


class EmotionModel(ArtifactModel):
    """Loads the emotion artifact lazily (once per process) and labels batches."""

    task = "emotion"

    def predict(self, texts: Sequence[str], explain_k: int = 3) -> list[EmotionResult]:
        """Label, the six scores and (``explain_k`` > 0) the phrases behind it, per text."""
        norms, features, trace = self.featurize(texts)
        return self.predict_features(texts, norms, features, explain_k, trace)

    def predict_features(
        self,
        texts: Sequence[str],
        norms: Sequence[str],
        features: sp.csr_matrix,
        explain_k: int = 3,
        trace: Trace | None = None,
    ) -> list[EmotionResult]:
        """Like :meth:`predict` from texts already featurized with the model's config.

        ``trace`` (from ``Featurizer.transform_traced``) makes explanations cheap; without
        it the batch is tokenized again when ``explain_k`` > 0.
        """
        model = self.model
        trace = self.trace_for(norms, explain_k, trace)
        if len(texts) == 0:
            return []
        proba = model.proba_matrix(features)
        full = np.zeros((proba.shape[0], len(EMOTIONS)))
        for j, e in enumerate(EMOTIONS):  # a model trained on fewer classes scores 0 on the rest
            if e in model.classes:
                full[:, j] = proba[:, model.classes.index(e)]
        empty = [is_empty(norm) for norm in norms]
        labels = [EMOTIONS[j] for j in full.argmax(axis=1).tolist()]
        why: list[list[str]] = [[] for _ in texts]
        if explain_k > 0 and trace is not None:
            targets = [
                None if e or lab == "neutral" else lab for e, lab in zip(empty, labels, strict=True)
            ]
            why = model.explain_batch(texts, trace, targets, explain_k)
        out: list[EmotionResult] = []
        for row, is_blank, label, phrases in zip(full.tolist(), empty, labels, why, strict=True):
            if is_blank:
                scores = {e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS}
                out.append(EmotionResult("neutral", scores, [], EMPTY_REASON))
                continue
            scores = dict(zip(EMOTIONS, [round(p, 4) for p in row], strict=True))
            out.append(EmotionResult(label, scores, phrases))
        return out
