"""Case levels I-IV and the suggested level of an event from its heat and risk.

DESIGN.md fixes the enum: ``I II III IV`` (特别重大 重大 较大 一般). The suggestion is a
documented table (docs/response.md), not a model:

1. the heat index (0..100, :func:`yuqing.events.heat.heat`) gives a base level:
   >= 85 I, >= 70 II, >= 50 III, else IV;
2. a group-incident risk >= 0.6 raises the level by one step (a call to gather is
   urgent even while it is small);
3. a rumour risk >= 0.6 raises it by one step more;

never above I. The reason is a Chinese sentence naming every figure and threshold used,
so the officer sees why and can change it (the change is logged with its own reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from yuqing.errors import UsageError
from yuqing.models import Document

__all__ = [
    "LEVELS",
    "LEVEL_LABELS",
    "Level",
    "LevelSuggestion",
    "LevelTable",
    "aggregate_risk",
    "level_label",
    "parse_level",
    "suggest_level",
]

Level = Literal["I", "II", "III", "IV"]
LEVELS: tuple[Level, ...] = ("I", "II", "III", "IV")  # most severe first
LEVEL_LABELS: dict[Level, str] = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}


def parse_level(value: object) -> Level:
    """``value`` as a :data:`Level`; Arabic ``1``-``4`` and Chinese labels are accepted too."""
    text = str(value).strip().upper()
    arabic = {"1": "I", "2": "II", "3": "III", "4": "IV"}
    by_label = {label: level for level, label in LEVEL_LABELS.items()}
    text = arabic.get(text, by_label.get(str(value).strip(), text))
    if text not in LEVELS:
        raise UsageError(
            f"unknown case level {value!r}: use one of I, II, III, IV (特别重大, 重大, 较大, 一般)"
        )
    return text


def level_label(level: Level) -> str:
    """``"II（重大）"``: the level with its Chinese name, for reasons and pages."""
    return f"{level}（{LEVEL_LABELS[level]}）"


@dataclass(frozen=True, slots=True)
class LevelTable:
    """The thresholds of the suggestion table (defaults documented in docs/response.md).

    ``heat_thresholds`` are the lowest heat of levels I, II and III, in that order.
    """

    heat_thresholds: tuple[float, float, float] = (85.0, 70.0, 50.0)
    group_incident_threshold: float = 0.6
    rumor_threshold: float = 0.6

    def __post_init__(self) -> None:
        a, b, c = self.heat_thresholds
        if not 100 >= a > b > c >= 0:
            raise UsageError(
                f"LevelTable.heat_thresholds {self.heat_thresholds}: need 100 >= I > II > III >= 0"
            )
        for name in ("group_incident_threshold", "rumor_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise UsageError(f"LevelTable.{name} must lie in (0, 1], got {value}")


@dataclass(frozen=True, slots=True)
class LevelSuggestion:
    """A suggested level, the figures it came from and the reason in Chinese."""

    level: Level
    reason: str
    heat: float
    rumor: float
    group_incident: float


def _score(risk: Mapping[str, Any] | None, key: str) -> float:
    value = (risk or {}).get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 0.0
    return min(1.0, max(0.0, float(value)))


def suggest_level(
    heat_score: float, risk: Mapping[str, Any] | None = None, table: LevelTable | None = None
) -> LevelSuggestion:
    """The suggested level of an event with heat ``heat_score`` (0..100) and ``risk``
    (a mapping with ``rumor`` and ``group_incident`` scores 0..1, as in the analyze
    contract, or from :func:`aggregate_risk`; missing scores count as 0)."""
    tab = table or LevelTable()
    heat_value = min(100.0, max(0.0, float(heat_score)))
    rumor = _score(risk, "rumor")
    group = _score(risk, "group_incident")
    a, b, c = tab.heat_thresholds
    if heat_value >= a:
        index, rule = 0, f"≥ {a:g}"
    elif heat_value >= b:
        index, rule = 1, f"≥ {b:g}"
    elif heat_value >= c:
        index, rule = 2, f"≥ {c:g}"
    else:
        index, rule = 3, f"< {c:g}"
    parts = [f"热度指数 {heat_value:.1f} {rule}，基础级别 {level_label(LEVELS[index])}"]
    for score, threshold, name in (
        (group, tab.group_incident_threshold, "群体性事件风险"),
        (rumor, tab.rumor_threshold, "谣言风险"),
    ):
        if score >= threshold:
            if index > 0:
                index -= 1
                parts.append(
                    f"{name} {score:.2f} ≥ {threshold:.2f}，上调一级至 {level_label(LEVELS[index])}"
                )
            else:
                parts.append(f"{name} {score:.2f} ≥ {threshold:.2f}，已是最高级别")
        else:
            parts.append(f"{name} {score:.2f} < {threshold:.2f}，不调整")
    level = LEVELS[index]
    reason = "；".join(parts) + f"。建议级别：{level_label(level)}。"
    return LevelSuggestion(level, reason, round(heat_value, 2), rumor, group)


def aggregate_risk(docs: Iterable[Document], *, top: int = 3) -> dict[str, float]:
    """An event's risk from its posts' ``analysis["risk"]``: for ``rumor`` and
    ``group_incident`` each, the mean of the ``top`` highest post scores.

    The mean of the top few, not the maximum, so that one odd post does not raise a
    whole event, and not the overall mean, so that a risky core inside a large,
    ordinary discussion still counts.
    """
    if top < 1:
        raise UsageError(f"aggregate_risk: top must be >= 1, got {top}")
    scores: dict[str, list[float]] = {"rumor": [], "group_incident": []}
    for doc in docs:
        risk = doc.analysis.get("risk")
        if not isinstance(risk, Mapping):
            continue
        for key, values in scores.items():
            values.append(_score(risk, key))
    out: dict[str, float] = {}
    for key, values in scores.items():
        best = sorted(values, reverse=True)[:top]
        out[key] = round(sum(best) / len(best), 3) if best else 0.0
    return out
