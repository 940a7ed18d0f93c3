"""Positions in composed YAML trees, so that errors in user-written YAML files (contingency
plans, drill scenarios) can name the line, column and key they are about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from yuqing.errors import ConfigError


def mark_of(node: yaml.Node | None, path: Sequence[str | int]) -> yaml.Mark | None:
    """The start mark of the deepest node along ``path`` in a composed YAML tree; for a
    mapping value that is itself a collection, the mark of its key (the line people read)."""
    mark = node.start_mark if node is not None else None
    for key in path:
        child: yaml.Node | None = None
        key_mark: yaml.Mark | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    child, key_mark = value_node, key_node.start_mark
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(key, int)
            and 0 <= key < len(node.value)
        ):
            child = node.value[key]
        if child is None:
            break
        node = child
        collection = isinstance(child, yaml.MappingNode | yaml.SequenceNode)
        mark = key_mark if key_mark is not None and collection else child.start_mark
    return mark


def key_path(where: Sequence[str | int]) -> str:
    """``["phases", 2, "rate"]`` -> ``phases[2].rate``."""
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")


def compose_and_load(text: str, what: str) -> tuple[yaml.Node | None, Any]:
    """The composed tree (for positions) and the plain data of a YAML text; a syntax error
    is a ConfigError naming ``what`` (e.g. ``plan file plans/food.yaml``), line and column."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{what}{at}: invalid YAML: {problem}") from exc
