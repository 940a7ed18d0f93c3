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


def claim_checker(settings: Settings) -> Stage:
    """The ``claims`` stage: analysts' rumour verdicts from the store (yuqing.rumors)."""
    from yuqing.rumors.stage import ClaimChecker, StoreClaims
    from yuqing.settings import parse_duration

    rumors = settings.rumors
    return ClaimChecker(
        StoreClaims(settings.store),
        refresh=parse_duration(rumors.refresh, "rumors.refresh"),
        containment=rumors.containment,
        raise_to=rumors.raise_to,
    )


def build_pipeline(settings: Settings, *, analysis: bool = True, events: bool = False) -> Pipeline:
    """The ingest/analyze pipeline; ``analysis`` adds sentiment, emotion, risk and regions
    (and the analysts' claim verdicts: ``claims``),
    ``events`` the online event clustering (it reads the analysis fields when present)."""
    stages = foundation_stages(settings)
    if analysis:
        from yuqing.analysis.analyzer import Analyzer

        transformer = settings.analysis.transformer
        stages.append(Analyzer(max_chars=settings.max_analysis_chars, transformer=transformer))
        stages.append(claim_checker(settings))
    if events:
        from yuqing.events.cluster import EventClusterer

        stages.append(EventClusterer())
    return Pipeline(stages)
