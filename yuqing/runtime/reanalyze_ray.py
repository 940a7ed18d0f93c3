"""``yuqing reanalyze --engine ray``: re-analysis of stored history on a Ray cluster.

The driver (the process running the command) is the only one that talks to the store: it
reads pages of documents in storage order, sends each page (only the fields the models
read, :func:`~yuqing.runtime.reanalyze.analysis_input`) to one of a pool of Ray actors,
and writes the results back in the same order as they come in, one transaction per page.
Each actor builds the :class:`~yuqing.analysis.analyzer.Analyzer` once and keeps it, so
the models load once per worker process, not once per page. At most ``2 x actors`` pages
are in flight, so the driver's memory stays flat however long the history.

The results are those of the local engine: the same Analyzer code on the same input, and
the same merge (:func:`~yuqing.runtime.reanalyze.merge_analysis`) on the driver.

Ray is imported here only: embedded mode never needs it. Without it, ``--engine ray``
raises ConfigError saying ``pip install 'yuqing[server]'``. ``address`` is a cluster
address (``ray://head:10001``, ``head:6379`` or ``auto``); without one, a Ray session
already started in this process is used (tests start one), else a local one is started
for the run and shut down after it. Every Ray node needs yuqing installed (the same
version as the driver) so that the actors can import the models.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from yuqing.errors import ConfigError, YuqingError
from yuqing.models import Document
from yuqing.runtime.reanalyze import (
    Fresh,
    ProgressHandler,
    ReanalyzeReport,
    analysis_input,
    build_analyzer,
    fresh_outputs,
    pages,
    write_back,
)
from yuqing.store.base import Store

if TYPE_CHECKING:
    from yuqing.settings import TransformerSettings

INSTALL_HINT = "pip install 'yuqing[server]'"


def import_ray() -> Any:
    """The ``ray`` module, or ConfigError saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            f"--engine ray needs Ray, which is not installed ({exc}); run {INSTALL_HINT} "
            "or use --engine local"
        ) from exc
    return ray


class AnalyzerActor:
    """A Ray actor: one Analyzer per worker process, loaded on the first page."""

    def __init__(self, max_chars: int, transformer: TransformerSettings | None = None) -> None:
        self.max_chars = max_chars
        self.transformer = transformer  # its folders must exist on every worker's machine
        self._analyzer: Any = None

    def analyse(self, docs: Sequence[Document]) -> Fresh:
        if self._analyzer is None:
            self._analyzer = build_analyzer(self.max_chars, self.transformer)
        return fresh_outputs(docs, self._analyzer)


def reanalyze_ray(
    store: Store,
    *,
    max_chars: int,
    batch: int = 1000,
    since: datetime | None = None,
    address: str | None = None,
    actors: int | None = None,
    on_progress: ProgressHandler | None = None,
    transformer: TransformerSettings | None = None,
) -> ReanalyzeReport:
    """Re-analyse the stored history with Ray actors (see the module docstring);
    ``actors`` defaults to the CPUs the cluster offers."""
    ray = import_ray()
    report = ReanalyzeReport(engine="ray")
    start = time.perf_counter()
    started = False
    if not ray.is_initialized():
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                logging_level="WARNING",
                log_to_driver=False,
            )
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError
            where = address or "a local Ray instance"
            raise ConfigError(f"--engine ray: cannot start or reach {where}: {exc}") from exc
        started = True
    pool: list[Any] = []
    try:
        count = actors or max(1, int(ray.available_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=1)(AnalyzerActor)
        pool = [remote.remote(max_chars, transformer) for _ in range(count)]
        in_flight: deque[tuple[list[Document], Any, int]] = deque()
        read = 0
        for number, docs in enumerate(pages(store, batch, since, report)):
            slim = [analysis_input(doc) for doc in docs]
            ref = pool[number % count].analyse.remote(slim)
            in_flight.append((docs, ref, report.read - read))
            read = report.read
            if len(in_flight) >= 2 * count:
                _collect(ray, store, in_flight.popleft(), report, on_progress)
        while in_flight:
            _collect(ray, store, in_flight.popleft(), report, on_progress)
        if on_progress is not None and report.read > read:
            on_progress(report.read - read)
    finally:
        for actor in pool:
            ray.kill(actor)
        if started:
            ray.shutdown()
    report.seconds = time.perf_counter() - start
    return report


def _collect(
    ray: Any,
    store: Store,
    item: tuple[list[Document], Any, int],
    report: ReanalyzeReport,
    on_progress: ProgressHandler | None,
) -> None:
    docs, ref, read = item
    try:
        fresh: Fresh = ray.get(ref)
    except Exception as exc:  # a RayTaskError wraps the actor's exception
        cause = getattr(exc, "cause", None)
        if isinstance(cause, YuqingError):
            raise cause from exc
        first = f"{docs[0].source}/{docs[0].id}" if docs else "?"
        raise YuqingError(
            f"--engine ray: the page starting at post {first} failed on a Ray worker: {exc}"
        ) from exc
    write_back(store, docs, fresh, report)
    if on_progress is not None:
        on_progress(read)
