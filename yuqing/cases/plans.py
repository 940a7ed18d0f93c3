"""Contingency plans (预案): YAML checklists per category.

A plan file holds one plan (schema in docs/response.md)::

    id: food-safety
    name: 食品安全事件应对预案
    category: 食品安全
    description: 学校食堂、餐饮单位、食品生产企业等引发的食品安全舆情。
    items:
      - id: verify
        text: 核实事件基本情况（时间、地点、涉及人数、就医情况）
        department: 市场监管局
        due: 30m            # optional: after the case is opened; 90m, 2h, 1d or minutes
      - ...

Shipped plans live in ``yuqing/cases/plans/*.yaml``; :func:`load_plans` reads the shipped
ones and the user's files or folders, a user plan replacing a shipped one with the same
id. Any error (bad YAML, a missing or unknown key, a wrong type, a repeated id) is a
:class:`~yuqing.errors.ConfigError` naming the file, the line and the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from yuqing.errors import ConfigError
from yuqing.yamlpath import compose_and_load, key_path, mark_of

__all__ = [
    "SHIPPED_PLANS_DIR",
    "Plan",
    "PlanItem",
    "load_plan",
    "load_plans",
    "parse_offset",
    "shipped_plans",
]

SHIPPED_PLANS_DIR = Path(__file__).resolve().with_name("plans")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_OFFSET_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd]?)\s*$")
_PLAN_KEYS = {"id", "name", "category", "description", "items"}
_ITEM_KEYS = {"id", "text", "department", "due"}


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One checklist item: what to do, which department usually does it, and by when
    (an offset from the case's opening time), if the plan says."""

    id: str
    text: str
    department: str | None = None
    due: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A contingency plan: a named checklist for one category of incident."""

    id: str
    name: str
    category: str
    items: tuple[PlanItem, ...]
    description: str = ""
    source: str = ""  # the file it came from, for messages

    def item(self, item_id: str) -> PlanItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def parse_offset(value: object) -> timedelta:
    """``"30m"``, ``"2h"``, ``"1d"``, or a number of minutes, as a timedelta (> 0)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 2h or 1d")
    if isinstance(value, int | float):
        text = f"{value}m"
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError("expected a duration such as 30m, 2h or 1d")
    match = _OFFSET_RE.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 30m, 2h or 1d")
    amount = float(match.group(1))
    unit = match.group(2) or "m"
    delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount)}.get(
        unit, timedelta(days=amount)
    )
    if delta <= timedelta(0):
        raise ValueError(f"{value!r}: a due offset must be positive")
    return delta


class _PlanReader:
    """Validates one parsed plan file, raising ConfigError with file, line and key."""

    def __init__(self, path: Path, node: yaml.Node | None) -> None:
        self.path = path
        self.node = node

    def fail(self, where: Sequence[str | int], message: str) -> ConfigError:
        mark = mark_of(self.node, where)
        line = mark.line + 1 if mark is not None else None
        key = key_path(where)
        at = f", line {line}" if line else ""
        keypart = f", key {key}" if key else ""
        return ConfigError(
            f"plan file {self.path}{at}{keypart}: {message} "
            "(the plan schema is in docs/response.md)"
        )

    def text(
        self, data: Mapping[str, Any], key: str, where: list[str | int], *, required: bool
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing required key {key!r}")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail([*where, key], f"{key!r} must be text")
        text = str(value).strip()
        if required and not text:
            raise self.fail([*where, key], f"{key!r} must not be empty")
        return text

    def check_keys(
        self, data: Mapping[str, Any], allowed: set[str], where: list[str | int]
    ) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    [*where, str(key)],
                    f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}",
                )

    def identifier(self, data: Mapping[str, Any], where: list[str | int]) -> str:
        value = self.text(data, "id", where, required=True) or ""
        if not _ID_RE.match(value):
            raise self.fail(
                [*where, "id"],
                f"id {value!r} must be 1-64 letters, digits, '_', '-' or '.', "
                "starting with a letter or digit",
            )
        return value

    def plan(self, data: object) -> Plan:
        if not isinstance(data, Mapping):
            raise self.fail([], "a plan file must be a mapping with id, name, category, items")
        self.check_keys(data, _PLAN_KEYS, [])
        plan_id = self.identifier(data, [])
        name = self.text(data, "name", [], required=True) or ""
        category = self.text(data, "category", [], required=True) or ""
        description = self.text(data, "description", [], required=False) or ""
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise self.fail(
                ["items"] if "items" in data else [], "'items' must be a non-empty list"
            )
        items: list[PlanItem] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_items):
            where: list[str | int] = ["items", index]
            if not isinstance(raw, Mapping):
                raise self.fail(where, "each item must be a mapping with id and text")
            self.check_keys(raw, _ITEM_KEYS, where)
            item_id = self.identifier(raw, where)
            if item_id in seen:
                raise self.fail([*where, "id"], f"item id {item_id!r} is used twice")
            seen.add(item_id)
            text = self.text(raw, "text", where, required=True) or ""
            department = self.text(raw, "department", where, required=False) or None
            due = None
            if raw.get("due") is not None:
                try:
                    due = parse_offset(raw["due"])
                except ValueError as exc:
                    raise self.fail([*where, "due"], str(exc)) from exc
            items.append(PlanItem(item_id, text, department, due))
        return Plan(plan_id, name, category, tuple(items), description, str(self.path))


def load_plan(path: Path) -> Plan:
    """Read and validate one plan file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"plan file {path}: cannot be read as UTF-8 text: {exc}") from exc
    node, data = compose_and_load(text, f"plan file {path}")
    return _PlanReader(path, node).plan(data)


def _plan_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if path.is_file():
        return [path]
    raise ConfigError(f"plan path {path} does not exist: give a .yaml file or a folder of them")


def shipped_plans() -> dict[str, Plan]:
    """The plans shipped with yuqing, by id."""
    return load_plans((), include_shipped=True)


def load_plans(paths: Iterable[Path | str], *, include_shipped: bool = True) -> dict[str, Plan]:
    """Plans by id from the shipped folder (unless ``include_shipped`` is false) and
    ``paths`` (files or folders of ``*.yaml``/``*.yml``). A user plan replaces a shipped
    plan with the same id; two user files with the same id are an error."""
    plans: dict[str, Plan] = {}
    if include_shipped:
        for file in _plan_files(SHIPPED_PLANS_DIR):
            plan = load_plan(file)
            plans[plan.id] = plan
    user: dict[str, Path] = {}
    for given in paths:
        for file in _plan_files(Path(given)):
            plan = load_plan(file)
            if plan.id in user:
                raise ConfigError(
                    f"plan file {file}: plan id {plan.id!r} is already defined in "
                    f"{user[plan.id]}; give each plan its own id"
                )
            user[plan.id] = file
            plans[plan.id] = plan
    return plans
