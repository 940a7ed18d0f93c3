"""How a retrained model changed: accuracy and macro-F1 before and after, on the standard
held-out evaluation sets of ../shared/data (docs/MODELS.md, docs/models-text.md).

The sets, per task:

* **sentiment**: ChnSentiCorp test (binary, on the sign of the score; its texts are removed
  from all training data), and SMP2020-EWECT eval read three-way (happy -> positive;
  angry, sad, fear -> negative; neutral; surprise rows left out);
* **emotion**: SMP2020-EWECT eval (``dev.csv``), never trained on;
* **rumor**: the 20 % event split of Ma2016 + CED (near-copy groups by their first 20 key
  characters, as the recipe splits). The shipped rumour model is fit on all events, so
  these figures are a regression check, not an unseen-data estimate.

Every task also gets a ``corrections`` line: the analysts' own rows, which the new model
was trained on (so "after" shows that it learned them, not how well it generalizes).
A set whose file is missing is reported as ``{"missing": path}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yuqing.analysis.datasets import CLASSES, Example, dedup_key, dedupe, read_csv, shared_data_root
from yuqing.analysis.evaluation import EvalReport, evaluate, predict_labels, score

THREE_WAY = {"joy": "positive", "anger": "negative", "sadness": "negative", "fear": "negative"}
THREE_WAY["neutral"] = "neutral"


@dataclass(slots=True)
class SetFigures:
    """One evaluation set, scored by the model before and after retraining."""

    name: str
    n: int = 0
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    missing: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.missing is not None:
            return {"missing": self.missing}
        delta = {k: round(self.after[k] - self.before[k], 4) for k in self.before}
        return {"n": self.n, "before": self.before, "after": self.after, "delta": delta}


def _figures(report: EvalReport) -> dict[str, float]:
    return {"accuracy": round(report.accuracy, 4), "macro_f1": round(report.macro_f1, 4)}


def _rows_report(task: str, rows: Sequence[Example], model: Path) -> EvalReport:
    truth = [r.label for r in rows]
    texts = [r.text for r in rows]
    if task == "sentiment" and "neutral" not in truth:  # binary: the sign, as `yuqing eval`
        from yuqing.analysis.sentiment import SentimentModel

        results = SentimentModel(model).predict(texts, explain_k=0)
        predicted = ["positive" if r.score > 0 else "negative" for r in results]
        return score(task, truth, predicted, ["negative", "positive"])
    classes = ["negative", "neutral", "positive"] if task == "sentiment" else list(CLASSES[task])
    return score(task, truth, predict_labels(task, texts, model), classes)


def _group_bucket(text: str) -> int:
    """The recipe's event split (yuqing.analysis.training): 1 in 5 near-copy groups."""
    key = dedup_key(text)[:20]
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % 5


def _sets(task: str, root: Path) -> list[tuple[str, Path | None, list[Example] | None]]:
    """(name, file to ``evaluate``, or rows to score) of each standard set of ``task``."""
    if task == "sentiment":
        smp = root / "emotion_smp2020_ewect/dev.csv"
        rows = None
        if smp.is_file():
            raw, _ = read_csv(smp, "emotion")
            rows = [Example(r.text, THREE_WAY[r.label]) for r in raw if r.label in THREE_WAY]
        return [
            ("chnsenticorp_test", root / "sentiment_chnsenticorp/test.csv", None),
            ("smp2020_eval_3way", smp, rows),
        ]
    if task == "emotion":
        return [("smp2020_eval", root / "emotion_smp2020_ewect/dev.csv", None)]
    ma, ced = root / "rumor_weibo_ma2016/events.csv", root / "rumor_ced_thunlp/events.csv"
    rows = None
    if ma.is_file() and ced.is_file():
        both, _ = dedupe(read_csv(ma, "rumor")[0] + read_csv(ced, "rumor")[0])
        rows = [r for r in both if _group_bucket(r.text) == 0]
    return [("ma2016_ced_event_split_20pct", ma if rows is None else None, rows)]


def compare_models(
    task: str,
    before: Path,
    after: Path,
    corrections: Sequence[Example] = (),
    root: Path | None = None,
) -> dict[str, Any]:
    """Before/after figures of two model artifacts of ``task`` (see the module docstring)."""
    base = root or shared_data_root()
    out: list[SetFigures] = []
    for name, path, rows in _sets(task, base):
        figures = SetFigures(name)
        if rows is None and (path is None or not path.is_file()):
            figures.missing = str(path or base)
        else:
            for which, model in (("before", before), ("after", after)):
                if rows is not None:
                    report = _rows_report(task, rows, model)
                else:
                    assert path is not None
                    report = evaluate(task, path, model_path=model)
                figures.n = report.n
                setattr(figures, which, _figures(report))
        out.append(figures)
    if corrections:
        own = SetFigures("corrections (trained on)")
        for which, model in (("before", before), ("after", after)):
            report = _rows_report(task, corrections, model)
            own.n = report.n
            setattr(own, which, _figures(report))
        out.append(own)
    return {
        "task": task,
        "before": str(before),
        "after": str(after),
        "sets": {s.name: s.as_dict() for s in out},
    }


def format_comparison(report: dict[str, Any]) -> str:
    """The comparison as a small text table (what ``yuqing train --report`` prints)."""
    lines = [f"{report['task']}: before {report['before']}  after {report['after']}"]
    lines.append(
        f"{'set':<32}{'n':>7}{'acc before':>12}{'acc after':>11}{'F1 before':>11}{'F1 after':>10}"
    )
    for name, s in report["sets"].items():
        if "missing" in s:
            lines.append(f"{name:<32}  missing: {s['missing']}")
            continue
        b, a = s["before"], s["after"]
        lines.append(
            f"{name:<32}{s['n']:>7}{b['accuracy']:>12.4f}{a['accuracy']:>11.4f}"
            f"{b['macro_f1']:>11.4f}{a['macro_f1']:>10.4f}"
        )
    return "\n".join(lines)
