"""Upgrades: a store made by the previous release (tests/store/fixtures/, made with
scripts/make_release_fixture.sh from that release's code) is opened by this code, which
migrates it, and reads what the old release read from it: the same posts, search hits,
events, alerts, rules and cases; then it takes new writes and the dashboard's figures."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from yuqing.cases import Case, StoreCaseRepository
from yuqing.models import Document
from yuqing.store.base import Store
from yuqing.store.migrations import LATEST, current_version
from yuqing.store.url import open_store

FIXTURES = Path(__file__).parent / "fixtures"
RELEASES = ["release-0.1.0"]  # add the next release's fixture here when it ships


def load_fixture(name: str, folder: Path) -> str:
    """The release's SQL dump loaded into a new SQLite file; its store URL (unmigrated)."""
    path = folder / f"{name}.db"
    conn = sqlite3.connect(path)
    try:
        conn.executescript(gzip.decompress((FIXTURES / f"{name}.sql.gz").read_bytes()).decode())
    finally:
        conn.close()  # the dump writes the search index's schema row: reopen to see it
    return f"sqlite:///{path}"


def manifest(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return data


@pytest.fixture(params=RELEASES)
def release(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def upgraded(release: str, tmp_path: Path) -> Iterator[Store]:
    store = open_store(load_fixture(release, tmp_path))  # migrates
    yield store
    store.close()


def test_fixture_is_the_old_schema(release: str, tmp_path: Path) -> None:
    url = load_fixture(release, tmp_path)
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        version = current_version(conn)
    finally:
        conn.close()
    assert version == manifest(release)["schema_version"] < LATEST


def test_migrates_to_the_current_schema(upgraded: Store, release: str, tmp_path: Path) -> None:
    assert upgraded.migrate() == LATEST  # idempotent
    assert upgraded.stats().schema_version == LATEST


def test_reads_posts_and_search_as_the_old_release(upgraded: Store, release: str) -> None:
    old = manifest(release)
    stats = upgraded.stats()
    assert stats.documents == old["documents"]
    assert stats.duplicates == old["duplicates"]
    assert stats.reposts == old["reposts"]
    assert stats.indexed == old["indexed"]
    assert stats.sources == old["sources"]
    for query, hits in old["search"].items():
        found = [f"{h.source}/{h.id}" for h in upgraded.search(query, limit=1000)]
        assert sorted(found) == sorted(hits), query
        assert found, query
    assert upgraded.label_counts("sentiment") == old["sentiment"]
    for key, labels in old["documents_sample"].items():
        source, _, ident = key.partition("/")
        doc = upgraded.get_document(source, ident)
        assert doc is not None
        assert doc.analysis.get("sentiment") == labels["sentiment"]
        assert doc.analysis.get("event_id") == labels["event_id"]


def test_reads_events_alerts_rules_and_cases(upgraded: Store, release: str) -> None:
    old = manifest(release)
    events = {r.id: r.posts for r in upgraded.event_rollups(limit=1000)}
    assert events == old["events"]
    alerts = {
        s.alert.id: {
            "status": s.status,
            "rule_id": s.alert.rule_id,
            "kind": s.alert.kind,
            "event_id": s.alert.event_id,
            "acknowledged_by": s.acknowledged_by,
        }
        for s in upgraded.alerts(limit=1000)
    }
    assert alerts == old["alerts"]
    assert [r.id for r in upgraded.rules()] == old["rules"]
    cases = StoreCaseRepository(upgraded).list_cases()
    assert {
        c.id: {
            "status": c.status,
            "level": c.level,
            "event_id": c.event_id,
            "statements": len(c.statements),
            "actions": len(c.actions),
        }
        for c in cases
    } == old["cases"]
    assert all(isinstance(c, Case) and c.first_published_at is not None for c in cases)


def test_takes_new_writes_after_the_upgrade(upgraded: Store, release: str) -> None:
    old = manifest(release)
    when = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    doc = Document(
        id="after-upgrade-1", source="weibo", text="升级后新增：食堂整改完成", published_at=when
    )
    doc.norm_text = doc.text
    assert upgraded.add_documents([doc]).stored == 1
    upgraded.index_pending()
    hits = [f"{h.source}/{h.id}" for h in upgraded.search("整改", limit=10)]
    assert "weibo/after-upgrade-1" in hits
    assert upgraded.stats().documents == old["documents"] + 1
    new_alert = next(s for s in upgraded.alerts(limit=1000) if s.status == "new")
    assert upgraded.acknowledge_alert(new_alert.alert.id, "升级测试", when)
    repository = StoreCaseRepository(upgraded)
    case = repository.list_cases()[0]
    from yuqing.clock import ManualClock

    case.note("升级后继续处置", who="升级测试", clock=ManualClock(when))
    repository.update_case(case)
    assert len(repository.get_case(case.id).actions) == old["cases"][case.id]["actions"] + 1


def test_dashboard_figures_and_exports_read_the_upgraded_store(upgraded: Store) -> None:
    from yuqing.exports import event_export, render
    from yuqing.web import views

    now = views.as_of(upgraded)
    hot = views.hot_events(upgraded, now, limit=5)
    assert hot and all(v.heat.score > 0 for v in hot)
    export = event_export(upgraded, hot[0].id, zone=ZoneInfo("Asia/Shanghai"), now=now)
    assert export.rows == hot[0].rollup.posts
    assert render(export, "xlsx")[:2] == b"PK"
