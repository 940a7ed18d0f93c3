"""PostgreSQL-only behaviour: URLs, migrations, month partitions, concurrent writers and
indexers, the search query terms. The Store contract itself runs in test_contract*.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.store.conftest import schema_url
from yuqing.errors import MigrationError, StoreError, StoreURLError
from yuqing.models import Document
from yuqing.store.postgres import PostgresStore
from yuqing.store.postgres_migrations import LATEST
from yuqing.store.postgres_partitions import month_bounds, month_of, partition_name
from yuqing.store.postgres_search import ts_query, tsvector_text
from yuqing.store.rows import to_micros
from yuqing.store.url import open_store, redact_url

T0 = datetime(2024, 5, 31, 23, 59, tzinfo=UTC)


def pg_store(url: str, *, migrate: bool = True) -> PostgresStore:
    store = open_store(url, migrate=migrate)
    assert isinstance(store, PostgresStore)
    return store


@pytest.fixture
def pg(postgres_url: str) -> Iterator[PostgresStore]:
    store = pg_store(postgres_url)
    yield store
    store.close()


def post(id_: str, text: str = "酒店服务", published: datetime | None = T0) -> Document:
    doc = Document(id=id_, source="weibo", text=text, published_at=published)
    doc.norm_text = text
    return doc


def partitions(store: PostgresStore, parent: str) -> dict[str, int]:
    """Partition name -> rows, of ``parent`` in the store's schema."""
    conn = store._conn
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            (parent,),
        )
    ]
    counts: dict[str, int] = {}
    for name in names:
        row = conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


# -- URLs -------------------------------------------------------------------------------


def test_redact_url_hides_passwords() -> None:
    assert redact_url("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgres://h/db?password=s3cret&sslmode=require") == (
        "postgres://h/db?password=***&sslmode=require"
    )
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u@h/db?bogus=1", "not a valid PostgreSQL URL"),
        ("postgresql://u:s3cret@h", "names no database"),
        ("postgres://", "names no database"),
    ],
)
def test_bad_postgres_urls(url: str, message: str) -> None:
    with pytest.raises(StoreURLError, match=message) as info:
        open_store(url)
    assert "s3cret" not in str(info.value)


def test_unreachable_server_names_it_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as info:
        open_store("postgresql://u:s3cret@127.0.0.1:1/db?connect_timeout=2")
    assert "s3cret" not in str(info.value) and "u:***@127.0.0.1:1/db" in str(info.value)


def test_both_schemes_open_the_store(postgres_url: str) -> None:
    other = postgres_url.replace("postgresql://", "postgres://", 1)
    for url in (postgres_url, other):
        with pg_store(url) as store:
            assert store.schema_version() == LATEST


# -- migrations -------------------------------------------------------------------------


def test_migrations_are_idempotent_and_safe_to_run_at_once(postgres_url: str) -> None:
    stores = [pg_store(postgres_url, migrate=False) for _ in range(3)]
    try:
        assert stores[0].schema_version() == 0
        versions: list[int] = []
        threads = [
            threading.Thread(target=lambda s=s: versions.append(s.migrate())) for s in stores
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert versions == [LATEST] * 3
        assert stores[0].migrate() == LATEST
        row = stores[0]._conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()
        assert row is not None and row[0] == LATEST
    finally:
        for s in stores:
            s.close()


def test_a_newer_schema_is_refused(pg: PostgresStore) -> None:
    pg._conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, 'future', 0)",
        (LATEST + 1,),
    )
    with pytest.raises(MigrationError, match="newer than this yuqing knows"):
        pg.migrate()


# -- partitions -------------------------------------------------------------------------


def test_month_helpers() -> None:
    assert month_of(to_micros(T0)) == (2024, 5)
    assert month_of(to_micros(T0 + timedelta(minutes=1))) == (2024, 6)
    assert month_of(None) is None
    assert month_of(0) is None  # 1970: outside the months covered, the default partition
    start, end = month_bounds((2024, 12))
    assert (start, end) == (
        to_micros(datetime(2024, 12, 1, tzinfo=UTC)),
        to_micros(datetime(2025, 1, 1, tzinfo=UTC)),
    )
    assert partition_name("documents", (2024, 5)) == "documents_p202405"


def test_posts_go_to_month_partitions_created_on_demand(pg: PostgresStore) -> None:
    docs = [
        post("may", published=T0),
        post("june", published=T0 + timedelta(minutes=1)),
        post("undated", published=None),
        post("epoch", published=datetime(1970, 1, 2, tzinfo=UTC)),
    ]
    assert pg.add_documents(docs).stored == 4
    assert partitions(pg, "documents") == {
        "documents_default": 2,
        "documents_p202405": 1,
        "documents_p202406": 1,
    }
    while pg.index_pending():
        pass
    assert sum(partitions(pg, "search_index").values()) == 4
    assert pg.stats().extra["month_partitions"] == 2
    for doc in docs:  # every read path finds its partition
        got = pg.get_document("weibo", doc.id)
        assert got is not None and got.published_at == doc.published_at
    assert {h.id for h in pg.search("酒店")} == {"may", "june", "undated", "epoch"}
    assert [h.id for h in pg.search("酒店")][-1] == "undated"  # no time: last, as in SQLite
    assert pg.update_analysis([("weibo", d.id, {"sentiment": "negative"}) for d in docs]) == 4
    assert pg.label_counts("sentiment") == {"negative": 3}  # the undated post has no time
    # A second store (another worker) knows nothing yet and finds the partitions made.
    with pg_store(pg.url) as other:
        assert other.add_documents([post("may2", published=T0)]).stored == 1
    assert partitions(pg, "documents")["documents_p202405"] == 2


# -- concurrency ------------------------------------------------------------------------


def test_concurrent_writers_store_each_key_once(pg: PostgresStore) -> None:
    keys = [f"k{n:04d}" for n in range(600)]
    stored: list[int] = []
    copies: set[str] = set()
    errors: list[BaseException] = []

    def write(order: list[str]) -> None:
        try:
            with pg_store(pg.url, migrate=False) as store:
                for start in range(0, len(order), 100):
                    chunk = order[start : start + 100]
                    batch = [
                        post(k, published=T0 - timedelta(days=40 * (int(k[1:]) % 3))) for k in chunk
                    ]
                    copy = post(f"copy-{chunk[0]}")
                    copy.duplicate_of = "orig"
                    copies.add(copy.id)
                    stored.append(store.add_documents([*batch, copy]).stored)
        except BaseException as exc:  # reported below
            errors.append(exc)

    pg.add_documents([post("orig")])
    orders = [keys, keys[::-1], keys[300:] + keys[:300]]
    threads = [threading.Thread(target=write, args=(order,)) for order in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(stored) == len(keys) + len(copies)
    assert pg.stats().documents == len(keys) + len(copies) + 1
    row = pg._conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT (source, id)) FROM documents"
    ).fetchone()
    assert row is not None and row[0] == row[1]
    assert pg.duplicate_count("weibo", "orig") == len(copies)


def test_concurrent_indexers_index_each_post_once(pg: PostgresStore) -> None:
    pg.add_documents([post(f"p{n}", f"第{n}家酒店") for n in range(500)])
    done: list[int] = []

    def index() -> None:
        with pg_store(pg.url, migrate=False) as store:
            while n := store.index_pending(37):
                done.append(n)

    threads = [threading.Thread(target=index) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(done) == 500
    assert pg.count_matches("酒店") == 500
    row = pg._conn.execute("SELECT COUNT(*), COUNT(DISTINCT pk) FROM search_index").fetchone()
    assert row == (500, 500)


def test_a_case_saved_by_two_writers_at_once_keeps_one_change(pg: PostgresStore) -> None:
    from yuqing.cases import Case, new_case
    from yuqing.clock import ManualClock
    from yuqing.store.base import StoreConflictError

    clock = ManualClock(T0)
    pg.save_case(
        new_case(
            "食堂", level="III", level_reason="手工", who="甲", clock=clock, case_id="c1"
        ).as_dict()
    )
    copies = [Case.from_dict(pg.get_case("c1") or {}) for _ in range(4)]
    outcomes: list[str] = []

    def save(n: int) -> None:
        copies[n].set_owner(f"部门{n}", who=f"人{n}", clock=clock)
        with pg_store(pg.url, migrate=False) as store:
            try:
                store.save_case(copies[n].as_dict())
                outcomes.append("saved")
            except StoreConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "saved"]


# -- search terms -----------------------------------------------------------------------


def test_search_query_terms() -> None:
    assert ts_query("武汉") == "'武汉'"
    assert ts_query("武汉大学") == "'武汉' & '汉大' & '大学'"
    assert ts_query("学") == "'学':*"
    assert ts_query("IPhone") == "'iphone':*"
    assert ts_query("apple股 15发布") == "'apple' & '股':* & '15' & '发布'"
    assert ts_query("it's") == "'it' & 's':*"
    assert "'武汉'" in tsvector_text("武汉大学")


def test_nul_characters_are_refused_naming_the_post(pg: PostgresStore) -> None:
    with pytest.raises(StoreError, match=r"\(weibo, n\): text contains a NUL"):
        pg.add_documents([post("ok"), post("n", "坏\x00字")])
    bad = post("a")
    bad.analysis = {"sentiment": "坏\x00"}
    with pytest.raises(StoreError, match=r"\(weibo, a\): analysis contains a NUL"):
        pg.add_documents([bad])
    assert pg.stats().documents == 0


def test_a_closed_store_says_so(postgres_url: str) -> None:
    store = pg_store(postgres_url)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.stats()


def test_errors_name_the_store_and_the_operation(pg: PostgresStore) -> None:
    pg._conn.execute("DROP TABLE cursors")
    with pytest.raises(StoreError, match=r"t_\w+: reading the cursor of k failed"):
        pg.get_cursor("k")


def test_a_dropped_connection_is_reopened(pg: PostgresStore, postgres_server: str) -> None:
    pid = pg._conn.info.backend_pid
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreError):
        pg.stats()  # the call that finds the connection gone fails ...
    assert pg.stats().documents == 0  # ... and the next one reconnects


def test_schema_url_helper() -> None:
    assert schema_url("postgresql://h/db", "s1") == "postgresql://h/db?options=-csearch_path%3Ds1"
    assert schema_url("postgresql://h/db?sslmode=disable", "s1").endswith(
        "&options=-csearch_path%3Ds1"
    )
