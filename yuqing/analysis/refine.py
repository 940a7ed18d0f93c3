"""Training-time refinements of the linear text models (no inference cost).

Each helper changes only numbers inside one linear artifact (weights of some columns,
per-class offsets) or which rows are trained on, so the shipped model keeps one weight
row per class over the shared hashed features and predicts at the same speed.

* :func:`nb_ratio`: the NB-SVM column scaling (folded back into the weights by
  :func:`yuqing.analysis.training.fit`).
* :func:`near_duplicates`: training rows too similar to a test set (cosine of the
  L2-normalized hashed features), removed before fitting so that a test figure is not
  read on near-copies of training texts.
* :func:`refit_columns`: re-estimate the weights of a few
  columns (the Weibo emoticon codes) with all other weights fixed.
* :func:`tune_offsets`: per-class score offsets for macro-F1 on out-of-fold scores.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

NEAR_DUPLICATE_COSINE = 0.6
"""Cosine over the hashed features from which two texts count as near-copies; at 0.6
the pairs seen in ChnSentiCorp test vs the review sets are the same review with edits
(a few characters, spacing, a sentence added or cut)."""


def near_duplicates(
    train: sp.csr_matrix, test: sp.csr_matrix, threshold: float = NEAR_DUPLICATE_COSINE
) -> np.ndarray:
    """Boolean mask over ``train`` rows whose cosine to some ``test`` row is >= threshold.

    Rows must be L2-normalized (the featurizer's output is)."""
    mask = np.zeros(train.shape[0], dtype=bool)
    if train.shape[0] == 0 or test.shape[0] == 0:
        return mask
    step = 20_000
    for start in range(0, train.shape[0], step):
        block = (train[start : start + step] @ test.T).tocsr()
        mask[start : start + block.shape[0]] = np.asarray(block.max(axis=1).todense()).ravel() >= (
            threshold
        )
    return mask


def refit_columns(
    coef: np.ndarray,
    intercept: float,
    features: sp.csr_matrix,
    positive: np.ndarray,
    columns: np.ndarray,
    c: float,
) -> np.ndarray:
    """Binary logistic weights of ``columns`` re-fit on ``features`` (L-BFGS, L2 penalty
    ``1 / (2c)``) with every other weight and the intercept fixed; returns a new ``coef``.

    Used for the emoticon codes of the sentiment model: the rest of the model is fit on
    Weibo posts as posted and emoticon-stripped (so the text carries weight on its own),
    then the emoticon weights are set to what the posts with emoticons ask for, given that
    text. Posts without emoticons score exactly as before."""
    sub = features[:, columns].tocsr()
    offset = np.asarray(features @ coef, dtype=np.float64).ravel() + intercept
    offset -= sub @ coef[columns].astype(np.float64)
    sign = np.where(positive, 1.0, -1.0)

    def loss(v: np.ndarray) -> tuple[float, np.ndarray]:
        z = sign * (offset + sub @ v)
        value = float(np.logaddexp(0.0, -z).sum() + 0.5 / c * float(v @ v))
        grad = sub.T @ (-sign / (1.0 + np.exp(z))) + v / c
        return value, np.asarray(grad, dtype=np.float64)

    start = coef[columns].astype(np.float64)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    out = coef.copy()
    out[columns] = np.asarray(result.x, dtype=coef.dtype)
    return out


def nb_ratio(
    features: sp.csr_matrix, positive: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Log-count ratio per column (Wang and Manning 2012): log of the (weighted, add-one)
    share of positive rows holding the feature over the negatives' share."""
    present = features.copy()
    present.data = np.ones_like(present.data)
    w = np.ones(features.shape[0]) if weights is None else np.asarray(weights, np.float64)
    pos = 1.0 + np.asarray(present.T @ (w * positive)).ravel()
    neg = 1.0 + np.asarray(present.T @ (w * ~positive)).ravel()
    ratio: np.ndarray = np.log((pos / pos.sum()) / (neg / neg.sum()))
    return ratio


def macro_f1(truth: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Macro-F1 over class indices ``0..n_classes-1`` (classes absent from both count 0)."""
    f1 = []
    for k in range(n_classes):
        tp = float(np.sum((pred == k) & (truth == k)))
        fp = float(np.sum((pred == k) & (truth != k)))
        fn = float(np.sum((pred != k) & (truth == k)))
        f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(f1))


def tune_offsets(
    scores: np.ndarray, truth: np.ndarray, rounds: int = 3, step: float = 0.1, span: float = 2.0
) -> np.ndarray:
    """Per-class offsets added to ``scores`` (n, k) that maximize macro-F1 of the argmax,
    by coordinate ascent over a grid; ``scores`` should be out-of-fold."""
    k = scores.shape[1]
    offsets = np.zeros(k)
    grid = np.round(np.arange(-span, span + step / 2, step), 6)
    for _ in range(rounds):
        for j in range(k):
            best = (-1.0, 0.0)
            for g in grid:
                trial = offsets.copy()
                trial[j] = g
                f1 = macro_f1(truth, (scores + trial).argmax(axis=1), k)
                best = max(best, (f1, float(g)))
            offsets[j] = best[1]
    return offsets
