"""The common response failures, flagged with the phrases that triggered them.

The officers' notes ask for 正面回应 and name the ways a response goes wrong: 不回应,
回应慢, 推诿, 打官腔, 避重就轻, 前后矛盾. :func:`check_failures` looks for each in a
statement (and in the case's timeline) and returns one :class:`FailureFlag` per failure
found, with a Chinese explanation and the evidence. The phrase lists live in
``yuqing/judgement/data/failures.yaml`` (:func:`load_failure_rules` reads a user's copy
instead); docs/strategy.md documents them. :func:`~yuqing.cases.principles.check_statement`
adds these flags to its result as ``Check.failures``.

Flags are prompts for an editor, not verdicts: a contradiction may be an honest update
that the text forgot to explain, and the explanation says how to make that clear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from yuqing.cases.case import Case
from yuqing.cases.deadlines import DeadlinePolicy, first_statement_due, format_minutes

# The phrase matcher and the fact patterns of the four-principle checker, shared so that
# "a fact" means the same thing in both checks.
from yuqing.cases.principles import (
    _FIGURE_RE,
    _TIME_RE,
    CONCRETE_MEASURES,
    _body,
    _distinct,
    _find,
    _quote,
)
from yuqing.errors import ConfigError, UsageError
from yuqing.pipeline.normalize import normalize_text
from yuqing.yamlpath import compose_and_load, key_path, mark_of

__all__ = [
    "FAILURE_LABELS",
    "SHIPPED_FAILURE_RULES",
    "FailureFlag",
    "FailureRules",
    "check_failures",
    "failures_markdown",
    "load_failure_rules",
]

SHIPPED_FAILURE_RULES = Path(__file__).resolve().parents[1] / "judgement" / "data" / "failures.yaml"
FailureKind = Literal[
    "no_response", "slow_response", "blame_shifting", "officialese", "evasion", "contradiction"
]
FAILURE_LABELS: dict[FailureKind, str] = {
    "no_response": "不回应",
    "slow_response": "回应慢",
    "blame_shifting": "推诿",
    "officialese": "打官腔",
    "evasion": "避重就轻",
    "contradiction": "前后矛盾",
}
_LIST_KEYS = (
    "no_response",
    "blame_shifting",
    "officialese",
    "question_words",
    "change_markers",
    "affirm",
    "negate",
    "skip_words",
    "broad_verbs",
)
_MAP_KEYS = ("count_subjects", "zero_counts")
_COUNT_RE = re.compile(r"(\d+|[零一二两三四五六七八九十百千]+)(余|多)?(?:名|人|例|位|具)")
_CLAUSE_RE = re.compile(r"[,。;!?、:\n]")
_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
_AFTER, _BEFORE = 8, 6  # how far a subject word may stand after / before its count
_MIN_SHARE = 0.5  # share of a question's character pairs the statement must contain


@dataclass(frozen=True, slots=True)
class FailureFlag:
    """One failure: its kind, Chinese label, explanation, and the phrases behind it."""

    kind: FailureKind
    label: str
    explanation: str
    evidence: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "explanation": self.explanation,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class FailureRules:
    """The lists of one failures file (schema and meaning in docs/strategy.md)."""

    no_response: tuple[str, ...]
    blame_shifting: tuple[str, ...]
    officialese: tuple[str, ...]
    question_words: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...]
    count_subjects: Mapping[str, tuple[str, ...]]
    zero_counts: Mapping[str, tuple[str, ...]]
    change_markers: tuple[str, ...]
    affirm: tuple[str, ...]
    negate: tuple[str, ...]
    skip_words: tuple[str, ...]
    broad_verbs: tuple[str, ...]
    source: str = ""


# -- loading ------------------------------------------------------------------------


def load_failure_rules(path: Path | str | None = None) -> FailureRules:
    """The lists of ``path`` (a user's copy, used instead of the shipped file), or the
    shipped ``failures.yaml`` when ``path`` is None (read once per process)."""
    return _shipped() if path is None else _load(Path(path))


@cache
def _shipped() -> FailureRules:
    return _load(SHIPPED_FAILURE_RULES)


def _load(path: Path) -> FailureRules:
    what = f"failure rules file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what}: cannot be read as UTF-8 text: {exc}") from exc
    node, data = compose_and_load(text, what)

    def fail(where: Sequence[str | int], message: str) -> ConfigError:
        mark = mark_of(node, where)
        at = f", line {mark.line + 1}" if mark is not None else ""
        key = f", key {key_path(where)}" if where else ""
        return ConfigError(f"{what}{at}{key}: {message} (the lists are in docs/strategy.md)")

    def texts(value: object, where: list[str | int]) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise fail(where, "expected a non-empty list of texts")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise fail([*where, index], f"{item!r} is not a text")
        return tuple(item.strip() for item in value)

    if not isinstance(data, Mapping):
        raise fail([], "the file must be a mapping of lists")
    allowed = {"version", "synonyms", *_LIST_KEYS, *_MAP_KEYS}
    for key in data:
        if key not in allowed:
            raise fail([str(key)], f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}")
    for key in (*_LIST_KEYS, *_MAP_KEYS, "synonyms"):
        if key not in data:
            raise fail([], f"missing key {key!r} (copy the shipped file and edit it)")
    if data.get("version", 1) != 1:
        raise fail(["version"], "only version 1 is known")
    lists = {key: texts(data[key], [key]) for key in _LIST_KEYS}
    synonyms = data["synonyms"]
    if not isinstance(synonyms, list):
        raise fail(["synonyms"], "expected a list of word groups such as [公布, 公开]")
    groups = tuple(texts(group, ["synonyms", i]) for i, group in enumerate(synonyms))
    maps: dict[str, dict[str, tuple[str, ...]]] = {}
    for key in _MAP_KEYS:
        raw = data[key]
        if not isinstance(raw, Mapping) or not raw:
            raise fail([key], "expected a non-empty mapping of word: [words]")
        maps[key] = {str(k).strip(): texts(v, [key, str(k)]) for k, v in raw.items()}
    for phrase, subjects in maps["zero_counts"].items():
        unknown = [s for s in subjects if s not in maps["count_subjects"]]
        if unknown:
            raise fail(
                ["zero_counts", phrase],
                f"{', '.join(unknown)} is not a count_subjects entry",
            )
    return FailureRules(
        synonyms=groups,
        count_subjects=maps["count_subjects"],
        zero_counts=maps["zero_counts"],
        source=str(path),
        **lists,
    )


# -- the checks ---------------------------------------------------------------------


def _normalized(text: str) -> str:
    return "\n".join(normalize_text(line) for line in text.split("\n"))


def _flag(kind: FailureKind, explanation: str, evidence: Sequence[str] = ()) -> FailureFlag:
    return FailureFlag(kind, FAILURE_LABELS[kind], explanation, tuple(dict.fromkeys(evidence)))


def _timing(
    text: str, case: Case | None, now: datetime | None, policy: DeadlinePolicy | None
) -> list[FailureFlag]:
    if case is None:
        return []
    due = first_statement_due(case, policy)
    first = case.first_published_at
    if first is not None:
        if first <= due:
            return []
        late = format_minutes((first - due).total_seconds() / 60)
        return [
            _flag(
                "slow_response",
                f"首次通报晚于时限 {late} 才发布。迟到的回应让谣言和猜测先入为主；"
                "续报应说明迟报原因，并按承诺的时间持续通报。",
            )
        ]
    if now is None:
        raise UsageError("check_failures: with a case, pass now (from the Clock) as well")
    if now.tzinfo is None:
        raise UsageError("check_failures: now must be timezone-aware (take it from the Clock)")
    if now <= due or case.status == "closed":
        return []
    late = format_minutes((now - due).total_seconds() / 60)
    what = "本稿尚未发布" if text.strip() else "尚无任何通报"
    return [
        _flag(
            "no_response",
            f"已超过首次通报时限 {late}，{what}。沉默会被理解为回避；应立即发布已核实的"
            "情况和已采取的措施，哪怕调查尚未结束。",
        )
    ]


def _declines(text: str, rules: FailureRules) -> list[FailureFlag]:
    found = _distinct(_find(text, rules.no_response))
    if not found:
        return []
    return [
        _flag(
            "no_response",
            f"{_quote(found)}等于不回应，会被理解为隐瞒。能说的事实（时间、地点、"
            "已采取的措施）先说，暂不能说的说明原因和何时公布。",
            found,
        )
    ]


def _blame(text: str, rules: FailureRules) -> list[FailureFlag]:
    found = _distinct(_find(text, rules.blame_shifting))
    if not found:
        return []
    return [
        _flag(
            "blame_shifting",
            f"使用了推诿的说法{_quote(found)}：把责任推给个人、第三方或其他部门，"
            "会激化情绪。应说明本单位的责任和正在做什么，需要其他部门的，写明由哪个部门"
            "牵头、何时答复。",
            found,
        )
    ]


def _officialese(text: str, rules: FailureRules) -> list[FailureFlag]:
    found = _distinct(_find(text, rules.officialese))
    if not found:
        return []
    body = _body(text)
    facts = (
        [m.group() for m in _FIGURE_RE.finditer(body)]
        + [m.group() for m in _TIME_RE.finditer(body)]
        + [t for _, _, t in _find(body, CONCRETE_MEASURES)]
    )
    if facts:
        return []
    return [
        _flag(
            "officialese",
            f"只有{_quote(found)}等套话，没有任何事实（具体时间、数字、已采取的措施）。"
            "请写明发生了什么、涉及多少人、已经做了什么、何时公布进展。",
            found,
        )
    ]


def _canon(text: str, rules: FailureRules) -> str:
    for group in rules.synonyms:
        for word in sorted(group[1:], key=len, reverse=True):
            text = text.replace(word, group[0])
    return text


def _pairs(label: str, rules: FailureRules) -> set[str]:
    """The character pairs of a question's content (question words taken out)."""
    content = normalize_text(label)
    for word in sorted(rules.question_words, key=len, reverse=True):
        content = content.replace(word, " ")
    pairs: set[str] = set()
    for run in re.findall(r"[\u4e00-\u9fffa-z0-9]+", _canon(content, rules)):
        pairs.update({run} if len(run) == 1 else {run[i : i + 2] for i in range(len(run) - 1)})
    return pairs


def _evasion(text: str, questions: Sequence[str], rules: FailureRules) -> list[FailureFlag]:
    canon = _canon(text, rules)
    missed = []
    for label in questions:
        pairs = _pairs(label, rules)
        if pairs and sum(p in canon for p in pairs) / len(pairs) < _MIN_SHARE:
            missed.append(label)
    if not missed:
        return []
    first = "（其中包括最受关注的问题）" if questions and missed[0] == questions[0] else ""
    return [
        _flag(
            "evasion",
            f"没有回应公众最关心的 {len(missed)} 个问题/诉求{first}：{_quote(missed, 5)}。"
            "正面回应要逐一回答这些问题：已查明的说结果，未查明的说何时公布。",
            missed,
        )
    ]


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    digits = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
    digits |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    units = {"十": 10, "百": 100, "千": 1000}
    total = current = 0
    for char in text:
        if char in digits:
            current = digits[char]
        else:
            total += (current or 1) * units[char]
            current = 0
    return total + current


def _counts(text: str, rules: FailureRules) -> dict[str, tuple[int, str]]:
    """Subject -> (largest count, the clause it was read from)."""
    out: dict[str, tuple[int, str]] = {}
    for clause in _CLAUSE_RE.split(text):
        words = [
            (m.start(), m.end(), subject)
            for subject, aliases in rules.count_subjects.items()
            for alias in aliases
            for m in re.finditer(re.escape(alias), clause)
        ]
        for match in _COUNT_RE.finditer(clause):
            number = _cn_number(match.group(1))
            if match.group(2) or number is None:
                continue  # 十余人: an estimate, not a count to hold a statement to
            near = []
            for start, end, subject in words:
                if start >= match.end() and start - match.end() <= _AFTER:
                    near.append((start - match.end(), subject))
                elif end <= match.start() and match.start() - end <= _BEFORE:
                    near.append((match.start() - end, subject))
            if near:
                subject = min(near)[1]
                if number >= out.get(subject, (-1, ""))[0]:
                    out[subject] = (number, clause.strip())
        for phrase, subjects in rules.zero_counts.items():
            if phrase in clause:
                for subject in subjects:
                    out.setdefault(subject, (0, clause.strip()))
    return out


def _claims(text: str, rules: FailureRules) -> dict[str, tuple[set[bool], str]]:
    """Action -> (polarities seen: True for 已, False for 未; a clause showing it)."""
    markers = sorted([*rules.affirm, *rules.negate], key=len, reverse=True)
    pattern = re.compile(f"({'|'.join(map(re.escape, markers))})([\u4e00-\u9fff]{{1,12}})")
    skips = sorted(rules.skip_words, key=len, reverse=True)
    out: dict[str, tuple[set[bool], str]] = {}
    for clause in _CLAUSE_RE.split(text):
        for match in pattern.finditer(clause):
            rest = match.group(2)
            stripped = True
            while stripped:
                stripped = False
                for word in skips:
                    if rest.startswith(word):
                        rest, stripped = rest[len(word) :], True
            key = rest[:2]
            if key in rules.broad_verbs:
                key = rest[:4] if len(rest) >= 4 else ""
            if len(key) < 2:
                continue
            seen, _ = out.setdefault(key, (set(), clause.strip()))
            seen.add(match.group(1) in rules.affirm)
    return out


def _contradictions(text: str, previous: Sequence[str], rules: FailureRules) -> list[FailureFlag]:
    if not previous:
        return []
    explained = _distinct(_find(text, rules.change_markers))
    counts, claims = _counts(text, rules), _claims(text, rules)
    problems: list[str] = []
    evidence: list[str] = []
    for earlier in previous:
        if not explained:
            for subject, (before, was) in _counts(earlier, rules).items():
                now_count = counts.get(subject)
                if now_count is not None and now_count[0] != before:
                    problems.append(f"{subject}人数此前为 {before}，本稿为 {now_count[0]}")
                    evidence += [was, now_count[1]]
        for key, (seen, was) in _claims(earlier, rules).items():
            mine = claims.get(key)
            if seen == {True} and mine is not None and mine[0] == {False}:
                problems.append(f"此前称「{was}」，本稿称「{mine[1]}」")
                evidence += [was, mine[1]]
    if not problems:
        return []
    return [
        _flag(
            "contradiction",
            "与此前通报不一致：" + "；".join(dict.fromkeys(problems)) + "。"
            "前后矛盾会损害公信力；如情况有更新，请写明（如“经进一步核实，更正为…”"
            "“截至X时新增…”）并说明原因。",
            evidence,
        )
    ]


def check_failures(
    text: str,
    *,
    case: Case | None = None,
    now: datetime | None = None,
    previous_statements: Sequence[str] = (),
    questions: Sequence[str] = (),
    policy: DeadlinePolicy | None = None,
    rules: FailureRules | None = None,
) -> list[FailureFlag]:
    """The failures of ``text`` (a draft or a published statement; may be empty to ask
    only about timing), in the order 不回应, 回应慢, 推诿, 打官腔, 避重就轻, 前后矛盾.

    ``case`` and ``now`` give the timing checks (the first-statement deadline under
    ``policy``); ``previous_statements`` are earlier texts to compare with (default: the
    case's published statements other than ``text``); ``questions`` are the public's top
    questions and demands, most asked first (labels from the event's digest).
    """
    book = rules or load_failure_rules()
    norm = _normalized(text)
    if previous_statements:
        earlier = [_normalized(t) for t in previous_statements]
    elif case is not None:
        earlier = [
            _normalized(s.text)
            for s in case.statements
            if s.published_at is not None and s.text.strip() != text.strip()
        ]
    else:
        earlier = []
    flags = _timing(text, case, now, policy)
    if not norm.strip():
        return flags
    flags += _declines(norm, book)
    flags += _blame(norm, book)
    flags += _officialese(norm, book)
    flags += _evasion(norm, questions, book)
    flags += _contradictions(norm, earlier, book)
    order = list(FAILURE_LABELS)
    return sorted(flags, key=lambda f: order.index(f.kind))


def failures_markdown(rules: FailureRules | None = None) -> str:
    """The lists as Markdown (docs/strategy.md holds the shipped file's; a test keeps
    them in step)."""
    book = rules or load_failure_rules()

    def codes(items: Sequence[str]) -> str:
        return " · ".join(f"`{i}`" for i in items)

    lines = [
        f"- **不回应** `no_response`: {codes(book.no_response)}",
        f"- **推诿** `blame_shifting`: {codes(book.blame_shifting)}",
        f"- **打官腔** `officialese`: {codes(book.officialese)}",
        f"- **避重就轻** `question_words`: {codes(book.question_words)}",
        "- **避重就轻** `synonyms`: " + " · ".join("/".join(group) for group in book.synonyms),
        "- **前后矛盾** `count_subjects`: "
        + " · ".join(f"{k} ({'/'.join(v)})" for k, v in book.count_subjects.items()),
        "- **前后矛盾** `zero_counts`: "
        + " · ".join(f"`{k}` → {'/'.join(v)}" for k, v in book.zero_counts.items()),
        f"- **前后矛盾** `change_markers`: {codes(book.change_markers)}",
        f"- **前后矛盾** `affirm`: {codes(book.affirm)}; `negate`: {codes(book.negate)}",
        f"- **前后矛盾** `skip_words`: {codes(book.skip_words)}",
        f"- **前后矛盾** `broad_verbs`: {codes(book.broad_verbs)}",
    ]
    return "\n".join(lines) + "\n"
