"""Terminal output shared by CLI commands: rejection reports, progress bars, tables."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from yuqing.errors import UsageError
from yuqing.models import Rejection
from yuqing.sources.base import Source

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


class RejectReporter:
    """Prints each rejection as ``line N: reason`` on stderr and writes it to ``--rejects``.

    With several sources the source name follows in brackets, so every line still starts
    with ``line N:``.
    """

    def __init__(self, path: Path | None, *, several_sources: bool) -> None:
        self.several = several_sources
        self.count = 0
        self._file: IO[bytes] | None = None
        if path is not None:
            try:
                self._file = path.open("wb")
            except OSError as exc:
                raise UsageError(f"cannot write the rejects file {path}: {exc.strerror}") from exc

    def __call__(self, source: Source, rejection: Rejection) -> None:
        self.count += 1
        where = f" [{source.key}]" if self.several else ""
        sys.stderr.write(f"line {rejection.line}: {rejection.reason}{where}\n")
        if self._file is not None:
            entry = rejection.as_dict()
            if self.several:
                entry["source"] = source.key
            self._file.write(orjson.dumps(entry) + b"\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> RejectReporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def progress_bar(label: str, total: int | None, *, enabled: bool) -> Iterator[Progress]:
    """A progress bar on stderr (records done, rate, elapsed); silent when not a terminal."""
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    ]
    progress = Progress(
        *columns,
        console=err_console,
        transient=False,
        disable=not (enabled and err_console.is_terminal),
    )
    with progress:
        progress.add_task(label, total=total, rate="")
        yield progress


def advance(progress: Progress, n: int) -> None:
    task = progress.tasks[0]
    progress.advance(task.id, n)
    speed = task.speed
    progress.update(task.id, rate=f"{speed:,.0f}/s" if speed else "")


def count_lines(paths: Sequence[Path]) -> int | None:
    """Physical lines of the files, for a progress total (None when unknown)."""
    total = 0
    for path in paths:
        try:
            with path.open("rb") as fh:
                total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        except OSError:
            return None
    return total
