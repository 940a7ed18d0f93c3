"""The editable cue lists of the questions-and-demands digest, read from YAML.

The shipped file is ``yuqing/judgement/data/demands.yaml``; users pass their own copy to
:func:`load_lexicon`. Every word is normalized like post text (Simplified, lower case,
half-width) so that a list written in Traditional still matches. The compiled regular
expressions live here too, so that :mod:`yuqing.judgement.demands` only reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from yuqing.errors import ConfigError
from yuqing.pipeline.normalize import normalize_text

__all__ = ["DemandKind", "Lexicon", "QuestionCue", "default_lexicon", "load_lexicon"]


@dataclass(frozen=True, slots=True)
class QuestionCue:
    """One class of question words (为什么, 是不是, 谁来负责 ...)."""

    canonical: str
    words: tuple[str, ...]
    standalone: bool


@dataclass(frozen=True, slots=True)
class DemandKind:
    """One kind of demand (要求公开, 要求道歉 ...): its cue words and how to group it.

    ``by_object``: members are grouped further by what is demanded (公开检测报告 and
    公开监控录像 are two lines); otherwise the kind is one line. ``strong`` cues are
    demands without a marker (严惩, 彻查).
    """

    id: str
    label: str
    cues: tuple[str, ...]
    strong: frozenset[str]
    by_object: bool


def _alternation(words: list[str]) -> re.Pattern[str]:
    """One regex matching any of ``words``, longest first (so 谁来负责 beats 谁)."""
    unique = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    if not unique:
        return re.compile(r"(?!x)x")  # matches nothing
    return re.compile("|".join(re.escape(w) for w in unique))


@dataclass(frozen=True)
class Lexicon:
    """The parsed cue lists plus the regexes built from them."""

    questions: tuple[QuestionCue, ...]
    end_particles: tuple[str, ...]
    markers: tuple[str, ...]
    reported: tuple[str, ...]
    kinds: tuple[DemandKind, ...]
    synonyms: dict[str, str]  # variant -> canonical (canonical -> itself too)
    fillers: tuple[str, ...]
    particles: tuple[str, ...]

    def __post_init__(self) -> None:
        cue_of = {w: q for q in self.questions for w in q.words}
        object.__setattr__(self, "question_of", cue_of)
        object.__setattr__(self, "question_re", _alternation(list(cue_of)))
        kind_of = {w: k for k in self.kinds for w in k.cues}
        object.__setattr__(self, "kind_of", kind_of)
        object.__setattr__(self, "demand_re", _alternation(list(kind_of)))
        object.__setattr__(self, "marker_re", _alternation(list(self.markers)))
        object.__setattr__(self, "reported_re", _alternation(list(self.reported)))
        object.__setattr__(self, "synonym_re", _alternation(list(self.synonyms)))
        strip = list(self.fillers) + list(self.particles)
        object.__setattr__(
            self, "demand_strip_re", _alternation(list(kind_of) + list(self.markers) + strip)
        )
        object.__setattr__(self, "question_strip_re", _alternation(list(cue_of) + strip))

    # Filled by __post_init__.
    question_of: dict[str, QuestionCue] = field(init=False, repr=False, compare=False)
    question_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    kind_of: dict[str, DemandKind] = field(init=False, repr=False, compare=False)
    demand_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    marker_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    reported_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    synonym_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    demand_strip_re: re.Pattern[str] = field(init=False, repr=False, compare=False)
    question_strip_re: re.Pattern[str] = field(init=False, repr=False, compare=False)


def _words(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ConfigError(f"{where} must be a list of words, got {value!r}")
    return [n for v in value if (n := normalize_text(str(v)).strip())]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(value).__name__}")
    return value


def parse_lexicon(data: Any, where: str = "lexicon") -> Lexicon:
    """A :class:`Lexicon` from parsed YAML; ``where`` names the file in error messages."""
    root = _mapping(data, where)
    questions_node = _mapping(root.get("questions"), f"{where}: questions")
    questions = []
    for i, entry in enumerate(questions_node.get("cues") or []):
        node = _mapping(entry, f"{where}: questions.cues[{i}]")
        canonical = normalize_text(str(node.get("canonical", "")))
        words = _words(node.get("words"), f"{where}: questions.cues[{i}].words")
        if not canonical or not words:
            raise ConfigError(f"{where}: questions.cues[{i}] needs a canonical and words")
        questions.append(QuestionCue(canonical, tuple(words), bool(node.get("standalone"))))
    demands_node = _mapping(root.get("demands"), f"{where}: demands")
    kinds = []
    seen: set[str] = set()
    for i, entry in enumerate(demands_node.get("kinds") or []):
        node = _mapping(entry, f"{where}: demands.kinds[{i}]")
        kind_id = str(node.get("id", ""))
        cues = _words(node.get("cues"), f"{where}: demands.kinds[{i}].cues")
        if not kind_id or not cues or kind_id in seen:
            raise ConfigError(
                f"{where}: demands.kinds[{i}] needs a unique id and a list of cues (id={kind_id!r})"
            )
        seen.add(kind_id)
        strong = _words(node.get("strong"), f"{where}: demands.kinds[{i}].strong")
        kinds.append(
            DemandKind(
                id=kind_id,
                label=str(node.get("label") or kind_id),
                cues=tuple(dict.fromkeys(cues + strong)),
                strong=frozenset(strong),
                by_object=bool(node.get("by_object")),
            )
        )
    synonyms: dict[str, str] = {}
    for canonical, variants in _mapping(root.get("synonyms"), f"{where}: synonyms").items():
        target = normalize_text(str(canonical))
        synonyms[target] = target
        for variant in _words(variants, f"{where}: synonyms.{canonical}"):
            synonyms.setdefault(variant, target)
    return Lexicon(
        questions=tuple(questions),
        end_particles=tuple(_words(questions_node.get("end_particles"), f"{where}: end_particles")),
        markers=tuple(_words(demands_node.get("markers"), f"{where}: demands.markers")),
        reported=tuple(_words(demands_node.get("reported"), f"{where}: demands.reported")),
        kinds=tuple(kinds),
        synonyms=synonyms,
        fillers=tuple(_words(root.get("fillers"), f"{where}: fillers")),
        particles=tuple(_words(root.get("particles"), f"{where}: particles")),
    )


def load_lexicon(path: str | Path) -> Lexicon:
    """Read a cue file written like ``yuqing/judgement/data/demands.yaml``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the demand cue file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}; fix the file") from exc
    return parse_lexicon(data, str(path))


@cache
def default_lexicon() -> Lexicon:
    """The shipped cue lists (``yuqing/judgement/data/demands.yaml``)."""
    text = resources.files("yuqing.judgement").joinpath("data/demands.yaml").read_text("utf-8")
    return parse_lexicon(yaml.safe_load(text), "yuqing/judgement/data/demands.yaml")
