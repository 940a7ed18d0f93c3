"""Coordinated-account signals on drill streams with and without a campaign, the
not-enough-data path, and validation of the scenario's ``campaign`` section.

Floors and ceilings are below/above what benchmarks/coordination_quality.py measured
(seeds 1-5: precision >= 0.95, recall 1.00, organic streams flagged <= 1.6 %)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from yuqing.drill.generator import generate_posts
from yuqing.drill.scenario import Scenario, load_scenario, parse_scenario
from yuqing.errors import ConfigError
from yuqing.judgement.coordination import FRAMING, CoordinationReport, Key, coordination
from yuqing.models import Document
from yuqing.runtime.factory import build_pipeline
from yuqing.settings import Settings
from yuqing.sources.record import to_document

PRECISION_FLOOR = 0.9
RECALL_FLOOR = 0.95
ORGANIC_CEILING = 0.03


def variant(scenario: Scenario, *, campaign: bool, profiles: bool = False) -> Scenario:
    """(as in benchmarks/coordination_quality.py)"""
    if not campaign or scenario.campaign is None:
        return dataclasses.replace(scenario, campaign=None)
    camp = dataclasses.replace(scenario.campaign, profiles=profiles)
    return dataclasses.replace(scenario, campaign=camp)


def analysed(scenario: Scenario, seed: int) -> tuple[list[Document], set[Key]]:
    """Incident posts (chatter left out) through the real pipeline; the campaign's keys."""
    settings = Settings.model_validate({})
    posts = [p for p in generate_posts(scenario, seed) if p.kind != "chatter"]
    docs = [
        to_document(p.record(f"s{seed}"), line=i, default_source="drill", zone=settings.zone)
        for i, p in enumerate(posts, 1)
    ]
    truth = {d.key for d, p in zip(docs, posts, strict=True) if p.kind == "campaign"}
    return build_pipeline(settings, analysis=False).process(docs), truth


def score(report: CoordinationReport, truth: set[Key]) -> tuple[float, float]:
    hits = len(report.flagged & truth)
    precision = hits / len(report.flagged) if report.flagged else 1.0
    return precision, hits / len(truth) if truth else 1.0


@cache
def astro() -> Scenario:
    return load_scenario("astroturf-campaign")


@cache
def run(campaign: bool, profiles: bool = False) -> tuple[CoordinationReport, frozenset[Key]]:
    docs, truth = analysed(variant(astro(), campaign=campaign, profiles=profiles), 7)
    return coordination(docs), frozenset(truth)


@pytest.mark.parametrize("profiles", [False, True])
def test_campaign_is_flagged_with_precision_and_recall(profiles: bool) -> None:
    report, truth = run(True, profiles)
    precision, recall = score(report, set(truth))
    assert precision >= PRECISION_FLOOR and recall >= RECALL_FLOOR, (precision, recall)
    assert all(report.counts[kind] > 0 for kind in ("copy", "low_activity", "cascade", "rhythm"))


def test_organic_streams_stay_below_the_ceiling() -> None:
    report, truth = run(False)
    assert not truth and report.enough_data
    assert report.share <= ORGANIC_CEILING
    docs, _ = analysed(load_scenario("school-food-safety"), 7)
    assert coordination(docs).share <= ORGANIC_CEILING


def test_reasons_accounts_and_framing() -> None:
    report, _ = run(True)
    assert report.framing == FRAMING and "信号，不是结论" in report.framing
    assert report.reasons and all(any("\u4e00" <= c <= "\u9fff" for c in r) for r in report.reasons)
    assert any("近乎相同" in r for r in report.reasons)
    assert any("集中转发" in r for r in report.reasons)
    assert 0 < len(report.accounts) <= 20
    campaign_authors = {p.author.name for p in generate_posts(astro(), 7) if p.kind == "campaign"}
    top = report.accounts[0]
    assert top.account in campaign_authors and top.reasons and len(top.signals) >= 2
    assert top.followers is not None and top.followers < 50
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert data["flagged"] == len(report.flagged) and data["signals"][0]["label"]


def test_profiles_reach_document_extra() -> None:
    docs, _ = analysed(variant(astro(), campaign=True, profiles=True), 7)
    assert all("account_created_at" in d.extra and "author_posts" in d.extra for d in docs)
    report = coordination(docs)
    assert any(a.account_age_days is not None and a.account_age_days < 30 for a in report.accounts)


def test_organic_posts_do_not_change_with_the_campaign() -> None:
    sc = astro()
    with_campaign = [p.record("x") for p in generate_posts(sc, 3) if p.kind != "campaign"]
    without = [p.record("x") for p in generate_posts(variant(sc, campaign=False), 3)]
    assert with_campaign == without
    assert sc.campaign is not None
    kinds = [p.kind for p in generate_posts(sc, 3)]
    assert kinds.count("campaign") == sc.campaign.size


def _doc(i: int, author: str, at: datetime, text: str, followers: int = 500) -> Document:
    return Document(
        id=str(i),
        source="t",
        text=text,
        norm_text=text,
        author=author,
        author_followers=followers,
        published_at=at,
    )


def test_not_enough_data() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    docs = [_doc(i, "同一人", t0 + timedelta(seconds=i), "一模一样的内容在这里") for i in range(10)]
    report = coordination(docs)
    assert not report.enough_data and not report.signals and not report.flagged
    assert "数据不足" in report.message and "10" in report.message
    assert report.as_dict()["enough_data"] is False


def test_identical_rhythm_and_bad_profile_fields() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    docs: list[Document] = []
    for a in range(4):  # four accounts, each posting at +0, +37 min, +95 min (+ a few s)
        for k, minutes in enumerate((0, 37, 95)):
            at = t0 + timedelta(minutes=minutes + 7 * a, seconds=3 * k)
            docs.append(
                _doc(len(docs), f"节奏{a}", at, f"各说各话的第{a}{k}条内容，完全不同{a * k}")
            )
    for i in range(40):  # organic background: different people, different times
        at = t0 + timedelta(minutes=13 * i + 1)
        doc = _doc(len(docs), f"路人{i}", at, f"路人{i}的日常随手记录编号{i}号")
        doc.extra = {"account_created_at": "not a date", "author_posts": "many"}
        docs.append(doc)
    report = coordination(docs)
    assert report.counts["rhythm"] == 12 and report.counts["copy"] == 0
    assert {a.account for a in report.accounts} == {f"节奏{a}" for a in range(4)}
    assert "间隔几乎一致" in report.reasons[0]


BASE = """\
name: tiny
title: 小测试
field: transport
start: 2026-11-20T07:30:00+08:00
region: 湖北省武汉市洪山区
facts:
  estate: 某小区
phases:
  - name: 一
    duration: 4h
    posts_per_hour: 10
    templates: ["地铁开通了"]
campaign:
  at: 1h
  accounts: 10
  followers: [0, 30]
  identical: 0.5
  templates: ["{estate}要加站"]
"""


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("followers: [0, 30]", "followers: [30, 0]", "line 16, column 3, key campaign.followers"),
        ("identical: 0.5", "identical: 2", "key campaign.identical: 'identical' must be between"),
        ("accounts: 10", "accounts: 1", "key campaign.accounts: 'accounts' must be at least 2"),
        ("at: 1h", "at: 9h", "key campaign.at: 9h is after the scenario ends"),
        ("identical: 0.5", "identical: 0.5\n  speed: 3", "line 18, column 10, key campaign.speed"),
        ("{estate}要加站", "{place}要加站", "no fact 'place'"),
        ("identical: 0.5", "identical: 0.5\n  sentiment: angry", "must be one of negative"),
        ("identical: 0.5", "identical: 0.5\n  profiles: yes please", "true or false"),
    ],
)
def test_campaign_validation(old: str, new: str, expect: str) -> None:
    assert parse_scenario(BASE, "tiny.yaml").campaign is not None
    with pytest.raises(ConfigError) as info:
        parse_scenario(BASE.replace(old, new), "tiny.yaml")
    assert "scenario file tiny.yaml, line " in str(info.value)
    assert expect in str(info.value)


def test_campaign_defaults() -> None:
    camp = parse_scenario(BASE, "tiny.yaml").campaign
    assert camp is not None
    assert (camp.waves, camp.over, camp.reposts, camp.profiles) == (3, timedelta(hours=2), 0, False)
    assert dataclasses.replace(camp, reposts=5).size == 35
