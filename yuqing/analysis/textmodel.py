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
        self._weights: dict[str, np.ndarray] = {}

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
        agg = self._aggregate(trace, target)
        pairs = zip(
            (trace.surfaces[s] for s in trace.group_surface.tolist()), agg.tolist(), strict=True
        )
        return sorted(pairs, key=lambda kv: -kv[1])

    def _aggregate(self, trace: Trace, target: str) -> np.ndarray:
        """Weight toward ``target`` of every (text, surface) group of a traced batch."""
        weights = self._class_weights(target)
        contrib = trace.pair_value * weights[trace.pair_bucket]
        agg: np.ndarray = np.bincount(
            trace.pair_group, weights=contrib, minlength=len(trace.group_surface)
        )
        return agg

    def _class_weights(self, target: str) -> np.ndarray:
        cached = self._weights.get(target)
        if cached is None:
            c = self.classes.index(target)
            if self.coef.shape[0] == 1:
                cached = ((1.0 if c == 1 else -1.0) * self.coef[0]).astype(np.float32)
            else:
                cached = (self.coef[c] - self.coef.mean(axis=0)).astype(np.float32)
            self._weights[target] = cached
        return cached

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
        a ``None`` target gives no phrases for that text."""
        out: list[list[str]] = [[] for _ in texts]
        offsets = trace.group_offsets.tolist()
        for target in {t for t in targets if t is not None}:
            agg = self._aggregate(trace, target)
            for i, t in enumerate(targets):
                if t != target:
                    continue
                lo, hi = offsets[i], offsets[i + 1]
                local = agg[lo:hi]
                positive = np.flatnonzero(local > 0)
                best = positive[np.argsort(-local[positive], kind="stable")][: 8 * k + 8]
                ids = trace.group_surface[lo:hi][best].tolist()
                out[i] = _pick(texts[i], [trace.surfaces[s] for s in ids], k, self.config.max_chars)
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


def _pick(text: str, ranked: list[str], k: int, max_chars: int) -> list[str]:
    """Up to ``k`` of the ranked surfaces: phrases before single characters, no overlaps."""
    usable = [s for s in ranked if s.startswith("[") or s.isalnum()]
    usable.sort(key=lambda s: len(s) < 2)  # stable: keeps the weight order within each
    picked: list[str] = []
    for surface in usable:
        if len(picked) >= k:
            break
        if not any(surface in p or p in surface for p in picked):
            picked.append(surface)
    return [_to_original(text, s, max_chars) for s in picked]


def _to_original(text: str, surface: str, max_chars: int) -> str:
    """Map a surface form of the normalized text back onto the original text."""
    if surface in text:
        return surface
    aligned = align(text[:max_chars], max_chars)
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
