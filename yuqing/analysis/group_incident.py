"""Group-incident (网络群体性事件) risk: a documented scoring model from signals.

No labelled public data set of group incidents exists, so this is not a trained model.
:class:`GroupIncidentScorer` finds the signals an officer would look for: gathering,
strike, petition, protest, blockade and wage-arrears vocabulary; a place and a time for a
gathering; crowd sizes; calls to action; the emotion model's anger and fear; the spread
velocity. It combines them with the logistic formula whose weights live in one table,
:data:`yuqing.analysis.lexicon.WEIGHTS`::

    z     = BIAS + sum(weight[s] * value[s])       value[s] in 0..1.5
    score = 1 / (1 + exp(-z))

and reports each contributing signal as a reason in Chinese ("聚集类词语: 聚集, 拉横幅").
Negation ("没有聚集", "严禁聚集"), debunking ("辟谣"), hearsay ("网传"), historical
mentions ("当年") and entertainment or everyday crowds ("演唱会", "游客") lower it.

The vocabulary is matched with one Aho-Corasick automaton (ahocorasick_rs), the place /
time / crowd patterns with three precompiled regular expressions; Traditional spellings
are matched too, so raw text works as well as normalized Simplified text.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import ahocorasick_rs

from yuqing.analysis import lexicon

MAX_CHARS = 10_000  # longer texts are scored on their first MAX_CHARS characters
VELOCITY_HALF = 50.0  # posts per hour at which the velocity signal is 0.5
_SINGLE_NEGATORS = frozenset(n for n in lexicon.NEGATORS if len(n) == 1)
_MULTI_NEGATORS = (
    *(n for n in lexicon.NEGATORS if len(n) > 1),
    *("未发生", "没发生", "未出现", "没出现"),
)
PLACE_LEADS = (
    "在",
    "到",
    "去",
    "来",
    "前往",
    "齐聚",
    "围在",
    "堵在",
    "集中在",
    "围堵",
    "堵住",
    "围住",
)
_ACTION = ("gathering", "strike", "petition", "protest", "mobilize", "blockade")
_CN_DIGITS = {
    "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
    "八": 8, "九": 9, "几": 3, "数": 3, "上": 1, "成": 1, "兩": 2, "幾": 3, "數": 3,
}  # fmt: skip
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}


@dataclass(slots=True)
class GroupIncidentResult:
    """The score in 0..1, its reasons (Chinese, strongest first) and each signal's
    contribution to the logit (weight × value; ``bias`` included)."""

    score: float
    reasons: list[str] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)


@functools.cache
def _to_traditional() -> Callable[[str], str] | None:
    """OpenCC's s2t conversion, loaded once per process; None without OpenCC."""
    try:
        import opencc
    except ImportError:  # Simplified only: normalized text is still fully covered
        return None
    converter = opencc.OpenCC("s2t")
    return lambda word: str(converter.convert(word))


def _variants(words: Iterable[str]) -> list[str]:
    """The words plus their Traditional spellings, without duplicates."""
    words = list(dict.fromkeys(words))
    convert = _to_traditional()
    if convert is None:
        return words
    return list(dict.fromkeys(words + [convert(w) for w in words]))


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(_variants(words), key=len, reverse=True))


def _cn_number(text: str) -> int:
    """Parse 200, 两百, 上百, 数千, 三万 ... approximately (几/数 count as 3)."""
    if text.isdigit():
        return int(text)
    total = section = digit = 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "万萬":
            total += (section + digit or 1) * 10_000
            section = digit = 0
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + section + digit


class GroupIncidentScorer:
    """Score the group-incident risk of one text; configuration is the lexicon module.

    ``weights`` overrides rows of :data:`lexicon.WEIGHTS` (name → weight), ``bias`` the
    intercept. The instance is immutable after construction and safe to share.
    """

    def __init__(
        self, *, weights: dict[str, float] | None = None, bias: float = lexicon.BIAS
    ) -> None:
        self.bias = bias
        self.weights = {name: w for name, (w, _label) in lexicon.WEIGHTS.items()}
        self.labels = {name: label for name, (_w, label) in lexicon.WEIGHTS.items()}
        unknown = set(weights or {}) - set(self.weights)
        if unknown:
            raise ValueError(
                f"unknown group-incident signals {sorted(unknown)}; known: {sorted(self.weights)}"
            )
        self.weights.update(weights or {})
        groups: dict[str, Sequence[str]] = dict(lexicon.TERMS)
        groups |= {
            "debunk": lexicon.DEBUNK,
            "hearsay": lexicon.HEARSAY,
            "historical": lexicon.HISTORICAL,
            "benign": lexicon.BENIGN,
        }
        term_of: dict[str, tuple[str, str]] = {}
        for signal, terms in groups.items():
            for term in terms:
                for variant in _variants([term]):
                    term_of.setdefault(variant, (signal, term))
        self._patterns = list(term_of)
        self._meaning = [term_of[p] for p in self._patterns]
        self._automaton = ahocorasick_rs.AhoCorasick(
            self._patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
        )
        stop = r"[^，。！？；,.!?;\s]"
        self._place = re.compile(
            rf"(?:{_alternation(PLACE_LEADS)})"
            rf"{stop}{{0,12}}?(?:{_alternation(lexicon.PLACE_NOUNS)})"
        )
        day = _alternation(["明天", "明日", "今晚", "今天", "后天", "今早", "明早", "明晚"])
        week = _alternation(["下周", "本周", "这周", "周", "星期", "礼拜"])
        self._time = re.compile(
            rf"(?:{day}|(?:{week})[一二三四五六日天末]|\d{{1,2}}月\d{{1,2}}[日号])"
            rf"(?:{_alternation(['上午', '下午', '晚上', '早上', '中午', '凌晨', '傍晚'])})?"
            r"(?:\d{1,2}[点时:：]\d{0,2}|[一二三四五六七八九十]{1,3}点)?"
        )
        self._crowd = re.compile(
            r"(\d+|[零一二两兩三四五六七八九十百千万萬几幾数數上成]+)(?:多|余|来)?[个名位]?"
            rf"(?:{_alternation(lexicon.CROWD_NOUNS)})"
        )
        self._vague_crowd = re.compile(_alternation(lexicon.VAGUE_CROWD))

    def score(
        self,
        text: str,
        *,
        anger: float = 0.0,
        fear: float = 0.0,
        velocity: float | None = None,
    ) -> GroupIncidentResult:
        """Score ``text``; ``anger``/``fear`` are emotion probabilities in 0..1,
        ``velocity`` the spread rate in posts (or reposts) per hour, when known."""
        text = (text or "")[:MAX_CHARS]
        hits: dict[str, list[str]] = {}
        negated: list[str] = []
        for index, start, end in self._automaton.find_matches_as_indexes(text):
            signal, term = self._meaning[index]
            negator = self._negator_at(text, start)
            if negator >= 0:
                if signal in _ACTION or signal in ("grievance", "debunk"):
                    negated.append(text[negator:end])
                continue
            bucket = hits.setdefault(signal, [])
            if term not in bucket:
                bucket.append(term)
        values: dict[str, float] = {}
        details: dict[str, str] = {}
        for signal, terms in hits.items():
            values[signal] = (
                1.0 + 0.25 * (min(len(terms), 3) - 1) if signal in lexicon.TERMS else 1.0
            )
            details[signal] = ", ".join(terms[:5])
        self._patterns_signals(text, values, details)
        if "place" in values and "time" in values and any(s in values for s in _ACTION):
            values["plan"] = 1.0
            details["plan"] = ""
        if negated:
            values["negated"] = 1.0
            details["negated"] = ", ".join(dict.fromkeys(negated))
        for name, value, shown in (
            ("anger", _unit(anger), "{:.2f}"),
            ("fear", _unit(fear), "{:.2f}"),
            ("velocity", _velocity(velocity), "{:.2f}"),
        ):
            if value > 0:
                values[name] = value
                details[name] = shown.format(value)
        contributions = {s: self.weights[s] * v for s, v in values.items()}
        z = self.bias + sum(contributions.values())
        ordered = sorted(contributions.items(), key=lambda kv: -abs(kv[1]))
        reasons = [
            f"{self.labels[s]}: {details[s]}" if details.get(s) else self.labels[s]
            for s, c in ordered
            if c != 0
        ]
        signals = {"bias": self.bias} | {s: round(c, 4) for s, c in ordered}
        return GroupIncidentResult(score=_sigmoid(z), reasons=reasons, signals=signals)

    def _patterns_signals(
        self, text: str, values: dict[str, float], details: dict[str, str]
    ) -> None:
        """Place, time and crowd-size signals from the precompiled patterns."""
        place = self._place.search(text)
        if place:
            values["place"], details["place"] = 1.0, place.group(0)
        when = self._time.search(text)
        if when and len(when.group(0)) >= 2:
            values["time"], details["time"] = 1.0, when.group(0)
        best, shown = 0.0, ""
        for match in self._crowd.finditer(text):
            people = _cn_number(match.group(1))
            if people >= lexicon.CROWD_MIN:
                ratio = math.log(people / lexicon.CROWD_MIN) / math.log(
                    lexicon.CROWD_FULL / lexicon.CROWD_MIN
                )
                strength = 0.4 + 0.6 * min(1.0, ratio)
                if strength > best:
                    best, shown = strength, match.group(0)
        vague = self._vague_crowd.search(text)
        if vague and best < 0.5:
            best, shown = 0.5, vague.group(0)
        if best > 0:
            values["crowd"], details["crowd"] = best, shown

    @staticmethod
    def _negator_at(text: str, start: int) -> int:
        """Where a negator right before the hit begins (-1: none). Multi-character
        negators (没有, 并无, 严禁) count within NEGATION_WINDOW characters, single ones
        (没, 未, 无) within two, so that 无良老板拖欠工资 stays a grievance."""
        low = max(0, start - lexicon.NEGATION_WINDOW)
        window = text[low:start]
        found = [window.find(n) for n in _MULTI_NEGATORS if n in window]
        if found:
            return low + min(found)
        for offset in (2, 1):
            if start - offset >= 0 and text[start - offset] in _SINGLE_NEGATORS:
                return start - offset
        return -1


def _unit(value: float) -> float:
    """Clamp to 0..1; NaN and other junk count as 0."""
    if not isinstance(value, int | float) or math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def _velocity(value: float | None) -> float:
    """Posts per hour → 0..1 (v / (v + VELOCITY_HALF)); None, NaN or negative → 0."""
    if value is None or not isinstance(value, int | float) or math.isnan(value) or value <= 0:
        return 0.0
    if math.isinf(value):
        return 1.0
    return float(value) / (float(value) + VELOCITY_HALF)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
