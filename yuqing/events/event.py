"""An event: a group of posts about one story, as the online clusterer builds it.

An :class:`Event` is a plain summary (no text vectors): the clusterer keeps its own
working state next to it and fills these fields as posts join. ``as_dict`` gives the
JSON shape used by the store, the API and ``yuqing analyze --events``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["Event", "EventStatus", "event_id_for"]

EventStatus = Literal["open", "closed"]


def event_id_for(source: str, doc_id: str) -> str:
    """The id of the event a post starts: ``ev-`` + 16 hex of blake2b(source, id).

    Deterministic, so the same input in the same order gives the same ids in every mode.
    """
    digest = hashlib.blake2b(f"{source}\x00{doc_id}".encode(), digest_size=8).hexdigest()
    return f"ev-{digest}"


@dataclass(slots=True)
class Event:
    """One event (story) and the mix of its posts.

    ``title`` is a top hashtag that covers a good share of the posts, else the text of
    the member closest to the centroid among a few tracked candidates (see
    docs/events.md). ``keywords`` are the heaviest centroid words, weights summing to 1.
    ``first_post`` is ``(source, id)`` of the post that started it. Times are aware UTC.
    """

    id: str
    first_post: tuple[str, str]
    first_seen: datetime
    last_seen: datetime
    title: str = ""
    keywords: list[tuple[str, float]] = field(default_factory=list)
    size: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    sentiment: Counter[str] = field(default_factory=Counter)
    emotion: Counter[str] = field(default_factory=Counter)
    hashtags: Counter[str] = field(default_factory=Counter)
    status: EventStatus = "open"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: times as ISO 8601 UTC, counters as plain dicts (largest
        first), ``first_post`` as ``{"source", "id"}``."""
        return {
            "id": self.id,
            "title": self.title,
            "keywords": [[word, weight] for word, weight in self.keywords],
            "first_post": {"source": self.first_post[0], "id": self.first_post[1]},
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "size": self.size,
            "sources": dict(self.sources.most_common()),
            "regions": dict(self.regions.most_common()),
            "sentiment": dict(self.sentiment.most_common()),
            "emotion": dict(self.emotion.most_common()),
            "hashtags": dict(self.hashtags.most_common()),
            "status": self.status,
        }
