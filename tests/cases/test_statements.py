"""Drafting a 情况通报 and checking statements against the four principles."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from yuqing.cases import (
    Case,
    StatementFacts,
    check_statement,
    draft_statement,
    new_case,
    principles,
)
from yuqing.clock import ManualClock
from yuqing.errors import UsageError

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
DOCS = Path(__file__).resolve().parents[2] / "docs" / "response.md"

FACTS = StatementFacts(
    event="某某中学食堂学生身体不适事件",
    issuer="某某区教育局",
    occurred_at=T0 + timedelta(minutes=30),
    place="某某区某某中学",
    summary="部分学生午餐后出现腹痛、呕吐等症状",
    known=["截至3月5日18时，共有23名学生到医院就诊，其中3人留院观察，无危重病例"],
    measures=[
        "已成立由区教育局、区市场监管局、区卫健委组成的联合调查组",
        "已封存食堂留样食品并送检",
        "已约谈食堂承包企业负责人",
    ],
    next_steps=["全面排查全区学校食堂"],
    next_update_at=T0 + timedelta(days=1, hours=6),
    hotline="0574-12345678",
    issued_at=T0 + timedelta(hours=7),
    apology="我们理解家长的心情，对给学生和家长带来的担忧深表歉意。",
)

BAD = (
    "近日，网传我区某学校发生食物中毒一事，我局高度重视，相关部门正在调查。"
    "经初步了解，该事件纯属个人行为，系临时工操作不当，请不明真相的群众不要信谣传谣。\n"
    "某某区教育局\n2026年3月5日\n"
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def case(clock: ManualClock) -> Case:
    return new_case(
        "食堂",
        level="III",
        level_reason="x",
        who="张三",
        clock=clock,
        case_id="c1",
        departments=["区市场监管局"],
    )


def test_draft_has_every_part() -> None:
    text = draft_statement(FACTS)
    lines = text.splitlines()
    assert lines[0] == "关于某某中学食堂学生身体不适事件的情况通报"
    assert "3月5日12时30分，某某区某某中学部分学生午餐后出现腹痛、呕吐等症状。" in text
    assert "感谢社会各界和广大网民的关注" in text
    for header in ("一、基本情况", "二、已采取的措施", "三、下一步工作"):
        assert header in lines
    assert "（一）已成立由区教育局" in text and "（三）已约谈食堂承包企业负责人。" in text
    assert "将于3月6日18时前通报调查处置进展" in text
    assert "0574-12345678" in text
    assert lines[-2:] == ["某某区教育局", "2026年3月5日"]
    assert "待补充" not in text


def test_draft_marks_missing_parts() -> None:
    bare = StatementFacts(
        event="某事件", issuer="某局", occurred_at=T0, place="某市", summary="发生一起事件"
    )
    text = draft_statement(bare)
    assert text.count("【待补充：") == 4
    assert "【待补充：下次通报时间】" in text
    with pytest.raises(UsageError, match="place"):
        draft_statement(
            StatementFacts(event="e", issuer="i", occurred_at=T0, place=" ", summary="s")
        )
    with pytest.raises(UsageError, match="timezone-aware"):
        draft_statement(
            StatementFacts(
                event="e",
                issuer="i",
                occurred_at=datetime(2026, 3, 5),  # noqa: DTZ001
                place="p",
                summary="s",
            )
        )


def test_sincere_specific_draft_passes_all_four(case: Case, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=3))
    check = check_statement(draft_statement(FACTS), case=case, now=clock.now())
    assert check.passed, check.summary()
    assert [r.label for r in check.results] == ["及时", "有效", "解决问题", "态度诚恳"]
    assert "还有 1 小时" in check["及时"].explanation
    assert "23名" in check["有效"].evidence
    assert len(check["解决问题"].evidence) >= 3
    assert all(r.explanation for r in check.results)


def test_blame_shifting_empty_statement_fails(case: Case, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=5))
    check = check_statement(BAD, case=case, now=clock.now())
    assert not check.passed
    sincere, solving = check["sincere"], check["solving"]
    assert not sincere.passed and not solving.passed
    for phrase in ("纯属个人行为", "临时工", "不明真相", "高度重视", "相关部门"):
        assert phrase in sincere.explanation
    assert "没有回应公众关切" in sincere.explanation
    assert "只有 0 项具体措施" in solving.explanation and "高度重视" in solving.explanation
    effective = check["有效"]
    assert not effective.passed and "下次通报时间" in effective.explanation
    assert "时间" in effective.explanation  # the signature date is not the event's time
    timely = check["timely"]
    assert not timely.passed and "已超过首次通报时限 1 小时" in timely.explanation


def test_officialese_beside_measures_is_fine(case: Case, clock: ManualClock) -> None:
    text = (
        "3月5日12时，某某区某某中学发生学生身体不适事件，共12名学生就医。我局高度重视，"
        "已成立调查组，已封存留样食品，将于3月6日18时前公布结果。感谢社会各界关注。"
    )
    check = check_statement(text, case=case, now=clock.now())
    assert check.passed, check.summary()


def test_vague_agency_passes_when_departments_are_named(case: Case, clock: ManualClock) -> None:
    base = "3月5日，某某区发生12名学生就医事件，已封存样品并送检，将于3月6日公布。感谢关注。"
    vague = check_statement(base + "相关部门正在跟进。", case=case, now=clock.now())
    assert not vague["sincere"].passed and "相关部门" in vague["sincere"].explanation
    named = base + "相关部门正在跟进，区市场监管局牵头调查。"
    assert check_statement(named, case=case, now=clock.now())["sincere"].passed


def test_traditional_text_is_read_as_simplified(case: Case, clock: ManualClock) -> None:
    check = check_statement("純屬個人行為，請不明真相的群眾不要傳謠。", case=case, now=clock.now())
    assert "纯属个人行为" in check["sincere"].explanation


def test_follow_up_after_an_on_time_first_statement(case: Case, clock: ManualClock) -> None:
    first = case.add_statement(draft_statement(FACTS), who="张三", clock=clock)
    clock.advance(timedelta(hours=2))
    case.publish_statement(first.id, who="张三", clock=clock)
    clock.advance(timedelta(hours=10))
    timely = check_statement("续报", case=case, now=clock.now())["timely"]
    assert timely.passed and "续报" in timely.explanation


def test_empty_text_and_naive_now(case: Case) -> None:
    with pytest.raises(UsageError, match="empty"):
        check_statement("  ", case=case, now=T0)
    with pytest.raises(UsageError, match="timezone-aware"):
        check_statement("x", case=case, now=datetime(2026, 3, 5))  # noqa: DTZ001


def test_phrase_lists_are_documented() -> None:
    """docs/response.md lists every phrase of every list, so users know the rules."""
    page = DOCS.read_text(encoding="utf-8")
    for name in (
        "BLAME_SHIFTING",
        "EMPTY_OFFICIALESE",
        "VAGUE_AGENCIES",
        "ACKNOWLEDGEMENTS",
        "CONCRETE_MEASURES",
        "NEXT_UPDATE",
    ):
        section = page.split(f"`{name}`", 1)
        assert len(section) == 2, f"docs/response.md does not name {name}"
        listed = section[1].split("\n\n", 2)[1]
        phrases: tuple[str, ...] = getattr(principles, name)
        assert set(re.findall(r"`([^`]+)`", listed)) == set(phrases), name
