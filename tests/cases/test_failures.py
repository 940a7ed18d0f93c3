"""The common response failures: each fires on a bad example and not on a good one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.cases import Case, check_statement, new_case
from yuqing.cases.failures import (
    SHIPPED_FAILURE_RULES,
    FailureFlag,
    check_failures,
    failures_markdown,
    load_failure_rules,
)
from yuqing.clock import ManualClock
from yuqing.errors import ConfigError, UsageError

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategy.md"

GOOD = (
    "3月5日12时，某某区某某中学部分学生午餐后出现腹痛症状。截至18时，共有23名学生到医院"
    "就诊，其中3人留院观察。区市场监管局已封存食堂留样食品并送检，检测结果将于3月6日18时前"
    "公布；食材来源正在追溯，供货企业已停业整顿。对此我们深表歉意，将依法追究相关责任人的责任。"
)
BAD = (
    "近日，网传我区某学校发生食物中毒一事，我局高度重视，相关部门正在调查。"
    "经初步了解，该事件纯属个人行为，系临时工操作不当。\n某某区教育局\n2026年3月5日\n"
)
QUESTIONS = ("食材来源在哪里", "要求公开检测结果", "谁来负责")


def kinds(flags: Sequence[FailureFlag]) -> list[str]:
    return [f.kind for f in flags]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def case(clock: ManualClock) -> Case:
    return new_case("食堂", level="III", level_reason="x", who="张三", clock=clock, case_id="c1")


def test_good_statement_has_no_failure(case: Case, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=2))
    assert check_failures(GOOD, case=case, now=clock.now(), questions=QUESTIONS) == []


def test_no_response_past_the_deadline(case: Case, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=3))
    assert check_failures("", case=case, now=clock.now()) == []  # III: 4 h, still in time
    clock.advance(timedelta(hours=2))
    flags = check_failures("", case=case, now=clock.now())
    assert kinds(flags) == ["no_response"]
    assert flags[0].label == "不回应" and "1 小时" in flags[0].explanation
    assert "尚无任何通报" in flags[0].explanation


def test_declining_to_comment_is_no_response() -> None:
    flags = check_failures("对于网传情况，我单位暂不回应，无可奉告。")
    assert kinds(flags) == ["no_response"]
    assert set(flags[0].evidence) == {"暂不回应", "无可奉告"}


def test_slow_response_when_the_first_statement_was_late(case: Case, clock: ManualClock) -> None:
    statement = case.add_statement(GOOD, who="张三", clock=clock)
    clock.advance(timedelta(hours=6))
    case.publish_statement(statement.id, who="张三", clock=clock)
    flags = check_failures(GOOD, case=case, now=clock.now())
    assert kinds(flags) == ["slow_response"]
    assert flags[0].label == "回应慢" and "2 小时" in flags[0].explanation


def test_on_time_first_statement_is_not_slow(case: Case, clock: ManualClock) -> None:
    statement = case.add_statement(GOOD, who="张三", clock=clock)
    clock.advance(timedelta(hours=1))
    case.publish_statement(statement.id, who="张三", clock=clock)
    clock.advance(timedelta(days=2))
    assert check_failures(GOOD, case=case, now=clock.now()) == []


def test_case_without_now_is_a_usage_error(case: Case) -> None:
    with pytest.raises(UsageError, match="pass now"):
        check_failures(GOOD, case=case)


def test_blame_shifting_and_officialese() -> None:
    flags = check_failures(BAD)
    assert kinds(flags) == ["blame_shifting", "officialese"]
    blame, empty = flags
    assert blame.label == "推诿" and set(blame.evidence) == {"纯属个人行为", "临时工"}
    assert empty.label == "打官腔" and "高度重视" in empty.evidence
    # the signature date is not a fact of the event
    assert "没有任何事实" in empty.explanation


def test_buck_passing_to_another_department() -> None:
    flags = check_failures("该事项不属于我局职责范围，请向属地街道反映。")
    assert kinds(flags) == ["blame_shifting"]
    assert len(flags[0].evidence) == 2


def test_officialese_beside_facts_is_not_empty_talk() -> None:
    text = "我局高度重视，已成立调查组，12名学生已送医，将于3月6日公布结果。"
    assert "officialese" not in kinds(check_failures(text))


def test_evasion_of_the_top_questions() -> None:
    dodge = "3月5日，某某中学食堂发生学生身体不适事件，已成立调查组。感谢社会各界关注。"
    flags = check_failures(dodge, questions=QUESTIONS)
    assert kinds(flags) == ["evasion"]
    assert flags[0].label == "避重就轻"
    assert flags[0].evidence == QUESTIONS
    assert "最受关注" in flags[0].explanation
    assert check_failures(GOOD, questions=QUESTIONS) == []
    assert check_failures(dodge) == []  # no questions given: nothing to dodge


def test_contradicting_numbers() -> None:
    before = "3月5日12时，某某路发生交通事故，造成3人死亡、5人受伤，肇事司机已被依法控制。"
    after = "3月5日12时，某某路发生交通事故，造成两人死亡，5人受伤。"
    flags = check_failures(after, previous_statements=[before])
    assert kinds(flags) == ["contradiction"]
    assert flags[0].label == "前后矛盾"
    assert "死亡人数此前为 3，本稿为 2" in flags[0].explanation
    assert "受伤" not in flags[0].explanation  # the same figure is no contradiction
    assert {"造成3人死亡", "造成两人死亡"} <= set(flags[0].evidence)


def test_explained_update_is_not_a_contradiction() -> None:
    before = "事故造成3人死亡、5人受伤。"
    after = "截至3月6日8时，经进一步核实，事故造成3人死亡，受伤人数更正为6人。"
    assert check_failures(after, previous_statements=[before]) == []


def test_no_casualties_then_casualties() -> None:
    flags = check_failures("事故造成1人受伤。", previous_statements=["事故未造成人员伤亡。"])
    assert kinds(flags) == ["contradiction"]
    assert "受伤人数此前为 0，本稿为 1" in flags[0].explanation


def test_done_then_not_done_flips() -> None:
    before = "涉事餐馆已停业整顿，肇事司机已被依法控制。"
    after = "目前涉事餐馆已停业整顿，肇事司机尚未被控制。"
    flags = check_failures(after, previous_statements=[before])
    assert kinds(flags) == ["contradiction"]
    assert "肇事司机尚未被控制" in flags[0].explanation
    # not done, then done, is progress
    assert check_failures(before, previous_statements=[after]) == []


def test_previous_statements_default_to_the_cases_published_ones(
    case: Case, clock: ManualClock
) -> None:
    first = case.add_statement("事故造成3人死亡。感谢关注。", who="张三", clock=clock)
    case.publish_statement(first.id, who="张三", clock=clock)
    flags = check_failures("事故造成4人死亡。", case=case, now=clock.now())
    assert kinds(flags) == ["contradiction"]
    # the published text itself is not compared with itself
    assert check_failures("事故造成3人死亡。感谢关注。", case=case, now=clock.now()) == []


def test_traditional_text_is_normalised() -> None:
    flags = check_failures("純屬個人行為，與本單位無關。")
    assert kinds(flags) == ["blame_shifting"]
    assert "纯属个人行为" in flags[0].evidence


def test_check_statement_carries_the_failures(case: Case, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=5))
    check = check_statement(BAD, case=case, now=clock.now(), questions=QUESTIONS)
    assert kinds(list(check.failures)) == [
        "no_response",
        "blame_shifting",
        "officialese",
        "evasion",
    ]
    assert "⚠ 推诿：" in check.summary() and "⚠ 避重就轻：" in check.summary()
    assert len(check.results) == 4  # the four principles as before
    good = check_statement(GOOD, case=case, now=clock.now() - timedelta(hours=3))
    assert good.failures == () and "⚠" not in good.summary()
    assert good["sincere"].passed


def test_a_user_copy_replaces_the_shipped_lists(tmp_path: Path) -> None:
    mine = tmp_path / "failures.yaml"
    text = SHIPPED_FAILURE_RULES.read_text(encoding="utf-8")
    mine.write_text(text.replace("  - 临时工\n", "  - 领导很忙\n"), encoding="utf-8")
    rules = load_failure_rules(mine)
    assert kinds(check_failures("领导很忙，此事另议。", rules=rules)) == ["blame_shifting"]
    assert check_failures("系临时工所为。", rules=rules) == []
    assert kinds(check_failures("系临时工所为。")) == ["blame_shifting"]


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    mine = tmp_path / "failures.yaml"
    text = SHIPPED_FAILURE_RULES.read_text(encoding="utf-8")
    mine.write_text(text.replace("  - 无可奉告\n", "  - [无可奉告\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"failures\.yaml, line \d+, column \d+: invalid YAML"):
        load_failure_rules(mine)


def test_schema_errors_name_line_and_key(tmp_path: Path) -> None:
    mine = tmp_path / "failures.yaml"
    shipped = SHIPPED_FAILURE_RULES.read_text(encoding="utf-8")
    lines = shipped.splitlines()
    line = lines.index("  - 临时工") + 1
    mine.write_text(shipped.replace("  - 临时工\n", "  - 12\n"), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=rf"line {line}, key blame_shifting\[2\]: 12 is not a text"
    ):
        load_failure_rules(mine)
    mine.write_text(shipped + "colour: red\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line \d+, key colour: unknown key"):
        load_failure_rules(mine)
    mine.write_text(shipped.replace("  无人受伤: [受伤]", "  无人受伤: [受害]"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"受害 is not a count_subjects entry"):
        load_failure_rules(mine)


def test_docs_list_the_shipped_phrases() -> None:
    page = DOCS.read_text(encoding="utf-8")
    block = page.split("<!-- failures:start -->\n", 1)[1].split("<!-- failures:end -->", 1)[0]
    assert block == failures_markdown(), (
        "docs/strategy.md is stale: paste yuqing.cases.failures.failures_markdown()"
    )


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet="已未尚被3三名人死亡受伤,。高度重视临时工要求公开", max_size=60),
    st.text(alphabet="已未被2两名人死亡受伤无人员伤亡,。", max_size=40),
)
def test_never_raises_on_any_text(text: str, previous: str) -> None:
    for flag in check_failures(text, previous_statements=[previous], questions=["要求公开"]):
        assert flag.label and flag.explanation
