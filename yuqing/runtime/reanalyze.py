"""``yuqing reanalyze``: run the analysis models again over stored history.

When a model improves (``yuqing train``), the posts already stored keep the labels of the
old one. Re-analysis pages through the store in storage order
(:meth:`~yuqing.store.base.Store.documents_after`), runs the
:class:`~yuqing.analysis.analyzer.Analyzer` over each page and writes the new analysis
back (:meth:`~yuqing.store.base.Store.update_analysis`), one transaction per page.

What changes and what is kept (:func:`merge_analysis`):

- **replaced**: the model outputs, :data:`MODEL_FIELDS` (sentiment, sentiment_score,
  emotion, emotion_scores, regions, risk, explain, model_version). ``regions`` are
  recomputed too: the gazetteer ships with the models and improves with them.
- **kept**: every other key of the stored analysis: ``event_id`` (events are a separate
  step; re-clustering history is not re-analysis), claim and case references, anything
  other features add.
- **an analyst's corrections win**: the keys of ``analysis["corrected"]`` (a JSON object
  of field -> corrected value, the hook of the corrections feature) are applied again on
  top of the fresh model outputs and ``corrected`` itself is kept, so a correction is never
  undone by a re-run.

Two engines, identical results (tests compare them on the same store):

- ``local``: this process, page by page, with a progress bar;
- ``ray``: pages sent to Ray actors that each load the models once (yuqing.runtime.
  reanalyze_ray, imported only when asked for; ``pip install 'yuqing[server]'``); the
  driver (this process) reads the pages and writes the results back in storage order.

Documents are read and written in pages of ``batch``; ``since`` keeps only posts published
at or after it (posts without a time are skipped then). Writes are idempotent: a run that
is interrupted can simply be run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from yuqing.models import Document
from yuqing.store.base import Store

if TYPE_CHECKING:
    from yuqing.settings import TransformerSettings

Engine = Literal["local", "ray"]
ENGINES: tuple[str, ...] = ("local", "ray")

MODEL_FIELDS: tuple[str, ...] = (
    "sentiment",
    "sentiment_score",
    "emotion",
    "emotion_scores",
    "regions",
    "risk",
    "explain",
    "model_version",
)
"""The analysis keys the Analyzer writes: the ones re-analysis replaces."""

CORRECTED_KEY = "corrected"
"""``analysis["corrected"]``: an analyst's corrected values (field -> value), re-applied
after every re-analysis."""

#: One page's results: (source, id, the fresh model outputs).
Fresh = list[tuple[str, str, dict[str, Any]]]
ProgressHandler = Callable[[int], None]


@dataclass(slots=True)
class ReanalyzeReport:
    """Counts of one run: ``read`` documents looked at, ``analysed`` of them (within
    ``since``), ``changed`` whose stored analysis differs after the run, ``pages`` written."""

    read: int = 0
    analysed: int = 0
    changed: int = 0
    pages: int = 0
    seconds: float = 0.0
    engine: str = "local"

    def summary(self) -> str:
        rate = self.analysed / self.seconds if self.seconds > 0 else 0.0
        return (
            f"read {self.read}, reanalysed {self.analysed}, changed {self.changed} "
            f"({self.engine}, {rate:,.0f} posts/s)"
        )


def fresh_outputs(docs: Sequence[Document], analyzer: Any) -> Fresh:
    """Run ``analyzer`` (an Analyzer) over ``docs`` and return only its outputs per post.

    The documents are analysed with an empty analysis so that nothing stored leaks into
    the result; the stored analysis is merged back by the caller (:func:`merge_analysis`).
    """
    done = analyzer.process([analysis_input(doc) for doc in docs])
    return [
        (doc.source, doc.id, {k: doc.analysis[k] for k in MODEL_FIELDS if k in doc.analysis})
        for doc in done
    ]


def analysis_input(doc: Document) -> Document:
    """A copy of ``doc`` with only what the Analyzer reads (the stored normalized text, the
    title, author fields, the region hint) and an empty analysis: small to send to a Ray
    worker, and nothing stored leaks into the result."""
    return Document(
        id=doc.id,
        source=doc.source,
        text=doc.text,
        title=doc.title,
        author_followers=doc.author_followers,
        author_verified=doc.author_verified,
        region=doc.region,
        norm_text=doc.norm_text,
        quoted_text=doc.quoted_text,
    )


def merge_analysis(stored: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    """The analysis to store: ``stored`` with the model outputs replaced by ``fresh``, and
    the analyst's corrections (``stored["corrected"]``) applied again on top."""
    merged = {k: v for k, v in stored.items() if k not in MODEL_FIELDS}
    merged.update(fresh)
    corrected = stored.get(CORRECTED_KEY)
    if isinstance(corrected, dict):
        merged.update({k: v for k, v in corrected.items() if k != CORRECTED_KEY})
        merged[CORRECTED_KEY] = corrected
    return merged


def pages(
    store: Store, batch: int, since: datetime | None, report: ReanalyzeReport
) -> Iterator[list[Document]]:
    """The stored documents in storage order, ``batch`` a page, those before ``since``
    left out (counted in ``report.read``, not in ``analysed``)."""
    position = 0
    while True:
        page = store.documents_after(position, batch)
        if not page:
            return
        position = page[-1][0]
        report.read += len(page)
        docs = [doc for _, doc in page if _within(doc, since)]
        if docs:
            yield docs


def _within(doc: Document, since: datetime | None) -> bool:
    if since is None:
        return True
    return doc.published_at is not None and doc.published_at >= since


def write_back(
    store: Store, docs: Sequence[Document], fresh: Fresh, report: ReanalyzeReport
) -> None:
    """Merge ``fresh`` into the documents' stored analysis and write the page back."""
    by_key = {doc.key: doc for doc in docs}
    updates: list[tuple[str, str, dict[str, Any]]] = []
    for source, id_, outputs in fresh:
        doc = by_key[(source, id_)]
        merged = merge_analysis(doc.analysis, outputs)
        report.changed += merged != doc.analysis
        updates.append((source, id_, merged))
    store.update_analysis(updates)
    report.analysed += len(updates)
    report.pages += 1


def build_analyzer(max_chars: int, transformer: TransformerSettings | None = None) -> Any:
    """The Analyzer as the ingest pipeline builds it (yuqing.runtime.factory), with the
    optional ``[analysis.transformer]`` tier when configured."""
    from yuqing.analysis.analyzer import Analyzer

    return Analyzer(max_chars=max_chars, transformer=transformer)


def reanalyze_local(
    store: Store,
    *,
    max_chars: int,
    batch: int = 1000,
    since: datetime | None = None,
    on_progress: ProgressHandler | None = None,
    transformer: TransformerSettings | None = None,
) -> ReanalyzeReport:
    """Re-analyse the stored history in this process (see the module docstring)."""
    report = ReanalyzeReport(engine="local")
    start = time.perf_counter()
    analyzer = build_analyzer(max_chars, transformer)
    read = 0
    for docs in pages(store, batch, since, report):
        write_back(store, docs, fresh_outputs(docs, analyzer), report)
        if on_progress is not None:
            on_progress(report.read - read)
            read = report.read
    if on_progress is not None and report.read > read:
        on_progress(report.read - read)
    report.seconds = time.perf_counter() - start
    return report


def reanalyze(
    store: Store,
    *,
    engine: str = "local",
    max_chars: int = 2000,
    batch: int = 1000,
    since: datetime | None = None,
    ray_address: str | None = None,
    on_progress: ProgressHandler | None = None,
    transformer: TransformerSettings | None = None,
) -> ReanalyzeReport:
    """Re-analyse with ``engine`` (``local`` or ``ray``); UsageError for another engine or
    a bad batch size, ConfigError when Ray is asked for and not installed."""
    from yuqing.errors import UsageError

    if engine not in ENGINES:
        raise UsageError(f"--engine must be local or ray, not {engine!r}")
    if batch <= 0:
        raise UsageError(f"--batch must be a positive number of posts, not {batch}")
    if engine == "ray":
        from yuqing.runtime.reanalyze_ray import reanalyze_ray

        return reanalyze_ray(
            store,
            max_chars=max_chars,
            batch=batch,
            since=since,
            address=ray_address,
            on_progress=on_progress,
            transformer=transformer,
        )
    return reanalyze_local(
        store,
        max_chars=max_chars,
        batch=batch,
        since=since,
        on_progress=on_progress,
        transformer=transformer,
    )
