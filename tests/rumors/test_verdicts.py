"""Verdicts through the store: the standard pipeline picks up claims from the store,
marking a claim re-scores the stored posts of the window (and re-marking undoes it), and
the posts of a claim are listed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.rumors.conftest import OFFICIAL, PIYAO, T0
from yuqing.clock import ManualClock
from yuqing.rumors import verdicts
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.base import Store
from yuqing.store.url import open_store

POSTS = [
    ("1", "網傳長期喝自來水會致癌，大家快轉發！", "2026-03-05T11:00:00+08:00"),
    ("2", "听说5G基站辐射会导致失眠，家门口的基站得拆", "2026-03-05T11:05:00+08:00"),
    ("3", "今天天气很好，适合去公园散步", "2026-03-05T11:10:00+08:00"),
    ("4", "5G基站辐射导致失眠？专家：没有科学依据，纯属谣言", "2026-03-05T11:20:00+08:00"),
    ("5", "老新闻：5G基站辐射会导致失眠", "2026-01-01T11:20:00+08:00"),  # outside 7 days
]


def ingest(url: str, folder: Path) -> None:
    path = folder / "posts.jsonl"
    lines = [
        json.dumps({"id": i, "text": t, "source": "weibo", "published_at": p}, ensure_ascii=False)
        for i, t, p in POSTS
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings.model_validate({"store": url})
    store = open_store(url)
    try:
        pipeline = build_pipeline(settings, analysis=True, events=False)
        assert [s.name for s in pipeline.stages][-2:] == ["analysis", "claims"]
        Ingestor(store, pipeline).run(list(open_sources([str(path)], zone=settings.zone)))
    finally:
        store.close()


def rumor(store: Store, post: str) -> float:
    doc = store.get_document("weibo", post)
    assert doc is not None
    return float(doc.analysis["risk"]["rumor"])


def test_the_pipeline_reads_claims_and_marking_rescores_stored_posts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    clock = ManualClock(T0 + timedelta(hours=1))
    store = open_store(url)
    try:
        _, report = verdicts.add_claim(
            store,
            "喝自来水会致癌",
            who="核查员",
            clock=clock,
            days=7,
            verdict="false",
            evidence_url=PIYAO,
            claim_id="c-water",
        )
        assert report is not None and report.as_dict() == {"scanned": 0, "matched": 0, "changed": 0}
        base = verdicts.add_claim(
            store, "5G基站辐射会导致失眠", who="核查员", clock=clock, days=7, claim_id="c-5g"
        )[1]
        assert base is None  # unverified: nothing to apply
    finally:
        store.close()

    ingest(url, tmp_path)  # the live pipeline: the debunked claim applies at once
    store = open_store(url)
    try:
        first = store.get_document("weibo", "1")
        assert first is not None and first.analysis["claim"]["id"] == "c-water"
        assert rumor(store, "1") == 0.9 and first.analysis["risk"]["type"] == "rumor"
        model_2 = rumor(store, "2")
        assert model_2 < 0.9 and "claim" not in (store.get_document("weibo", "2") or first).analysis

        clock.advance(timedelta(minutes=10))
        claim, report = verdicts.mark_claim(
            store, "c-5g", "false", evidence_url=OFFICIAL, who="核查员", clock=clock, days=7
        )
        assert claim.verdict == "false" and claim.marked_by == "核查员"
        assert report.matched == 3 and report.changed == 2  # 1 was raised already; 5 is old
        assert rumor(store, "2") == 0.9
        refuting = store.get_document("weibo", "4")
        assert refuting is not None and refuting.analysis["claim"]["stance"] == "refutes"
        assert "claim" not in (store.get_document("weibo", "5") or first).analysis  # too old
        assert "claim" not in (store.get_document("weibo", "3") or first).analysis

        posts = verdicts.claim_posts(store, claim, clock.now() - timedelta(days=7))
        assert [d.id for d, _ in posts] == ["4", "2"]  # newest first
        assert [m.stance for _, m in posts] == ["refutes", "repeats"]

        clock.advance(timedelta(minutes=10))
        _, report = verdicts.mark_claim(
            store, "c-5g", "unverified", evidence_url=None, who="复核员", clock=clock, days=7
        )
        assert report.changed == 2 and rumor(store, "2") == model_2  # the raise is undone
        assert "claim" not in (store.get_document("weibo", "2") or first).analysis
        history = verdicts.get_claim(store, "c-5g").history
        assert [(h.verdict, h.by) for h in history] == [
            ("unverified", "核查员"),
            ("false", "核查员"),
            ("unverified", "复核员"),
        ]
    finally:
        store.close()
