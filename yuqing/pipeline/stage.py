"""The Stage protocol and the Pipeline that runs a list of stages over a batch."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from yuqing.errors import PipelineError, YuqingError
from yuqing.models import Document


@runtime_checkable
class Stage(Protocol):
    """One step of the pipeline. Configuration goes in ``__init__``; no global state.

    ``process`` may fill fields of the documents in place; it returns the documents
    that go on (usually all of them, in the same order).
    """

    name: str

    def process(self, batch: Sequence[Document]) -> list[Document]: ...


class Pipeline:
    """Runs stages in order and keeps the time spent in each (seconds): wall-clock in
    ``timings``, this process's CPU time (all threads) in ``cpu_timings``."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)
        self.timings: dict[str, float] = {stage.name: 0.0 for stage in self.stages}
        self.cpu_timings: dict[str, float] = {stage.name: 0.0 for stage in self.stages}

    def process(self, batch: Sequence[Document]) -> list[Document]:
        docs = list(batch)
        for stage in self.stages:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                docs = stage.process(docs)
            except YuqingError:
                raise
            except Exception as exc:  # translate at the boundary, keep the cause
                raise PipelineError(f"stage {stage.name!r} failed: {exc}") from exc
            self.timings[stage.name] += time.perf_counter() - start
            cpu_timings = self.cpu_timings  # (a stage may be appended after construction)
            cpu_timings[stage.name] = cpu_timings.get(stage.name, 0.0) + time.process_time() - cpu
        return docs
