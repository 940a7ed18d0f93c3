"""A delivery log kept in the store: :class:`yuqing.alerts.delivery.DeliveryLog` over
``Store.record_delivery`` / ``Store.deliveries``.

The dispatcher records from its worker threads, and a SQLite store object belongs to the
thread that opened it, so each call opens the store by URL, writes or reads, and closes it
again (well under a millisecond; deliveries are rare next to posts). ``also`` forwards
every attempt to another log as well (the JSONL file of ``[alerts.delivery] log``).
A failing store is logged, never raised: a broken log must not stop delivery.
"""

from __future__ import annotations

import logging
import threading

from yuqing.alerts.delivery import DeliveryAttempt, DeliveryLog
from yuqing.errors import ConfigError, YuqingError
from yuqing.store.url import is_memory_url, open_store

LOG = logging.getLogger("yuqing.store.delivery_log")

__all__ = ["StoreDeliveryLog"]


class StoreDeliveryLog:
    """Delivery attempts appended to the store at ``url`` (its schema must be migrated)."""

    def __init__(self, url: str, *, also: DeliveryLog | None = None) -> None:
        if is_memory_url(url):
            raise ConfigError(
                f"{url}: an in-memory store cannot hold a delivery log shared between "
                "threads; use a file store"
            )
        self.url = url
        self.also = also
        self._lock = threading.Lock()

    def record(self, attempt: DeliveryAttempt) -> None:
        if self.also is not None:
            self.also.record(attempt)
        try:
            with self._lock:
                store = open_store(self.url, migrate=False)
                try:
                    store.record_delivery(attempt)
                finally:
                    store.close()
        except YuqingError as exc:
            LOG.error("delivery log in %s: cannot record an attempt: %s", self.url, exc)

    def recent(self, n: int = 100) -> list[DeliveryAttempt]:
        """The last ``n`` attempts, newest first."""
        store = open_store(self.url, migrate=False)
        try:
            return store.deliveries(limit=n)
        finally:
            store.close()
