"""The one way a process builds its alert Dispatcher from Settings: the channels of
``[[alerts.channels]]`` with their ``env:``/``file:`` secrets resolved through
``secrets_file``, the ``[alerts.delivery]`` policy, and (unless the store is in memory) the
store's delivery log beside the dispatcher's own, so the dashboard shows every attempt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yuqing.alerts.channels.secrets import SecretResolver
from yuqing.alerts.delivery import Dispatcher, dispatcher_from_config

if TYPE_CHECKING:
    from yuqing.clock import Clock
    from yuqing.settings import Settings


def dispatcher_for(
    settings: Settings, *, clock: Clock | None = None, store_log: bool = True
) -> Dispatcher:
    """A Dispatcher for ``settings``; ``store_log`` adds the store's delivery log (skipped
    for an in-memory store, which another connection could not see)."""
    dispatcher = dispatcher_from_config(
        settings.alerts.channels,
        settings.alerts.delivery,
        clock=clock,
        secrets=SecretResolver.from_settings(settings),
    )
    from yuqing.store.url import is_memory_url

    if store_log and not is_memory_url(settings.store):
        from yuqing.store.delivery_log import StoreDeliveryLog

        dispatcher.log = StoreDeliveryLog(settings.store, also=dispatcher.log)
    return dispatcher
