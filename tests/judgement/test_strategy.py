"""Response-strategy advice: typical states, user rule files, errors, docs in step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from yuqing.errors import ConfigError, UsageError
from yuqing.judgement.strategy import (
    SHIPPED_STRATEGY_RULES,
    EventState,
    advise,
    load_strategy_rules,
    rules_markdown,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategy.md"


def ids(state: EventState) -> list[str]:
    return [a.strategy for a in advise(state)]


def test_outbreak_with_rumours_and_no_statement_preempts_first() -> None:
    state = EventState(
        stage="outbreak",
        heat=62,
        rumours=True,
        rumor_score=0.7,
        risk_type="rumor",
        dominant_emotion="fear",
        negative_share=0.6,
        case_level="II",
    )
    advice = advise(state)
    first = advice[0]
    assert first.strategy == "preempt" and first.name == "抢先" and first.priority == 1
    assert first.rule_id == "preempt-rumour-no-statement"
    assert "preempt-rising-no-statement" in first.rule_ids
    assert "热度 62" in first.reason and "谣言" in first.reason
    assert first.dos and first.donts and "及时发声" in first.sources
    assert [a.priority for a in advice] == list(range(1, len(advice) + 1))
    assert all(a.score > 0 for a in advice)


def test_anger_and_grief_after_casualties_move_and_humble() -> None:
    state = EventState(
        stage="spread",
        heat=75,
        casualties=True,
        dominant_emotion="anger",
        emotions={"anger": 0.45, "sadness": 0.3, "neutral": 0.25},
        negative_share=0.8,
        statement_published=True,
        hours_since_statement=3,
        top_demands=("要求道歉", "追责"),
        open_demands=2,
    )
    advice = advise(state)
    assert {a.strategy for a in advice[:2]} == {"move", "humble"}
    move = next(a for a in advice if a.strategy == "move")
    assert move.name == "感化" and "愤怒 45%" in move.reason and "悲伤 30%" in move.reason
    humble = next(a for a in advice if a.strategy == "humble")
    assert "humble-apology-demanded" in humble.rule_ids and "道歉" in humble.reason
    assert "preempt" not in ids(state)  # a statement is already out


def test_decline_is_smooth() -> None:
    state = EventState(
        stage="decline",
        heat=35,
        statement_published=True,
        hours_since_statement=20,
        negative_share=0.3,
    )
    first = advise(state)[0]
    assert first.strategy == "smooth" and first.name == "平顺"
    assert "缓解" in first.reason
    assert any("定期" in d for d in first.dos)


def test_group_incident_is_implicit_with_careful_wording() -> None:
    state = EventState(
        stage="spread",
        heat=66,
        risk_type="group_incident",
        group_incident_score=0.8,
        dominant_emotion="anger",
        negative_share=0.55,
        statement_published=True,
        hours_since_statement=2,
    )
    advice = advise(state)
    first = advice[0]
    assert first.strategy == "implicit" and first.name == "隐寓"
    assert first.rule_id == "implicit-group-incident"
    assert any("措辞审慎" in d for d in first.dos)
    assert any("暴徒" in d for d in first.donts)
    # the score-only rule stays quiet when the type already says group incident
    assert "implicit-group-score" not in first.rule_ids


def test_quiet_latent_event_gets_no_advice() -> None:
    assert advise(EventState(stage="latent", heat=5)) == []


def test_advice_is_json_ready() -> None:
    advice = advise(EventState(stage="decline", heat=30))
    data = json.loads(json.dumps([a.as_dict() for a in advice], ensure_ascii=False))
    assert data[0]["strategy"] == "smooth" and data[0]["rule_id"] == "smooth-decline"


def test_state_is_validated() -> None:
    with pytest.raises(UsageError, match="stage"):
        EventState(stage="boom")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="heat"):
        EventState(heat=120)
    with pytest.raises(UsageError, match="negative_share"):
        EventState(negative_share=1.5)
    with pytest.raises(UsageError, match="emotions"):
        EventState(emotions={"rage": 0.5})


def test_a_user_copy_replaces_the_shipped_rules(tmp_path: Path) -> None:
    mine = tmp_path / "strategies.yaml"
    text = SHIPPED_STRATEGY_RULES.read_text(encoding="utf-8")
    text = text.replace(
        "  - id: smooth-decline\n    strategy: smooth\n    weight: 0.8",
        "  - id: smooth-decline\n    strategy: smooth\n    weight: 5",
    ).replace("应定期通报进展，让事件平稳消退。", "本地规则：按周通报。")
    mine.write_text(text, encoding="utf-8")
    rules = load_strategy_rules(mine)
    assert rules.source == str(mine)
    state = EventState(stage="long_tail", heat=10)
    mine_first = advise(state, rules)[0]
    assert mine_first.score == 5 and "本地规则：按周通报。" in mine_first.reason
    shipped_first = advise(state)[0]
    assert shipped_first.score == 0.8 and "本地规则" not in shipped_first.reason


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
strategies:
  smooth:
    name: 平顺
rules:
  - id: r1
    strategy: smooth
    weight: 1
    when:
      stage: decline
    reason: 缓解
"""


def test_minimal_file_loads(tmp_path: Path) -> None:
    rules = load_strategy_rules(write(tmp_path, MINIMAL))
    assert [a.strategy for a in advise(EventState(stage="decline"), rules)] == ["smooth"]


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("weight: 1", "weight: [1"))
    with pytest.raises(ConfigError, match=r"rules\.yaml, line \d+, column \d+: invalid YAML"):
        load_strategy_rules(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "stage: decline",
            "stag: decline",
            r"line 9, key rules\[0\]\.when\.stag: unknown state field",
        ),
        (
            "stage: decline",
            "stage: declne",
            r"line 9, key rules\[0\]\.when\.stage: 'declne' is not",
        ),
        ("stage: decline", "heat: {gte: high}", r"line 9, .*gte needs a number"),
        ("stage: decline", "stage: {gte: 3}", r"stage is not a number"),
        (
            "strategy: smooth",
            "strategy: smoth",
            r"line 6, key rules\[0\]\.strategy: unknown strategy",
        ),
        ("reason: 缓解", "reason: 热度 {hot}", r"line 10, key rules\[0\]\.reason: bad placeholder"),
        ("weight: 1", "weight: yes", r"line 7, key rules\[0\]\.weight: weight must be a number"),
        (
            "    reason: 缓解",
            "    reason: 缓解\n    colour: red",
            r"line 11, .*unknown key 'colour'",
        ),
    ],
)
def test_schema_errors_name_line_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_strategy_rules(write(tmp_path, MINIMAL.replace(old, new)))
    assert "rules.yaml" in str(err.value) and "docs/strategy.md" in str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_strategy_rules(tmp_path / "nope.yaml")


def test_shipped_file_is_valid_and_covers_the_five_strategies(tmp_path: Path) -> None:
    rules = load_strategy_rules()
    names = {s.id: s.name for s in rules.strategies.values()}
    assert names == {
        "preempt": "抢先",
        "humble": "屈尊",
        "implicit": "隐寓",
        "smooth": "平顺",
        "move": "感化",
    }
    assert {r.strategy for r in rules.rules} == set(names)
    assert all(r.source for r in rules.rules)
    copy = tmp_path / "copy.yaml"
    shutil.copy(SHIPPED_STRATEGY_RULES, copy)
    assert load_strategy_rules(copy).rules == rules.rules


def test_docs_rules_table_matches_the_shipped_file() -> None:
    """docs/strategy.md holds the generated tables between the markers."""
    page = DOCS.read_text(encoding="utf-8")
    block = page.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert block == rules_markdown(), (
        "docs/strategy.md is stale: paste yuqing.judgement.strategy.rules_markdown()"
    )
