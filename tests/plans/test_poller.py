"""The plan poller against a real local HTTP server, on a ManualClock whose injected
``sleep`` advances it: conditional GET (the second poll sends If-None-Match and gets a
304), backoff honouring Retry-After after a 503, one request per host per interval (read
from the request log's clock times), posts in the store and a plan rule's alert."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from tests.plans.conftest import T0, FeedServer, plan_settings, rss
from yuqing.clock import ManualClock
from yuqing.plans.fetch import Fetcher
from yuqing.plans.poller import PlanPoller
from yuqing.plans.runner import PlanMachinery
from yuqing.plans.service import save_plan
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.runtime.run import run_forever
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.url import open_store

FOOD = [("a1", "某校食堂使用过期食材，家长要求彻查"), ("a2", "今天天气晴朗，适合出游")]
SPORTS = [("b1", "运动会顺利闭幕"), ("b2", "食堂饭菜变质引发学生不适")]


def _plan(server: FeedServer, **extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "id": "campus-food",
        "name": "校园食品安全",
        "department": "宣传处",
        "notify": ["duty"],
        "rules": [{"id": "canteen", "name": "食堂", "query": "食堂 AND (过期 OR 变质)"}],
        "sources": [
            {"id": "food", "kind": "rss", "url": server.url("/food.xml"), "interval": "5m"},
            {"id": "sports", "kind": "rss", "url": server.url("/sports.xml"), "interval": "5m"},
        ],
    }
    plan.update(extra)
    return plan


class Sleeper:
    """The injected sleep: advances the ManualClock and remembers each wait."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


def _poller(settings: Settings, store: Store, clock: ManualClock, sleep: Sleeper) -> PlanPoller:
    ingestor = Ingestor(store, build_pipeline(settings, analysis=False))
    fetcher = Fetcher(user_agent=settings.plans.user_agent, timeout=5.0)
    return PlanPoller(
        settings, ingestor, clock=clock, sleep=sleep, fetcher=fetcher, rng=random.Random(1)
    )


def test_conditional_get_rate_limit_and_backoff(
    feed_server: FeedServer, clock: ManualClock, tmp_path: Path
) -> None:
    settings = plan_settings(tmp_path)
    feed_server.clock = clock.now
    feed_server.feeds["/food.xml"] = rss("教育新闻", FOOD)
    feed_server.feeds["/sports.xml"] = rss("体育新闻", SPORTS)
    sleep = Sleeper(clock)
    store = open_store(settings.store)
    try:
        save_plan(store, _plan(feed_server), settings, clock, create=True)
        poller = _poller(settings, store, clock, sleep)

        first = poller.poll_due()
        assert [(p.source_id, p.state.status, p.stored) for p in first.polls] == [
            ("food", "ok", 2),
            ("sports", "ok", 2),
        ]
        # two sources on one host: the second request waited for the host's next slot
        gets = [r for r in feed_server.log if r.status == 200]
        assert [r.path for r in gets] == ["/food.xml", "/sports.xml"]
        assert gets[0].at is not None and gets[1].at is not None
        assert gets[1].at - gets[0].at >= timedelta(seconds=10)
        assert sleep.waits == [10.0]
        assert "yuqing/" in gets[0].headers["user-agent"]
        assert "if-none-match" not in gets[0].headers

        stored = {d.id for d in store.latest_documents(limit=10)}
        assert {"a1", "a2", "b1", "b2"} <= stored
        states = {s.source_id: s for s in store.plan_source_states("campus-food")}
        assert states["food"].etag and states["food"].posts_fetched == 2
        assert states["food"].next_poll_at == gets[0].at + timedelta(minutes=5)

        # nothing is due before the interval is over
        assert poller.poll_due().polls == []

        # the second poll sends If-None-Match and gets 304: nothing new, nothing read
        clock.advance(timedelta(minutes=6))
        feed_server.fail["/sports.xml"] = (503, "600")
        second = poller.poll_due()
        food_req = feed_server.requests("/food.xml")[-1]
        assert food_req.status == 304
        assert food_req.headers["if-none-match"] == states["food"].etag
        by_id = {p.source_id: p.state for p in second.polls}
        assert by_id["food"].status == "not_modified" and by_id["food"].failures == 0
        assert second.ingest.read == 0

        # the 503 with Retry-After: 600 backs off at least that long, failure counted
        sports = by_id["sports"]
        assert sports.status == "error" and sports.http_status == 503 and sports.failures == 1
        assert sports.last_poll_at is not None and sports.next_poll_at is not None
        assert sports.next_poll_at - sports.last_poll_at >= timedelta(seconds=600)
        assert "HTTP 503" in (sports.last_error or "")
        kept = store.plan_source_states("campus-food")
        assert next(s for s in kept if s.source_id == "sports").etag == states["sports"].etag

        # before the Retry-After is over, the failing source is not asked again
        clock.advance(timedelta(minutes=5, seconds=30))
        third = poller.poll_due()
        assert [p.source_id for p in third.polls] == ["food"]
        clock.advance(timedelta(minutes=5))
        fourth = poller.poll_due()
        assert {p.source_id: p.state.status for p in fourth.polls}["sports"] == "not_modified"
        assert store.plan_source_states("campus-food")[1].failures == 0
        poller.close()
    finally:
        store.close()


def test_backoff_grows_after_repeated_errors(
    feed_server: FeedServer, clock: ManualClock, tmp_path: Path
) -> None:
    settings = plan_settings(tmp_path, plans={"host_interval": "1s", "max_backoff": "1h"})
    plan = _plan(feed_server)
    plan["sources"] = [{"id": "gone", "kind": "rss", "url": feed_server.url("/gone.xml")}]
    store = open_store(settings.store)
    try:
        save_plan(store, plan, settings, clock, create=True)
        poller = _poller(settings, store, clock, Sleeper(clock))
        gaps: list[timedelta] = []
        for _ in range(5):
            (poll,) = poller.poll_due().polls
            assert poll.state.status == "error" and poll.state.http_status == 404
            assert poll.state.next_poll_at is not None and poll.state.last_poll_at is not None
            gaps.append(poll.state.next_poll_at - poll.state.last_poll_at)
            clock.set(poll.state.next_poll_at)
        assert store.plan_source_states()[0].failures == 5
        interval = timedelta(minutes=15)  # the default interval
        # exponential with jitter (down to half): failure n waits in [b/2, b], b = 15m * 2^(n-1)
        for n, gap in enumerate(gaps, 1):
            full = min(interval * 2 ** (n - 1), timedelta(hours=1))
            assert full / 2 <= gap <= full, (n, gap)
        assert gaps[-1] <= timedelta(hours=1)
        poller.close()
    finally:
        store.close()


def test_polled_posts_raise_the_plan_rule_alert(
    feed_server: FeedServer, clock: ManualClock, tmp_path: Path
) -> None:
    """The serve/CLI machinery: pipeline, alert engine with the plan's rules, poller."""
    settings = plan_settings(tmp_path)
    feed_server.feeds["/food.xml"] = rss("教育新闻", FOOD)
    feed_server.feeds["/sports.xml"] = rss("体育新闻", SPORTS)
    store = open_store(settings.store)
    try:
        save_plan(store, _plan(feed_server, regions=[]), settings, clock, create=True)
        machinery = PlanMachinery(settings, store, clock, Sleeper(clock))
        try:
            report = machinery.cycle(store)
        finally:
            machinery.close()
        assert report.ingest.stored == 4
        alerts = store.alerts(rule_id="plan:campus-food:canteen")
        assert len(alerts) >= 1
        samples = {s.id for a in alerts for s in a.alert.samples}
        assert samples & {"a1", "b2"}
        assert "a2" not in samples and "b1" not in samples
    finally:
        store.close()
    delivered = (tmp_path / "alerts.log").read_text(encoding="utf-8")
    assert "plan:campus-food:canteen" in delivered  # notify = ["duty"]


def test_regions_narrow_a_plan_rule(
    feed_server: FeedServer, clock: ManualClock, tmp_path: Path
) -> None:
    settings = plan_settings(tmp_path, run={"analysis": True, "events": False})  # regions
    feed_server.feeds["/food.xml"] = rss(
        "教育新闻", [("c1", "宁波某校食堂过期食材"), ("c2", "杭州某校食堂过期食材")]
    )
    plan = _plan(feed_server, regions=["宁波"])
    plan["sources"] = plan["sources"][:1]
    store = open_store(settings.store)
    try:
        save_plan(store, plan, settings, clock, create=True)
        machinery = PlanMachinery(settings, store, clock, Sleeper(clock))
        try:
            machinery.cycle(store)
        finally:
            machinery.close()
        samples = {
            s.id for a in store.alerts(rule_id="plan:campus-food:canteen") for s in a.alert.samples
        }
        assert samples == {"c1"}
    finally:
        store.close()


def test_yuqing_run_polls_plans(
    feed_server: FeedServer, clock: ManualClock, tmp_path: Path
) -> None:
    """Inside `yuqing run` (no [run] sources): the plan's feed is polled, its rule alerts."""
    settings = plan_settings(tmp_path)
    feed_server.feeds["/food.xml"] = rss("教育新闻", FOOD)
    plan = _plan(feed_server)
    plan["sources"] = plan["sources"][:1]
    store = open_store(settings.store)
    try:
        save_plan(store, plan, settings, clock, create=True)
    finally:
        store.close()
    out, err = StringIO(), StringIO()
    report = run_forever(
        settings, clock=clock, stop_event=threading.Event(), once=True, out=out, err=err
    )
    assert report.stored == 2, err.getvalue()
    assert report.alerts >= 1
    store = open_store(settings.store)
    try:
        assert store.alerts(rule_id="plan:campus-food:canteen")
        (state,) = store.plan_source_states("campus-food")
        assert state.status == "ok" and state.last_poll_at == T0
    finally:
        store.close()
