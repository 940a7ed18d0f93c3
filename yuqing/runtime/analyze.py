"""`yuqing analyze`: a file in, one JSON line per accepted record out (DESIGN.md contract).

The whole file is processed in (published_at, id) order, as the live pipeline would see
it, so "the later one gets duplicate_of"; the output keeps the input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from yuqing.models import Document, Rejection
from yuqing.pipeline.stage import Pipeline
from yuqing.sources.base import Source

# Every analysis field of the contract, with its value when nothing fills it.
ANALYSIS_DEFAULTS: dict[str, Any] = {
    "sentiment": None,
    "sentiment_score": None,
    "emotion": None,
    "emotion_scores": None,
    "keywords": [],
    "regions": [],
    "duplicate_of": None,
    "repost_of": None,
    "risk": None,
    "explain": None,
    "event_id": None,
    "model_version": None,
}

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class AnalyzeReport:
    read: int = 0
    written: int = 0
    rejected: int = 0


def time_order(docs: Sequence[Document]) -> list[Document]:
    """(published_at, id) order; posts without a time come first, by id."""
    return sorted(docs, key=lambda d: (d.published_at or _EPOCH, d.id))


def output_record(doc: Document) -> dict[str, Any]:
    """The input record as given (with its id) plus every analysis field of the contract."""
    record: dict[str, Any] = dict(doc.raw) if doc.raw is not None else {"text": doc.text}
    record["id"] = doc.id
    out = dict(ANALYSIS_DEFAULTS)
    out.update({k: v for k, v in doc.analysis.items() if k in ANALYSIS_DEFAULTS})
    out["keywords"] = [[word, weight] for word, weight in doc.keywords]
    out["duplicate_of"] = doc.duplicate_of
    out["repost_of"] = doc.repost_of
    record.update(out)
    return record


def _lines(docs: Sequence[Document]) -> Iterator[bytes]:
    for doc in docs:
        yield orjson.dumps(output_record(doc), option=orjson.OPT_NON_STR_KEYS) + b"\n"


def analyze(
    sources: Sequence[Source],
    pipeline: Pipeline,
    out: IO[bytes],
    *,
    batch_size: int = 2000,
    on_reject: Callable[[Source, Rejection], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> AnalyzeReport:
    report = AnalyzeReport()
    for source in sources:
        docs: list[Document] = []
        for batch in source.batches(batch_size, None):
            report.read += batch.read
            report.rejected += len(batch.rejections)
            if on_reject is not None:
                for rejection in batch.rejections:
                    on_reject(source, rejection)
            docs.extend(batch.documents)
        ordered = time_order(docs)
        for i in range(0, len(ordered), batch_size):
            pipeline.process(ordered[i : i + batch_size])  # stages fill the documents in place
            if on_progress is not None:
                on_progress(min(batch_size, len(ordered) - i))
        for line in _lines(docs):
            out.write(line)
        report.written += len(docs)
    return report
