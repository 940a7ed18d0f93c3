"""The monitoring-rule language: lexer, parser (text -> AST) and canonical formatter.

A rule is a boolean query over a post's normalized text and its analysis fields
(docs/rules.md has the grammar, the examples and the reasons)::

    (武汉 OR 宁波) AND (爆炸 OR 火灾) NOT 演习
    "食品 安全" NEAR/10 学校 source:weibo sentiment:negative
    region:330200 risk.group_incident>=0.5 -广告

Precedence, tightest first: NOT (also ``-x`` and 非) > NEAR/n > AND (also 且, or nothing
between two operands) > OR (also 或). Terms and phrases are substrings of the normalized
(Simplified, lower-case, NFKC) text, so they are normalized here with the pipeline's
:func:`~yuqing.pipeline.normalize.normalize_text`, once, at parse time.

:func:`parse` returns an immutable AST (:data:`Node`); :func:`format` writes its
canonical text, and ``parse(format(node)) == node`` for every AST that :func:`parse`
can return. Errors raise :class:`RuleSyntaxError` with the 1-based column.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from yuqing.errors import UsageError
from yuqing.pipeline.normalize import normalize_text

__all__ = [
    "FIELDS",
    "THRESHOLDS",
    "And",
    "Compare",
    "Field",
    "Near",
    "Node",
    "Not",
    "Or",
    "RuleSyntaxError",
    "Text",
    "format",
    "parse",
]

MAX_DEPTH: Final = 64
"""Deepest nesting of parentheses and NOTs: deeper rules are refused, not overflowed."""

MAX_DISTANCE: Final = 10_000
"""Largest ``n`` of ``NEAR/n``, in characters."""


class RuleSyntaxError(UsageError):
    """A rule that cannot be parsed; ``column`` is 1-based in the rule's text."""

    def __init__(self, column: int, reason: str) -> None:
        super().__init__(f"column {column}: {reason}")
        self.column = column
        self.reason = reason


# -- the AST ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A term or "exact phrase": a substring of the normalized text (already normalized)."""

    value: str


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    """Two or more children, none of them an And (the parser flattens)."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Two or more children, none of them an Or (the parser flattens)."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Some ``left`` and some ``right`` text occur with at most ``distance`` characters
    between the end of one and the start of the other, in either order. A side with
    several texts is written ``(a OR b)``."""

    left: tuple[Text, ...]
    right: tuple[Text, ...]
    distance: int


@dataclass(frozen=True, slots=True)
class Field:
    """``name:value`` on a document field; ``value`` is normalized (enums: English id)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Compare:
    """``name op value`` on a numeric score, e.g. ``risk.rumor>0.6``."""

    name: str
    op: str
    value: float


Node = Text | Not | And | Or | Near | Field | Compare

# -- fields -----------------------------------------------------------------------------

_SENTIMENTS = {"positive": "positive", "正面": "positive", "积极": "positive"}
_SENTIMENTS |= {"negative": "negative", "负面": "negative", "消极": "negative"}
_SENTIMENTS |= {"neutral": "neutral", "中性": "neutral"}
_EMOTIONS = {e: e for e in ("joy", "anger", "sadness", "fear", "surprise", "neutral")}
_EMOTIONS |= {"喜悦": "joy", "愤怒": "anger", "悲伤": "sadness", "恐惧": "fear"}
_EMOTIONS |= {"惊奇": "surprise", "中性": "neutral"}
_RISKS = {"ordinary": "ordinary", "group_incident": "group_incident", "rumor": "rumor"}
_RISKS |= {"rumour": "rumor", "一般": "ordinary", "群体性事件": "group_incident", "谣言": "rumor"}

ENUMS: Final[dict[str, dict[str, str]]] = {
    "sentiment": _SENTIMENTS,
    "emotion": _EMOTIONS,
    "risk": _RISKS,
}
"""Accepted values of the enum fields (English ids and Chinese labels) -> English id."""

FIELDS: Final = ("source", "region", "sentiment", "emotion", "author", "risk")
THRESHOLDS: Final = ("risk.rumor", "risk.group_incident")
_COMPARISONS: Final = (">=", "<=", ">", "<")

# -- the lexer --------------------------------------------------------------------------

_OPEN: Final = "(（"
_CLOSE: Final = ")）"
_QUOTES: Final = {'"': '"', "“": "”"}
_STOPS: Final = frozenset(_OPEN + _CLOSE + '"“”')
_KEYWORDS: Final = {"AND": "AND", "且": "AND", "OR": "OR", "或": "OR", "NOT": "NOT", "非": "NOT"}
_NEAR_RE: Final = re.compile(r"NEAR/([0-9]+)")
_FIELD_RE: Final = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(>=|<=|[:<>=])"
)
_NUMBER_RE: Final = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(" ")" AND OR NOT NEAR ATOM END
    column: int
    raw: str
    node: Node | None = None  # ATOM
    distance: int = 0  # NEAR

    def describe(self) -> str:
        return "end of rule" if self.kind == "END" else repr(self.raw)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _normalize_text_value(raw: str, column: int, what: str) -> str:
    value = normalize_text(raw)
    if not value:
        raise RuleSyntaxError(
            column, f"{what} {raw!r} has nothing left to match after normalization"
        )
    return value


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[_Token] = []

    def run(self) -> list[_Token]:
        text, i = self.text, 0
        while i < len(text):
            char = text[i]
            if char.isspace():
                i += 1
            elif char in _OPEN or char in _CLOSE:
                self.tokens.append(_Token("(" if char in _OPEN else ")", i + 1, char))
                i += 1
            elif char in _QUOTES:
                raw, end = self._quoted(i)
                value = _normalize_text_value(raw, i + 1, "phrase")
                self.tokens.append(_Token("ATOM", i + 1, text[i:end], Text(value)))
                i = end
            elif char == "-" and i + 1 < len(text) and not _ends_word(text[i + 1], "-"):
                self.tokens.append(_Token("NOT", i + 1, "-"))
                i += 1
            else:
                end = i
                while end < len(text) and not _ends_word(text[end]):
                    end += 1
                i = self._word(i, end)
        self.tokens.append(_Token("END", len(text) + 1, ""))
        return self.tokens

    def _quoted(self, start: int) -> tuple[str, int]:
        """The content of the quoted string opening at ``start`` and the index after it."""
        text, close = self.text, _QUOTES[self.text[start]]
        out: list[str] = []
        i = start + 1
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text) and text[i + 1] in (close, "\\"):
                out.append(text[i + 1])
                i += 2
            elif char == close:
                return "".join(out), i + 1
            else:
                out.append(char)
                i += 1
        raise RuleSyntaxError(
            len(text) + 1,
            f"expected {close!r} to close the quote {text[start]!r} at column {start + 1}",
        )

    def _word(self, start: int, end: int) -> int:
        """Classify the bare word ``text[start:end]``; return where lexing goes on."""
        raw = self.text[start:end]
        word, column = _nfkc(raw), start + 1
        if word in _KEYWORDS:
            self.tokens.append(_Token(_KEYWORDS[word], column, raw))
            return end
        near = _NEAR_RE.fullmatch(word)
        if near is not None and len(near.group(1)) > 5:
            raise RuleSyntaxError(column, f"{raw!r}: n may be at most {MAX_DISTANCE}")
        if near is not None:
            distance = int(near.group(1))
            if distance > MAX_DISTANCE:
                raise RuleSyntaxError(column, f"NEAR/{distance}: n may be at most {MAX_DISTANCE}")
            self.tokens.append(_Token("NEAR", column, raw, distance=distance))
            return end
        if word == "NEAR" or word.startswith("NEAR/"):
            raise RuleSyntaxError(
                column,
                f"expected NEAR/n with n a whole number of characters (NEAR/10), found {raw!r}",
            )
        field = _FIELD_RE.match(word)
        if field is None:
            value = _normalize_text_value(raw, column, "term")
            self.tokens.append(_Token("ATOM", column, raw, Text(value)))
            return end
        name, op = field.group(1).lower(), field.group(2)
        value_start = start + _raw_offset(raw, field.end())
        value_raw = word[field.end() :]
        if not value_raw and op == ":" and end < len(self.text) and self.text[end] in _QUOTES:
            value_raw, end = self._quoted(end)
        node = _field_node(name, op, value_raw, column, value_start + 1)
        self.tokens.append(_Token("ATOM", column, self.text[start:end], node))
        return end


def _ends_word(char: str, after: str = "") -> bool:
    """True when ``char`` ends a bare word; after a ``-``, only space or ')' does (``-(a)``)."""
    if after:
        return char.isspace() or char in _CLOSE
    return char.isspace() or char in _STOPS


def _raw_offset(raw: str, nfkc_offset: int) -> int:
    """The index in ``raw`` where its NFKC form reaches ``nfkc_offset`` characters."""
    consumed = 0
    for index, char in enumerate(raw):
        if consumed >= nfkc_offset:
            return index
        consumed += len(_nfkc(char))
    return len(raw)


def _field_node(name: str, op: str, raw: str, column: int, value_column: int) -> Node:
    """A Field or Compare from ``name``, ``op`` and the value as written."""
    if name in THRESHOLDS:
        if op not in _COMPARISONS:
            raise RuleSyntaxError(
                column, f"{name} is a score from 0 to 1: compare it, e.g. {name}>0.6 or {name}>=0.5"
            )
        number = _NUMBER_RE.fullmatch(raw)
        score = float(raw) if number is not None else math.nan
        if not 0.0 <= score <= 1.0:
            raise RuleSyntaxError(
                value_column, f"expected a number from 0 to 1 after '{name}{op}', found {raw!r}"
            )
        return Compare(name, op, score)
    if name not in FIELDS:
        known = ", ".join((*FIELDS, *THRESHOLDS))
        raise RuleSyntaxError(
            column,
            f"unknown field {name!r}; fields are {known} (to search for the text itself, "
            "put it in quotes)",
        )
    if op != ":":
        hint = " (scores: risk.rumor, risk.group_incident)" if name == "risk" else ""
        raise RuleSyntaxError(
            column, f"expected ':' after {name!r} ({name}:value), found {op!r}{hint}"
        )
    if not raw.strip():
        raise RuleSyntaxError(value_column, f"expected a value after '{name}:'")
    value = _normalize_text_value(raw, value_column, f"{name} value")
    if name in ENUMS:
        table = ENUMS[name]
        if value not in table:
            choices = ", ".join(dict.fromkeys(table.values()))
            raise RuleSyntaxError(
                value_column, f"unknown {name} {raw!r}; expected one of {choices}"
            )
        value = table[value]
    return Field(name, value)


# -- the parser -------------------------------------------------------------------------

_OPERAND_STARTS: Final = frozenset({"ATOM", "(", "NOT"})
_EXPECTED: Final = "expected a term, phrase, field filter or '('"
_CHAINED: Final = "NEAR/{} cannot follow another NEAR: join two NEARs with AND"


class _Parser:
    """Recursive descent: or := and (OR and)*; and := near ([AND] near)*;
    near := not (NEAR/n not)?; not := NOT not | primary; primary := ATOM | '(' or ')'."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def rule(self) -> Node:
        if self.peek.kind == "END":
            raise RuleSyntaxError(1, f"{_EXPECTED}: the rule is empty")
        node = self.or_()
        token = self.peek
        if token.kind == ")":
            raise RuleSyntaxError(token.column, "unexpected ')' with no '(' to close")
        return node

    def operand(self, after: _Token | None) -> None:
        """Raise unless the next token can start an operand."""
        token = self.peek
        if token.kind not in _OPERAND_STARTS:
            where = f" after {after.raw!r}" if after is not None else ""
            raise RuleSyntaxError(token.column, f"{_EXPECTED}{where}, found {token.describe()}")

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek.kind == "OR":
            op = self.take()
            self.operand(op)
            items.append(self.and_())
        return _flat(Or, items)

    def and_(self) -> Node:
        items = [self.near()]
        while True:
            if self.peek.kind == "AND":
                op = self.take()
                self.operand(op)
            elif self.peek.kind not in _OPERAND_STARTS:
                break
            items.append(self.near())
        return _flat(And, items)

    def near(self) -> Node:
        left_token = self.peek
        left = self.not_()
        if self.peek.kind != "NEAR":
            return left
        op = self.take()
        self.operand(op)
        right_token = self.peek
        right = self.not_()
        node = Near(
            _near_side(left, left_token, op, "left"),
            _near_side(right, right_token, op, "right"),
            op.distance,
        )
        if self.peek.kind == "NEAR":
            raise RuleSyntaxError(self.peek.column, _CHAINED.format(self.peek.distance))
        return node

    def not_(self) -> Node:
        if self.peek.kind != "NOT":
            return self.primary(None)
        op = self.take()
        self.operand(op)
        self.enter(op)
        child = self.not_()
        self.depth -= 1
        return Not(child)

    def primary(self, after: _Token | None) -> Node:
        self.operand(after)
        token = self.take()
        if token.node is not None:  # an ATOM; NOT was taken by not_(), so this is "("
            return token.node
        self.enter(token)
        self.operand(token)
        node = self.or_()
        self.depth -= 1
        if self.peek.kind != ")":
            raise RuleSyntaxError(
                self.peek.column,
                f"expected ')' to close '(' at column {token.column}, found {self.peek.describe()}",
            )
        self.take()
        return node

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(
                token.column, f"parentheses and NOTs nested deeper than {MAX_DEPTH} levels"
            )


def _flat(kind: type[And] | type[Or], items: list[Node]) -> Node:
    if len(items) == 1:
        return items[0]
    children: list[Node] = []
    for item in items:
        children.extend(item.children if isinstance(item, kind) else (item,))
    return kind(tuple(children))


def _near_side(node: Node, token: _Token, op: _Token, side: str) -> tuple[Text, ...]:
    if isinstance(node, Text):
        return (node,)
    if isinstance(node, Or) and all(isinstance(c, Text) for c in node.children):
        return tuple(c for c in node.children if isinstance(c, Text))
    hint = ""
    if isinstance(node, Not):
        hint = f" (NOT binds tighter than NEAR: write NOT (a NEAR/{op.distance} b))"
    raise RuleSyntaxError(
        token.column,
        f"NEAR/{op.distance} needs a term, a phrase or (a OR b) of terms on its {side}, "
        f"found {format(node)!r}{hint}",
    )


def parse(text: str) -> Node:
    """The AST of the rule ``text``; raises :class:`RuleSyntaxError` (column, reason)."""
    return _Parser(_Lexer(text).run()).rule()


# -- the formatter ----------------------------------------------------------------------


def _bare_ok(text: str, expected: Node) -> bool:
    """True when ``text`` written bare lexes back to exactly ``expected``."""
    if not text or any(_ends_word(c) for c in text):
        return False
    try:
        tokens = _Lexer(text).run()
    except RuleSyntaxError:
        return False
    return len(tokens) == 2 and tokens[0].kind == "ATOM" and tokens[0].node == expected


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_text(node: Text) -> str:
    return node.value if _bare_ok(node.value, node) else _quote(node.value)


def _format_side(side: tuple[Text, ...]) -> str:
    if len(side) == 1:
        return _format_text(side[0])
    return "(" + " OR ".join(_format_text(t) for t in side) + ")"


_PRECEDENCE: Final = {Or: 1, And: 2, Near: 3, Not: 4}


def _wrapped(node: Node, least: int) -> str:
    """``node`` formatted, in parentheses when it binds looser than ``least``."""
    text = format(node)
    return text if _PRECEDENCE.get(type(node), 5) >= least else f"({text})"


def format(node: Node) -> str:
    """The canonical text of ``node``: ``parse(format(node)) == node``."""
    if isinstance(node, Text):
        return _format_text(node)
    if isinstance(node, Field):
        bare = f"{node.name}:{node.value}"
        return bare if _bare_ok(bare, node) else f"{node.name}:{_quote(node.value)}"
    if isinstance(node, Compare):
        return f"{node.name}{node.op}{node.value!r}"
    if isinstance(node, Not):
        return "NOT " + _wrapped(node.child, 4)
    if isinstance(node, Near):
        return f"{_format_side(node.left)} NEAR/{node.distance} {_format_side(node.right)}"
    if isinstance(node, And):
        return " AND ".join(_wrapped(c, 3) for c in node.children)
    return " OR ".join(_wrapped(c, 2) for c in node.children)
