"""The pre-aggregated counts (migration 11) against a recomputation from the stored posts,
after adds, analysis updates, corrections and deletions, on every backend: trend and label
counts, event roll-ups and ``stats()`` must be exactly what counting the posts gives, for
windows on and off the quarter-hour grid."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from yuqing.models import Document
from yuqing.store.base import SLOT_SECONDS, Correction, Dimension, Store, TrendCount
from yuqing.store.url import open_store

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
SLOT = timedelta(seconds=SLOT_SECONDS)
SENTIMENTS = ("negative", "positive", "neutral", None)
REGIONS = ("宁波市", "鄞州区", "杭州市")
DIMS: tuple[Dimension, ...] = ("total", "sentiment", "emotion", "risk", "source", "region", "event")


def make_posts(n: int, seed: int) -> list[Document]:
    rnd = random.Random(seed)
    posts = []
    for k in range(n):
        doc = Document(
            id=f"p{seed}-{k}",
            source=rnd.choice(("weibo", "news", "wechat")),
            text=f"食堂 {k}",
            author=rnd.choice(("张三", "李四", "王五")),
            region=rnd.choice((None, "浙江省")),
            reposts=rnd.randrange(5),
            comments=rnd.randrange(3),
            likes=rnd.randrange(7),
        )
        doc.norm_text = doc.text
        doc.published_at = T0 + timedelta(seconds=rnd.randrange(5 * 3600)) if k % 17 else None
        if k % 11 == 5:
            doc.duplicate_of, doc.duplicate_of_source = f"p{seed}-0", doc.source
        if k % 7 == 3:
            doc.repost_of = f"p{seed}-1"
        doc.analysis = analysis(rnd)
        posts.append(doc)
    return posts


def analysis(rnd: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {
        "emotion": rnd.choice(("anger", "joy", "fear")),
        "regions": [{"name": r} for r in rnd.sample(REGIONS, rnd.randrange(3))],
        "risk": {"type": rnd.choice(("rumor", "ordinary"))},
    }
    if (sentiment := rnd.choice(SENTIMENTS)) is not None:
        out["sentiment"] = sentiment
    if rnd.random() < 0.8:
        out["event_id"] = rnd.choice(("ev-1", "ev-2", "ev-3"))
    return out


def stored(store: Store) -> list[Document]:
    docs: list[Document] = []
    position = 0
    while page := store.documents_after(position, 500):
        position = page[-1][0]
        docs.extend(d for _, d in page)
    return docs


def values(doc: Document, dim: str) -> list[str]:
    a = doc.analysis
    if dim == "total":
        return [""]
    if dim == "region":
        names = [r["name"] for r in a.get("regions") or []]
        return names or ([doc.region] if doc.region else [])
    found = {
        "sentiment": a.get("sentiment"),
        "emotion": a.get("emotion"),
        "risk": (a.get("risk") or {}).get("type"),
        "source": doc.source,
        "event": a.get("event_id"),
    }[dim]
    return [] if found is None else [str(found)]


def in_window(
    docs: list[Document], since: datetime | None, until: datetime | None
) -> Iterator[Document]:
    for doc in docs:
        t = doc.published_at
        if t is not None and (since is None or t >= since) and (until is None or t < until):
            yield doc


def slot_of(t: datetime) -> datetime:
    return T0 + SLOT * ((t - T0) // SLOT)


WINDOWS: list[tuple[datetime | None, datetime | None]] = [
    (None, None),
    (T0 + timedelta(minutes=15), T0 + timedelta(hours=3)),  # on the grid
    (T0 + timedelta(minutes=7, seconds=3), T0 + timedelta(hours=2, minutes=41)),
    (T0 + timedelta(minutes=20), None),
    (None, T0 + timedelta(hours=4, minutes=1)),
    (T0 + timedelta(minutes=31), T0 + timedelta(minutes=44)),  # inside one slot
    (T0 + timedelta(minutes=14), T0 + timedelta(minutes=31)),  # two partial slots
]


def check(store: Store) -> None:
    docs = stored(store)
    for since, until in WINDOWS:
        window = list(in_window(docs, since, until))
        for event in (None, "ev-1"):
            chosen = [d for d in window if event is None or d.analysis.get("event_id") == event]
            for dim in DIMS:
                trend: Counter[tuple[datetime, str]] = Counter()
                for doc in chosen:
                    assert doc.published_at is not None
                    for value in values(doc, dim):
                        trend[(slot_of(doc.published_at), value)] += 1
                got = store.trend_counts(dim, since=since, until=until, event_id=event)
                assert got == sorted(
                    (TrendCount(s, v, n) for (s, v), n in trend.items()),
                    key=lambda c: (c.start, c.value),
                ), (dim, since, until, event)
                labels = Counter(v for doc in chosen for v in values(doc, dim))
                ranked = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))
                got_labels = store.label_counts(
                    dim, since=since, until=until, event_id=event, limit=2
                )
                assert list(got_labels.items()) == ranked[:2], (dim, since, until, event)
        check_events(store, window, since, until)
    check_stats(store, docs)


def check_events(
    store: Store, window: list[Document], since: datetime | None, until: datetime | None
) -> None:
    by_event: dict[str, list[Document]] = defaultdict(list)
    for doc in window:
        if doc.analysis.get("event_id"):
            by_event[str(doc.analysis["event_id"])].append(doc)
    ranked = sorted(by_event, key=lambda e: (-len(by_event[e]), e))
    got = store.event_rollups(since=since, until=until, limit=10)
    assert [r.id for r in got] == ranked
    for r in got:
        posts = by_event[r.id]
        times = [d.published_at for d in posts if d.published_at is not None]
        assert (r.posts, r.first_seen, r.last_seen) == (len(posts), min(times), max(times))
        assert (r.reposts, r.comments, r.likes) == (
            sum(d.reposts for d in posts),
            sum(d.comments for d in posts),
            sum(d.likes for d in posts),
        )
        hours = Counter(t.replace(minute=0, second=0, microsecond=0) for t in times)
        assert r.hourly == sorted(hours.items())
        for mix, dim in (
            (r.sources, "source"),
            (r.sentiment, "sentiment"),
            (r.emotion, "emotion"),
            (r.risk, "risk"),
        ):
            counts = Counter(v for d in posts for v in values(d, dim))
            assert list(mix.items()) == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    one = store.event_rollups(since=since, until=until, ids=["ev-2", "nope"], limit=5)
    assert [r.id for r in one] == (["ev-2"] if by_event.get("ev-2") else [])


def check_stats(store: Store, docs: list[Document]) -> None:
    s = store.stats()
    assert s.documents == len(docs)
    assert s.duplicates == sum(d.duplicate_of is not None for d in docs)
    assert s.reposts == sum(d.repost_of is not None for d in docs)
    assert s.sources == dict(sorted(Counter(d.source for d in docs).items()))


def test_rollups_equal_the_posts_after_adds_updates_and_deletions(store: Store) -> None:
    posts = make_posts(120, seed=1)
    store.add_documents(posts[:70])
    store.add_documents(posts[50:])  # 20 already stored: counted once
    check(store)
    rnd = random.Random(5)
    updates = [(d.source, d.id, analysis(rnd)) for d in posts[::4]]
    assert store.update_analysis(updates) == len(updates)
    check(store)
    target = posts[3]
    new = {**analysis(rnd), "sentiment": "positive", "event_id": "ev-1"}
    correction = Correction("sentiment", f"{target.source}/{target.id}", "x", "positive", "a", T0)
    store.add_correction(correction, [(target.source, target.id, new)])
    check(store)
    assert store.delete_author_documents("张三") > 0
    check(store)
    store.remove_texts(T0 + timedelta(hours=2))  # keeps labels: counts do not change
    check(store)


def test_migration_11_counts_the_posts_already_stored(
    tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    from yuqing.store.migrations import apply_migrations

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = open_store(url, migrate=False)
    apply_migrations(old._conn, url, target=10)  # type: ignore[attr-defined]
    old.add_documents(make_posts(80, seed=2))
    old.close()
    store = open_store(url)
    try:
        check(store)
    finally:
        store.close()


def test_postgres_migration_11_counts_the_posts_already_stored(postgres_url: str) -> None:
    from yuqing.store.postgres_migrations import apply_migrations

    old = open_store(postgres_url, migrate=False)
    apply_migrations(old._live(), postgres_url, target=10)  # type: ignore[attr-defined]
    old.add_documents(make_posts(80, seed=3))
    old.close()
    store = open_store(postgres_url)
    try:
        check(store)
    finally:
        store.close()


def test_sqlite_counts_at_insert_equal_the_sql_recount(tmp_path: Any) -> None:
    """add_documents counts plain labels in Python and odd ones (numbers, booleans, objects,
    a region that is not a list) in SQL; both must give what the migration's SQL gives."""
    from yuqing.store import sqlite_rollups

    posts = make_posts(60, seed=4)
    odd: list[dict[str, Any]] = [
        {"sentiment": 1},
        {"emotion": True},
        {"risk": "x"},
        {"regions": {"name": "宁波市"}},
    ]
    odd += [{"regions": ["宁波市"]}, {"regions": [{"name": 5}]}, {"event_id": 7}]
    for doc, change in zip(posts, odd, strict=False):
        doc.analysis = {**doc.analysis, **change}
    store = open_store(f"sqlite:///{tmp_path / 'odd.db'}")
    try:
        store.add_documents(posts)
        conn = store._conn  # type: ignore[attr-defined]
        tables = ("rollups", "rollup_events", "rollup_event_labels")

        def snapshot() -> list[list[tuple[Any, ...]]]:
            return [sorted(conn.execute(f"SELECT * FROM {t} WHERE posts <> 0")) for t in tables]

        counted = snapshot()
        for table in tables:
            conn.execute(f"DELETE FROM {table}")
        for statement in sqlite_rollups.upkeep_statements(sqlite_rollups._DOCUMENTS, 1):
            conn.execute(statement)
        assert snapshot() == counted
    finally:
        store.close()
