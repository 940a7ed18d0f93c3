"""One real SQLite store per session for the export tests, filled by the real pipeline:
the demo scenario's posts (events saved), alerts raised by the demo's rules while they
arrive (one acknowledged), and a case opened on the largest event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from yuqing.cases import StoreCaseRepository, new_case
from yuqing.clock import ManualClock
from yuqing.demo.monitor import DemoMonitor
from yuqing.demo.scenario import Scenario, generate, iter_jsonl
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store

CASE_ID = "case-export-1"


def fill_store(folder: Path, posts: int = 200) -> str:
    """A store URL under ``folder`` with posts, events, alerts and one case."""
    data = folder / "posts.jsonl"
    data.write_bytes(b"".join(iter_jsonl(generate(posts, seed=7))))
    url = f"sqlite:///{folder / 'export.db'}"
    settings = Settings.model_validate({"store": url})
    pipeline = build_pipeline(settings, analysis=True, events=True)
    store = open_store(url)
    monitor = DemoMonitor(store, settings.public_url, Scenario().start)
    try:
        Ingestor(store, pipeline, batch_size=50, on_batch=monitor.process).run(
            list(open_sources([str(data)], zone=settings.zone))
        )
        clusterer = next(s for s in pipeline.stages if s.name == "events")
        store.upsert_events(clusterer.close_all())  # type: ignore[attr-defined]
        clock = ManualClock(monitor.clock.now())
        alerts = store.alerts(limit=100)
        assert alerts, "the demo rules raise alerts"
        store.acknowledge_alert(alerts[0].alert.id, "值班员", clock.now())
        top = store.event_rollups(limit=1)[0]
        case = new_case(
            "食堂事件",
            level="II",
            level_reason="涉及学生健康",
            who="值班员",
            clock=clock,
            case_id=CASE_ID,
            event_id=top.id,
            event_first_seen=top.first_seen,
            owner="宣传部",
            departments=["教育局"],
        )
        clock.advance(timedelta(minutes=10))
        case.transition("assessing", who="值班员", clock=clock)
        StoreCaseRepository(store).add_case(case)
    finally:
        monitor.close()
        store.close()
    return url


@pytest.fixture(scope="session")
def export_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fill_store(tmp_path_factory.mktemp("exports"))
