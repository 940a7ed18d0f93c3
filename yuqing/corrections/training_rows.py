"""Corrections as labelled training rows: what ``yuqing train TASK --corrections-from URL``
adds to the training data.

Each post an analyst relabelled gives one :class:`~yuqing.analysis.datasets.Example` with
the post's stored text and the latest corrected label (a later correction of the same post
wins):

* **sentiment**: ``positive`` and ``negative`` corrections; ``neutral`` ones are counted
  and left out, because the sentiment model is binary (neutral is a threshold on its
  score, tuned on SMP2020);
* **emotion**: every correction (the six classes);
* **rumor**: risk-type corrections: ``rumor`` gives a ``rumor`` row, ``ordinary`` and
  ``group_incident`` give ``non-rumor`` rows (the analyst judged it not a rumour).

The trainer puts these rows on the training side only (never in a held-out split) and
drops dataset rows with the same text (by ``dedup_key``), so a correction overrides a
dataset label instead of being dropped as a conflicting copy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from yuqing.analysis.datasets import Example, check_task
from yuqing.corrections.labels import split_target
from yuqing.store.base import Store
from yuqing.store.url import open_store

#: The correction kind each training task reads.
TASK_KIND = {"sentiment": "sentiment", "emotion": "emotion", "rumor": "risk"}
SOURCE = "corrections"
_PAGE = 1000


@dataclass(slots=True)
class CorrectionRows:
    """The rows of one task, how many corrections were read, and why some gave no row."""

    task: str
    examples: list[Example] = field(default_factory=list)
    corrections: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return (
            f"{self.task}: {len(self.examples)} corrected post(s) from {self.corrections} "
            f"correction(s)" + (f"; left out: {why}" if why else "")
        )


def _label(task: str, value: str) -> str | None:
    if task == "rumor":
        return "rumor" if value == "rumor" else "non-rumor"
    if task == "sentiment" and value == "neutral":
        return None
    return value


def correction_rows(store: Store, task: str) -> CorrectionRows:
    """The training rows of ``task`` from the store's corrections log."""
    check_task(task)
    out = CorrectionRows(task)
    latest: dict[str, str] = {}
    after = 0
    while page := store.corrections(
        kind=TASK_KIND[task], after=after, limit=_PAGE, newest_first=False
    ):
        for c in page:
            out.corrections += 1
            latest[c.target] = str(c.new)
        after = page[-1].id
    for target, value in latest.items():
        label = _label(task, value)
        if label is None:
            out.skipped["neutral (the sentiment model is binary)"] += 1
            continue
        source, doc_id = split_target(target)
        doc = store.get_document(source, doc_id)
        if doc is None or not doc.text.strip():
            out.skipped["post no longer stored"] += 1
            continue
        out.examples.append(
            Example(
                text=doc.text,
                label=label,
                source=SOURCE,
                group=target,
                followers=doc.author_followers,
                verified=doc.author_verified,
            )
        )
    return out


def load_correction_rows(url: str, task: str) -> CorrectionRows:
    """:func:`correction_rows` of the store at ``url`` (opened, read, closed)."""
    store = open_store(url)
    try:
        return correction_rows(store, task)
    finally:
        store.close()
