"""The ``analysis`` stage: fills the analysis fields of the `yuqing analyze` contract.

sentiment, sentiment_score, emotion, emotion_scores, regions, risk, explain and
model_version go into ``doc.analysis``. The three text models share one featurization
when their feature configurations agree (they are trained with the same one), so a batch
is hashed once. Models load lazily, once per process.

With ``[analysis.transformer]`` set (``transformer=`` here), the exported classifiers of
:mod:`yuqing.analysis.transformer_tier` give the sentiment and/or emotion label and scores;
the explanation phrases still come from the linear model (for the tier's label), and
``model_version`` names the tier's model instead of the linear one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from yuqing.analysis.emotion import EmotionModel
from yuqing.analysis.regions import RegionFinder
from yuqing.analysis.risk import RiskAssessor
from yuqing.analysis.rumor import RumorModel
from yuqing.analysis.sentiment import SentimentModel
from yuqing.errors import ModelError
from yuqing.models import Document

if TYPE_CHECKING:
    from yuqing.analysis.features import Trace
    from yuqing.analysis.textmodel import TextModel
    from yuqing.analysis.transformer_tier import Explainer, TransformerTier
    from yuqing.settings import TransformerSettings

_REPOST_MARK = "//@"


def analysis_text(doc: Document, max_chars: int) -> str:
    """The text the models read: the post's own words as given (emoji codes such as [怒]
    kept, they carry sentiment), or the whole text when the own words are empty (a plain
    repost takes the tone of what it quotes); at most ``max_chars`` characters."""
    text = doc.text
    cut = text.find(_REPOST_MARK)
    if cut > 0 and doc.norm_text and doc.norm_text != "转发微博":
        text = text[:cut]
    if doc.title and doc.title not in text:
        text = f"{doc.title}\n{text}"
    return text[:max_chars]


class Analyzer:
    """Pipeline stage ``analysis`` (after normalize, dedup, segment, keywords)."""

    name = "analysis"

    def __init__(
        self,
        *,
        sentiment: SentimentModel | None = None,
        emotion: EmotionModel | None = None,
        rumor: RumorModel | None = None,
        risk: RiskAssessor | None = None,
        regions: RegionFinder | None = None,
        max_chars: int = 2000,
        explain_k: int = 3,
        transformer: TransformerSettings | None = None,
    ) -> None:
        self.sentiment = sentiment or SentimentModel()
        self.emotion = emotion or EmotionModel()
        self.rumor = rumor or RumorModel()
        self._risk = risk
        self._regions = regions
        self.max_chars = max_chars
        self.explain_k = explain_k
        self.tier: TransformerTier | None = None
        if transformer is not None and transformer.configured:  # else nothing is imported
            from yuqing.analysis.transformer_tier import TransformerTier

            self.tier = TransformerTier(transformer)

    @property
    def risk(self) -> RiskAssessor:
        if self._risk is None:
            self._risk = RiskAssessor()
        return self._risk

    @property
    def regions(self) -> RegionFinder:
        if self._regions is None:
            self._regions = RegionFinder()
        return self._regions

    @property
    def version(self) -> str:
        tier = self.tier
        sentiment = tier.sentiment if tier is not None and tier.sentiment else self.sentiment
        emotion = tier.emotion if tier is not None and tier.emotion else self.emotion
        return "+".join((sentiment.version, emotion.version, self.rumor.version))

    def process(self, batch: Sequence[Document]) -> list[Document]:
        docs = list(batch)
        if not docs:
            return docs
        texts = [analysis_text(d, self.max_chars) for d in docs]
        s_model, e_model, r_model = self.sentiment.model, self.emotion.model, self.rumor.model
        featurizer = s_model.featurizer
        norms = [featurizer.prepare(t) for t in texts]
        features, trace = featurizer.transform_traced(norms)
        for model in (e_model, r_model):  # trained with one feature config: hash once
            if model.config != s_model.config:
                raise ModelError(
                    f"the {model.task} model was trained with other features than the "
                    "sentiment model; retrain both with `yuqing train`"
                )
        k = self.explain_k
        tier = self.tier
        s_tier = tier.sentiment if tier is not None else None
        e_tier = tier.emotion if tier is not None else None
        sentiments = self.sentiment.predict_features(
            texts, norms, features, 0 if s_tier else k, trace
        )
        emotions = self.emotion.predict_features(texts, norms, features, 0 if e_tier else k, trace)
        if s_tier is not None:
            from yuqing.analysis.transformer_tier import relabel_sentiment

            sentiments = relabel_sentiment(
                s_tier,
                texts,
                sentiments,
                self.sentiment.neutral_threshold,
                _explainer(s_model, texts, trace, k),
            )
        if e_tier is not None:
            from yuqing.analysis.transformer_tier import relabel_emotion

            emotions = relabel_emotion(
                e_tier, texts, emotions, _explainer(e_model, texts, trace, k)
            )
        rumors = self.rumor.predict_features(
            texts,
            norms,
            features,
            [d.author_followers for d in docs],
            [d.author_verified for d in docs],
            k,
            trace,
        )
        version = self.version
        for doc, s, e, r in zip(docs, sentiments, emotions, rumors, strict=True):
            where = " ".join(filter(None, (doc.title, doc.norm_text, doc.quoted_text)))
            risk = self.risk.assess(
                doc.norm_text or doc.quoted_text,
                rumor=r.probability,
                rumor_reasons=r.reasons,
                anger=e.scores.get("anger", 0.0),
                fear=e.scores.get("fear", 0.0),
            )
            doc.analysis.update(
                sentiment=s.label,
                sentiment_score=s.score,
                emotion=e.label,
                emotion_scores=e.scores,
                regions=self.regions.find(where, hint=doc.region),
                risk=risk,
                explain={
                    "sentiment": [s.reason] if s.reason else s.explain,
                    "emotion": [e.reason] if e.reason else e.explain,
                },
                model_version=version,
            )
        return docs


def _explainer(model: TextModel, texts: Sequence[str], trace: Trace, k: int) -> Explainer | None:
    """The linear model's phrases for labels the transformer tier chose."""
    if k <= 0:
        return None
    return lambda targets: model.explain_batch(texts, trace, targets, k)
