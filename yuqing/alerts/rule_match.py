"""Evaluate one parsed rule against a :class:`~yuqing.models.Document`.

What a rule sees of a document (a :class:`Subject`, built once per document):

* the **text**: ``doc.norm_text``, ``doc.quoted_text`` (the words a ``//@`` repost quotes)
  and the normalized ``doc.title``, as separate parts; a term matches when it is a
  substring of any part, and NEAR/n only pairs occurrences within one part. A document
  that has not been normalized (empty ``norm_text``) is normalized here from ``doc.text``;
* the **fields**: ``doc.source``, ``doc.author``, ``doc.region`` (the record's hint) and
  the analysis fields ``sentiment``, ``emotion``, ``regions`` and ``risk`` of
  ``doc.analysis`` (a filter on a field the document lacks is false).

:func:`compile_rule` turns an AST into a closure over a Subject (what the many-rule
matcher keeps); :func:`matches` and :func:`explain` are the one-off forms.
:func:`required_literals` gives what the Aho-Corasick prefilter of
:mod:`yuqing.alerts.matcher` looks for: with ``fields=True`` the field filters add keys
that :attr:`Subject.keys` contains (``\\x02source=weibo\\x03``), so field-only rules are
prefiltered too.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Final

from yuqing.alerts.rule_syntax import And, Compare, Field, Near, Node, Not, Or, Text
from yuqing.alerts.rule_syntax import format as format_rule
from yuqing.models import Document
from yuqing.pipeline.normalize import normalize_text

__all__ = [
    "Predicate",
    "RegionLookup",
    "Subject",
    "compile_rule",
    "explain",
    "gazetteer_region_lookup",
    "matches",
    "required_literals",
]

RegionLookup = Callable[[str], Iterable[str]]
"""Region name -> the 6-digit codes it names (宁波 -> 330200), to widen ``region:NAME`` to
every place inside those regions. :func:`gazetteer_region_lookup` builds one."""

_KEY_START: Final = "\x02"  # control characters: normalized text never contains them
_KEY_END: Final = "\x03"
_DIGITS: Final = re.compile(r"[0-9]+")


@lru_cache(maxsize=4096)
def _norm(value: str) -> str:
    """normalize_text, cached: sources, authors and regions repeat across posts."""
    return normalize_text(value)


def _key(name: str, value: str, *, closed: bool = True) -> str:
    return f"{_KEY_START}{name}={value}{_KEY_END if closed else ''}"


def code_prefix(code: str) -> str:
    """The meaningful prefix of a GB/T 2260 code: 330200 -> 3302, 330000 -> 33."""
    if len(code) == 6 and code.isdigit():
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


class Subject:
    """One document as rules see it: text parts and field values, normalized once."""

    __slots__ = (
        "author",
        "codes",
        "doc",
        "parts",
        "region_hint",
        "region_names",
        "risk",
        "source",
        "text",
    )

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        main = doc.norm_text or (normalize_text(doc.text) if doc.text else "")
        title = normalize_text(doc.title) if doc.title else ""
        self.parts: tuple[str, ...] = tuple(p for p in (main, doc.quoted_text, title) if p)
        self.text = "\n".join(self.parts)  # terms never contain a newline
        self.source = _norm(doc.source) if doc.source else ""
        self.author = _norm(doc.author) if doc.author else ""
        self.region_hint = _norm(doc.region) if doc.region else ""
        names: list[str] = []
        codes: list[str] = []
        for region in doc.analysis.get("regions") or ():
            if isinstance(region, dict):
                names.append(str(region.get("name") or ""))
                codes.append(str(region.get("code") or ""))
        if self.region_hint and self.region_hint.isdigit():
            codes.append(self.region_hint)
        self.region_names = names
        self.codes = codes
        risk = doc.analysis.get("risk")
        self.risk: dict[str, Any] = risk if isinstance(risk, dict) else {}

    @property
    def keys(self) -> str:
        """The field values as prefilter keys (see :func:`required_literals`)."""
        analysis = self.doc.analysis
        parts = [_key("source", self.source), _key("author", self.author)]
        for name in ("sentiment", "emotion"):
            if isinstance(analysis.get(name), str):
                parts.append(_key(name, analysis[name]))
        if isinstance(self.risk.get("type"), str):
            parts.append(_key("risk", self.risk["type"]))
        parts.extend(_key("region", name) for name in (*self.region_names, self.region_hint))
        parts.extend(_key("code", code) for code in self.codes)
        return "".join(parts)


Predicate = Callable[[Subject], bool]

# -- compiling --------------------------------------------------------------------------


def _spans(text: str, literal: str) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of ``literal`` in ``text``, overlaps included."""
    out: list[tuple[int, int]] = []
    start = text.find(literal)
    while start >= 0:
        out.append((start, start + len(literal)))
        start = text.find(literal, start + 1)
    return out


def near_in(part: str, left: Sequence[str], right: Sequence[str], distance: int) -> bool:
    """True when an occurrence of a ``left`` literal and one of a ``right`` literal have at
    most ``distance`` characters between them (either order; overlapping ones count)."""
    lefts = [span for literal in left for span in _spans(part, literal)]
    if not lefts:
        return False
    rights = sorted(span for literal in right for span in _spans(part, literal))
    if not rights:
        return False
    starts = [start for start, _ in rights]
    longest = max(end - start for start, end in rights)
    for start, end in lefts:
        # a right occurrence (rs, re) is near when rs <= end + distance and re >= start - distance
        low = bisect.bisect_left(starts, start - distance - longest)
        high = bisect.bisect_right(starts, end + distance)
        for _, r_end in rights[low:high]:
            if r_end >= start - distance:
                return True
    return False


def _region_check(value: str, lookup: RegionLookup | None) -> Predicate:
    """``region:VALUE``: a code prefix (digits) or a name inside a region name or the hint;
    with a lookup, also any region whose code lies inside a place that VALUE names."""
    if _DIGITS.fullmatch(value):
        prefixes: tuple[str, ...] = (code_prefix(value),)
        name = ""
    else:
        prefixes = tuple(sorted({code_prefix(c) for c in lookup(value)})) if lookup else ()
        name = value

    def check(subject: Subject) -> bool:
        if name and (any(name in n for n in subject.region_names) or name in subject.region_hint):
            return True
        if not name and value in subject.region_hint:
            return True
        return any(code.startswith(prefixes) for code in subject.codes) if prefixes else False

    return check


def _field_check(node: Field, lookup: RegionLookup | None) -> Predicate:
    value = node.value
    if node.name == "region":
        return _region_check(value, lookup)
    if node.name == "source":
        return lambda s: s.source == value
    if node.name == "author":
        return lambda s: s.author == value
    if node.name == "risk":
        return lambda s: s.risk.get("type") == value
    name = node.name  # sentiment, emotion
    return lambda s: s.doc.analysis.get(name) == value


_OPS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _compare_check(node: Compare) -> Predicate:
    key, test, limit = node.name.split(".", 1)[1], _OPS[node.op], node.value

    def check(subject: Subject) -> bool:
        score = subject.risk.get(key)
        return isinstance(score, int | float) and test(float(score), limit)

    return check


def compile_rule(node: Node, *, region_lookup: RegionLookup | None = None) -> Predicate:
    """A closure that evaluates ``node`` on a :class:`Subject`."""
    if isinstance(node, Text):
        value = node.value
        return lambda s: value in s.text
    if isinstance(node, Not):
        inner = compile_rule(node.child, region_lookup=region_lookup)
        return lambda s: not inner(s)
    if isinstance(node, And | Or):
        checks = tuple(compile_rule(c, region_lookup=region_lookup) for c in node.children)
        if isinstance(node, And):
            return lambda s: all(check(s) for check in checks)
        return lambda s: any(check(s) for check in checks)
    if isinstance(node, Near):
        left = tuple(t.value for t in node.left)
        right = tuple(t.value for t in node.right)
        distance = node.distance
        return lambda s: any(near_in(part, left, right, distance) for part in s.parts)
    if isinstance(node, Field):
        return _field_check(node, region_lookup)
    return _compare_check(node)


def matches(node: Node, doc: Document, *, region_lookup: RegionLookup | None = None) -> bool:
    """True when ``doc`` satisfies the rule ``node``."""
    return compile_rule(node, region_lookup=region_lookup)(Subject(doc))


def explain(node: Node, doc: Document, *, region_lookup: RegionLookup | None = None) -> list[str]:
    """The positive parts of the rule that hold for ``doc`` (terms, NEARs, filters, in
    canonical form and rule order, without duplicates): why it matched, or how close it
    came. Parts under a NOT are left out."""
    subject = Subject(doc)
    out: dict[str, None] = {}

    def walk(item: Node) -> None:
        if isinstance(item, Not):
            return
        if isinstance(item, And | Or):
            for child in item.children:
                walk(child)
        elif compile_rule(item, region_lookup=region_lookup)(subject):
            out[format_rule(item)] = None

    walk(node)
    return list(out)


# -- the prefilter's literals -----------------------------------------------------------


def _field_keys(node: Field, lookup: RegionLookup | None) -> set[str] | None:
    """Keys of which one is in ``Subject.keys`` (or the text) whenever ``node`` holds."""
    if node.name != "region":
        return {_key(node.name, node.value)}
    if _DIGITS.fullmatch(node.value):
        prefix = code_prefix(node.value)
        return {_key("code", prefix, closed=False), node.value}
    keys = {node.value}
    if lookup is not None:
        keys |= {_key("code", code_prefix(c), closed=False) for c in lookup(node.value)}
    return keys


def required_literals(
    node: Node, *, fields: bool = False, region_lookup: RegionLookup | None = None
) -> list[set[str]] | None:
    """Clauses of literals: whenever ``node`` matches, every clause has a literal that
    occurs in ``Subject.text`` (plus ``Subject.keys`` when ``fields``). None when the rule
    can match with no literal present (``NOT x``, ``a OR NOT b``, a score threshold alone,
    and field-only rules unless ``fields``)."""
    if isinstance(node, Text):
        return [{node.value}]
    if isinstance(node, Near):
        return [{t.value for t in node.left}, {t.value for t in node.right}]
    if isinstance(node, Field):
        keys = _field_keys(node, region_lookup) if fields else None
        return [keys] if keys else None
    if isinstance(node, Not | Compare):
        return None
    parts = [
        required_literals(c, fields=fields, region_lookup=region_lookup) for c in node.children
    ]
    if isinstance(node, And):
        clauses = [clause for part in parts if part for clause in part]
        return clauses or None
    if any(part is None for part in parts):
        return None
    # OR: one clause, the union of each child's smallest clause (a sound relaxation)
    union: set[str] = set()
    for part in parts:
        assert part is not None
        union |= min(part, key=len)
    return [union]


@lru_cache(maxsize=1)
def _finder() -> Any:
    from yuqing.analysis.regions import RegionFinder

    return RegionFinder(hint_fallback=False)


def gazetteer_region_lookup(name: str) -> list[str]:
    """Codes of the places ``name`` names in the shipped gazetteer (宁波 -> [330200]);
    loads the gazetteer on first use (about half a second)."""
    return [region["code"] for region in _finder().find(name)]
