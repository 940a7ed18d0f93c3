"""Which decided claim a post repeats, and what that does to the post's risk.

**Matching.** Texts are compared normalized (Simplified, lower case: the ``normalize``
stage's text; a claim's statement goes through the same
:func:`~yuqing.pipeline.normalize.normalize_text`, so a Traditional repeat matches a
Simplified claim and the other way round) with punctuation and spaces taken out. A post
repeats a claim when

* it contains every key phrase of the claim (the analyst's own rule, for paraphrases), or
* it contains at least ``containment`` (default 0.6) of the statement's character bigrams
  (:func:`yuqing.pipeline.minhash.shingle_set`): the share of the claim found in the
  post, not Jaccard, because a repeat usually wraps the claim in more words
  ("网传……是真的吗"). Statements under ``min_chars`` characters match by key phrases only.

An inverted index from bigram to claims finds the candidates, so a post costs one lookup
per bigram plus one count per claim sharing a bigram with it (and a substring test per
claim with key phrases). Only ``true`` and ``false`` claims take part;
``unverified`` ones change nothing.

**Stance.** A post that repeats a debunked claim while calling it false ("辟谣", "谣言",
"不实", "别信" ..., not negated as in "不是谣言") *refutes* it: it is linked to the claim
but its score is not raised.

**Effect** (:func:`apply_match`): a post repeating a ``false`` claim gets ``risk.rumor``
raised to at least ``raise_to`` (0.9), ``risk.type`` decided again by the rule of
:func:`yuqing.analysis.risk.decide`, a reason naming the claim and its evidence link, and
``analysis["claim"] = {id, verdict, evidence, statement, score, stance, base_rumor}``. A
post repeating a ``true`` claim keeps its score and gets a reason saying it matches a
verified claim. ``base_rumor`` (the score before) lets a later verdict undo the raise:
applying again always starts from the post as the models scored it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from yuqing.analysis.risk import GROUP_THRESHOLD, HEAD_PREFIXES, RUMOR_THRESHOLD, decide
from yuqing.pipeline.minhash import shingle_set
from yuqing.pipeline.normalize import normalize_text
from yuqing.rumors.claim import Claim

__all__ = [
    "CLAIM_REASON_MARK",
    "ClaimIndex",
    "ClaimMatch",
    "apply_match",
    "clean_text",
    "post_text",
]

Stance = Literal["repeats", "refutes"]
CONTAINMENT = 0.6
MIN_CHARS = 4
RAISE_TO = 0.9
MAX_REASONS = 8
CLAIM_REASON_MARK = "【说法核查】"  # every reason this module adds starts with it

_NON_WORD = re.compile(r"[\W_]+")
_DEBUNK_CUES = (
    "辟谣",
    "谣言",
    "不实",
    "假消息",
    "假新闻",
    "别信",
    "勿信",
    "不要信",
    "不要相信",
    "谣传",
    "纯属捏造",
    "纯属虚构",
    "澄清",
)
_NEGATED_CUES = re.compile(r"(不是|并非|绝非|不算|哪里是|怎么是)(谣言|谣传|假消息|假新闻)")


def clean_text(text: str, *, normalized: bool = False) -> str:
    """The comparable form: normalized (unless already) with punctuation and spaces out."""
    return _NON_WORD.sub("", text if normalized else normalize_text(text))


def post_text(norm_text: str, quoted_text: str = "", title: str | None = None) -> str:
    """What a post says, for matching: its title (normalized here), own words and the
    text it quotes through a ``//@`` chain (both already normalized by the pipeline)."""
    parts = [normalize_text(title) if title else "", norm_text, quoted_text]
    return " ".join(p for p in parts if p)


def refutes(text: str) -> bool:
    """True when a normalized text calls what it mentions false (see the module docs)."""
    plain = _NEGATED_CUES.sub("", text)
    return any(cue in plain for cue in _DEBUNK_CUES)


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """A post's best claim: how much of the statement it holds (``score``, 0-1; 1.0 for a
    key-phrase match), how it matched, and whether it repeats or refutes the claim."""

    claim: Claim
    score: float
    how: Literal["similar", "key_phrases"]
    stance: Stance


@dataclass(slots=True)
class _Entry:
    claim: Claim
    shingles: int  # how many bigrams the statement has (0: key phrases only)
    phrases: tuple[str, ...]


class ClaimIndex:
    """The decided claims (``true``/``false``), ready to match posts against."""

    def __init__(
        self,
        claims: Iterable[Claim],
        *,
        containment: float = CONTAINMENT,
        min_chars: int = MIN_CHARS,
    ) -> None:
        if not 0.0 < containment <= 1.0:
            raise ValueError(f"containment must lie in (0, 1], got {containment}")
        self.containment = containment
        self.entries: list[_Entry] = []
        self._by_shingle: dict[str, list[int]] = {}
        self._phrased: list[int] = []  # claims with key phrases: checked on every post
        for claim in claims:
            if claim.verdict == "unverified":
                continue
            text = clean_text(claim.statement)
            phrases = tuple(p for p in (clean_text(k) for k in claim.key_phrases) if p)
            shingles = shingle_set(text, 2) if len(text) >= min_chars else set()
            if not shingles and not phrases:
                continue
            number = len(self.entries)
            self.entries.append(_Entry(claim, len(shingles), phrases))
            if phrases:
                self._phrased.append(number)
            for shingle in shingles:
                self._by_shingle.setdefault(shingle, []).append(number)

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, text: str, *, normalized: bool = True) -> ClaimMatch | None:
        """The best claim that ``text`` repeats (or refutes), or None. ``normalized``:
        the text is already the pipeline's normalized text."""
        if not self.entries:
            return None
        norm = text if normalized else normalize_text(text)
        plain = clean_text(norm, normalized=True)
        if len(plain) < 2:
            return None
        shared: dict[int, int] = {}
        by_shingle = self._by_shingle
        for shingle in shingle_set(plain, 2):
            for number in by_shingle.get(shingle, ()):
                shared[number] = shared.get(number, 0) + 1
        best: tuple[float, int, int] | None = None  # (score, false first, -number)
        how: dict[int, Literal["similar", "key_phrases"]] = {}
        for number in sorted({*shared, *self._phrased}):
            entry = self.entries[number]
            score = shared.get(number, 0) / entry.shingles if entry.shingles else 0.0
            if score >= self.containment:
                how[number] = "similar"
            elif entry.phrases and all(p in plain for p in entry.phrases):
                score, how[number] = 1.0, "key_phrases"
            else:
                continue
            rank = (round(score, 6), int(entry.claim.verdict == "false"), -number)
            if best is None or rank > best:
                best = rank
        if best is None:
            return None
        number = -best[2]
        stance: Stance = "refutes" if refutes(norm) else "repeats"
        return ClaimMatch(self.entries[number].claim, round(best[0], 3), how[number], stance)


def _strip_claim(risk: dict[str, Any], claim_info: Mapping[str, Any] | None) -> None:
    """Undo an earlier :func:`apply_match` on ``risk`` in place."""
    if claim_info and isinstance(claim_info.get("base_rumor"), int | float):
        risk["rumor"] = float(claim_info["base_rumor"])
    reasons = [str(r) for r in risk.get("reasons") or []]
    risk["reasons"] = [r for r in reasons if not r.startswith(CLAIM_REASON_MARK)]


def _reason(match: ClaimMatch) -> str:
    claim = match.claim
    evidence = claim.evidence_url or "无链接"
    how = "关键词全部命中" if match.how == "key_phrases" else f"相似度 {match.score:.2f}"
    if claim.verdict == "true":
        return (
            f"{CLAIM_REASON_MARK}与经核实属实的说法相符（{how}）：「{claim.statement}」，"
            f"依据：{evidence}；不提高谣言分"
        )
    if match.stance == "refutes":
        return (
            f"{CLAIM_REASON_MARK}提及已辟谣说法并指其不实（{how}）：「{claim.statement}」，"
            f"辟谣：{evidence}；不提高谣言分"
        )
    return f"{CLAIM_REASON_MARK}重复已辟谣说法（{how}）：「{claim.statement}」，辟谣：{evidence}"


def apply_match(
    analysis: dict[str, Any],
    match: ClaimMatch | None,
    *,
    raise_to: float = RAISE_TO,
    rumor_threshold: float = RUMOR_THRESHOLD,
    group_threshold: float = GROUP_THRESHOLD,
    max_reasons: int = MAX_REASONS,
) -> bool:
    """Set the claim effect of ``match`` on an analysis in place (undoing an earlier one
    first); True when anything changed. An analysis without a risk object is left alone."""
    risk = analysis.get("risk")
    if not isinstance(risk, dict) or (match is None and not analysis.get("claim")):
        return False
    before_risk = {**risk, "reasons": list(risk.get("reasons") or [])}
    before_claim = analysis.get("claim")
    _strip_claim(risk, before_claim if isinstance(before_claim, Mapping) else None)
    base = float(risk.get("rumor") or 0.0)
    if match is None:
        analysis.pop("claim", None)
    else:
        claim = match.claim
        if claim.verdict == "false" and match.stance == "repeats":
            risk["rumor"] = round(max(base, raise_to), 3)
        analysis["claim"] = {
            "id": claim.id,
            "verdict": claim.verdict,
            "evidence": claim.evidence_url,
            "statement": claim.statement,
            "score": match.score,
            "stance": match.stance,
            "base_rumor": base,
        }
    rumor = float(risk.get("rumor") or 0.0)
    group = float(risk.get("group_incident") or 0.0)
    kind, head = decide(
        rumor, group, rumor_threshold=rumor_threshold, group_threshold=group_threshold
    )
    rest = [r for r in risk["reasons"] if not r.startswith(HEAD_PREFIXES)]
    added = [_reason(match)] if match is not None else []
    risk["type"] = kind
    risk["reasons"] = list(dict.fromkeys([head, *added, *rest]))[:max_reasons]
    return risk != before_risk or analysis.get("claim") != before_claim
