"""Plan files: the shipped ones parse; broken ones give ConfigError with file, line, key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from yuqing.cases import load_plan, load_plans, shipped_plans
from yuqing.cases.plans import parse_offset
from yuqing.errors import ConfigError

GOOD = """\
id: campus-stampede
name: 校园踩踏事件预案
category: 校园安全
items:
  - id: verify
    text: 核实伤亡
    department: 教育局
    due: 30m
  - id: statement
    text: 发布通报
    due: 2
"""


def test_shipped_plans_cover_the_five_categories() -> None:
    plans = shipped_plans()
    categories = {p.category for p in plans.values()}
    assert {"校园安全", "食品安全", "执法争议", "环境污染", "公共卫生"} <= categories
    for plan in plans.values():
        assert plan.items and all(item.text for item in plan.items)
        assert any("通报" in item.text for item in plan.items), plan.id
        assert plan.source.endswith(".yaml")


def test_user_plan_loads_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(GOOD, encoding="utf-8")
    override = GOOD.replace("campus-stampede", "food-safety").replace("校园踩踏", "本地食品")
    (tmp_path / "food.yml").write_text(override, encoding="utf-8")
    plans = load_plans([tmp_path])
    assert plans["campus-stampede"].items[0].due == timedelta(minutes=30)
    assert plans["campus-stampede"].items[1].due == timedelta(minutes=2)
    assert plans["food-safety"].name == "本地食品事件预案"  # the user's replaces the shipped one
    assert "school-safety" in plans
    assert set(load_plans([tmp_path / "mine.yaml"], include_shipped=False)) == {"campus-stampede"}


def test_two_user_files_with_one_id(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.yaml.*already defined in .*a\.yaml"):
        load_plans([tmp_path])


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("    text: 发布通报", "    text: [发布通报"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    message = str(info.value)
    assert str(path) in message and "invalid YAML" in message
    assert "line 11" in message or "line 10" in message


@pytest.mark.parametrize(
    ("edit", "line", "key", "words"),
    [
        (("    text: 核实伤亡\n", ""), 5, "items[0]", "missing required key 'text'"),
        (("    due: 30m", "    due: soon"), 8, "items[0].due", "not a duration"),
        (
            ("    department: 教育局", "    departmant: 教育局"),
            7,
            "items[0].departmant",
            "unknown key",
        ),
        (("  - id: statement", "  - id: verify"), 9, "items[1].id", "used twice"),
        (("id: campus-stampede", "id: 校园 踩踏"), 1, "id", "must be 1-64 letters"),
        (("category: 校园安全\n", ""), 1, "", "missing required key 'category'"),
    ],
)
def test_schema_errors_name_line_and_key(
    tmp_path: Path, edit: tuple[str, str], line: int, key: str, words: str
) -> None:
    assert edit[0] in GOOD
    path = tmp_path / "plan.yaml"
    path.write_text(GOOD.replace(edit[0], edit[1]), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_plan(path)
    message = str(info.value)
    assert str(path) in message and f"line {line}" in message and words in message
    if key:
        assert f"key {key}:" in message


def test_not_a_mapping_and_empty_items(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_plan(path)
    path.write_text("id: x\nname: n\ncategory: c\nitems: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 4, key items: 'items' must be a non-empty list"):
        load_plan(path)


def test_missing_path_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_plans([tmp_path / "nope"])
    path = tmp_path / "gbk.yaml"
    path.write_bytes("id: 食品安全预案".encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_plan(path)


@pytest.mark.parametrize(
    ("value", "minutes"), [("30m", 30), ("2h", 120), ("1d", 1440), (45, 45), ("1.5h", 90)]
)
def test_parse_offset(value: object, minutes: int) -> None:
    assert parse_offset(value) == timedelta(minutes=minutes)


@pytest.mark.parametrize("value", ["0m", "-1h", "soon", True, None])
def test_parse_offset_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_offset(value)
