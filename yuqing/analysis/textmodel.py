"""A compact linear text classifier over hashed features, saved as numbers only.

:class:`TextModel` holds int8 coefficient codes (square-root companded, one scale per class), float
intercepts, class names, the :class:`~yuqing.analysis.features.FeatureConfig` and a
version string, saved as a compressed ``.npz`` with no training text inside. Models are
loaded lazily and cached per path (:func:`load_model`). A missing or broken artifact
raises :class:`~yuqing.errors.ModelError` naming the file and the ``yuqing train``
command that rebuilds it.

Binary models keep one weight row (logistic link); multi-class models keep one row per
class, read with a softmax or, for one-vs-rest training (``meta["link"] == "ovr"``), as
per-class sigmoids normalized to sum to 1.
"""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from yuqing.analysis.features import FeatureConfig, Featurizer, Trace, align
from yuqing.errors import ModelError

MODELS_DIR = Path(__file__).resolve().parent / "models"
ARTIFACT_FORMAT = 2


@dataclass
class TextModel:
    """A trained linear model over hashed features (see module docstring)."""

    task: str
    version: str
    classes: list[str]
    coef: np.ndarray  # float32 (k, n_features); k == 1 for binary
    intercept: np.ndarray  # float32 (k,)
    config: FeatureConfig
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.featurizer = Featurizer(self.config)
        self._coef_t = np.ascontiguousarray(self.coef.T, dtype=np.float32)
        self._weights: np.ndarray | None = None

    # ---- prediction -------------------------------------------------------------
    def decision_matrix(self, features: sp.csr_matrix) -> np.ndarray:
        """Raw scores (n, k) from a feature matrix made with this model's config."""
        scores = np.asarray(features @ self._coef_t, dtype=np.float64)
        result: np.ndarray = scores + self.intercept
        return result

    def proba_matrix(self, features: sp.csr_matrix) -> np.ndarray:
        """Class probabilities (n, len(classes)) from a feature matrix."""
        return self._link(self.decision_matrix(features))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, columns in the order of :attr:`classes`; batch for speed."""
        if len(texts) == 0:
            return np.zeros((0, len(self.classes)))
        return self.proba_matrix(self.featurizer.transform(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Most probable class name per text."""
        proba = self.predict_proba(texts)
        return [self.classes[i] for i in proba.argmax(axis=1)]

    def _link(self, scores: np.ndarray) -> np.ndarray:
        if len(self.classes) == 2 and scores.shape[1] == 1:
            p1 = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - p1, p1])
        if self.meta.get("link") == "ovr":
            sig = 1.0 / (1.0 + np.exp(-scores))
            normed: np.ndarray = sig / np.maximum(sig.sum(axis=1, keepdims=True), 1e-12)
            return normed
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return result

    # ---- explanation ------------------------------------------------------------
    def contributions(self, text: str, target: str | None = None) -> list[tuple[str, float]]:
        """(surface, weight toward ``target``) per distinct surface form, strongest first.

        ``target`` defaults to the predicted class. For multi-class models the weight is
        the class's coefficient minus the mean over classes (what moves it above others).
        """
        row, trace = self.featurizer.transform_traced([self.featurizer.prepare(text)])
        if target is None:
            target = self.classes[int(self.proba_matrix(row)[0].argmax())]
        agg = self._aggregate(trace, np.array([self.classes.index(target)]))
        ranked = np.lexsort((trace.group_order, -agg))
        return [(trace.surface(g), float(agg[g])) for g in ranked.tolist()]

    def _aggregate(self, trace: Trace, cls: np.ndarray) -> np.ndarray:
        """Weight of every group of a traced batch toward its text's class ``cls[row]``
        (texts with ``cls`` < 0 get 0)."""
        weights = self._class_matrix()
        pair_cls = cls[trace.group_row[trace.pair_group]]
        sel = np.flatnonzero(pair_cls >= 0)
        contrib = np.zeros(len(pair_cls))
        contrib[sel] = trace.pair_value[sel] * weights[pair_cls[sel], trace.pair_bucket[sel]]
        agg: np.ndarray = np.bincount(
            trace.pair_group, weights=contrib, minlength=len(trace.group_row)
        )
        return agg

    def _class_matrix(self) -> np.ndarray:
        """Per class (rows in :attr:`classes` order), the weights that push toward it."""
        if self._weights is None:
            rows = []
            for c in range(len(self.classes)):
                if self.coef.shape[0] == 1:
                    rows.append(((1.0 if c == 1 else -1.0) * self.coef[0]).astype(np.float32))
                else:
                    rows.append((self.coef[c] - self.coef.mean(axis=0)).astype(np.float32))
            self._weights = np.stack(rows)
        return self._weights

    def explain(self, text: str, k: int = 5, target: str | None = None) -> list[str]:
        """Up to ``k`` phrases of ``text`` that pushed toward ``target`` most.

        Phrases are substrings of the original text where the normalization can be
        aligned character by character (else of its normalized form); overlapping
        n-grams of one phrase are reported once, phrases of two or more characters (and
        emoticon codes) come before single characters, and punctuation is skipped.
        """
        row, trace = self.featurizer.transform_traced([self.featurizer.prepare(text)])
        if target is None:
            target = self.classes[int(self.proba_matrix(row)[0].argmax())]
        return self.explain_batch([text], trace, [target], k)[0]

    def explain_batch(
        self, texts: Sequence[str], trace: Trace, targets: Sequence[str | None], k: int
    ) -> list[list[str]]:
        """:meth:`explain` for a batch traced by ``Featurizer.transform_traced``;
        a ``None`` target gives no phrases for that text.

        Vectorized over the batch: one gather and one ``bincount`` give every surface's
        weight toward its text's target; the ``8k + 8`` strongest positive surfaces of
        each text (ties: first appearance) are kept, the usable ones ordered phrases
        first, and only the final non-overlap check runs per text.
        """
        out: list[list[str]] = [[] for _ in texts]
        index = {c: i for i, c in enumerate(self.classes)}
        cls = np.array([-1 if t is None else index[t] for t in targets], np.int64)
        if k <= 0 or not (cls >= 0).any():
            return out
        agg = self._aggregate(trace, cls)
        cand = np.flatnonzero((agg > 0) & (cls[trace.group_row] >= 0))
        if not len(cand):
            return out
        rows = trace.group_row[cand]
        order = trace.group_order[cand]
        shift = max(int(order.max()).bit_length(), 1)
        key = -((agg[cand].view(np.int64) >> shift) << shift) + order
        indptr = np.searchsorted(rows, np.arange(len(texts) + 1))
        ranked = sp.csr_matrix((cand, key, indptr), shape=(len(texts), 1 << 62))
        ranked.has_sorted_indices = False
        ranked.sort_indices()
        cand = ranked.data
        rank = np.arange(len(cand)) - indptr[rows]
        cap = 8 * k + 8
        keep = np.flatnonzero((rank < cap) & trace.group_usable[cand])
        cand, rows, rank = cand[keep], rows[keep], rank[keep]
        if not len(cand):
            return out
        single = trace.group_len[cand] < 2
        final = np.argsort((rows * 2 + single) * cap + rank, kind="stable")
        cand, rows = cand[final], rows[final]
        bounds = np.flatnonzero(np.diff(rows)) + 1
        text = trace.text
        starts = trace.group_start[cand].tolist()
        lens = trace.group_len[cand].tolist()
        max_chars = self.config.max_chars
        for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(cand)], strict=True):
            picked: list[str] = []
            for j in range(lo, hi):
                surface = text[starts[j] : starts[j] + lens[j]]
                if not any(surface in p or p in surface for p in picked):
                    picked.append(surface)
                    if len(picked) >= k:
                        break
            r = int(rows[lo])
            out[r] = [_to_original(texts[r], s, max_chars) for s in picked]
        return out

    # ---- persistence --------------------------------------------------------------
    def save(self, path: Path) -> Path:
        """Write the artifact as a compressed npz of int8 codes, square-root companded.

        ``code = round(127 * sign(w) * sqrt(|w| / max|w|))`` per row: small weights (the
        many n-grams) keep about 1/16000 of the row maximum as resolution, where a linear
        int8 scale rounded most of them to zero.
        """
        scale = np.abs(self.coef).max(axis=1)
        scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
        unit = np.sqrt(np.abs(self.coef) / scale[:, None])
        quant = np.clip(np.rint(127.0 * np.sign(self.coef) * unit), -127, 127).astype(np.int8)
        header = {
            "format": ARTIFACT_FORMAT,
            "task": self.task,
            "version": self.version,
            "classes": self.classes,
            "config": self.config.to_dict(),
            "meta": self.meta,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                header=np.array(json.dumps(header, ensure_ascii=False)),
                coef_q=quant,
                coef_scale=scale,
                intercept=self.intercept.astype(np.float32),
            )
        return path

    @classmethod
    def load(cls, path: Path, task: str = "TASK") -> TextModel:
        """Read an artifact written by :meth:`save`; ModelError when missing or broken."""
        rebuild = f"rebuild it with `yuqing train {task} --out {path}`"
        if not path.is_file():
            raise ModelError(f"model artifact {path} does not exist; {rebuild}")
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                quant = data["coef_q"]
                scale = data["coef_scale"]
                intercept = data["intercept"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise ModelError(f"model artifact {path} cannot be read ({exc}); {rebuild}") from exc
        if header.get("format") != ARTIFACT_FORMAT:
            raise ModelError(
                f"model artifact {path} has format {header.get('format')!r}, "
                f"this yuqing reads {ARTIFACT_FORMAT}; {rebuild}"
            )
        try:
            config = FeatureConfig.from_dict(header["config"])
            codes = quant.astype(np.float32) / 127.0
            coef = np.sign(codes) * codes * codes * scale[:, None]
            model = cls(
                task=str(header["task"]),
                version=str(header["version"]),
                classes=[str(c) for c in header["classes"]],
                coef=coef,
                intercept=intercept.astype(np.float64),
                config=config,
                meta=dict(header.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"model artifact {path} is broken ({exc}); {rebuild}") from exc
        if coef.shape[1] != config.n_features or coef.shape[0] not in (1, len(model.classes)):
            raise ModelError(f"model artifact {path} has inconsistent shapes; {rebuild}")
        return model


@lru_cache(maxsize=512)
def _aligned(text: str, max_chars: int) -> tuple[str, list[int]] | None:
    """:func:`align`, cached: one text's phrases of three models reuse it."""
    return align(text, max_chars)


def _to_original(text: str, surface: str, max_chars: int) -> str:
    """Map a surface form of the normalized text back onto the original text."""
    if surface in text:
        return surface
    aligned = _aligned(text[:max_chars], max_chars)
    if aligned is None:
        return surface
    norm, origin = aligned
    at = norm.find(surface)
    if at < 0:
        return surface
    start, end = origin[at], origin[at + len(surface) - 1] + 1
    return text[start:end]


_CACHE: dict[tuple[str, float], TextModel] = {}
_LOCK = threading.Lock()


def default_path(task: str) -> Path:
    """Where the shipped artifact of a task lives."""
    return MODELS_DIR / f"{task}.npz"


def load_model(task: str, path: Path | None = None) -> TextModel:
    """The model of ``task`` from ``path`` (default: the shipped artifact), cached per file."""
    target = Path(path) if path is not None else default_path(task)
    try:
        stamp = target.stat().st_mtime
    except OSError:
        stamp = -1.0
    key = (str(target.resolve()), stamp)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = TextModel.load(target, task)
            if cached.task != task:
                raise ModelError(
                    f"model artifact {target} is a {cached.task!r} model, not {task!r}; "
                    f"rebuild it with `yuqing train {task} --out {target}`"
                )
            _CACHE[key] = cached
        return cached


class ArtifactModel:
    """Base of the task wrappers (sentiment, emotion, rumour): the task's artifact loaded
    lazily, once per process and file, and the shared featurization steps."""

    task: str = "TASK"

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    @property
    def model(self) -> TextModel:
        return load_model(self.task, self.path)

    @property
    def version(self) -> str:
        return self.model.version

    def featurize(self, texts: Sequence[str]) -> tuple[list[str], sp.csr_matrix, Trace]:
        """Normalized texts, their feature matrix and the trace that explanations use."""
        featurizer = self.model.featurizer
        norms = [featurizer.prepare(t) for t in texts]
        features, trace = featurizer.transform_traced(norms)
        return norms, features, trace

    def trace_for(self, norms: Sequence[str], explain_k: int, trace: Trace | None) -> Trace | None:
        """The trace explanations need: the given one, or one made now when missing."""
        if explain_k > 0 and trace is None and len(norms):
            return self.model.featurizer.transform_traced(norms)[1]
        return trace
