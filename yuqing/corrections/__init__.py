"""Corrections that teach: analysts fix the machine's labels, and the models learn from it.

* :mod:`~yuqing.corrections.labels`: relabel a post's sentiment, emotion or risk type;
* :mod:`~yuqing.corrections.events`: merge events, split posts out into a new event;
* :mod:`~yuqing.corrections.alerts`: mark an alert a false alarm (误报);
* :mod:`~yuqing.corrections.training_rows`: the corrections as labelled training rows;
* :mod:`~yuqing.corrections.teach` and :mod:`~yuqing.corrections.model_report`:
  ``yuqing train TASK --corrections-from URL --report FILE``.

Every correction is logged in the store (who, when, old and new value, a note; see
:meth:`yuqing.store.base.Store.add_correction`) in the same transaction that applies it to
the stored analysis, so every view that reads the analysis (trends, label counts, events,
search, briefings) shows it at once. docs/corrections.md describes it all.
"""

from __future__ import annotations

from yuqing.corrections.alerts import FalseAlarm, mark_false_alarm
from yuqing.corrections.errors import CorrectionError, CorrectionNotFoundError
from yuqing.corrections.events import EventChange, merge_events, split_event
from yuqing.corrections.labels import LABEL_FIELDS, LABEL_VALUES, Relabel, relabel_post

__all__ = [
    "LABEL_FIELDS",
    "LABEL_VALUES",
    "CorrectionError",
    "CorrectionNotFoundError",
    "EventChange",
    "FalseAlarm",
    "Relabel",
    "mark_false_alarm",
    "merge_events",
    "relabel_post",
    "split_event",
]
