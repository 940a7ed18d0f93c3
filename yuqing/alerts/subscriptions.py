"""Per-user subscriptions to monitoring plans: each user chooses, per plan, to get the
plan's alerts at once (``immediate``) or in an ``hourly`` or ``daily`` digest, on a
``[[alerts.channels]]`` channel that reaches them (their e-mail channel, say). The
subscriptions live in the store (:class:`yuqing.store.base.Subscription`); users manage
their own through ``/api/v1/users/me/subscriptions`` (:mod:`yuqing.web.routes_subscriptions`).

:class:`SubscriptionDelivery` is part of :class:`~yuqing.alerts.followup.FollowUp`: each
:meth:`~SubscriptionDelivery.tick` (every poll of ``yuqing run``) reads the alerts stored
since the last tick, and for each new plan alert (rule id ``plan:<plan id>:<rule id>``)
each enabled subscriber of that plan gets it on their channel at once, or it is held for
their digest. Held alerts are keyed by (username, channel, mode); a key's period ends on the
hour or at ``[alerts.digest] daily_at`` (:func:`~yuqing.alerts.digest.next_digest_time`),
when one digest (:func:`~yuqing.alerts.digest.build_digest`) goes to the channel. Several
subscribers on one channel in immediate mode get one copy. Digests and escalation copies
are never passed on; a subscription naming a channel this run does not have is skipped.

This is in addition to a plan's own ``notify`` channels. Like channel digests, held alerts
live in memory; :meth:`~SubscriptionDelivery.flush` sends them when ``yuqing run`` stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from yuqing.alerts.alert import Alert
from yuqing.alerts.digest import DigestConfig, build_digest, next_digest_time
from yuqing.alerts.escalation import is_escalation
from yuqing.clock import Clock

if TYPE_CHECKING:
    from yuqing.alerts.delivery import Dispatcher
    from yuqing.store.base import Store, Subscription

__all__ = ["SubscriptionDelivery", "SubscriptionReport", "plan_of_rule"]

PLAN_PREFIX = "plan:"  # yuqing.plans.rules.PLAN_RULE_PREFIX (plans import alerts, not back)
PAGE = 500
Key = tuple[str, str, str]  # (username, channel, mode)


def plan_of_rule(rule_id: str) -> str | None:
    """The plan id of a plan rule's id ``plan:<plan id>:<rule id>`` (None for other rules)."""
    if not rule_id.startswith(PLAN_PREFIX):
        return None
    plan_id, sep, _ = rule_id[len(PLAN_PREFIX) :].partition(":")
    return plan_id if sep and plan_id else None


@dataclass(slots=True)
class SubscriptionReport:
    """What one tick did: alerts passed on at once (one per alert and channel), digests."""

    immediate: int = 0
    digests: list[Alert] = field(default_factory=list)


@dataclass(slots=True)
class _Hold:
    start: datetime
    due: datetime
    alerts: list[Alert] = field(default_factory=list)


class SubscriptionDelivery:
    """Delivers new plan alerts to their subscribers (see the module)."""

    def __init__(
        self, config: DigestConfig, dispatcher: Dispatcher, clock: Clock, public_url: str
    ) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.clock = clock
        self.public_url = public_url
        self._seq: int | None = None
        self._holds: dict[Key, _Hold] = {}

    def start(self, store: Store) -> None:
        """Deliver alerts stored from now on (the first tick starts here when not called)."""
        if self._seq is None:
            self._seq = store.last_alert_seq()

    def held(self, username: str, channel: str, mode: str) -> int:
        hold = self._holds.get((username, channel, mode))
        return len(hold.alerts) if hold is not None else 0

    def tick(self, store: Store) -> SubscriptionReport:
        """Pass on the alerts stored since the last tick, then send the digests that are due."""
        self.start(store)
        report = SubscriptionReport()
        subscribers: dict[str, list[Subscription]] = {}
        disabled: set[str] | None = None
        while True:
            assert self._seq is not None
            page = store.alerts_after(self._seq, PAGE)
            if not page:
                break
            self._seq = page[-1].seq
            for stored in page:
                alert = stored.alert
                plan_id = plan_of_rule(alert.rule_id)
                if plan_id is None or alert.kind == "digest" or is_escalation(alert):
                    continue
                if plan_id not in subscribers:
                    subscribers[plan_id] = store.subscriptions(plan_id=plan_id)
                if disabled is None and subscribers[plan_id]:
                    disabled = {u.username for u in store.users() if u.disabled}
                subs = [s for s in subscribers[plan_id] if s.username not in (disabled or set())]
                report.immediate += self._deliver(alert, subs)
        report.digests = self._send_due(self.clock.now(), flush=False)
        return report

    def flush(self) -> list[Alert]:
        """Send every held digest now (``yuqing run`` stopping)."""
        return self._send_due(self.clock.now(), flush=True)

    def _deliver(self, alert: Alert, subs: list[Subscription]) -> int:
        now = self.clock.now()
        channels: list[str] = []
        for sub in subs:
            if sub.channel not in self.dispatcher.channels:
                continue  # the channel was removed from [[alerts.channels]]
            if sub.mode == "immediate":
                if sub.channel not in channels:
                    channels.append(sub.channel)
                continue
            key = (sub.username, sub.channel, sub.mode)
            hold = self._holds.get(key)
            if hold is None:
                due = next_digest_time(sub.mode, now, self.config)
                span = timedelta(hours=1) if sub.mode == "hourly" else timedelta(days=1)
                hold = self._holds[key] = _Hold(start=due - span, due=due)
            if all(a.id != alert.id for a in hold.alerts):
                hold.alerts.append(alert)
        if channels:
            self.dispatcher.submit(alert, channels)
        return len(channels)

    def _send_due(self, now: datetime, *, flush: bool) -> list[Alert]:
        sent: list[Alert] = []
        for key in list(self._holds):
            hold = self._holds[key]
            if not flush and now < hold.due:
                continue
            del self._holds[key]
            username, channel, mode = key
            digest = build_digest(
                hold.alerts,
                channel=f"{username}/{channel}",
                mode=mode,
                start=hold.start,
                end=min(now, hold.due) if flush else hold.due,
                public_url=self.public_url,
                zone=self.config.zone,
            )
            self.dispatcher.submit(digest, [channel])
            sent.append(digest)
        return sent
