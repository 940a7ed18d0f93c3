"""The privacy section of the Store contract (audit log, text retention, deletion of an
author's posts, the suppression list), over every backend of the ``store`` fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.errors import StoreError
from yuqing.models import Document
from yuqing.store.base import AuditEntry, Store, SuppressedAuthor

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def entry(action: str = "login", actor: str = "zhang", **changes: object) -> AuditEntry:
    base: dict[str, object] = {
        "action": action,
        "actor": actor,
        "at": T0,
        "client": "10.0.0.1",
        "target": actor,
        "details": {"via": "password"},
    }
    base.update(changes)
    return AuditEntry(**base)  # type: ignore[arg-type]


def test_audit_log_appends_and_filters(store: Store) -> None:
    assert store.audit_log() == []
    first = store.add_audit(entry())
    second = store.add_audit(entry("export", at=T0 + timedelta(minutes=5), details={"rows": 3}))
    third = store.add_audit(entry("login_failed", "li", at=T0 + timedelta(minutes=9)))
    assert 0 < first.id < second.id < third.id
    assert [e.id for e in store.audit_log()] == [third.id, second.id, first.id]
    assert [e.id for e in store.audit_log(newest_first=False, after=first.id)] == [
        second.id,
        third.id,
    ]
    got = store.audit_log(actor="zhang", action="export")
    assert len(got) == 1 and got[0].details == {"rows": 3} and got[0].client == "10.0.0.1"
    assert got[0].at == T0 + timedelta(minutes=5)
    window = store.audit_log(since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=9))
    assert [e.id for e in window] == [second.id]
    assert len(store.audit_log(limit=1)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        entry("reboot"),
        entry(actor=" "),
        entry(at=datetime(2026, 11, 25, 1, 0)),  # noqa: DTZ001  (naive on purpose)
        entry(details={"x": object()}),
    ],
)
def test_audit_log_refuses_bad_entries(store: Store, bad: AuditEntry) -> None:
    with pytest.raises(StoreError):
        store.add_audit(bad)
    assert store.audit_log() == []


def post(i: int, *, days_old: int, source: str = "weibo", author: str = "alice") -> Document:
    return Document(
        source=source,
        id=f"p{i}",
        text=f"食堂过期食材 第{i}条 @{author}",
        norm_text=f"食堂过期食材 第{i}条 @{author}",
        title=f"标题{i}",
        url=f"https://example.org/{i}",
        author=author,
        author_followers=100 + i,
        published_at=T0 - timedelta(days=days_old, minutes=i),
        mentions=[author],
        tokens=["食堂", "过期", "食材"],
        analysis={
            "sentiment": "negative",
            "emotion": "anger",
            "risk": {"type": "ordinary"},
            "event_id": "e1",
            "explain": {"sentiment": ["过期"]},
        },
    )


def _fill(store: Store) -> None:
    docs = [post(i, days_old=40 if i < 3 else 1) for i in range(5)]
    docs.append(post(9, days_old=40, source="news", author="bob"))
    store.add_documents(docs)
    while store.index_pending():
        pass


def test_remove_texts_keeps_labels_and_leaves_search(store: Store) -> None:
    _fill(store)
    trend = store.trend_counts("sentiment")
    labels = store.label_counts("emotion")
    assert store.count_matches("食堂") == 6
    cutoff = T0 - timedelta(days=30)
    assert store.remove_texts(cutoff, source="weibo", dry_run=True) == 3
    assert store.remove_texts(cutoff, exclude_sources=["weibo"], dry_run=True) == 1
    assert store.remove_texts(cutoff, source="weibo", limit=2) == 2
    assert store.remove_texts(cutoff, source="weibo") == 1
    assert store.remove_texts(cutoff, source="weibo") == 0  # done already
    old = store.get_document("weibo", "p0")
    assert old is not None
    assert (old.text, old.norm_text, old.title, old.url, old.author) == ("", "", None, None, None)
    assert old.author_followers is None and old.mentions == [] and old.tokens == []
    assert old.analysis["sentiment"] == "negative" and old.analysis["event_id"] == "e1"
    assert "explain" not in old.analysis and old.published_at is not None
    young = store.get_document("weibo", "p4")
    assert young is not None and young.author == "alice" and young.text.startswith("食堂")
    assert store.trend_counts("sentiment") == trend
    assert store.label_counts("emotion") == labels
    assert store.count_matches("食堂") == 3  # p3, p4 and news/p9 are left
    assert {h.id for h in store.search("食堂", limit=10)} == {"p3", "p4", "p9"}
    assert store.stats().documents == 6


def test_remove_texts_of_unindexed_posts(store: Store) -> None:
    store.add_documents([post(1, days_old=40)])  # not indexed yet
    assert store.remove_texts(T0 - timedelta(days=30)) == 1
    while store.index_pending():
        pass
    assert store.count_matches("食堂") == 0


def test_delete_author_documents(store: Store) -> None:
    _fill(store)
    assert store.delete_author_documents("alice", source="news", dry_run=True) == 0
    assert store.delete_author_documents("bob", dry_run=True) == 1
    assert store.delete_author_documents("bob") == 1
    assert store.get_document("news", "p9") is None
    assert store.existing_keys([("news", "p9")]) == set()
    assert store.count_matches("食堂") == 5
    assert store.delete_author_documents("alice", source="weibo") == 5
    assert store.stats().documents == 0
    assert store.search("食堂") == []
    assert store.delete_author_documents("nobody") == 0
    with pytest.raises(StoreError):
        store.delete_author_documents(" ")


def blocked(author: str, source: str | None = None, **changes: object) -> SuppressedAuthor:
    base: dict[str, object] = {
        "author": author,
        "source": source,
        "actor": "cli:zhang",
        "at": T0,
        "reason": "本人申请",
    }
    base.update(changes)
    return SuppressedAuthor(**base)  # type: ignore[arg-type]


def test_suppression_list(store: Store) -> None:
    assert store.suppressed_authors() == []
    assert store.suppress_author(blocked("bob", "weibo")) is True
    assert store.suppress_author(blocked("alice")) is True
    assert store.suppress_author(blocked("alice", "weibo")) is True
    later = blocked("alice", actor="li", at=T0 + timedelta(hours=1), reason="")
    assert store.suppress_author(later) is False  # replaced: who and when of the last ask
    assert store.suppressed_authors() == [later, blocked("alice", "weibo"), blocked("bob", "weibo")]
    assert store.suppress_author(blocked("carol", "")) is True  # '' is every source
    assert store.suppressed_authors()[-1].source is None
    assert store.unsuppress_author("alice", "news") is False
    assert store.unsuppress_author("alice") is True
    assert store.unsuppress_author("alice") is False
    assert store.unsuppress_author("bob", "weibo") is True
    assert store.unsuppress_author("carol", "") is True
    assert store.suppressed_authors() == [blocked("alice", "weibo")]


def test_suppression_mark_changes_with_every_insert_or_delete(store: Store) -> None:
    seen: list[tuple[frozenset[tuple[str, str | None]], tuple[int, int]]] = []

    def look() -> None:
        pairs = frozenset((e.author, e.source) for e in store.suppressed_authors())
        seen.append((pairs, store.suppression_mark()))

    look()
    store.suppress_author(blocked("alice"))
    look()
    store.suppress_author(blocked("alice", reason="again"))  # replaced: the same list
    look()
    store.suppress_author(blocked("bob"))
    look()
    store.unsuppress_author("bob")
    look()
    store.suppress_author(blocked("carol"))
    store.unsuppress_author("alice")  # as many entries as before, not the same
    look()
    assert seen[0][1][0] == 0 and [m[0] for _, m in seen[1:]] == [1, 1, 2, 1, 1]
    for pairs, mark in seen:
        for other_pairs, other_mark in seen:
            assert (mark != other_mark) or (pairs == other_pairs)


def test_suppression_keeps_exact_handles(store: Store) -> None:
    store.suppress_author(blocked("Alice"))
    store.suppress_author(blocked("张三的号"))
    assert [e.author for e in store.suppressed_authors()] == ["Alice", "张三的号"]
    assert store.unsuppress_author("alice") is False


@pytest.mark.parametrize(
    "bad",
    [
        blocked(" "),
        blocked("alice", actor=" "),
        blocked("alice", at=datetime(2026, 11, 25, 1, 0)),  # noqa: DTZ001  (naive on purpose)
    ],
)
def test_suppression_refuses_bad_entries(store: Store, bad: SuppressedAuthor) -> None:
    with pytest.raises(StoreError):
        store.suppress_author(bad)
    assert store.suppressed_authors() == []
