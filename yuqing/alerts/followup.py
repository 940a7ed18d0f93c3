"""What happens to alerts after they are sent: escalation of unacknowledged ones
(:mod:`yuqing.alerts.escalation`) and digests for channels that want them
(:mod:`yuqing.alerts.digest`) and users' subscriptions to plans
(:mod:`yuqing.alerts.subscriptions`), driven by one periodic :meth:`FollowUp.tick`.

``yuqing run`` builds one from the settings next to its dispatcher, ticks it after every
poll and closes it before the dispatcher (sending held digests). Tests build one on a
:class:`~yuqing.clock.ManualClock` and tick it after moving the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from yuqing.alerts.alert import Alert
from yuqing.alerts.digest import DigestConfig, DigestScheduler
from yuqing.alerts.escalation import Escalation, escalator_from_settings
from yuqing.alerts.subscriptions import SubscriptionDelivery, SubscriptionReport
from yuqing.clock import Clock

if TYPE_CHECKING:
    from yuqing.alerts.delivery import Dispatcher
    from yuqing.settings import Settings
    from yuqing.store.base import Store

__all__ = ["FollowUp", "FollowUpReport"]


@dataclass(slots=True)
class FollowUpReport:
    """What one tick did."""

    escalations: list[Escalation] = field(default_factory=list)
    digests: list[Alert] = field(default_factory=list)
    subscriptions: SubscriptionReport = field(default_factory=SubscriptionReport)


class FollowUp:
    """Escalation and digests over one dispatcher (either may be unconfigured)."""

    def __init__(self, settings: Settings, dispatcher: Dispatcher, clock: Clock) -> None:
        self.escalator = escalator_from_settings(settings.alerts.escalation, dispatcher, clock)
        config = DigestConfig.from_config(settings.alerts.digest, settings.zone)
        self.digests = (
            DigestScheduler(config, dispatcher, clock, settings.public_url)
            if config.modes
            else None
        )
        self.subscriptions = SubscriptionDelivery(config, dispatcher, clock, settings.public_url)

    @property
    def active(self) -> bool:
        return self.escalator is not None or self.digests is not None

    def start(self, store: Store) -> None:
        """Pass alerts stored from now on to plan subscribers (else from the first tick)."""
        self.subscriptions.start(store)

    def tick(self, store: Store) -> FollowUpReport:
        """Escalate what is due (reading and writing ``store``), send digests that are due."""
        report = FollowUpReport()
        if self.escalator is not None:
            report.escalations = self.escalator.check(store)
        if self.digests is not None:
            report.digests = self.digests.tick()
        report.subscriptions = self.subscriptions.tick(store)
        return report

    def close(self) -> list[Alert]:
        """Send the digests held so far (call before closing the dispatcher)."""
        held = self.digests.flush() if self.digests is not None else []
        return held + self.subscriptions.flush()
