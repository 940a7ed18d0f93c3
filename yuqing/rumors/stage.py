"""The ``claims`` pipeline stage: after ``analysis``, apply the analysts' verdicts.

:class:`ClaimChecker` matches every analysed post against the decided claims
(:class:`~yuqing.rumors.matcher.ClaimIndex`) and applies the effect
(:func:`~yuqing.rumors.matcher.apply_match`): a repeat of a debunked claim gets its
rumour score raised, the claim and its evidence link in its reasons and in
``analysis["claim"]``. Posts without a ``risk`` (analysis off) pass untouched.

Claims come from a loader (a callable, usually :class:`StoreClaims` over the store URL)
and are loaded again every ``refresh`` of the injected clock: one small query a minute, so
a verdict given in the web console reaches the running pipeline within a minute without
a restart. A loader that fails keeps the claims loaded before and logs a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from yuqing.analysis.risk import GROUP_THRESHOLD, RUMOR_THRESHOLD
from yuqing.clock import Clock, SystemClock
from yuqing.errors import YuqingError
from yuqing.models import Document
from yuqing.rumors.claim import Claim
from yuqing.rumors.matcher import CONTAINMENT, RAISE_TO, ClaimIndex, apply_match, post_text

__all__ = ["ClaimChecker", "StoreClaims"]

LOG = logging.getLogger("yuqing.rumors")
REFRESH = timedelta(minutes=1)
MAX_CLAIMS = 10_000  # per verdict, per load


class StoreClaims:
    """Loads the decided (``true`` and ``false``) claims from the store at ``url``.

    The store is opened for each load and closed again (so the loader works from any
    thread) without migrating it: a SQLite file that does not exist yet, or the private
    ``:memory:`` store, simply has no claims, and ``yuqing analyze`` never creates a store.
    """

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self) -> list[Claim]:
        from yuqing.store.url import open_store, sqlite_path

        if self.url.startswith("sqlite:"):
            path = sqlite_path(self.url)
            if path == ":memory:" or not Path(path).is_file():
                return []
        store = open_store(self.url, migrate=False)
        try:
            found = [
                *store.claims(verdict="false", limit=MAX_CLAIMS),
                *store.claims(verdict="true", limit=MAX_CLAIMS),
            ]
        finally:
            store.close()
        return [Claim.from_dict(c) for c in found]


class ClaimChecker:
    """Pipeline stage ``claims`` (after ``analysis``); see the module docstring."""

    name = "claims"

    def __init__(
        self,
        load: Callable[[], Sequence[Claim]],
        *,
        clock: Clock | None = None,
        refresh: timedelta = REFRESH,
        containment: float = CONTAINMENT,
        raise_to: float = RAISE_TO,
        rumor_threshold: float = RUMOR_THRESHOLD,
        group_threshold: float = GROUP_THRESHOLD,
    ) -> None:
        if refresh <= timedelta(0):
            raise ValueError(f"refresh must be positive, got {refresh}")
        self.load = load
        self.clock: Clock = clock or SystemClock()
        self.refresh = refresh
        self.containment = containment
        self.raise_to = raise_to
        self.rumor_threshold = rumor_threshold
        self.group_threshold = group_threshold
        self.index = ClaimIndex((), containment=containment)
        self.loaded_at: datetime | None = None
        self.matched = 0
        self._warned: str | None = None

    def reload(self) -> int:
        """Load the claims now; returns how many take part in matching."""
        self.loaded_at = self.clock.now()
        try:
            claims = list(self.load())
        except YuqingError as exc:
            message = f"claims: cannot load the verdicts ({exc}); keeping the {len(self.index)} loaded before"
            if message != self._warned:
                LOG.warning(message)
                self._warned = message
            return len(self.index)
        self._warned = None
        self.index = ClaimIndex(claims, containment=self.containment)
        return len(self.index)

    def _maybe_reload(self) -> None:
        if self.loaded_at is None or self.clock.now() - self.loaded_at >= self.refresh:
            self.reload()

    def process(self, batch: Sequence[Document]) -> list[Document]:
        docs = list(batch)
        self._maybe_reload()
        if not len(self.index):
            return docs
        for doc in docs:
            if not isinstance(doc.analysis.get("risk"), dict):
                continue
            match = self.index.match(post_text(doc.norm_text, doc.quoted_text, doc.title))
            if match is None:
                continue
            apply_match(
                doc.analysis,
                match,
                raise_to=self.raise_to,
                rumor_threshold=self.rumor_threshold,
                group_threshold=self.group_threshold,
            )
            self.matched += 1
        return docs
