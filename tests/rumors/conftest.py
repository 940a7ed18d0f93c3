"""Shared pieces of the rumour-verdict tests: a clock, claims, and posts analysed by the
real pipeline (normalize ... analysis, without the claims stage)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from yuqing.clock import ManualClock
from yuqing.models import Document
from yuqing.pipeline.stage import Pipeline
from yuqing.rumors import Claim, new_claim
from yuqing.runtime.factory import foundation_stages
from yuqing.settings import Settings

T0 = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
PIYAO = "https://www.piyao.org.cn/2026-03/05/c_1.htm"
OFFICIAL = "https://wjw.example.gov.cn/notice/2026-03-05.html"


@pytest.fixture(scope="session")
def analyse() -> Callable[[Sequence[str]], list[Document]]:
    """Texts -> documents through normalize, dedup, segment, keywords and analysis."""
    from yuqing.analysis.analyzer import Analyzer

    settings = Settings.model_validate({})
    pipeline = Pipeline([*foundation_stages(settings), Analyzer()])

    def run(texts: Sequence[str]) -> list[Document]:
        docs = [
            Document(id=f"p{n}", source="weibo", text=t, author=f"u{n}", published_at=T0)
            for n, t in enumerate(texts)
        ]
        return pipeline.process(docs)

    return run


def debunked(clock: ManualClock | None = None, **kw: object) -> Claim:
    return new_claim(
        "喝自来水会致癌",
        who="核查员",
        clock=clock or ManualClock(T0),
        verdict="false",
        evidence_url=PIYAO,
        claim_id="c-water",
        **kw,  # type: ignore[arg-type]
    )


def verified(clock: ManualClock | None = None) -> Claim:
    return new_claim(
        "鄞州实验中学食堂使用过期食材",
        who="核查员",
        clock=clock or ManualClock(T0),
        verdict="true",
        evidence_url=OFFICIAL,
        claim_id="c-canteen",
    )
