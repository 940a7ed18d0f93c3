"""Build a small store with a previous release's code, for the upgrade test.

Run by scripts/make_release_fixture.sh with that release's source first on PYTHONPATH, so
every ``yuqing`` import below is the old release's code (this file only uses APIs that
release e067044, schema version 5, has). It writes:

* ``STORE``: a SQLite store filled through the old pipeline: the demo scenario's first
  ``POSTS`` posts (events clustered and saved), the demo's monitoring rules raising alerts
  while the posts arrive (one acknowledged), one saved rule, and one case opened from the
  largest event with a plan, a ticked item, a published statement and a note;
* ``MANIFEST``: what the old code reads from that store (counts, search hits, events,
  alerts, cases) as JSON; the upgrade test checks that the current code reads the same.

Usage: python release_fixture_build.py STORE MANIFEST [POSTS]
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from yuqing.cases import StoreCaseRepository, new_case, shipped_plans
from yuqing.clock import ManualClock
from yuqing.demo.monitor import DemoMonitor
from yuqing.demo.scenario import Scenario, generate, iter_jsonl
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store

QUERIES = ("食堂", "过期食材", "学生", "通报")


def build(store_path: Path, posts: int) -> None:
    data = store_path.with_suffix(".jsonl")
    data.write_bytes(b"".join(iter_jsonl(generate(posts, seed=7))))
    url = f"sqlite:///{store_path}"
    settings = Settings.model_validate({"store": url})
    pipeline = build_pipeline(settings, analysis=True, events=True)
    store = open_store(url)
    monitor = DemoMonitor(store, settings.public_url, Scenario().start)
    try:
        Ingestor(store, pipeline, batch_size=20, on_batch=monitor.process).run(
            list(open_sources([str(data)], zone=settings.zone))
        )
        clusterer = next(s for s in pipeline.stages if s.name == "events")
        store.upsert_events(clusterer.close_all())  # type: ignore[attr-defined]
        clock = ManualClock(monitor.clock.now() + timedelta(minutes=30))
        alerts = store.alerts(limit=100)
        if alerts:
            store.acknowledge_alert(alerts[-1].alert.id, "值班员", clock.now())
        store.save_rule(
            "fixture-rule",
            "食堂舆情",
            "食堂 AND (过期 OR 变质)",
            json.dumps([{"kind": "count", "threshold": 5, "window": "1h"}]),
            True,
            severity="high",
        )
        top = store.event_rollups(limit=1)[0]
        case = new_case(
            top.title or "鄞州实验中学食堂事件",
            level="III",
            level_reason="涉及学生健康，本地关注度高",
            who="值班员",
            clock=clock,
            case_id="case-fixture-1",
            event_id=top.id,
            alert_id=alerts[-1].alert.id if alerts else None,
            event_first_seen=top.first_seen,
            owner="宣传部",
            departments=["教育局", "市场监管局"],
        )
        plan = next(iter(shipped_plans().values()))
        case.attach_plan(plan, who="值班员", clock=clock)
        case.transition("assessing", who="值班员", clock=clock, note="研判")
        case.tick(case.checklist[0].item_id, who="值班员", clock=clock, note="已核实")
        case.transition("responding", who="值班员", clock=clock)
        clock.advance(timedelta(minutes=40))
        statement = case.add_statement(
            "情况通报：我区已成立联合调查组，对学校食堂开展全面检查，结果将及时公布。",
            who="值班员",
            clock=clock,
        )
        case.publish_statement(statement.id, who="值班员", clock=clock, channel="官方微博")
        case.note("已向上级报告", who="值班员", clock=clock)
        StoreCaseRepository(store).add_case(case)
        store.index_pending()
    finally:
        monitor.close()
        store.close()
    data.unlink()


def manifest(store_path: Path) -> dict[str, Any]:
    store = open_store(f"sqlite:///{store_path}")
    try:
        stats = store.stats()
        first = store.latest_documents(limit=3)
        return {
            "schema_version": stats.schema_version,
            "documents": stats.documents,
            "duplicates": stats.duplicates,
            "reposts": stats.reposts,
            "indexed": stats.indexed,
            "sources": stats.sources,
            "search": {
                q: [f"{h.source}/{h.id}" for h in store.search(q, limit=1000)] for q in QUERIES
            },
            "events": {r.id: r.posts for r in store.event_rollups(limit=1000)},
            "sentiment": store.label_counts("sentiment"),
            "alerts": {
                s.alert.id: {
                    "status": s.status,
                    "rule_id": s.alert.rule_id,
                    "kind": s.alert.kind,
                    "event_id": s.alert.event_id,
                    "acknowledged_by": s.acknowledged_by,
                }
                for s in store.alerts(limit=1000)
            },
            "rules": [r.id for r in store.rules()],
            "cases": {
                c["id"]: {
                    "status": c["status"],
                    "level": c["level"],
                    "event_id": c["event_id"],
                    "statements": len(c["statements"]),
                    "actions": len(c["actions"]),
                }
                for c in store.cases(limit=1000)
            },
            "documents_sample": {
                f"{d.source}/{d.id}": {
                    "sentiment": d.analysis.get("sentiment"),
                    "event_id": d.analysis.get("event_id"),
                }
                for d in first
            },
        }
    finally:
        store.close()


def main() -> None:
    store_path, manifest_path = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    posts = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    build(store_path, posts)
    found = manifest(store_path)
    manifest_path.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(
        f"{store_path}: {found['documents']} posts, {len(found['events'])} events, "
        f"{len(found['alerts'])} alerts, {len(found['cases'])} cases, "
        f"schema version {found['schema_version']}"
    )


if __name__ == "__main__":
    main()
