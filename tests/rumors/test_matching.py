"""Matching posts against decided claims and the effect on their risk: a repeat of a
debunked claim (in Traditional script too) is raised with the claim and its evidence link,
unrelated posts are untouched, a verified claim raises nothing, refutations are not
raised, verdict changes undo the raise; the risk object stays the contract's."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest

from tests.rumors.conftest import OFFICIAL, PIYAO, T0, debunked, verified
from yuqing.analysis.risk import RISK_TYPES, RUMOR_THRESHOLD
from yuqing.clock import ManualClock
from yuqing.models import Document
from yuqing.rumors import ClaimChecker, ClaimIndex, apply_match, new_claim
from yuqing.rumors.claim import ClaimError
from yuqing.rumors.matcher import CLAIM_REASON_MARK

Analyse = Callable[[Sequence[str]], list[Document]]

UNRELATED = [
    "今天天气很好，适合去公园散步",
    "自来水公司通知：明天上午九点到十二点停水检修",
    "鄞州区今日举行马拉松比赛，数千人参加",
]


def check_contract(risk: Any) -> None:
    assert set(risk) == {"rumor", "group_incident", "type", "reasons"}
    assert 0.0 <= risk["rumor"] <= 1.0 and 0.0 <= risk["group_incident"] <= 1.0
    assert risk["type"] in RISK_TYPES
    assert risk["reasons"] and all(isinstance(r, str) for r in risk["reasons"])
    assert len(risk["reasons"]) <= 8


def checker(*claims: Any, clock: ManualClock | None = None) -> ClaimChecker:
    return ClaimChecker(lambda: list(claims), clock=clock or ManualClock(T0))


def test_traditional_repeat_of_a_debunked_claim_is_raised_with_the_evidence(
    analyse: Analyse,
) -> None:
    docs = analyse(["網傳長期喝自來水會致癌，大家快轉發！", *UNRELATED])
    before = copy.deepcopy([d.analysis for d in docs])
    assert before[0]["risk"]["rumor"] < 0.9
    checker(debunked()).process(docs)
    risk = docs[0].analysis["risk"]
    check_contract(risk)
    assert risk["rumor"] == 0.9
    assert risk["type"] == "rumor"  # 0.9 >= the rumour threshold, no group risk above it
    assert risk["reasons"][0].startswith(f"谣言嫌疑 0.900 ≥ 阈值 {RUMOR_THRESHOLD:.2f}")
    assert risk["reasons"][1].startswith(CLAIM_REASON_MARK + "重复已辟谣说法")
    assert "喝自来水会致癌" in risk["reasons"][1] and PIYAO in risk["reasons"][1]
    claim = docs[0].analysis["claim"]
    assert (claim["id"], claim["verdict"], claim["evidence"]) == ("c-water", "false", PIYAO)
    assert claim["base_rumor"] == before[0]["risk"]["rumor"] and claim["stance"] == "repeats"
    for doc, old in zip(docs[1:], before[1:], strict=True):
        assert doc.analysis == old  # unrelated posts: untouched


def test_a_verified_claim_raises_nothing_and_says_so(analyse: Analyse) -> None:
    docs = analyse(["鄞州实验中学食堂被曝使用过期食材，家长很愤怒"])
    before = copy.deepcopy(docs[0].analysis["risk"])
    checker(verified(), debunked()).process(docs)
    risk = docs[0].analysis["risk"]
    check_contract(risk)
    assert risk["rumor"] == before["rumor"] and risk["type"] == before["type"]
    assert any("经核实属实" in r and OFFICIAL in r for r in risk["reasons"])
    assert docs[0].analysis["claim"]["verdict"] == "true"


def test_a_post_refuting_the_rumour_is_linked_but_not_raised(analyse: Analyse) -> None:
    docs = analyse(["喝自来水会致癌？这是谣言，别信！", "喝自来水会致癌，这绝对不是谣言"])
    before = [d.analysis["risk"]["rumor"] for d in docs]
    checker(debunked()).process(docs)
    refuting, insisting = docs
    assert refuting.analysis["risk"]["rumor"] == before[0]
    assert refuting.analysis["claim"]["stance"] == "refutes"
    assert any("指其不实" in r for r in refuting.analysis["risk"]["reasons"])
    assert insisting.analysis["claim"]["stance"] == "repeats"  # "不是谣言" is no refutation
    assert insisting.analysis["risk"]["rumor"] == 0.9


def test_key_phrases_catch_a_paraphrase(analyse: Analyse) -> None:
    claim = new_claim(
        "宁波将于明日封城",
        who="核查员",
        clock=ManualClock(T0),
        verdict="false",
        evidence_url=OFFICIAL,
        key_phrases=["宁波", "封城"],
    )
    docs = analyse(["听说寧波明天就要全面封城了，赶紧囤货", "宁波今天天气晴"])
    checker(claim).process(docs)
    assert docs[0].analysis["claim"]["id"] == claim.id
    assert docs[0].analysis["risk"]["rumor"] == 0.9
    assert "claim" not in docs[1].analysis


def test_unverified_claims_and_posts_without_analysis_change_nothing(analyse: Analyse) -> None:
    open_claim = new_claim("喝自来水会致癌", who="核查员", clock=ManualClock(T0))
    docs = analyse(["喝自来水会致癌"])
    before = copy.deepcopy(docs[0].analysis)
    checker(open_claim).process(docs)
    assert docs[0].analysis == before
    bare = Document(id="x", source="s", text="喝自来水会致癌", norm_text="喝自来水会致癌")
    checker(debunked()).process([bare])
    assert bare.analysis == {}


def test_claims_are_reloaded_on_the_clock(analyse: Analyse) -> None:
    clock = ManualClock(T0)
    known: list[Any] = []
    loads: list[int] = []

    def load() -> list[Any]:
        loads.append(1)
        return list(known)

    stage = ClaimChecker(load, clock=clock, refresh=timedelta(minutes=1))
    stage.process(analyse(["喝自来水会致癌"]))
    known.append(debunked())  # marked in the console meanwhile
    clock.advance(timedelta(seconds=30))
    docs = analyse(["喝自来水会致癌"])
    stage.process(docs)
    assert "claim" not in docs[0].analysis and len(loads) == 1
    clock.advance(timedelta(seconds=30))
    stage.process(docs)
    assert docs[0].analysis["claim"]["id"] == "c-water" and len(loads) == 2


def test_a_failing_loader_keeps_the_claims_loaded_before(analyse: Analyse) -> None:
    from yuqing.errors import StoreError

    clock = ManualClock(T0)
    answers: list[Any] = [[debunked()], StoreError("down")]

    def load() -> list[Any]:
        answer = answers.pop(0) if answers else StoreError("still down")
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    stage = ClaimChecker(load, clock=clock)
    stage.process([])
    clock.advance(timedelta(minutes=5))
    docs = analyse(["喝自来水会致癌"])
    stage.process(docs)
    assert docs[0].analysis["claim"]["id"] == "c-water"


def test_apply_is_idempotent_and_a_new_verdict_undoes_the_raise(analyse: Analyse) -> None:
    doc = analyse(["网传喝自来水会致癌"])[0]
    model = copy.deepcopy(doc.analysis)
    claim = debunked()
    match = ClaimIndex([claim]).match(doc.norm_text)
    assert match is not None
    assert apply_match(doc.analysis, match) is True
    raised = copy.deepcopy(doc.analysis)
    assert apply_match(doc.analysis, match) is False and doc.analysis == raised
    claim.mark("true", evidence_url=OFFICIAL, who="复核员", clock=ManualClock(T0))
    assert apply_match(doc.analysis, ClaimIndex([claim]).match(doc.norm_text)) is True
    assert doc.analysis["risk"]["rumor"] == model["risk"]["rumor"]
    assert not any("重复已辟谣" in r for r in doc.analysis["risk"]["reasons"])
    claim.mark("unverified", evidence_url=None, who="复核员", clock=ManualClock(T0))
    assert ClaimIndex([claim]).match(doc.norm_text) is None
    assert apply_match(doc.analysis, None) is True
    assert doc.analysis == model  # back to what the models said


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"verdict": "false"}, "needs the evidence link"),
        ({"verdict": "false", "evidence_url": "piyao.org.cn"}, "not an http"),
        ({"verdict": "maybe"}, "use one of"),
        ({"key_phrases": ["x" * 41]}, "longer than"),
    ],
)
def test_bad_claims_are_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ClaimError, match=message):
        new_claim("喝自来水会致癌", who="核查员", clock=ManualClock(T0), **kw)
    with pytest.raises(ClaimError, match="statement"):
        new_claim("  ", who="核查员", clock=ManualClock(T0))
