"""Relabelling one post: its sentiment, emotion or risk type, as an analyst corrects it.

The correction is written into the stored document's ``analysis`` (so trends, label counts,
event roll-ups, search results and briefings, which all read ``analysis``, show the
corrected label at once) and logged, in one store transaction
(:meth:`~yuqing.store.base.Store.add_correction`). The model's own value is kept inside the
analysis under ``corrected``::

    analysis["sentiment"] = "negative"
    analysis["corrected"] = {"sentiment": {"model": "neutral", "value": "negative",
                                           "by": "li", "at": "2026-11-20T08:00:00+00:00",
                                           "note": "..."}}

A second correction of the same field keeps the first ``model`` value (the model said it
once). Scores (``sentiment_score``, ``emotion_scores``, ``risk.rumor``) stay the model's:
they are what the model computed; the label is what people read and count.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from yuqing.corrections.errors import CorrectionError, CorrectionNotFoundError
from yuqing.models import EMOTION_LABELS, RISK_LABELS, SENTIMENT_LABELS
from yuqing.store.base import Correction, Store

LabelField = Literal["sentiment", "emotion", "risk"]
LABEL_FIELDS: tuple[str, ...] = get_args(LabelField)
#: The values an analyst may give each field.
LABEL_VALUES: dict[str, tuple[str, ...]] = {
    "sentiment": tuple(SENTIMENT_LABELS),
    "emotion": tuple(EMOTION_LABELS),
    "risk": tuple(RISK_LABELS),
}
CORRECTED = "corrected"  # the key of the model's values inside ``analysis``


def post_target(source: str, doc_id: str) -> str:
    """The ``target`` of a post's corrections in the log: ``source/id``."""
    return f"{source}/{doc_id}"


def split_target(target: str) -> tuple[str, str]:
    """``source/id`` back to (source, id); the id may itself contain slashes."""
    source, sep, doc_id = target.partition("/")
    if not sep or not source or not doc_id:
        raise CorrectionError(f"correction target {target!r} is not 'source/id'")
    return source, doc_id


def current_label(analysis: dict[str, Any], field: str) -> str | None:
    """The label of ``field`` in an analysis (risk: ``risk.type``)."""
    if field == "risk":
        risk = analysis.get("risk")
        value = risk.get("type") if isinstance(risk, dict) else None
    else:
        value = analysis.get(field)
    return None if value is None else str(value)


def model_label(analysis: dict[str, Any], field: str) -> str | None:
    """What the model said for ``field``, whether or not a person corrected it since."""
    done = analysis.get(CORRECTED)
    if isinstance(done, dict) and isinstance(done.get(field), dict):
        value = done[field].get("model")
        return None if value is None else str(value)
    return current_label(analysis, field)


def check_label(field: str, value: str) -> None:
    if field not in LABEL_FIELDS:
        raise CorrectionError(f"cannot correct {field!r}; choose one of {', '.join(LABEL_FIELDS)}")
    if value not in LABEL_VALUES[field]:
        raise CorrectionError(
            f"{field} {value!r} is not a label; choose one of {', '.join(LABEL_VALUES[field])}"
        )


def corrected_analysis(
    analysis: dict[str, Any], field: str, value: str, by: str, at: datetime, note: str = ""
) -> dict[str, Any]:
    """A copy of ``analysis`` with ``field`` set to ``value`` and the model's value kept
    under ``corrected`` (see the module docstring)."""
    out = copy.deepcopy(analysis)
    model = model_label(analysis, field)
    if field == "risk":
        risk = out.get("risk")
        risk = dict(risk) if isinstance(risk, dict) else {}
        risk["type"] = value
        out["risk"] = risk
    else:
        out[field] = value
    done = out.get(CORRECTED)
    done = dict(done) if isinstance(done, dict) else {}
    done[field] = {"model": model, "value": value, "by": by, "at": at.isoformat(), "note": note}
    out[CORRECTED] = done
    return out


@dataclass(slots=True, frozen=True)
class Relabel:
    """What a relabelling did: the logged correction and whether the label changed."""

    correction: Correction
    changed: bool


def relabel_post(
    store: Store,
    source: str,
    doc_id: str,
    field: str,
    value: str,
    *,
    by: str,
    at: datetime,
    note: str = "",
) -> Relabel:
    """Set ``field`` (sentiment, emotion or risk) of the stored post to ``value``, keep the
    model's value, and log who and when. A value equal to the current one is still logged
    (a person confirmed the label, which training reads as well)."""
    check_label(field, value)
    doc = store.get_document(source, doc_id)
    if doc is None:
        raise CorrectionNotFoundError(f"no post {source}/{doc_id} in the store")
    old = current_label(doc.analysis, field)
    analysis = corrected_analysis(doc.analysis, field, value, by, at, note)
    correction = Correction(
        kind=field,  # type: ignore[arg-type]  # checked: a LabelField is a CorrectionKind
        target=post_target(source, doc_id),
        old=old,
        new=value,
        by=by,
        at=at,
        note=note,
    )
    logged = store.add_correction(correction, [(source, doc_id, analysis)])
    return Relabel(logged, old != value)
