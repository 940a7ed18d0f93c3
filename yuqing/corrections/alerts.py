"""Marking an alert a false alarm (误报): its status becomes ``false_alarm`` in the store
(the inbox and the API show it; escalation skips it) and the correction is logged with who,
when, the status before and an optional note, in one transaction
(:meth:`~yuqing.store.base.Store.mark_false_alarm`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from yuqing.corrections.errors import CorrectionNotFoundError
from yuqing.store.base import Correction, Store, StoredAlert


@dataclass(slots=True, frozen=True)
class FalseAlarm:
    """The alert after marking, and the logged correction (None: it already was one)."""

    alert: StoredAlert
    correction: Correction | None


def mark_false_alarm(
    store: Store, alert_id: str, *, by: str, at: datetime, note: str = ""
) -> FalseAlarm:
    """Mark the stored alert ``alert_id`` a false alarm; marking it again changes nothing."""
    before = store.get_alert(alert_id)
    if before is None:
        raise CorrectionNotFoundError(f"no alert {alert_id!r} in the store")
    correction = Correction(
        kind="false_alarm",
        target=alert_id,
        old=before.status,
        new="false_alarm",
        by=by,
        at=at,
        note=note,
    )
    changed = store.mark_false_alarm(alert_id, correction)
    after = store.get_alert(alert_id)
    assert after is not None
    return FalseAlarm(after, correction if changed else None)
