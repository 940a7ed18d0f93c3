"""Response-strategy advice: which of the five strategies fit an event's state, and why.

The officers' notes name five ways to respond (抢先 pre-empt, 屈尊 humble, 隐寓 implicit,
平顺 smooth, 感化 move) and ask for 及时发声, 正面回应 and 态度诚恳. :func:`advise` reads
an :class:`EventState` (lifecycle stage, heat, risk, emotion, open questions and demands,
rumours, whether a statement is out) and fires the rules of ``data/strategies.yaml``;
each strategy's score is the sum of the weights of its rules that fired, and each
:class:`Advice` carries the reasons (Chinese, with the state's figures), do's and don'ts
and the ids of the rules behind it.

The rules are data, not code, so that a press office can edit them:
``load_strategy_rules(path)`` reads a user's copy instead of the shipped file, and every
error in it is a :class:`~yuqing.errors.ConfigError` naming the file, the line and the
key. The mapping from state to strategy is this project's reading of the notes, not an
empirical model (docs/strategy.md).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from yuqing.analysis.emotion import EMOTIONS
from yuqing.cases.levels import LEVEL_LABELS, LEVELS, Level
from yuqing.errors import ConfigError, UsageError
from yuqing.events.lifecycle import STAGE_LABELS, STAGES, Stage
from yuqing.models import EMOTION_LABELS
from yuqing.yamlpath import compose_and_load, key_path, mark_of

__all__ = [
    "EMOTION_LABELS",
    "RISK_TYPES",
    "SHIPPED_STRATEGY_RULES",
    "Advice",
    "Condition",
    "EventState",
    "Rule",
    "StrategyDef",
    "StrategyRules",
    "advise",
    "load_strategy_rules",
    "rules_markdown",
]

SHIPPED_STRATEGY_RULES = Path(__file__).resolve().parent / "data" / "strategies.yaml"
RiskType = Literal["ordinary", "group_incident", "rumor"]
RISK_TYPES: tuple[str, ...] = get_args(RiskType)
Operator = Literal["eq", "in", "not_in", "gte", "gt", "lte", "lt", "contains"]
_OPERATORS: tuple[str, ...] = get_args(Operator)
_SYMBOLS = {"eq": "=", "in": "∈", "not_in": "∉", "gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}
_COMPARE = {"gte": operator.ge, "gt": operator.gt, "lte": operator.le, "lt": operator.lt}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}")


@dataclass(frozen=True, slots=True)
class EventState:
    """What the advice reads about an event; every field is a plain input, so the caller
    (the event page, a briefing, a drill) decides where each comes from: the lifecycle
    stage and heat from ``yuqing.events``, risk from ``aggregate_risk``, emotion shares
    from the event's posts, counts and top labels from the question/demand digest."""

    stage: Stage = "latent"
    heat: float = 0.0  # 0-100
    risk_type: RiskType = "ordinary"
    rumor_score: float = 0.0  # 0-1
    group_incident_score: float = 0.0  # 0-1
    dominant_emotion: str = "neutral"
    emotions: Mapping[str, float] = field(default_factory=dict)  # share of posts, 0-1
    negative_share: float = 0.0  # 0-1
    open_questions: int = 0
    open_demands: int = 0
    top_questions: tuple[str, ...] = ()
    top_demands: tuple[str, ...] = ()
    rumours: bool = False  # rumours spreading about the event
    casualties: bool = False  # deaths or injuries reported
    statement_published: bool = False
    hours_since_statement: float | None = None  # since the latest official statement
    case_level: Level | None = None

    def __post_init__(self) -> None:
        def bad(name: str, value: object, allowed: str) -> UsageError:
            return UsageError(f"EventState.{name}: {value!r} is not {allowed}")

        if self.stage not in STAGES:
            raise bad("stage", self.stage, f"one of {', '.join(STAGES)}")
        if self.risk_type not in RISK_TYPES:
            raise bad("risk_type", self.risk_type, f"one of {', '.join(RISK_TYPES)}")
        if self.dominant_emotion not in EMOTIONS:
            raise bad("dominant_emotion", self.dominant_emotion, f"one of {', '.join(EMOTIONS)}")
        if self.case_level is not None and self.case_level not in LEVELS:
            raise bad("case_level", self.case_level, "I, II, III, IV or None")
        if not 0 <= self.heat <= 100:
            raise bad("heat", self.heat, "between 0 and 100")
        for name in ("rumor_score", "group_incident_score", "negative_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise bad(name, getattr(self, name), "a share between 0 and 1")
        for emotion, share in self.emotions.items():
            if emotion not in EMOTIONS or not 0 <= share <= 1:
                raise bad("emotions", {emotion: share}, "an emotion with a share in 0..1")
        if self.open_questions < 0 or self.open_demands < 0:
            raise bad("open_questions/open_demands", "a negative count", "allowed")
        if self.hours_since_statement is not None and self.hours_since_statement < 0:
            raise bad("hours_since_statement", self.hours_since_statement, "≥ 0")

    def values(self) -> dict[str, Any]:
        """The fields as conditions and reason templates see them, plus ``stage_label``,
        ``emotion_label``, ``case_level_label``, ``top_question``, ``top_demand`` and
        ``emotion_<name>`` for every emotion."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out.pop("emotions")
        for emotion in EMOTIONS:
            out[f"emotion_{emotion}"] = float(self.emotions.get(emotion, 0.0))
        out["stage_label"] = STAGE_LABELS[self.stage]
        out["emotion_label"] = EMOTION_LABELS[self.dominant_emotion]
        out["case_level_label"] = LEVEL_LABELS[self.case_level] if self.case_level else ""
        out["top_question"] = self.top_questions[0] if self.top_questions else ""
        out["top_demand"] = self.top_demands[0] if self.top_demands else ""
        return out


_BOOL_FIELDS = {"rumours", "casualties", "statement_published"}
_NUMBER_FIELDS = {
    "heat",
    "rumor_score",
    "group_incident_score",
    "negative_share",
    "open_questions",
    "open_demands",
    "hours_since_statement",
    *(f"emotion_{e}" for e in EMOTIONS),
}
_LIST_FIELDS = {"top_questions", "top_demands"}
_CHOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "stage": STAGES,
    "risk_type": RISK_TYPES,
    "dominant_emotion": EMOTIONS,
    "case_level": LEVELS,
}
_SAMPLE = EventState(
    hours_since_statement=1.0,
    case_level="II",
    top_questions=("问题",),
    top_demands=("诉求",),
).values()


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on one state field (``emotion.anger`` is stored as ``emotion_anger``)."""

    field: str
    op: Operator
    value: Any

    def holds(self, values: Mapping[str, Any]) -> bool:
        actual = values[self.field]
        if self.op == "contains":
            return any(self.value in label for label in actual)
        if self.op == "eq":
            return bool(actual == self.value)
        if self.op == "in":
            return bool(actual in self.value)
        if self.op == "not_in":
            return bool(actual not in self.value)
        if actual is None:
            return False
        return bool(_COMPARE[self.op](actual, float(self.value)))

    def describe(self) -> str:
        """``heat ≥ 30``, ``stage ∈ {latent, outbreak}``, ``top_demands contains 道歉``."""
        name = self.field.replace("emotion_", "emotion.", 1)
        if self.op == "contains":
            return f"{name} contains {self.value}"
        if self.op in ("in", "not_in"):
            return f"{name} {_SYMBOLS[self.op]} {{{', '.join(map(_show, self.value))}}}"
        return f"{name} {_SYMBOLS[self.op]} {_show(self.value)}"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return "null" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class StrategyDef:
    """One strategy as the rules file defines it."""

    id: str
    name: str
    summary: str
    dos: tuple[str, ...]
    donts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """When every condition holds, add ``weight`` to ``strategy`` with ``reason``."""

    id: str
    strategy: str
    weight: float
    when: tuple[Condition, ...]
    reason: str
    source: str = ""
    dos: tuple[str, ...] = ()
    donts: tuple[str, ...] = ()

    def fires(self, values: Mapping[str, Any]) -> bool:
        return all(c.holds(values) for c in self.when)

    def explain(self, values: Mapping[str, Any]) -> str:
        """The reason with the state's figures filled in (a missing figure reads 未知)."""
        try:
            return self.reason.format_map(values)
        except (ValueError, TypeError, KeyError, IndexError):
            return _PLACEHOLDER_RE.sub(
                lambda m: "未知" if values.get(m.group(1)) is None else str(values[m.group(1)]),
                self.reason,
            )


@dataclass(frozen=True, slots=True)
class StrategyRules:
    """The strategies and rules of one file (``source`` names it for messages)."""

    strategies: Mapping[str, StrategyDef]
    rules: tuple[Rule, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class Advice:
    """One advised strategy: its score (sum of fired weights), its rank (1 = first), the
    reasons and sources of the rules that fired (heaviest first) and what to do."""

    strategy: str
    name: str
    score: float
    priority: int
    reasons: tuple[str, ...]
    dos: tuple[str, ...]
    donts: tuple[str, ...]
    rule_ids: tuple[str, ...]
    sources: tuple[str, ...]
    summary: str = ""

    @property
    def rule_id(self) -> str:
        """The heaviest rule that fired."""
        return self.rule_ids[0]

    @property
    def reason(self) -> str:
        return "".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the API and briefings (lists as lists)."""
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return out | {"rule_id": self.rule_id, "reason": self.reason}


def advise(state: EventState, rules: StrategyRules | None = None) -> list[Advice]:
    """The strategies that fit ``state``, highest score first (ties in file order); an
    empty list when no rule fires (a quiet, latent event needs no strategy yet)."""
    book = rules or load_strategy_rules()
    values = state.values()
    fired: dict[str, list[Rule]] = {}
    for rule in book.rules:
        if rule.fires(values):
            fired.setdefault(rule.strategy, []).append(rule)
    order = list(book.strategies)
    scored = [
        (round(sum(r.weight for r in hits), 3), order.index(sid), sid, hits)
        for sid, hits in fired.items()
    ]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: (-s[0], s[1]))
    out: list[Advice] = []
    for rank, (score, _, sid, hits) in enumerate(scored, start=1):
        hits = sorted(hits, key=lambda r: -r.weight)
        strategy = book.strategies[sid]
        out.append(
            Advice(
                strategy=sid,
                name=strategy.name,
                score=score,
                priority=rank,
                reasons=tuple(r.explain(values) for r in hits),
                dos=_unique([*(d for r in hits for d in r.dos), *strategy.dos]),
                donts=_unique([*(d for r in hits for d in r.donts), *strategy.donts]),
                rule_ids=tuple(r.id for r in hits),
                sources=_unique([r.source for r in hits if r.source]),
                summary=strategy.summary,
            )
        )
    return out


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# -- loading ------------------------------------------------------------------------


class _Reader:
    """Validates one parsed rules file, raising ConfigError with file, line and key."""

    def __init__(self, path: Path, node: yaml.Node | None) -> None:
        self.path, self.node = path, node

    def fail(self, where: Sequence[str | int], message: str) -> ConfigError:
        mark = mark_of(self.node, where)
        at = f", line {mark.line + 1}" if mark is not None else ""
        key = key_path(where)
        return ConfigError(
            f"strategy rules file {self.path}{at}{', key ' + key if key else ''}: {message} "
            "(the schema is in docs/strategy.md)"
        )

    def mapping(
        self, value: object, where: list[str | int], allowed: set[str]
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "expected a mapping")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    [*where, str(key)],
                    f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}",
                )
        return value

    def text(
        self, data: Mapping[str, Any], key: str, where: list[str | int], *, required: bool
    ) -> str:
        value = data.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"missing required key {key!r}")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail([*where, key], f"{key!r} must be text")
        text = str(value).strip()
        if required and not text:
            raise self.fail([*where, key], f"{key!r} must not be empty")
        return text

    def texts(self, data: Mapping[str, Any], key: str, where: list[str | int]) -> tuple[str, ...]:
        value = data.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail([*where, key], f"{key!r} must be a list of texts")
        return tuple(v.strip() for v in value)

    def strategy(self, sid: object, raw: object) -> StrategyDef:
        where: list[str | int] = ["strategies", str(sid)]
        if not isinstance(sid, str) or not _ID_RE.match(sid):
            raise self.fail(where, f"strategy id {sid!r} must be 1-64 letters, digits, _ - .")
        data = self.mapping(raw, where, {"name", "summary", "dos", "donts"})
        return StrategyDef(
            sid,
            self.text(data, "name", where, required=True),
            self.text(data, "summary", where, required=False),
            self.texts(data, "dos", where),
            self.texts(data, "donts", where),
        )

    def condition(self, name: object, raw: object, where: list[str | int]) -> Condition:
        where = [*where, str(name)]
        field_name = str(name).replace("emotion.", "emotion_", 1)
        known = {*_BOOL_FIELDS, *_NUMBER_FIELDS, *_LIST_FIELDS, *_CHOICE_FIELDS}
        if field_name not in known:
            shown = sorted(k.replace("emotion_", "emotion.", 1) for k in known)
            raise self.fail(where, f"unknown state field {name!r}; known: {', '.join(shown)}")
        op: str = "eq"
        value: Any = raw
        if isinstance(raw, Mapping):
            if len(raw) != 1 or next(iter(raw)) not in _OPERATORS:
                raise self.fail(where, f"use one operator of {', '.join(_OPERATORS)}")
            op, value = next(iter(raw.items()))
        return Condition(field_name, op, self.operand(field_name, op, value, where))  # type: ignore[arg-type]

    def operand(self, name: str, op: str, value: Any, where: list[str | int]) -> Any:
        if name in _LIST_FIELDS:
            if op != "contains" or not isinstance(value, str) or not value:
                raise self.fail(where, f"{name} takes {{contains: text}}")
            return value
        if op == "contains":
            raise self.fail(where, "contains applies to top_questions and top_demands only")
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                raise self.fail(where, f"{op} needs a non-empty list")
            return tuple(self.scalar(name, v, where) for v in value)
        if op in ("gte", "gt", "lte", "lt"):
            if name not in _NUMBER_FIELDS or isinstance(value, bool):
                raise self.fail(where, f"{op} compares numbers; {name} is not a number")
            if not isinstance(value, int | float):
                raise self.fail(where, f"{op} needs a number, not {value!r}")
            return float(value)
        return self.scalar(name, value, where)

    def scalar(self, name: str, value: Any, where: list[str | int]) -> Any:
        if name in _BOOL_FIELDS and not isinstance(value, bool):
            raise self.fail(where, f"{name} is true or false, not {value!r}")
        if name in _NUMBER_FIELDS and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise self.fail(where, f"{name} is a number, not {value!r}")
        choices = _CHOICE_FIELDS.get(name)
        if choices is not None and str(value) not in choices:
            raise self.fail(where, f"{value!r} is not a {name}; one of {', '.join(choices)}")
        return str(value) if choices is not None else value

    def rule(self, raw: object, index: int, strategies: Mapping[str, StrategyDef]) -> Rule:
        where: list[str | int] = ["rules", index]
        allowed = {"id", "strategy", "weight", "when", "reason", "source", "dos", "donts"}
        data = self.mapping(raw, where, allowed)
        rule_id = self.text(data, "id", where, required=True)
        if not _ID_RE.match(rule_id):
            raise self.fail(
                [*where, "id"], f"rule id {rule_id!r} must be 1-64 letters, digits, _ - ."
            )
        strategy = self.text(data, "strategy", where, required=True)
        if strategy not in strategies:
            raise self.fail(
                [*where, "strategy"],
                f"unknown strategy {strategy!r}; defined: {', '.join(strategies)}",
            )
        weight = data.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise self.fail(
                [*where, "weight"] if "weight" in data else where, "weight must be a number"
            )
        when = data.get("when")
        if not isinstance(when, Mapping) or not when:
            raise self.fail(
                [*where, "when"] if "when" in data else where, "when must be a non-empty mapping"
            )
        conditions = tuple(self.condition(k, v, [*where, "when"]) for k, v in when.items())
        reason = self.text(data, "reason", where, required=True)
        try:
            reason.format_map(_SAMPLE)
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            raise self.fail(
                [*where, "reason"],
                f"bad placeholder in reason ({exc}); available: {', '.join(sorted(_SAMPLE))}",
            ) from exc
        return Rule(
            rule_id,
            strategy,
            float(weight),
            conditions,
            reason,
            self.text(data, "source", where, required=False),
            self.texts(data, "dos", where),
            self.texts(data, "donts", where),
        )

    def book(self, data: object) -> StrategyRules:
        top = self.mapping(data, [], {"version", "strategies", "rules"})
        if top.get("version", 1) != 1:
            raise self.fail(["version"], "only version 1 is known")
        raw_strategies = top.get("strategies")
        if not isinstance(raw_strategies, Mapping) or not raw_strategies:
            raise self.fail(["strategies"], "strategies must be a non-empty mapping")
        strategies = {str(k): self.strategy(k, v) for k, v in raw_strategies.items()}
        raw_rules = top.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise self.fail(["rules"], "rules must be a non-empty list")
        rules: list[Rule] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_rules):
            rule = self.rule(raw, index, strategies)
            if rule.id in seen:
                raise self.fail(["rules", index, "id"], f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
            rules.append(rule)
        return StrategyRules(strategies, tuple(rules), str(self.path))


def load_strategy_rules(path: Path | str | None = None) -> StrategyRules:
    """The rules of ``path`` (a user's copy, used instead of the shipped file), or the
    shipped ``data/strategies.yaml`` when ``path`` is None (read once per process)."""
    if path is None:
        return _shipped()
    return _load(Path(path))


@cache
def _shipped() -> StrategyRules:
    return _load(SHIPPED_STRATEGY_RULES)


def _load(path: Path) -> StrategyRules:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"strategy rules file {path}: cannot be read as UTF-8 text: {exc}"
        ) from exc
    node, data = compose_and_load(text, f"strategy rules file {path}")
    return _Reader(path, node).book(data)


def rules_markdown(rules: StrategyRules | None = None) -> str:
    """The strategies and rules as Markdown tables (docs/strategy.md holds the shipped
    file's; a test keeps them in step)."""
    book = rules or load_strategy_rules()
    lines = ["| id | name | summary |", "|---|---|---|"]
    lines += [f"| `{s.id}` | {s.name} | {s.summary} |" for s in book.strategies.values()]
    lines += [
        "",
        "| rule | strategy | weight | when (all hold) | source |",
        "|---|---|---|---|---|",
    ]
    for r in book.rules:
        when = "; ".join(f"`{c.describe()}`" for c in r.when)
        name = book.strategies[r.strategy].name
        lines.append(f"| `{r.id}` | {name} `{r.strategy}` | {r.weight:g} | {when} | {r.source} |")
    return "\n".join(lines) + "\n"
