"""``yuqing train TASK --corrections-from STORE_URL [--report FILE]``: retrain with the
analysts' corrections as extra labelled rows, and say how the model changed.

The model that is about to be replaced (the artifact at ``--out``, else the shipped one) is
copied aside first; after training, both are scored on the standard held-out sets
(:mod:`yuqing.corrections.model_report`) and the comparison is written as JSON to the
report file (and returned).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from yuqing.analysis.datasets import Example
from yuqing.analysis.textmodel import default_path
from yuqing.analysis.training import ModelCard, Progress, train
from yuqing.corrections.model_report import compare_models
from yuqing.corrections.training_rows import CorrectionRows, load_correction_rows


@dataclass(slots=True)
class Retrained:
    """The new model's card, the correction rows it got, and the before/after report."""

    card: ModelCard
    rows: CorrectionRows | None
    report: dict[str, Any] | None


def train_with_corrections(
    task: str,
    data: Sequence[Path] | None,
    out: Path | None,
    *,
    seed: int = 42,
    corrections_from: str | None = None,
    report: Path | None = None,
    progress: Progress | None = None,
    data_root: Path | None = None,
) -> Retrained:
    """Train ``task`` with the corrections of the store at ``corrections_from`` (if given);
    with ``report``, compare the replaced model with the new one and write the JSON."""
    rows = load_correction_rows(corrections_from, task) if corrections_from else None
    extra: list[Example] = rows.examples if rows is not None else []
    if rows is not None and progress is not None:
        progress(rows.summary())
    target = Path(out) if out is not None else default_path(task)
    with tempfile.TemporaryDirectory(prefix="yuqing-train-") as tmp:
        source = target if target.is_file() else default_path(task)
        before = Path(tmp) / f"{task}-before{source.suffix}"
        if report is not None:
            shutil.copy2(source, before)
        card = train(task, data or None, target, seed=seed, progress=progress, extra=extra)
        comparison = None
        if report is not None:
            comparison = compare_models(task, before, card.path, extra, data_root)
            comparison["before"] = f"{source} (as it was before this training)"
            comparison["corrections"] = (
                {"rows": len(extra), "read": rows.corrections, "left_out": dict(rows.skipped)}
                if rows is not None
                else None
            )
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_bytes(orjson.dumps(comparison, option=orjson.OPT_INDENT_2))
    return Retrained(card, rows, comparison)
