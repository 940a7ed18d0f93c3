"""Top spreaders of an event (主要传播者): the authors whose posts in the event drew the
most engagement and the most reposts inside the event.

For each author of the event's posts (read through the Store protocol):

- ``reposts``, ``comments``, ``likes``: the sums of their posts' counters (as the source
  reported them);
- ``reposted_in_event``: how many of the event's reposts went directly through them (they
  are the nearest ``//@`` hop of the repost, or the author of the post it reposts: the
  parent edge of :mod:`yuqing.web.repost_tree`);
- ``score = reposts + comments + reposted_in_event`` (likes are shown, not scored: a like
  does not carry the post further).

Ranked by score, then followers, then handle. Followers are the largest count seen on
their posts, ``verified`` true when any post says so. Authors are shown only as their
handles; the handle is untrusted text and is escaped by the pages.

The posts read are the event's oldest ``EVENT_POSTS`` (the same as the repost tree) and
its ``ENGAGED_POSTS`` most engaged, so a late viral post is not missed in a large event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.models import Document
from yuqing.store.base import Store
from yuqing.web import repost_tree
from yuqing.web.repost_tree import Key, RepostTree

TOP = 10
ENGAGED_POSTS = 500


@dataclass(slots=True)
class Spreader:
    """One author's reach in the event."""

    author: str
    posts: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    reposted_in_event: int = 0
    followers: int | None = None
    verified: bool = False
    top_post: Key | None = None  # their most engaged post in the event
    first_at: datetime | None = None
    _best: int = -1

    @property
    def score(self) -> int:
        return self.reposts + self.comments + self.reposted_in_event

    def as_dict(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "author": self.author,
            "posts": self.posts,
            "reposts": self.reposts,
            "comments": self.comments,
            "likes": self.likes,
            "reposted_in_event": self.reposted_in_event,
            "score": self.score,
            "followers": self.followers,
            "verified": self.verified,
            "top_post": (
                {"source": self.top_post[0], "id": self.top_post[1]} if self.top_post else None
            ),
            "first_at": self.first_at.astimezone(zone).isoformat() if self.first_at else None,
        }


def unique(docs: Iterable[Document]) -> list[Document]:
    """Each post once (by source and id), in first-seen order."""
    seen: set[Key] = set()
    out: list[Document] = []
    for doc in docs:
        if doc.key not in seen:
            seen.add(doc.key)
            out.append(doc)
    return out


def top_spreaders(
    docs: Iterable[Document], original_authors: Mapping[Key, str | None], *, top: int = TOP
) -> list[Spreader]:
    """The ``top`` authors of ``docs`` by score (see the module docstring)."""
    by_author: dict[str, Spreader] = {}
    direct: dict[str, int] = {}
    for doc in unique(docs):
        path = repost_tree.repost_path(doc, original_authors)
        if len(path) >= 2:
            direct[path[-2]] = direct.get(path[-2], 0) + 1
        if not doc.author:
            continue
        s = by_author.get(doc.author)
        if s is None:
            s = by_author[doc.author] = Spreader(doc.author)
        s.posts += 1
        s.reposts += doc.reposts
        s.comments += doc.comments
        s.likes += doc.likes
        engagement = doc.reposts + doc.comments + doc.likes
        if engagement > s._best:
            s._best = engagement
            s.top_post = doc.key
        if doc.author_followers is not None:
            s.followers = max(s.followers or 0, doc.author_followers)
        s.verified = s.verified or bool(doc.author_verified)
        if doc.published_at is not None and (s.first_at is None or doc.published_at < s.first_at):
            s.first_at = doc.published_at
    for user, n in direct.items():
        s = by_author.get(user)
        if s is None:  # reposted in the event, but their own post is outside it
            s = by_author[user] = Spreader(user)
        s.reposted_in_event += n
    ranked = sorted(
        (s for s in by_author.values() if s.score > 0 or s.posts > 0),
        key=lambda s: (-s.score, -(s.followers or 0), s.author),
    )
    return ranked[:top]


@dataclass(slots=True)
class EventNetwork:
    """What the event page shows of how an event spread: spreaders and the repost tree."""

    spreaders: list[Spreader]
    tree: RepostTree
    posts_read: int


def _event_docs(store: Store, event_id: str, posts: int) -> tuple[list[Document], list[Document]]:
    """The event's oldest ``posts`` posts, and those plus its most engaged, each once."""
    oldest = store.event_documents(event_id, order="time", limit=posts)
    engaged = store.event_documents(event_id, order="engagement", limit=ENGAGED_POSTS)
    return oldest, unique([*oldest, *engaged])


def event_spreaders(
    store: Store, event_id: str, *, top: int = TOP, posts: int = repost_tree.EVENT_POSTS
) -> tuple[list[Spreader], int]:
    """The top spreaders of one event and how many posts were read."""
    _, docs = _event_docs(store, event_id, posts)
    authors = repost_tree.original_authors(store, docs)
    return top_spreaders(docs, authors, top=top), len(docs)


def event_network(
    store: Store,
    event_id: str,
    *,
    top: int = TOP,
    max_nodes: int = repost_tree.MAX_NODES,
    posts: int = repost_tree.EVENT_POSTS,
) -> EventNetwork:
    """Spreaders and repost tree of one event, from one read of its posts."""
    oldest = store.event_documents(event_id, order="time", limit=posts)
    engaged = store.event_documents(event_id, order="engagement", limit=ENGAGED_POSTS)
    return network_of(store, oldest, engaged, top=top, max_nodes=max_nodes)


def network_of(
    store: Store,
    oldest: list[Document],
    engaged: list[Document],
    *,
    top: int = TOP,
    max_nodes: int = repost_tree.MAX_NODES,
) -> EventNetwork:
    """:func:`event_network` from the event's posts already read: its oldest (time order)
    and its most engaged (engagement order)."""
    docs = unique([*oldest, *engaged])
    authors = repost_tree.original_authors(store, docs)
    return EventNetwork(
        spreaders=top_spreaders(docs, authors, top=top),
        tree=repost_tree.build(oldest, authors, max_nodes=max_nodes),
        posts_read=len(docs),
    )


__all__ = [
    "ENGAGED_POSTS",
    "EventNetwork",
    "Spreader",
    "event_network",
    "event_spreaders",
    "network_of",
    "top_spreaders",
    "unique",
]
