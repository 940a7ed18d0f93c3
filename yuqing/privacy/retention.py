"""Retention of raw text per source (保存期限): ``[privacy.retention]`` says after how many
days the raw text and personal fields of a post are removed (``text_days``, and per source
in ``[privacy.retention.sources]``); :func:`apply_retention` removes them through
:meth:`~yuqing.store.base.Store.remove_texts`, in batches, and logs what it did in the
audit log. Aggregates stay: labels, event ids, counts, times, sources and regions, so
trends and event figures do not change; the posts leave search.

``yuqing retention apply [--dry-run]`` runs it; ``yuqing serve`` runs it once a day in a
background thread (:class:`DailyRetention`) when ``daily`` is on and any days are set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from yuqing.privacy.audit import record
from yuqing.privacy.config import RetentionSettings
from yuqing.store.base import Store

BATCH = 5000
DAY_SECONDS = 86_400.0


@dataclass(slots=True)
class RetentionRun:
    """What one run did (or, with ``dry_run``, would do): posts per rule, where the rule is a
    source name or ``*`` for every other source; ``cutoffs`` the time before which text goes."""

    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "total": self.total,
            "removed": self.removed,
            "cutoffs": self.cutoffs,
        }


def apply_retention(
    store: Store,
    settings: RetentionSettings,
    now: datetime,
    *,
    dry_run: bool = False,
    actor: str = "retention",
    client: str = "",
) -> RetentionRun:
    """Remove the raw text of posts older than their source's retention; log it (unless
    ``dry_run`` or nothing was removed) as one ``retention`` audit entry."""
    run = RetentionRun(dry_run=dry_run)
    rules: list[tuple[str, int]] = [
        (source, days) for source, days in sorted(settings.sources.items()) if days > 0
    ]
    if settings.text_days > 0:
        rules.append(("*", settings.text_days))
    listed = sorted(settings.sources)  # a listed source follows its own days (0: keep)
    for name, days in rules:
        cutoff = now - timedelta(days=days)
        run.cutoffs[name] = cutoff.isoformat()
        source = None if name == "*" else name
        exclude = listed if name == "*" else []
        if dry_run:
            run.removed[name] = store.remove_texts(
                cutoff, source=source, exclude_sources=exclude, dry_run=True
            )
            continue
        total = 0
        while True:
            done = store.remove_texts(cutoff, source=source, exclude_sources=exclude, limit=BATCH)
            total += done
            if done < BATCH:
                break
        run.removed[name] = total
    if not dry_run and run.total:
        record(store, "retention", actor, client=client, target="posts", details=run.as_dict())
    return run


class DailyRetention:
    """Applies retention once a day in a daemon thread (``yuqing serve``); ``open_store``
    gives a store for the thread, ``now`` the time. Errors are kept in ``last_error`` and
    tried again the next day."""

    def __init__(
        self,
        settings: RetentionSettings,
        open_store: Callable[[], Store],
        now: Callable[[], datetime],
        interval: float = DAY_SECONDS,
    ) -> None:
        self.settings = settings
        self._open_store = open_store
        self._now = now
        self.interval = interval
        self.last_error: str | None = None
        self.last_run: RetentionRun | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        from yuqing.errors import YuqingError

        try:
            store = self._open_store()
            try:
                self.last_run = apply_retention(store, self.settings, self._now())
                self.last_error = None
            finally:
                store.close()
        except YuqingError as exc:
            self.last_error = str(exc)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="yuqing-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
