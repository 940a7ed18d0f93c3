"""Burst detection: the Poisson tail, the z-score variant, gaps, the online detector, and
the real series of ../shared/data (COVID daily counts, rumour response hours)."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_data
from yuqing.errors import UsageError
from yuqing.events.burst import (
    BurstDetector,
    BurstTest,
    Method,
    detect,
    normal_sf,
    poisson_sf,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hourly(counts: Sequence[int | None]) -> list[tuple[datetime, int | None]]:
    return [(T0 + i * HOUR, c) for i, c in enumerate(counts)]


@pytest.mark.parametrize("mean", [0.3, 1.0, 4.2, 37.5, 1000.0, 25_000.0])
def test_poisson_tail_matches_scipy(mean: float) -> None:
    stats = pytest.importorskip("scipy.stats")
    for count in sorted(
        {0, 1, 2, int(mean), int(mean) + 1, int(mean * 1.5) + 3, int(mean * 3) + 10}
    ):
        expected = float(stats.poisson.sf(count - 1, mean))
        got = poisson_sf(count, mean)
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-300), (count, mean)


def test_poisson_tail_closed_forms() -> None:
    assert poisson_sf(0, 3.0) == 1.0
    assert poisson_sf(1, 2.0) == pytest.approx(1 - math.exp(-2.0))
    assert poisson_sf(5, 0.0) == 0.0
    assert 0 < poisson_sf(200, 1.0) < 1e-300 or poisson_sf(200, 1.0) == 0.0
    assert normal_sf(0.0) == pytest.approx(0.5)


def test_a_rise_from_zero_to_two_is_not_a_burst_but_to_ten_is() -> None:
    assert detect(hourly([0] * 12 + [2])) == []
    found = detect(hourly([0] * 12 + [10]))
    assert len(found) == 1
    burst = found[0]
    assert burst.start == T0 + 12 * HOUR and burst.count == 10
    assert burst.expected == 1.0  # the floor on the mean
    assert burst.p_value < 1e-6 and burst.score == pytest.approx(9.0)


def test_flat_and_noisy_series_have_no_bursts() -> None:
    assert detect(hourly([20] * 48)) == []
    wobble = [100, 112, 95, 104, 99, 108, 91, 103, 97, 110, 94, 101] * 3
    assert detect(hourly(wobble)) == []


def test_min_ratio_guards_against_overdispersion_at_high_volume() -> None:
    series = hourly([1000] * 12 + [1200])
    assert detect(series) == []  # 1.2x: not a burst, although Poisson p is tiny
    assert poisson_sf(1200, 1000.0) < 1e-8
    assert len(detect(series, min_ratio=1.0)) == 1
    assert len(detect(hourly([1000] * 12 + [2000]))) == 1


def test_min_count_and_min_history() -> None:
    assert detect(hourly([0] * 12 + [8]), min_count=10) == []
    assert detect(hourly([0, 0, 30])) == []  # 2 buckets of history < 6 needed
    assert len(detect(hourly([0, 0, 30]), min_history=2)) == 1


def test_zscore_variant_discounts_a_noisy_baseline() -> None:
    calm = [10] * 12 + [40]
    noisy = [0, 25, 3, 30, 1, 22, 0, 27, 2, 20, 5, 25, 40]
    assert len(detect(hourly(calm), method="zscore")) == 1
    assert detect(hourly(noisy), method="zscore") == []
    assert detect(hourly(noisy), method="poisson")[-1].start == T0 + 12 * HOUR


def test_gaps_are_neither_tested_nor_baseline() -> None:
    series = hourly([5, 5, 5, None, None, 5, 5, 5, None, 50])
    found = detect(series, baseline=6)
    assert [b.start for b in found] == [T0 + 9 * HOUR]
    assert found[0].expected == 5.0  # the None buckets are not zeros


def test_bad_configuration_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="baseline"):
        BurstTest(baseline=0)
    with pytest.raises(UsageError, match="p_threshold"):
        BurstTest(p_threshold=2.0)
    with pytest.raises(UsageError, match="method"):
        BurstTest(method="magic")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=60))
def test_online_detector_agrees_with_detect(counts: list[int]) -> None:
    series = hourly(list(counts))
    offline = detect(series)
    detector = BurstDetector()
    online = [b for t, c in series if (b := detector.update(t, c or 0)) is not None]
    assert online == offline


def test_online_bucket_updates_gaps_and_order() -> None:
    detector = BurstDetector()
    for i in range(12):
        assert detector.update(T0 + i * HOUR, 1) is None
    now = T0 + 12 * HOUR
    assert detector.update(now, 2) is None  # the current hour is still filling
    burst = detector.update(now, 12)  # same hour, more posts
    assert burst is not None and burst.count == 12
    assert detector.history == [1] * 12
    detector.update(now + 3 * HOUR, 0)  # two skipped hours count as zeros
    assert detector.history[-3:] == [12, 0, 0]
    with pytest.raises(UsageError, match="older than the current bucket"):
        detector.update(now, 5)
    detector.reset()
    assert detector.history == []


# -- real series -----------------------------------------------------------------------------


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _covid_totals() -> list[tuple[datetime, int | None]]:
    path = shared_data("event_covid19_weibo_hashtags", "daily_totals.csv")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # Days whose file is missing from the snapshot are gaps, not zero activity.
    return [(_day(r["date"]), int(float(r["n_posts"])) if r["n_posts"] else None) for r in rows]


def test_covid_daily_totals_late_january_explosion() -> None:
    series = _covid_totals()
    methods: tuple[Method, ...] = ("poisson", "zscore")
    for method in methods:
        found = detect(series, baseline=7, min_history=1, method=method)
        days = [b.start.date().isoformat() for b in found]
        assert days[:2] == ["2020-01-20", "2020-01-21"], method
        assert found[1].count == 10492 and found[1].count > 20 * found[1].expected
    # The z-score variant (spread of the baseline) sees nothing after the explosion.
    zdays = [b.start for b in detect(series, baseline=7, min_history=1, method="zscore")]
    assert max(zdays) < _day("2020-02-01")


def test_covid_hashtags_burst_on_the_day_they_trend() -> None:
    totals = _covid_totals()
    observed = {t.date().isoformat() for t, n in totals if n is not None}
    days = [t.date().isoformat() for t, _ in totals]
    per_tag: dict[str, dict[str, int]] = defaultdict(dict)
    path = shared_data("event_covid19_weibo_hashtags", "hashtag_daily_counts.csv")
    wanted = {"武汉感染人数未摸清", "双黄连可抑制新型冠状病毒", "世界卫生组织", "新型冠状病毒"}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["hashtag"] in wanted:
                per_tag[row["hashtag"]][row["date"]] = int(row["n_posts"])

    def bursts(tag: str) -> list[str]:
        series = [(_day(d), per_tag[tag].get(d, 0) if d in observed else None) for d in days]
        return [b.start.date().isoformat() for b in detect(series, baseline=7, min_history=3)]

    assert bursts("武汉感染人数未摸清")[0] == "2020-02-13"
    assert bursts("双黄连可抑制新型冠状病毒")[0] == "2020-01-31"
    assert bursts("世界卫生组织")[0] == "2020-01-30"
    assert bursts("新型冠状病毒") == []  # the umbrella tag is there every day: no burst


def _response_bursts(dataset: str) -> tuple[int, dict[str, int], dict[str, int]]:
    """Threads with a burst in each band of hours after the source post, and bursty hours."""
    path: Path = shared_data(dataset, "response_hourly_counts.jsonl")
    bands = {"0-6": (0, 6), "6-24": (6, 24), "24-72": (24, 72), "72-168": (72, 168)}
    threads = dict.fromkeys(bands, 0)
    hours = dict.fromkeys(bands, 0)
    n = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            counts = json.loads(line)["hourly_counts_first_168h"]
            # No responses exist before the source post: 12 zero hours as its baseline.
            series = hourly([0] * 12 + counts)
            offsets = [(b.start - T0) // HOUR - 12 for b in detect(series)]
            n += 1
            for name, (lo, hi) in bands.items():
                inside = [o for o in offsets if lo <= o < hi]
                threads[name] += bool(inside)
                hours[name] += len(inside)
    return n, threads, hours


@pytest.mark.parametrize("dataset", ["rumor_weibo_ma2016", "rumor_ced_thunlp"])
def test_rumour_threads_burst_early_not_in_the_long_tail(dataset: str) -> None:
    n, threads, hours = _response_bursts(dataset)
    assert n > 3000
    early = threads["0-6"] / n
    tail = threads["72-168"] / n
    assert early > 0.9, threads
    assert tail < 0.1, threads
    # Per hour, a burst is over 100 times likelier in the first 6 hours than after 72 h.
    assert hours["0-6"] / 6 > 100 * hours["72-168"] / 96
