"""The risk object of the ``yuqing analyze`` contract: rumour, group incident, type.

:class:`RiskAssessor` combines the rumour probability (from the trained rumour model,
passed in with its reasons) with the group-incident score of
:class:`~yuqing.analysis.group_incident.GroupIncidentScorer` into exactly::

    {"rumor": 0.12, "group_incident": 0.05, "type": "ordinary", "reasons": [...]}

Type decision (thresholds are constructor arguments, defaults documented in
docs/risk-and-regions.md):

* ``group_incident`` when the group score >= ``group_threshold`` and >= the rumour
  probability: a call to gather is the more urgent risk even when it may be false;
* else ``rumor`` when the rumour probability >= ``rumor_threshold``;
* else ``group_incident`` when only the group score passes its threshold;
* else ``ordinary``.

Reasons: first the decision, then the reasons of the deciding judgement, then the
other's, without duplicates, at most ``max_reasons``. Scores are rounded to 3 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from yuqing.analysis import lexicon
from yuqing.analysis.group_incident import GroupIncidentScorer

RUMOR_THRESHOLD = 0.6  # the model is trained on ~50% rumours; real streams hold far fewer
GROUP_THRESHOLD = lexicon.THRESHOLD
RISK_TYPES = ("ordinary", "group_incident", "rumor")


def _probability(value: float) -> float:
    """Clamp to 0..1; NaN, None and other junk become 0 (bad input never raises)."""
    if not isinstance(value, int | float) or math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def decide(
    rumor: float,
    group: float,
    *,
    rumor_threshold: float = RUMOR_THRESHOLD,
    group_threshold: float = GROUP_THRESHOLD,
) -> tuple[str, str]:
    """The risk type of (rounded) rumour and group scores by the rule of the module
    docstring, with its Chinese head reason; shared with stages that change a score
    afterwards (yuqing.rumors)."""
    if group >= group_threshold and (group >= rumor or rumor < rumor_threshold):
        return "group_incident", f"群体性事件风险 {group:.3f} ≥ 阈值 {group_threshold:.2f}"
    if rumor >= rumor_threshold:
        return "rumor", f"谣言嫌疑 {rumor:.3f} ≥ 阈值 {rumor_threshold:.2f}"
    return "ordinary", (
        f"一般舆论: 群体性事件风险 {group:.3f} < {group_threshold:.2f}, "
        f"谣言嫌疑 {rumor:.3f} < {rumor_threshold:.2f}"
    )


HEAD_PREFIXES = ("群体性事件风险 ", "谣言嫌疑 ", "一般舆论: ")  # what decide's heads start with


class RiskAssessor:
    """Build the contract's risk object for one text."""

    def __init__(
        self,
        scorer: GroupIncidentScorer | None = None,
        *,
        rumor_threshold: float = RUMOR_THRESHOLD,
        group_threshold: float = GROUP_THRESHOLD,
        max_reasons: int = 8,
    ) -> None:
        for name, value in (
            ("rumor_threshold", rumor_threshold),
            ("group_threshold", group_threshold),
        ):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
        self.scorer = scorer or GroupIncidentScorer()
        self.rumor_threshold = rumor_threshold
        self.group_threshold = group_threshold
        self.max_reasons = max_reasons

    def assess(
        self,
        text: str,
        *,
        rumor: float,
        rumor_reasons: Sequence[str],
        anger: float,
        fear: float,
        velocity: float | None = None,
    ) -> dict[str, Any]:
        """The risk object for ``text`` (see the module docstring)."""
        group = self.scorer.score(text, anger=anger, fear=fear, velocity=velocity)
        rumor_p = round(_probability(rumor), 3)
        group_p = round(group.score, 3)
        group_reasons = list(group.reasons)
        rumor_list = [str(r) for r in rumor_reasons if str(r).strip()]
        kind, head = decide(
            rumor_p,
            group_p,
            rumor_threshold=self.rumor_threshold,
            group_threshold=self.group_threshold,
        )
        ordered = rumor_list + group_reasons if kind == "rumor" else group_reasons + rumor_list
        reasons = list(dict.fromkeys([head, *ordered]))[: self.max_reasons]
        return {"rumor": rumor_p, "group_incident": group_p, "type": kind, "reasons": reasons}
