"""The repost tree of an event (转发树): who reposted whom, from the posts' ``//@`` chains.

A Weibo repost reads ``own words //@B: B's words //@A: A's words``: the author reposted
B, who had reposted A. The pipeline keeps the hops nearest first in ``repost_chain`` and,
when the deepest hop quotes a stored post, that post in ``repost_of``. The path of one
repost is therefore, oldest first::

    [author of repost_of (when known and not already the deepest hop),
     deepest hop user, ..., nearest hop user, the post's author]

Every consecutive pair is an edge parent -> child. A user gets the parent of the first
path (in time order) that reaches them, so the result is a tree (a forest: one root per
original author); a later edge that would close a cycle is ignored. A post with
``repost_of`` but no chain is an edge from the original's author to its author.

Each node counts its own repost posts in the event (``posts``) and those of its whole
subtree (``size``). The tree shown is capped at ``max_nodes`` users: the largest
subtrees are kept (a node is kept only with its parent), and each node says how many
child users and posts were left out (``hidden``, ``hidden_posts``). User handles are
untrusted text: pages escape them (this module only counts).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from yuqing.models import Document
from yuqing.store.base import Store

MAX_NODES = 150
EVENT_POSTS = 3000  # an event's oldest posts read for its tree (the tree grows from them)
MAX_LOOKUPS = 200  # originals outside the event looked up for their authors
MAX_DEPTH = 40  # deeper paths are cut (a 40-hop chain is already a curiosity)

Key = tuple[str, str]


def repost_path(doc: Document, original_authors: Mapping[Key, str | None]) -> list[str]:
    """The users a repost went through, oldest first, ending with its author; [] when the
    post is no repost or has no author. ``original_authors`` maps (source, id) of stored
    posts to their authors (for ``repost_of``)."""
    if not doc.author:
        return []
    path = [hop.user for hop in reversed(doc.repost_chain) if hop.user]
    if doc.repost_of is not None:
        key = (doc.repost_of_source or doc.source, doc.repost_of)
        root = original_authors.get(key)
        if root and (not path or path[0] != root):
            path.insert(0, root)
    if not path:
        return []
    path.append(doc.author)
    out: list[str] = []
    for user in path:  # `//@A: //@A:` or a user quoting themselves: one step
        if not out or out[-1] != user:
            out.append(user)
    return out[-MAX_DEPTH:] if len(out) > 1 else []


@dataclass(slots=True)
class TreeNode:
    """One user in the tree."""

    user: str
    posts: int = 0  # their repost posts in the event
    size: int = 0  # repost posts in their subtree, their own included
    followers: int | None = None
    verified: bool = False
    post: Key | None = None  # their first repost in the event (a root: the original post)
    children: list[TreeNode] = field(default_factory=list)
    hidden: int = 0  # child users left out by the cap
    hidden_posts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "posts": self.posts,
            "size": self.size,
            "followers": self.followers,
            "verified": self.verified,
            "post": {"source": self.post[0], "id": self.post[1]} if self.post else None,
            "hidden": self.hidden,
            "hidden_posts": self.hidden_posts,
            "children": [c.as_dict() for c in self.children],
        }


@dataclass(slots=True)
class RepostTree:
    """The forest of repost paths in an event: ``roots`` largest first."""

    roots: list[TreeNode]
    reposts: int  # repost posts read
    users: int  # users in the whole tree
    shown: int  # users kept under the cap

    @property
    def truncated(self) -> bool:
        return self.shown < self.users

    def as_dict(self) -> dict[str, Any]:
        return {
            "reposts": self.reposts,
            "users": self.users,
            "shown": self.shown,
            "truncated": self.truncated,
            "roots": [r.as_dict() for r in self.roots],
        }


def original_keys(docs: Iterable[Document]) -> set[Key]:
    """The (source, id) of the posts that these posts repost."""
    return {(d.repost_of_source or d.source, d.repost_of) for d in docs if d.repost_of}


def build(
    docs: Iterable[Document],
    original_authors: Mapping[Key, str | None],
    *,
    max_nodes: int = MAX_NODES,
) -> RepostTree:
    """The repost tree of ``docs`` (read in the given order: pass them oldest first)."""
    parent: dict[str, str] = {}
    nodes: dict[str, TreeNode] = {}
    reposts = 0

    def node(user: str) -> TreeNode:
        found = nodes.get(user)
        if found is None:
            found = nodes[user] = TreeNode(user)
        return found

    def is_ancestor(user: str, of: str) -> bool:
        seen = 0
        while of in parent and seen <= len(parent):
            of = parent[of]
            seen += 1
            if of == user:
                return True
        return False

    for doc in docs:
        path = repost_path(doc, original_authors)
        if not path:
            continue
        reposts += 1
        for up, down in pairwise(path):
            node(up)
            node(down)
            if down not in parent and down != up and not is_ancestor(down, up):
                parent[down] = up
        author = node(path[-1])
        author.posts += 1
        if author.post is None:
            author.post = doc.key
        if doc.author_followers is not None:
            author.followers = max(author.followers or 0, doc.author_followers)
        author.verified = author.verified or bool(doc.author_verified)
        if doc.repost_of is not None:
            key = (doc.repost_of_source or doc.source, doc.repost_of)
            root = node(path[0])
            if root.post is None and original_authors.get(key) == path[0]:
                root.post = key
    children: dict[str, list[str]] = {}
    for child, up in parent.items():
        children.setdefault(up, []).append(child)
    roots = [u for u in nodes if u not in parent]
    _sizes(roots, children, nodes)
    kept = _keep(roots, children, nodes, max_nodes)
    for user, n in nodes.items():
        if user in kept:
            for child in sorted(children.get(user, []), key=lambda c: (-nodes[c].size, c)):
                if child in kept:
                    n.children.append(nodes[child])
                elif nodes[child].size:
                    n.hidden += 1
                    n.hidden_posts += nodes[child].size
    shown_roots = sorted((nodes[r] for r in roots if r in kept), key=lambda n: (-n.size, n.user))
    # a user a chain went through whose reposts were all attributed elsewhere (size 0) has
    # nothing to show: neither shown nor counted
    users = sum(1 for n in nodes.values() if n.size)
    return RepostTree(shown_roots, reposts, users, len(kept))


def _sizes(roots: list[str], children: dict[str, list[str]], nodes: dict[str, TreeNode]) -> None:
    """Fill ``size`` bottom-up without recursion (deep chains exist)."""
    order: list[str] = []
    stack = list(roots)
    while stack:
        user = stack.pop()
        order.append(user)
        stack.extend(children.get(user, []))
    for user in reversed(order):
        n = nodes[user]
        n.size = n.posts + sum(nodes[c].size for c in children.get(user, []))


def _keep(
    roots: list[str], children: dict[str, list[str]], nodes: dict[str, TreeNode], cap: int
) -> set[str]:
    """The ``cap`` users with the largest subtrees, each with its parent (best first)."""
    heap = [(-nodes[r].size, r) for r in roots if nodes[r].size > 0]
    heapq.heapify(heap)
    kept: set[str] = set()
    while heap and len(kept) < cap:
        _, user = heapq.heappop(heap)
        kept.add(user)
        for child in children.get(user, []):
            if nodes[child].size:
                heapq.heappush(heap, (-nodes[child].size, child))
    return kept


def original_authors(store: Store, docs: list[Document]) -> dict[Key, str | None]:
    """Authors of the posts that ``docs`` repost: from ``docs`` themselves, else looked up
    in the store (at most MAX_LOOKUPS)."""
    authors: dict[Key, str | None] = {d.key: d.author for d in docs}
    missing = sorted(original_keys(docs) - authors.keys())[:MAX_LOOKUPS]
    for source, post_id in missing:
        found = store.get_document(source, post_id)
        authors[(source, post_id)] = found.author if found is not None else None
    return authors


def event_tree(
    store: Store, event_id: str, *, posts: int = EVENT_POSTS, max_nodes: int = MAX_NODES
) -> RepostTree:
    """The repost tree of an event's oldest ``posts`` posts."""
    docs = store.event_documents(event_id, order="time", limit=posts)
    return build(docs, original_authors(store, docs), max_nodes=max_nodes)


__all__ = [
    "RepostTree",
    "TreeNode",
    "build",
    "event_tree",
    "original_authors",
    "original_keys",
    "repost_path",
]
