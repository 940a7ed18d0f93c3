"""The ``analysis`` stage: fills the analysis fields of the `yuqing analyze` contract.

sentiment, sentiment_score, emotion, emotion_scores, regions, risk, explain and
model_version go into ``doc.analysis``. The three text models share one featurization
when their feature configurations agree (they are trained with the same one), so a batch
is hashed once. Models load lazily, once per process.
"""

from __future__ import annotations

from collections.abc import Sequence

from yuqing.analysis.emotion import EmotionModel
from yuqing.analysis.regions import RegionFinder
from yuqing.analysis.risk import RiskAssessor
from yuqing.analysis.rumor import RumorModel
from yuqing.analysis.sentiment import SentimentModel
from yuqing.errors import ModelError
from yuqing.models import Document

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
    ) -> None:
        self.sentiment = sentiment or SentimentModel()
        self.emotion = emotion or EmotionModel()
        self.rumor = rumor or RumorModel()
        self._risk = risk
        self._regions = regions
        self.max_chars = max_chars
        self.explain_k = explain_k

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
        return "+".join((self.sentiment.version, self.emotion.version, self.rumor.version))

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
        sentiments = self.sentiment.predict_features(texts, norms, features, k, trace)
        emotions = self.emotion.predict_features(texts, norms, features, k, trace)
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
