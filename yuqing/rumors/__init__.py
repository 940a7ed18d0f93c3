"""Rumour verdicts (辟谣): claims an analyst marked true, false or unverified, with the
evidence link, and what they do to the posts that repeat them.

- :mod:`yuqing.rumors.claim`: the :class:`Claim` and its verdict history;
- :mod:`yuqing.rumors.matcher`: which claim a post repeats (key phrases or character
  bigram containment over normalized Simplified text) and the effect on its risk;
- :mod:`yuqing.rumors.stage`: the ``claims`` pipeline stage after ``analysis``;
- :mod:`yuqing.rumors.verdicts`: recording claims in the store and re-scoring stored posts.

See docs/rumors.md.
"""

from yuqing.rumors.claim import (
    VERDICT_LABELS,
    VERDICTS,
    Claim,
    ClaimError,
    ClaimNotFoundError,
    Verdict,
    VerdictEntry,
    new_claim,
)
from yuqing.rumors.matcher import ClaimIndex, ClaimMatch, apply_match, post_text
from yuqing.rumors.stage import ClaimChecker, StoreClaims

__all__ = [
    "VERDICTS",
    "VERDICT_LABELS",
    "Claim",
    "ClaimChecker",
    "ClaimError",
    "ClaimIndex",
    "ClaimMatch",
    "ClaimNotFoundError",
    "StoreClaims",
    "Verdict",
    "VerdictEntry",
    "apply_match",
    "new_claim",
    "post_text",
]
