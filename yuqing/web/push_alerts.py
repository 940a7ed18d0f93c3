"""The alert rules of ``yuqing serve`` run on pushed posts (``POST /api/v1/posts``).

:class:`PushAlerts` is the push API's alert engine: every rule that ``yuqing run`` has
(yuqing.toml's ``[[monitor.rules]]``, the rules saved through ``/api/v1/rules`` and the
monitoring plans' rules), the dispatcher of ``[[alerts.channels]]`` built by
:func:`~yuqing.alerts.dispatcher_setup.dispatcher_for`, and the alerts saved with
``Store.add_alerts`` before delivery, so the inbox and its server-sent events show them.
The :class:`~yuqing.web.push.PushService` builds it on the first push that stores a post
(when ``[web] push_alerts`` is on) and gives it each batch of newly stored posts, under
the push lock: batches reach the engine one at a time, in the order they were stored, so
bursts and cooldowns see the pushed stream as ``yuqing run`` would. A repeated push stores
nothing new, so it raises nothing.

Before each batch the saved rules and the plans' rules are brought up to date
(:class:`~yuqing.store.saved_rules.RuleSync`, :class:`~yuqing.plans.rules.PlanRuleSync`), so
a rule saved or a plan changed while the server runs applies from the next push. A saved
rule that fails its checks is logged and skipped, as in ``yuqing run``.

The engine's sink writes to the store of the request being served (a store object belongs
to its thread), which the engine only calls inside :meth:`PushAlerts.process`. The
dispatcher delivers in its own threads; :meth:`PushAlerts.close` (the push router's
lifespan, at app shutdown) waits up to ``CLOSE_TIMEOUT`` seconds for pending deliveries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from yuqing.alerts.alert import Alert
from yuqing.alerts.dispatcher_setup import dispatcher_for
from yuqing.alerts.engine import AlertEngine, EventTracker
from yuqing.alerts.rule_sync import apply_rule_changes
from yuqing.alerts.rules_config import rules_from_settings
from yuqing.clock import Clock
from yuqing.errors import StoreError
from yuqing.models import Document
from yuqing.plans.rules import PlanRuleSync
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.saved_rules import RuleSync, saved_rules

__all__ = ["CLOSE_TIMEOUT", "PushAlerts", "event_titles"]

LOG = logging.getLogger("yuqing.web.push")
CLOSE_TIMEOUT = 10.0


def event_titles(clusterer: Any) -> Callable[[str], str | None] | None:
    """Event titles from the push pipeline's clusterer (its ``event(id)``), for alert titles."""
    lookup = getattr(clusterer, "event", None)
    if not callable(lookup):
        return None

    def title(event_id: str) -> str | None:
        event = lookup(event_id)
        return str(event.title) if event is not None and event.title else None

    return title


class PushAlerts:
    """An alert engine with every rule, its dispatcher and rule syncs, for pushed posts.

    Built with the store of the first push (to read the saved rules and plans); raises
    ConfigError for a bad yuqing.toml rule or channel, having closed what it opened."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock,
        titles: Callable[[str], str | None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._store: Store | None = None
        self.dispatcher = dispatcher_for(settings, clock=clock)
        try:
            self.saved = RuleSync(settings)
            self.saved.changes(store)  # the rules loaded below are the baseline
            self.plans = PlanRuleSync(settings)  # its first sync adds every plan's rules
            self.engine = AlertEngine(
                rules_from_settings(settings) + saved_rules(store, settings),
                self.dispatcher,
                clock,
                settings.public_url,
                events=EventTracker(titles=titles),
                max_recent=settings.monitor.recent_alerts,
                sink=self._save,
            )
        except BaseException:
            self.dispatcher.close(0)
            raise

    def process(self, store: Store, docs: Sequence[Document]) -> list[Alert]:
        """Sync the rules with ``store``, run ``docs`` (newly stored posts) through them;
        the alerts are saved in ``store`` and submitted for delivery, and returned."""
        with self._lock:
            self._sync(store)
            if not docs:
                return []
            self._store = store
            try:
                return self.engine.process(docs)
            finally:
                self._store = None

    def _sync(self, store: Store) -> None:
        for sync in (self.saved, self.plans):
            for warning in apply_rule_changes(sync, store, self.engine):
                LOG.warning("push alerts: %s", warning)

    def _save(self, alerts: Sequence[Alert]) -> None:
        if self._store is None:  # only process() runs the engine
            raise StoreError("push alerts: no store to save alerts in outside a push")
        self._store.add_alerts(alerts)

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Stop the dispatcher, waiting up to ``timeout`` seconds for pending deliveries."""
        with self._lock:
            self.dispatcher.close(timeout)
