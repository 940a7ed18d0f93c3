"""Scenario files: the built-ins load, and every schema mistake names file, line and key."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from yuqing.drill import list_scenarios, load_scenario, validate_command
from yuqing.drill.scenario import parse_scenario
from yuqing.errors import ConfigError

GOOD = """\
name: tiny
title: 小测试
field: education
start: 2026-11-20T07:30:00+08:00
region: 浙江省宁波市鄞州区
facts:
  school: 某中学
accounts:
  - {name: 官方, followers: 1000, verified: true}
phases:
  - name: 一
    duration: 2h
    posts_per_hour: 10
    templates: ["{school}的食堂出事了"]
statement:
  at: 1h
  quality: good
  account: 官方
  text: "{region}通报"
"""


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_scenario(text, "x.yaml")
    return str(info.value)


def test_good_scenario_parses() -> None:
    sc = parse_scenario(GOOD, "x.yaml")
    assert sc.name == "tiny" and sc.duration == timedelta(hours=2)
    assert sc.start.utcoffset() == timedelta(hours=8)
    assert sc.statement is not None and sc.statement.negative_factor == 0.5
    assert sc.expected_posts() == 21


def test_missing_key_names_it() -> None:
    message = error(GOOD.replace("region: 浙江省宁波市鄞州区\n", ""))
    assert "x.yaml" in message and "missing required key 'region'" in message
    assert "line 1" in message  # the mapping that lacks it


def test_wrong_type_has_line_column_and_key_path() -> None:
    message = error(GOOD.replace("posts_per_hour: 10", "posts_per_hour: lots"))
    assert "line 13, column 21" in message
    assert "key phases[0].posts_per_hour" in message and "must be a number" in message


def test_bad_duration() -> None:
    message = error(GOOD.replace("duration: 2h", "duration: two hours"))
    assert "line 12" in message and "phases[0].duration" in message
    assert "not a duration" in message


def test_unknown_field() -> None:
    message = error(
        GOOD.replace("    posts_per_hour: 10\n", "    posts_per_hour: 10\n    speed: 3\n")
    )
    assert "line 14" in message and "phases[0].speed" in message
    assert "unknown key 'speed'" in message and "allowed:" in message


def test_unknown_placeholder_and_account() -> None:
    assert "no fact 'place'" in error(GOOD.replace("{school}的食堂", "{place}的食堂"))
    assert "not listed under 'accounts'" in error(GOOD.replace("account: 官方", "account: 谁"))


def test_times_after_the_end_and_bad_quality() -> None:
    assert "after the scenario ends" in error(GOOD.replace("at: 1h", "at: 3h"))
    assert "good or poor" in error(GOOD.replace("quality: good", "quality: fine"))


def test_invalid_yaml_has_position() -> None:
    message = error(GOOD.replace("field: education", "field: [education"))
    assert "invalid YAML" in message and "line " in message and "column " in message


def test_builtins_load_and_list() -> None:
    infos = {info.name: info for info in list_scenarios()}
    assert {
        "school-food-safety",
        "disputed-police-video",
        "px-project-protest",
        "cherry-blossom-festival",
    } <= set(infos)
    assert infos["school-food-safety"].field == "education"
    assert infos["disputed-police-video"].field == "政法"
    for info in infos.values():
        assert 500 <= info.expected_posts <= 3000, info
        assert load_scenario(info.name).path == info.path


def test_load_unknown_name_lists_builtins() -> None:
    with pytest.raises(ConfigError, match=r"built-in: .*school-food-safety"):
        load_scenario("no-such-drill")


def test_validate_command(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD, encoding="utf-8")
    out = io.StringIO()
    assert validate_command(path, out) == 0
    assert "ok: tiny" in out.getvalue()
    path.write_text(GOOD.replace("posts_per_hour: 10", "posts_per_hour: -1"), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}, line 13.*at least 0"):
        validate_command(path, out)


def test_the_documented_example_is_valid() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "drills.md"
    example = docs.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    sc = parse_scenario(example, "docs/drills.md")
    assert sc.name == "school-food-safety" and len(sc.phases) == 3
    assert sc.statement is not None and sc.statement.reactions
