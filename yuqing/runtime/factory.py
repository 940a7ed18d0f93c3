"""Build the standard pipelines from settings, in one place."""

from __future__ import annotations

from yuqing.pipeline.dedup import Deduplicator
from yuqing.pipeline.keywords import KeywordExtractor
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter
from yuqing.pipeline.stage import Pipeline, Stage
from yuqing.settings import Settings


def foundation_stages(settings: Settings) -> list[Stage]:
    """normalize -> dedup -> segment -> keywords: what every post goes through."""
    return [
        Normalizer(max_chars=settings.max_analysis_chars),
        Deduplicator(settings.dedup),
        Segmenter(user_dict=settings.user_dict),
        KeywordExtractor(),
    ]


def build_pipeline(settings: Settings, *, analysis: bool = True, events: bool = False) -> Pipeline:
    """The ingest/analyze pipeline; ``analysis`` adds sentiment, emotion, risk and regions,
    ``events`` the online event clustering (it reads the analysis fields when present)."""
    stages = foundation_stages(settings)
    if analysis:
        from yuqing.analysis.analyzer import Analyzer

        stages.append(Analyzer(max_chars=settings.max_analysis_chars))
    if events:
        from yuqing.events.cluster import EventClusterer

        stages.append(EventClusterer())
    return Pipeline(stages)
