"""Rumour suspicion of a post: a probability with the phrases and signals behind it.

The shipped model is a binary linear model over the shared hashed features, trained on
the Weibo rumour sets of Ma et al. (2016) and CED (THUNLP), de-duplicated across both and
evaluated on a split by event. ``probability`` comes from the text
alone (that is the figure that was evaluated). Author fields, when given, are reported
as signals in ``reasons`` (e.g. an unverified author with few followers) but do not move
the probability: the sets' author statistics are those of 2010-2015 Weibo, and a
learned author prior was not validated across sets; an officer weighs them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import scipy.sparse as sp

from yuqing.analysis.features import Trace
from yuqing.analysis.sentiment import is_empty
from yuqing.analysis.textmodel import ArtifactModel

CUES: dict[str, str] = {
    "网传": "传闻用语", "据说": "传闻用语", "听说": "传闻用语", "传言": "传闻用语",
    "有消息称": "传闻用语", "据知情人": "传闻用语", "朋友圈": "传闻用语",
    "紧急扩散": "呼吁扩散", "求扩散": "呼吁扩散", "扩散": "呼吁扩散", "转发": "呼吁转发",
    "速转": "呼吁转发", "帮转": "呼吁转发", "震惊": "耸动用语", "惊爆": "耸动用语",
    "重磅": "耸动用语", "紧急": "耸动用语", "注意": "警示用语", "千万不要": "警示用语",
    "马上删": "耸动用语", "内部消息": "传闻用语", "不转不是": "呼吁转发",
}  # fmt: skip
FEW_FOLLOWERS = 1000
EXPLAIN_FROM = 0.3
"""Phrases are looked up only for posts at least this suspicious (they cost time)."""


@dataclass(frozen=True)
class RumorResult:
    """Rumour probability of one post and the reasons behind it."""

    probability: float
    reasons: list[str] = field(default_factory=list)


def signals(norm: str, followers: int | None = None, verified: bool | None = None) -> list[str]:
    """Rule-based rumour signals of a normalized text and its author (for reasons)."""
    found: list[str] = []
    for cue in CUES:  # longer cues listed first; a cue inside one already found is skipped
        if cue in norm and not any(cue in f for f in found):
            found.append(cue)
    out = [f"{CUES[cue]}：{cue}" for cue in found]
    bangs = norm.count("!")
    if bangs >= 3:
        out.append(f"感叹号多（{bangs}个）")
    if re.search(r"http|t\.cn", norm) is None and len(norm) > 60 and "【" not in norm:
        out.append("长文无来源链接")
    if verified is False and followers is not None and followers < FEW_FOLLOWERS:
        out.append(f"作者未认证且粉丝少（{followers}）")
    elif verified is False:
        out.append("作者未认证")
    return out


class RumorModel(ArtifactModel):
    """Loads the rumour artifact lazily (once per process) and scores batches."""

    task = "rumor"

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Rumour probability per text, without reasons (fast path for evaluation)."""
        if len(texts) == 0:
            return []
        col = self.model.classes.index("rumor")
        return [float(p) for p in self.model.predict_proba(texts)[:, col]]

    def predict(
        self,
        texts: Sequence[str],
        *,
        author_followers: Sequence[int | None] | None = None,
        author_verified: Sequence[bool | None] | None = None,
        explain_k: int = 3,
    ) -> list[RumorResult]:
        """Probability and reasons per text; author lists align with ``texts`` when given."""
        norms, features, trace = self.featurize(texts)
        return self.predict_features(
            texts, norms, features, author_followers, author_verified, explain_k, trace
        )

    def predict_features(
        self,
        texts: Sequence[str],
        norms: Sequence[str],
        features: sp.csr_matrix,
        author_followers: Sequence[int | None] | None = None,
        author_verified: Sequence[bool | None] | None = None,
        explain_k: int = 3,
        trace: Trace | None = None,
    ) -> list[RumorResult]:
        """Like :meth:`predict` from texts already featurized with the model's config.

        ``trace`` (from ``Featurizer.transform_traced``) makes explanations cheap; without
        it the batch is tokenized again when ``explain_k`` > 0.
        """
        model = self.model
        trace = self.trace_for(norms, explain_k, trace)
        n = len(texts)
        if n == 0:
            return []
        followers = list(author_followers) if author_followers is not None else [None] * n
        verified = list(author_verified) if author_verified is not None else [None] * n
        col = model.classes.index("rumor")
        proba = model.proba_matrix(features)[:, col].tolist()
        empty = [is_empty(norm) for norm in norms]
        why: list[list[str]] = [[] for _ in texts]
        if explain_k > 0 and trace is not None:
            targets: list[str | None] = [
                "rumor" if not e and p >= EXPLAIN_FROM else None
                for e, p in zip(empty, proba, strict=True)
            ]
            why = model.explain_batch(texts, trace, targets, explain_k)
        out: list[RumorResult] = []
        for i, norm in enumerate(norms):
            if empty[i]:
                out.append(RumorResult(0.0, ["文本为空，无从判断"]))
                continue
            p = float(proba[i])
            reasons: list[str] = []
            phrases = why[i]
            if phrases:
                reasons.append("可疑词句：" + "、".join(phrases))
            reasons.extend(signals(norm, followers[i], verified[i]))
            out.append(RumorResult(round(p, 4), reasons))
        return out
