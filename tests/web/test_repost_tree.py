"""The repost tree: paths from ``//@`` chains and ``repost_of``, the forest, the cap, and
the tree of the demo store's largest event (real pipeline, real SQLite)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.web.insights_data import T0, new_store, post
from yuqing.store.url import open_store
from yuqing.web import repost_tree
from yuqing.web.repost_tree import TreeNode, build, repost_path

ORIGINALS = {("weibo", "o1"): "A", ("weibo", "o2"): "Z"}


def test_paths_read_oldest_first() -> None:
    # C wrote "... //@B: ... //@A: ..." reposting A's o1 through B
    assert repost_path(post("p", T0, author="C", chain=["B", "A"], repost_of="o1"), ORIGINALS) == [
        "A",
        "B",
        "C",
    ]
    # the original's author is not the deepest hop: it goes first
    assert repost_path(post("p", T0, author="C", chain=["B"], repost_of="o1"), ORIGINALS) == [
        "A",
        "B",
        "C",
    ]
    assert repost_path(post("p", T0, author="C", repost_of="o2"), ORIGINALS) == ["Z", "C"]
    assert repost_path(post("p", T0, author="C", chain=["B"]), {}) == ["B", "C"]
    assert repost_path(post("p", T0, author="C", chain=["C", "C"]), {}) == []  # self only
    assert repost_path(post("p", T0, author=None, chain=["B"]), {}) == []
    assert repost_path(post("p", T0, author="C"), {}) == []  # not a repost
    assert repost_path(post("p", T0, author="C", repost_of="unknown"), ORIGINALS) == []


def test_forest_sizes_first_parent_and_no_cycles() -> None:
    docs = [
        post("1", T0, author="B", chain=["A"], repost_of="o1", followers=300, verified=True),
        post("2", T0, author="C", chain=["B", "A"], repost_of="o1"),
        post("3", T0, author="D", chain=["B", "A"], repost_of="o1"),
        post("4", T0, author="C", chain=["D"]),  # C already hangs under B: kept there
        post("5", T0, author="A", chain=["C"]),  # would close a cycle A -> B -> C -> A
        post("6", T0, author="Y", repost_of="o2"),
    ]
    tree = build(docs, ORIGINALS)
    assert tree.reposts == 6 and tree.users == 6 and not tree.truncated
    assert [r.user for r in tree.roots] == ["A", "Z"]
    a = tree.roots[0]
    assert (a.posts, a.size, a.post) == (1, 5, ("weibo", "o1"))
    b = a.children[0]
    assert b.user == "B" and (b.followers, b.verified, b.post) == (300, True, ("weibo", "1"))
    assert sorted(c.user for c in b.children) == ["C", "D"]
    c = next(n for n in b.children if n.user == "C")
    assert (c.posts, c.size) == (2, 2)
    assert tree.roots[1].children[0].user == "Y"
    assert sum(r.size for r in tree.roots) == tree.reposts


def _count(nodes: list[TreeNode]) -> int:
    return sum(1 + _count(n.children) for n in nodes)


def test_the_cap_keeps_the_largest_subtrees() -> None:
    docs = [post(f"s{i}", T0, author=f"u{i}", chain=["hub"], repost_of="o1") for i in range(30)]
    docs += [post(f"t{i}", T0, author=f"v{i}", chain=["u0", "hub"]) for i in range(5)]
    tree = build(docs, ORIGINALS, max_nodes=5)
    assert tree.truncated and tree.shown == 5 and _count(tree.roots) == 5
    root = tree.roots[0]
    hub = root.children[0]
    assert (root.user, hub.user, hub.size) == ("A", "hub", 35)
    assert hub.children[0].user == "u0" and hub.children[0].size == 6
    shown = len(hub.children)
    assert hub.hidden == 30 - shown
    assert sum(c.size for c in hub.children) + hub.hidden_posts == hub.size - hub.posts
    as_dict = tree.as_dict()
    assert as_dict["truncated"] is True and as_dict["roots"][0]["user"] == "A"


def test_event_tree_reads_the_store(tmp_path: Path) -> None:
    docs = [
        post("o1", T0, author="A", event_id="ev-1"),
        post("1", T0 + timedelta(minutes=1), author="B", repost_of="o1", event_id="ev-1"),
        post(
            "2", T0 + timedelta(minutes=2), author="C", chain=["B"], repost_of="o1", event_id="ev-1"
        ),
        post("3", T0 + timedelta(minutes=3), author="D", repost_of="o9", event_id="ev-1"),
        post("o9", T0 - timedelta(days=3), author="Old"),  # outside the event: looked up
    ]
    store = new_store(tmp_path, docs)
    try:
        tree = repost_tree.event_tree(store, "ev-1")
    finally:
        store.close()
    assert [r.user for r in tree.roots] == ["A", "Old"]
    assert tree.roots[0].children[0].children[0].user == "C"
    assert tree.roots[1].post == ("weibo", "o9")


def test_tree_of_the_demo_event(demo_url: str) -> None:
    store = open_store(demo_url)
    try:
        biggest = store.event_rollups(limit=1)[0]
        tree = repost_tree.event_tree(store, biggest.id, max_nodes=10_000)
        capped = repost_tree.event_tree(store, biggest.id, max_nodes=10)
    finally:
        store.close()
    assert tree.reposts >= 10, "the demo's main event has // reposts"
    assert sum(r.size for r in tree.roots) == tree.reposts  # every repost is in one subtree
    assert tree.shown == tree.users
    assert capped.shown == 10 and _count(capped.roots) == 10 and capped.truncated
