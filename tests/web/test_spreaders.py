"""Top spreaders: engagement and reposts inside the event, followers and verification,
and the spreaders of the demo store's largest event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.web.insights_data import T0, new_store, post
from yuqing.store.url import open_store
from yuqing.web import spreaders
from yuqing.web.spreaders import top_spreaders


def test_score_counts_engagement_and_reposts_through_them() -> None:
    docs = [
        post("o1", T0, author="媒体", reposts=50, comments=10, likes=500, followers=90_000),
        post("o1b", T0, author="媒体", reposts=5, followers=95_000, verified=True),
        post("r1", T0, author="甲", chain=["大V"], repost_of="o1", comments=3, followers=10),
        post("r2", T0, author="乙", chain=["大V"], repost_of="o1"),
        post("r3", T0, author="大V", repost_of="o1", reposts=20, followers=2_000_000),
        post("r3", T0, author="大V", repost_of="o1", reposts=20),  # read twice: counted once
        post("x", T0, author=None, reposts=99),
    ]
    authors = {("weibo", "o1"): "媒体"}
    ranked = top_spreaders(docs, authors, top=3)
    assert [s.author for s in ranked] == ["媒体", "大V", "甲"]
    media, big, jia = ranked
    assert (media.posts, media.reposts, media.comments, media.likes) == (2, 55, 10, 500)
    assert (media.followers, media.verified, media.top_post) == (95_000, True, ("weibo", "o1"))
    assert media.reposted_in_event == 1  # 大V reposted it directly
    assert (big.reposts, big.reposted_in_event, big.score) == (20, 2, 22)
    assert big.followers == 2_000_000 and not big.verified
    assert jia.score == 3
    body = big.as_dict(ZoneInfo("Asia/Shanghai"))
    assert body["author"] == "大V" and body["top_post"] == {"source": "weibo", "id": "r3"}


def test_a_hop_user_without_own_post_in_the_event_still_counts() -> None:
    docs = [
        post("r1", T0, author="甲", chain=["路人"]),
        post("r2", T0, author="乙", chain=["路人"]),
    ]
    ranked = top_spreaders(docs, {})
    assert ranked[0].author == "路人" and ranked[0].reposted_in_event == 2
    assert ranked[0].posts == 0 and ranked[0].followers is None


def test_event_spreaders_read_the_store(tmp_path: Path) -> None:
    docs = [post("o1", T0, author="A", event_id="ev-1", reposts=3)]
    docs += [
        post(f"r{i}", T0 + timedelta(minutes=i), author=f"u{i}", repost_of="o1", event_id="ev-1")
        for i in range(5)
    ]
    store = new_store(tmp_path, docs)
    try:
        found, read = spreaders.event_spreaders(store, "ev-1", top=2)
        network = spreaders.event_network(store, "ev-1")
    finally:
        store.close()
    assert read == 6
    assert [s.author for s in found] == ["A", "u0"] and found[0].score == 3 + 5
    assert network.tree.reposts == 5 and network.spreaders[0].author == "A"


def test_spreaders_of_the_demo_event(demo_url: str) -> None:
    store = open_store(demo_url)
    try:
        biggest = store.event_rollups(limit=1)[0]
        found, read = spreaders.event_spreaders(store, biggest.id)
    finally:
        store.close()
    assert read == biggest.posts
    assert 1 <= len(found) <= spreaders.TOP
    scores = [s.score for s in found]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert all(s.author for s in found)
