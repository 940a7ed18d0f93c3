"""Events: online clustering of posts into events (trends, heat, lifecycle and bursts
live in their own modules of this package)."""

from __future__ import annotations

from yuqing.events.cluster import DEFAULT_IGNORED_HASHTAGS, EventClusterer
from yuqing.events.event import Event, event_id_for

__all__ = ["DEFAULT_IGNORED_HASHTAGS", "Event", "EventClusterer", "event_id_for"]
