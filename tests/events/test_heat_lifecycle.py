"""Heat index (bounds, monotonic properties, source weights) and lifecycle stages on
synthetic series for each stage and on real rumour response series."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_data
from yuqing.errors import UsageError
from yuqing.events.heat import EventStats, HeatConfig, heat
from yuqing.events.lifecycle import STAGE_LABELS, STAGES, LifecycleConfig, stage
from yuqing.models import Document

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)

# -- heat --------------------------------------------------------------------------------------

stats_strategy = st.builds(
    EventStats,
    posts=st.integers(0, 200_000),
    reposts=st.integers(0, 10**6),
    comments=st.integers(0, 10**6),
    likes=st.integers(0, 10**7),
    sources=st.dictionaries(
        st.sampled_from(["weibo", "news", "tieba", "gov.cn", "x"]), st.integers(0, 5000)
    ),
    hourly=st.lists(st.integers(0, 3000), max_size=60),
    negative=st.integers(0, 100),
    with_sentiment=st.just(100),
)


@settings(max_examples=150, deadline=None)
@given(stats_strategy, st.integers(1, 5000), st.integers(1, 10**5), st.integers(0, 50))
def test_heat_is_bounded_and_monotonic(
    stats: EventStats, more: int, engagement: int, neg: int
) -> None:
    base = heat(stats)
    assert 0.0 <= base.score <= 100.0
    assert all(
        0.0 <= base.components[k] <= 1.0
        for k in ("volume", "engagement", "source", "velocity", "negativity")
    )
    # More posts, arriving now, from a source already there or a new one: not lower.
    hourly = [*stats.hourly[:-1], (stats.hourly[-1] if stats.hourly else 0) + more]
    sources = dict(stats.sources)
    sources["weibo"] = sources.get("weibo", 0) + more
    grown = replace(stats, posts=stats.posts + more, hourly=hourly, sources=sources)
    assert heat(grown).score >= base.score
    # Every hour scaled up (same shape, more volume): not lower.
    scaled = replace(stats, posts=stats.posts * 3, hourly=[3 * c for c in stats.hourly])
    assert heat(scaled).score >= base.score
    # More engagement: not lower. Larger negative share: not lower.
    assert heat(replace(stats, reposts=stats.reposts + engagement)).score >= base.score
    assert heat(replace(stats, likes=stats.likes + engagement)).score >= base.score
    more_negative = replace(stats, negative=min(100, stats.negative + neg))
    assert heat(more_negative).score >= base.score


def test_empty_event_is_cold_and_a_saturated_one_is_100() -> None:
    assert heat(EventStats()).score == 0.0
    hot = EventStats(
        posts=10**6,
        reposts=10**7,
        comments=10**7,
        likes=10**8,
        sources={"official": 10**5, "news": 10**5},
        hourly=[1] * 24 + [5000] * 3,
        negative=10,
        with_sentiment=10,
    )
    assert heat(hot).score == pytest.approx(100.0, abs=0.5)
    positive = replace(hot, negative=0)
    assert heat(positive).score == pytest.approx(70.0, abs=0.5)  # negativity weight 0.3


def test_source_weight_table_official_over_forum_and_configurable() -> None:
    config = HeatConfig()
    assert config.source_kind("www.gov.cn") == "official"
    assert config.source_kind("xinhuanet") == "news"
    assert config.source_kind("tieba.baidu.com") == "forum"
    assert config.source_kind("weibo") == "weibo"
    assert config.source_kind("my_file") == "other"
    common = {"posts": 50, "hourly": [2] * 25}
    news = heat(EventStats(sources={"people.com.cn": 50}, **common))  # type: ignore[arg-type]
    forum = heat(EventStats(sources={"tianya": 50}, **common))  # type: ignore[arg-type]
    assert news.score > forum.score and news.components["source"] > forum.components["source"]
    flipped = HeatConfig(source_weights={"forum": 1.0, "news": 0.1, "other": 0.3})
    assert (
        heat(EventStats(sources={"tianya": 50}), flipped).components["source"]
        > heat(EventStats(sources={"people.com.cn": 50}), flipped).components["source"]
    )
    with pytest.raises(UsageError, match="missing"):
        HeatConfig(weights={"volume": 1.0})


def test_a_rising_event_is_hotter_than_a_flat_one_of_equal_size() -> None:
    flat = EventStats(posts=270, hourly=[10] * 27)
    rising = EventStats(posts=270, hourly=[2] * 24 + [74] * 3)
    assert heat(rising).score > heat(flat).score
    assert heat(rising).components["velocity"] > heat(flat).components["velocity"]
    assert heat(flat).components["prior_rate"] == 10.0


def test_event_stats_from_documents() -> None:
    def post(i: int, hour: int, source: str, sentiment: str | None) -> Document:
        return Document(
            id=str(i),
            source=source,
            text="t",
            published_at=T0 + hour * HOUR + timedelta(minutes=i),
            reposts=2,
            comments=1,
            likes=10,
            analysis={"sentiment": sentiment},
        )

    docs = [
        post(0, 0, "weibo", "negative"),
        post(1, 0, "weibo", "neutral"),
        post(2, 3, "news", None),
    ]
    stats = EventStats.from_documents(docs, now=T0 + 5 * HOUR)
    assert (stats.posts, stats.reposts, stats.comments, stats.likes) == (3, 6, 3, 30)
    assert stats.sources == {"weibo": 2, "news": 1}
    assert stats.hourly == [2, 0, 0, 1, 0, 0]
    assert stats.negative_share == 0.5
    assert stats.first_seen == T0 and stats.last_seen == T0 + 3 * HOUR + timedelta(minutes=2)
    assert EventStats.from_documents(docs).hourly == [2, 0, 0, 1]
    result = heat(stats)
    assert 0 < result.score < 40 and set(result.components) >= {"volume", "negativity"}


# -- lifecycle -------------------------------------------------------------------------------


def series(counts: list[int]) -> list[tuple[datetime, int]]:
    return [(T0 + i * HOUR, c) for i, c in enumerate(counts)]


def at_end(counts: list[int]) -> tuple[list[tuple[datetime, int]], datetime]:
    """The series and a "now" inside its last hour."""
    return series(counts), T0 + (len(counts) - 1) * HOUR + timedelta(minutes=30)


SYNTHETIC: dict[str, list[int]] = {
    "latent": [0, 1, 0, 1, 0, 0, 1, 2, 1, 0, 1, 1],
    "outbreak": [1] * 24 + [30, 55],
    "spread": [1] * 12 + [40, 44, 38, 42, 41, 45, 39, 43, 40, 42, 44, 41, 40, 43, 42, 40],
    "recurrence": [1] * 6 + [50, 60, 40, 20, 10, 5] + [1, 0, 1, 0, 0, 1] * 2 + [30, 35],
    "decline": [1] * 6 + [50, 60, 40, 30, 20, 15, 12, 10, 9, 8, 8, 7, 6, 6],
    "long_tail": [1] * 6 + [50, 60, 40, 20, 10, 5] + [1, 0, 0, 1, 0, 0] * 10,
}


@pytest.mark.parametrize("expected", list(SYNTHETIC))
def test_each_stage_on_a_synthetic_series(expected: str) -> None:
    data, now = at_end(SYNTHETIC[expected])
    result = stage(data, now)
    assert result.stage == expected, result.reasons
    assert result.reasons and all(isinstance(r, str) and r for r in result.reasons)
    assert result.label == STAGE_LABELS[expected]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.reasons[0])


def test_stage_vocabulary_matches_design() -> None:
    assert STAGES == ("latent", "outbreak", "spread", "recurrence", "decline", "long_tail")
    assert [STAGE_LABELS[s] for s in STAGES] == ["潜伏", "爆发", "蔓延", "反复", "缓解", "长尾"]


def test_now_cuts_and_pads_the_series() -> None:
    data, _ = at_end(SYNTHETIC["long_tail"])
    assert stage(data, T0 + 7 * HOUR).stage == "outbreak"  # later buckets are ignored
    # An outbreak left alone for three days without new posts is in its long tail.
    assert stage(series(SYNTHETIC["outbreak"]), T0 + 100 * HOUR).stage == "long_tail"
    assert stage([], T0).stage == "latent"
    with pytest.raises(UsageError, match="timezone-aware"):
        stage(data, datetime(2024, 3, 1))  # noqa: DTZ001 - on purpose


def test_configurable_thresholds() -> None:
    data, now = at_end(SYNTHETIC["decline"])
    assert stage(data, now, LifecycleConfig(spread_ratio=0.1)).stage == "spread"
    metrics = stage(data, now).metrics
    assert metrics["peak_rate"] > metrics["rate_recent"] > 0


def _thread(dataset: str, key: str, value: str) -> tuple[list[tuple[datetime, int]], datetime]:
    path = shared_data(dataset, "response_hourly_counts.jsonl")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record[key] == value:
                t0 = datetime.fromisoformat(record["t0"])
                counts = record["hourly_counts_first_168h"]
                return [(t0 + i * HOUR, c) for i, c in enumerate(counts)], t0
    raise AssertionError(f"{value} not in {path}")


def test_real_rumour_threads_go_from_outbreak_to_long_tail() -> None:
    data, t0 = _thread("rumor_weibo_ma2016", "eid", "10031080900")  # 50, 14, 6, 0, 2, ...
    half = timedelta(minutes=30)
    assert stage(data, t0 + 2 * HOUR + half).stage == "outbreak"
    assert stage(data, t0 + 30 * HOUR + half).stage == "decline"
    assert stage(data, t0 + 167 * HOUR + half).stage == "long_tail"


def test_real_rumour_thread_with_a_second_wave_is_recurrence() -> None:
    # 44, 22, 28, 30, 8, ... then quiet, then 8 and 8 responses at hours 28-29.
    data, t0 = _thread("rumor_ced_thunlp", "event_file", "0_yBmepBtUB_2279086572")
    assert stage(data, t0 + 12 * HOUR).stage == "decline"
    result = stage(data, t0 + 28 * HOUR + timedelta(minutes=30))
    assert result.stage == "recurrence", result.reasons
    assert "再次出现爆发" in result.reasons[1]
