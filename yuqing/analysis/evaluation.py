"""Evaluation of the text models: accuracy, macro-F1, per-class figures, confusion matrix.

:func:`evaluate` is what ``yuqing eval TASK FILE --text-column text --label-column
label`` calls: it reads a labelled CSV (labels in the dataset's own values are mapped,
see :mod:`yuqing.analysis.datasets`), runs the shipped (or given) model and returns an
:class:`EvalReport` whose :meth:`~EvalReport.format` prints the figures.

Sentiment files with only two labels are scored on the sign of ``sentiment_score`` (the
binary reading of DESIGN.md); when a file also has ``neutral`` rows the three-way labels
are compared.

With ``transformer`` (the ``[analysis.transformer]`` settings; ``yuqing eval`` passes
them unless ``--linear``), sentiment and emotion are judged by the configured exported
classifier exactly as the analysis stage does (:mod:`yuqing.analysis.transformer_tier`),
so a user can measure their own checkpoint on the shared test sets.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yuqing.analysis.datasets import check_task, read_csv
from yuqing.errors import UsageError

if TYPE_CHECKING:
    from yuqing.analysis.sentiment import SentimentResult
    from yuqing.settings import TransformerSettings


@dataclass
class EvalReport:
    """Figures of one evaluation; ``format()`` renders them as text."""

    task: str
    classes: list[str]
    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]
    skipped: int = 0
    seconds: float = 0.0
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": {
                c: {k: round(v, 4) for k, v in m.items()} for c, m in self.per_class.items()
            },
            "confusion": self.confusion,
            "classes": self.classes,
        }

    def format(self) -> str:
        """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix."""
        lines = [
            f"{self.task} on {self.source or 'data'}: {self.n} texts"
            + (f" ({self.skipped} rows skipped)" if self.skipped else ""),
            f"accuracy  {self.accuracy:.4f}",
            f"macro-F1  {self.macro_f1:.4f}",
        ]
        if self.extra.get("model"):
            lines.append(f"model     {self.extra['model']}")
        if self.seconds > 0:
            lines.append(f"speed     {self.n / self.seconds:,.0f} texts/s")
        width = max(10, *(len(c) + 2 for c in self.classes))
        lines.append("")
        lines.append(f"{'class':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
        for c in self.classes:
            m = self.per_class[c]
            lines.append(
                f"{c:<{width}}{m['precision']:>10.4f}{m['recall']:>10.4f}"
                f"{m['f1']:>10.4f}{int(m['support']):>9d}"
            )
        lines.append("")
        lines.append("confusion matrix (rows = true, columns = predicted)")
        lines.append(" " * width + "".join(f"{c[:9]:>10}" for c in self.classes))
        for c, row in zip(self.classes, self.confusion, strict=True):
            lines.append(f"{c:<{width}}" + "".join(f"{v:>10d}" for v in row))
        return "\n".join(lines)


def score(
    task: str, truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str] | None = None
) -> EvalReport:
    """Metrics of predicted against true labels over ``classes`` (default: those seen)."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    names = list(classes) if classes else sorted(set(truth) | set(predicted))
    index = {c: i for i, c in enumerate(names)}
    k = len(names)
    confusion = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        if t in index and p in index:
            confusion[index[t], index[p]] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for i, c in enumerate(names):
        tp = float(confusion[i, i])
        col = float(confusion[:, i].sum())
        row = float(confusion[i, :].sum())
        precision = tp / col if col else 0.0
        recall = tp / row if row else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": row}
        if row:
            f1s.append(f1)
    total = int(confusion.sum())
    return EvalReport(
        task=task,
        classes=names,
        n=total,
        accuracy=float(np.trace(confusion)) / total if total else 0.0,
        macro_f1=float(np.mean(f1s)) if f1s else 0.0,
        per_class=per_class,
        confusion=confusion.tolist(),
    )


def _sentiments(
    texts: Sequence[str], model_path: Path | None, transformer: TransformerSettings | None
) -> tuple[list[SentimentResult], str]:
    """Sentiment results and the model's version: the linear model's, or the tier's when
    ``transformer`` names a sentiment folder."""
    from yuqing.analysis.sentiment import SentimentModel

    model = SentimentModel(model_path)
    results = model.predict(texts, explain_k=0)
    if transformer is None or not transformer.sentiment:
        return results, model.version
    from yuqing.analysis.transformer_tier import TransformerTier, relabel_sentiment

    tier = TransformerTier(transformer).sentiment
    assert tier is not None
    return relabel_sentiment(tier, texts, results, model.neutral_threshold), tier.version


def predict_labels(
    task: str,
    texts: Sequence[str],
    model_path: Path | None = None,
    transformer: TransformerSettings | None = None,
) -> list[str]:
    """Labels the shipped (or given) model assigns, in the task's evaluation classes;
    sentiment and emotion by the transformer tier when ``transformer`` configures it."""
    return _predict(task, texts, model_path, transformer)[0]


def _predict(
    task: str,
    texts: Sequence[str],
    model_path: Path | None,
    transformer: TransformerSettings | None,
) -> tuple[list[str], str]:
    if task == "sentiment":
        results, version = _sentiments(texts, model_path, transformer)
        return [r.label for r in results], version
    if task == "emotion":
        from yuqing.analysis.emotion import EmotionModel

        emotion = EmotionModel(model_path)
        found = emotion.predict(texts, explain_k=0)
        if transformer is not None and transformer.emotion:
            from yuqing.analysis.transformer_tier import TransformerTier, relabel_emotion

            tier = TransformerTier(transformer).emotion
            assert tier is not None
            return [r.label for r in relabel_emotion(tier, texts, found)], tier.version
        return [r.label for r in found], emotion.version
    from yuqing.analysis.rumor import RumorModel

    rumor = RumorModel(model_path)
    probs = rumor.probabilities(texts)
    return ["rumor" if p >= 0.5 else "non-rumor" for p in probs], rumor.version


def evaluate(
    task: str,
    file: Path,
    text_column: str = "text",
    label_column: str = "label",
    model_path: Path | None = None,
    transformer: TransformerSettings | None = None,
) -> EvalReport:
    """Run a model over a labelled CSV and score it (see module docstring)."""
    check_task(task)
    rows, skipped = read_csv(Path(file), task, text_column, label_column)
    if not rows:
        raise UsageError(f"{file}: no labelled rows for {task} (skipped {skipped})")
    texts = [r.text for r in rows]
    truth = [r.label for r in rows]
    start = time.perf_counter()
    if task == "sentiment" and "neutral" not in truth:
        results, version = _sentiments(texts, model_path, transformer)
        predicted = ["positive" if r.score > 0 else "negative" for r in results]
        classes: list[str] = ["negative", "positive"]
    else:
        predicted, version = _predict(task, texts, model_path, transformer)
        classes = _classes(task)
    seconds = time.perf_counter() - start
    report = score(task, truth, predicted, classes)
    report.extra["model"] = version
    report.skipped = skipped
    report.seconds = seconds
    report.source = str(file)
    return report


def _classes(task: str) -> list[str]:
    from yuqing.analysis.datasets import CLASSES

    if task == "sentiment":
        return ["negative", "neutral", "positive"]
    return list(CLASSES[task])


def speed(texts: Sequence[str], explain_k: int = 0) -> dict[str, float]:
    """Posts/s of featurizing once and running all three default models on one batch.

    This is the path an analysis stage takes: the models share one feature
    configuration, so the batch is featurized once. ``explain_k`` > 0 adds explanations.
    """
    from yuqing.analysis.emotion import EmotionModel
    from yuqing.analysis.rumor import RumorModel
    from yuqing.analysis.sentiment import SentimentModel

    sent, emo, rum = SentimentModel(), EmotionModel(), RumorModel()
    fz = sent.model.featurizer
    if not (fz.config == emo.model.config == rum.model.config):
        raise UsageError("the default models do not share one feature configuration")
    start = time.perf_counter()
    norms = [fz.prepare(t) for t in texts]
    trace = None
    if explain_k > 0:
        features, trace = fz.transform_traced(norms)
    else:
        features = fz.transform_normalized(norms)
    featurized = time.perf_counter()
    sent.predict_features(texts, norms, features, explain_k, trace)
    emo.predict_features(texts, norms, features, explain_k, trace)
    rum.predict_features(texts, norms, features, explain_k=explain_k, trace=trace)
    done = time.perf_counter()
    n = max(len(texts), 1)
    return {
        "posts": float(len(texts)),
        "posts_per_s": n / (done - start),
        "featurize_posts_per_s": n / (featurized - start),
        "models_posts_per_s": n / max(done - featurized, 1e-9),
    }
