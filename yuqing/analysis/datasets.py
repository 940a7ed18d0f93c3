"""Readers of the labelled CSVs (../shared/data and users' own files) with label mapping.

Every reader yields :class:`Example` rows whose ``label`` is already one of the task's
classes: sentiment ``negative|positive`` (binary sets; ``neutral`` kept when a file has
it), emotion ``joy anger sadness fear surprise neutral`` (SMP2020 happy/angry/sad ->
joy/anger/sadness; Li2016/NLPCC like, happiness -> joy, disgust -> anger, none ->
neutral), rumour ``rumor|non-rumor``. Rows with a blank text or a label that cannot be
mapped are skipped and counted.

:func:`dedup_key` is the key used to de-duplicate before any split: the normalized text
with everything but letters and digits removed (so copies that differ only in
punctuation, spacing or script are one text).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from yuqing.analysis.features import normalize
from yuqing.errors import SourceError, UsageError

TASKS = ("sentiment", "emotion", "rumor")
CLASSES: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "positive"),
    "emotion": ("joy", "anger", "sadness", "fear", "surprise", "neutral"),
    "rumor": ("non-rumor", "rumor"),
}
LABEL_MAP: dict[str, dict[str, str]] = {
    "sentiment": {
        "0": "negative", "1": "positive", "neg": "negative", "pos": "positive",
        "negative": "negative", "positive": "positive", "neutral": "neutral",
        "负面": "negative", "正面": "positive", "中性": "neutral", "-1": "negative",
    },
    "emotion": {
        "happy": "joy", "angry": "anger", "sad": "sadness", "fear": "fear",
        "surprise": "surprise", "neutral": "neutral", "like": "joy", "happiness": "joy",
        "disgust": "anger", "none": "neutral", "joy": "joy", "anger": "anger",
        "sadness": "sadness", "积极": "joy", "愤怒": "anger", "悲伤": "sadness",
        "恐惧": "fear", "惊奇": "surprise", "无情绪": "neutral", "中性": "neutral",
    },
    "rumor": {
        "1": "rumor", "0": "non-rumor", "rumor": "rumor", "non-rumor": "non-rumor",
        "nonrumor": "non-rumor", "false": "rumor", "true": "non-rumor", "谣言": "rumor",
        "非谣言": "non-rumor", "fake": "rumor", "real": "non-rumor",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Example:
    """One labelled text. ``group`` keeps related rows on one side of a split."""

    text: str
    label: str
    source: str = ""
    group: str = ""
    followers: int | None = None
    verified: bool | None = None


def check_task(task: str) -> str:
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return task


def map_label(task: str, raw: str) -> str | None:
    """The task's class for a dataset's own label value, or None when unknown."""
    return LABEL_MAP[check_task(task)].get(raw.strip().lower())


def dedup_key(text: str) -> str:
    """Normalized text with only letters and digits: equal keys are one text."""
    return "".join(ch for ch in normalize(text) if ch.isalnum())


def read_csv(
    path: Path,
    task: str,
    text_column: str = "text",
    label_column: str = "label",
    source: str | None = None,
) -> tuple[list[Example], int]:
    """Rows of a labelled CSV as examples, and how many rows were skipped."""
    csv.field_size_limit(sys.maxsize)
    out: list[Example] = []
    skipped = 0
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            for column in (text_column, label_column):
                if column not in fields:
                    raise UsageError(
                        f"{path}: no column {column!r} (columns: {', '.join(fields)}); "
                        "pass --text-column/--label-column"
                    )
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = map_label(task, row.get(label_column) or "")
                if not text or label is None:
                    skipped += 1
                    continue
                out.append(
                    Example(
                        text=text,
                        label=label,
                        source=source or Path(path).parent.name,
                        group=_group_of(row),
                        followers=_int_or_none(
                            row.get("user_followers") or row.get("author_followers")
                        ),
                        verified=_bool_or_none(
                            row.get("user_verified") or row.get("author_verified")
                        ),
                    )
                )
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SourceError(f"{path} is not a UTF-8 CSV file: {exc}") from exc
    return out, skipped


def _group_of(row: dict[str, str]) -> str:
    for column in ("eid", "event_file", "event_id", "group"):
        value = row.get(column)
        if value:
            return value
    return ""


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _bool_or_none(value: str | None) -> bool | None:
    if value in (None, ""):
        return None
    return str(value).strip().lower() in ("1", "true", "yes")


def dedupe(examples: Iterable[Example], exclude: Iterable[str] = ()) -> tuple[list[Example], int]:
    """First copy of each text (by :func:`dedup_key`), dropping texts whose copies disagree
    on the label and texts whose key is in ``exclude``. Returns (kept, dropped)."""
    banned = set(exclude)
    first: dict[str, Example] = {}
    conflict: set[str] = set()
    total = 0
    for ex in examples:
        total += 1
        key = dedup_key(ex.text)
        if not key or key in banned:
            continue
        seen = first.get(key)
        if seen is None:
            first[key] = ex
        elif seen.label != ex.label:
            conflict.add(key)
    kept = [ex for key, ex in first.items() if key not in conflict]
    return kept, total - len(kept)


def shared_data_root() -> Path:
    """../shared/data relative to the repository root (where the recipes read from)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def require(root: Path, relative: str) -> Path:
    path = root / relative
    if not path.is_file():
        raise SourceError(
            f"training data {path} not found; pass --data FILE... or put the shared "
            "datasets in ../shared/data"
        )
    return path


def read_many(task: str, paths: Sequence[Path]) -> list[Example]:
    """Examples of several CSVs in the default column layout (text, label)."""
    out: list[Example] = []
    for path in paths:
        rows, _ = read_csv(Path(path), task)
        out.extend(rows)
    return out
