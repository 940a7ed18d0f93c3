"""The contract's risk object: fields, rounding, type decisions, merged reasons."""

from __future__ import annotations

import pytest

from yuqing.analysis.risk import RISK_TYPES, RiskAssessor


@pytest.fixture(scope="module")
def assessor() -> RiskAssessor:
    return RiskAssessor()


GATHERING = "明天上午9点在市政府门口集合，上百名工人一起讨薪，转发扩散"
ORDINARY = "这家店的奶茶太难喝了，再也不来了"


def test_exact_contract_shape(assessor: RiskAssessor) -> None:
    risk = assessor.assess(ORDINARY, rumor=0.123456, rumor_reasons=[], anger=0.1, fear=0.0)
    assert set(risk) == {"rumor", "group_incident", "type", "reasons"}
    assert risk["rumor"] == 0.123 and risk["type"] == "ordinary"
    assert risk["group_incident"] == round(risk["group_incident"], 3)
    assert risk["type"] in RISK_TYPES
    assert all(isinstance(r, str) for r in risk["reasons"])
    assert risk["reasons"][0].startswith("一般舆论")


def test_group_incident_type(assessor: RiskAssessor) -> None:
    risk = assessor.assess(GATHERING, rumor=0.3, rumor_reasons=["网传"], anger=0.6, fear=0.1)
    assert risk["type"] == "group_incident" and risk["group_incident"] >= 0.5
    assert risk["reasons"][0].startswith("群体性事件风险")
    assert any(r.startswith("号召行动") for r in risk["reasons"])
    merged = RiskAssessor(max_reasons=20).assess(
        GATHERING, rumor=0.3, rumor_reasons=["网传"], anger=0.6, fear=0.1
    )
    assert merged["reasons"][-1] == "网传"  # the rumour's reasons are merged, after


def test_rumor_type(assessor: RiskAssessor) -> None:
    risk = assessor.assess(
        "网传某地自来水有毒，千万别喝",
        rumor=0.87,
        rumor_reasons=["网传", "千万别"],
        anger=0.0,
        fear=0.8,
    )
    assert risk["type"] == "rumor" and risk["rumor"] == 0.87
    assert risk["reasons"][:3] == ["谣言嫌疑 0.870 ≥ 阈值 0.60", "网传", "千万别"]


def test_group_incident_wins_a_tie_only_when_at_least_the_rumor(assessor: RiskAssessor) -> None:
    group = assessor.assess(GATHERING, rumor=0.0, rumor_reasons=[], anger=0.6, fear=0.0)
    g = group["group_incident"]
    above = assessor.assess(
        GATHERING, rumor=min(1.0, g + 0.01), rumor_reasons=[], anger=0.6, fear=0.0
    )
    assert above["type"] == "rumor"
    equal = assessor.assess(GATHERING, rumor=g, rumor_reasons=[], anger=0.6, fear=0.0)
    assert equal["type"] == "group_incident"


def test_group_incident_when_rumor_higher_but_under_its_threshold() -> None:
    strict = RiskAssessor(rumor_threshold=0.99, group_threshold=0.5)
    risk = strict.assess(GATHERING, rumor=0.98, rumor_reasons=[], anger=0.6, fear=0.0)
    assert risk["type"] == "group_incident"


def test_bad_numbers_never_raise(assessor: RiskAssessor) -> None:
    risk = assessor.assess("", rumor=float("nan"), rumor_reasons=["", " "], anger=-1.0, fear=9.0)
    assert risk["rumor"] == 0.0 and risk["type"] == "ordinary"
    assert "" not in risk["reasons"]
    assert assessor.assess("x", rumor=7.0, rumor_reasons=[], anger=0, fear=0)["rumor"] == 1.0


def test_reasons_deduplicated_and_capped() -> None:
    capped = RiskAssessor(max_reasons=3)
    risk = capped.assess(GATHERING, rumor=0.1, rumor_reasons=["a", "a", "b"], anger=0.9, fear=0.0)
    assert len(risk["reasons"]) == 3 and len(set(risk["reasons"])) == 3


def test_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match="rumor_threshold"):
        RiskAssessor(rumor_threshold=1.5)
