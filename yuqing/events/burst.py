"""Burst detection: is the last bucket far above its trailing baseline?

The test (documented in docs/trends.md) compares the count ``c`` of one bucket with the
``baseline`` buckets before it (default 12: the last hour against the trailing 12 hours,
as Meltwater's spike alerts do). It works on any bucket size; only the caller knows
whether a bucket is an hour or a day.

``poisson`` (default)
    ``λ = max(mean(baseline), mean_floor)``; ``p = P(X >= c | X ~ Poisson(λ))``;
    score ``(c - λ) / sqrt(λ)``. A burst when ``p <= p_threshold``.
``zscore``
    ``σ* = max(std(baseline), sqrt(λ))`` (the Poisson spread as a floor, so a flat
    baseline does not give an infinite z); ``z = (c - mean) / σ*``; ``p`` is the normal
    upper tail of ``z``. A burst when ``z >= z_threshold``.

Both also require ``c >= min_count`` and ``c >= min_ratio * λ``: social-media counts are
over-dispersed, so at high volume a Poisson test alone flags a 10 % wobble. Buckets whose
count is ``None`` (a gap in the data, not zero activity) are neither tested nor used in a
baseline; a bucket is tested only when its baseline holds at least ``min_history``
observed buckets (default: half the baseline).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from yuqing.errors import UsageError

Method = Literal["poisson", "zscore"]
_EPS = 1e-15
_TINY = 1e-300


@dataclass(frozen=True, slots=True)
class Burst:
    """One bucket found far above its baseline."""

    start: datetime  # the bucket's start
    count: int
    expected: float  # λ: the baseline mean, floored
    score: float  # z-like: how many standard deviations above the baseline
    p_value: float


def poisson_sf(count: int, mean: float) -> float:
    """``P(X >= count)`` for ``X ~ Poisson(mean)``: the regularized lower incomplete gamma
    ``P(count, mean)``, by its series below the mode and a continued fraction above it
    (Numerical Recipes 6.2), accurate for tiny tails and large counts."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    a, x = float(count), float(mean)
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        n = a
        while True:
            n += 1.0
            term *= x / n
            total += term
            if term < total * _EPS:
                break
        return min(1.0, math.exp(log_front) * total)
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = d if abs(d) > _TINY else _TINY
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def normal_sf(z: float) -> float:
    """Upper tail of the standard normal distribution."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


@dataclass(frozen=True, slots=True)
class BurstTest:
    """The configuration of the test; ``check`` applies it to one bucket."""

    baseline: int = 12
    method: Method = "poisson"
    min_count: int = 5
    p_threshold: float = 0.001
    z_threshold: float = 3.0
    mean_floor: float = 1.0
    min_ratio: float = 1.5
    min_history: int | None = None

    def __post_init__(self) -> None:
        if self.baseline < 1:
            raise UsageError(f"burst test: baseline must be >= 1 bucket, got {self.baseline}")
        if self.method not in ("poisson", "zscore"):
            raise UsageError(f"burst test: unknown method {self.method!r}; use poisson or zscore")
        if not 0 < self.p_threshold < 1:
            raise UsageError(f"burst test: p_threshold must be in (0, 1), got {self.p_threshold}")
        if self.mean_floor <= 0:
            raise UsageError(f"burst test: mean_floor must be > 0, got {self.mean_floor}")

    @property
    def needed(self) -> int:
        """Observed baseline buckets needed before a bucket is tested."""
        if self.min_history is not None:
            return max(1, min(self.min_history, self.baseline))
        return max(1, self.baseline // 2)

    def check(self, start: datetime, count: int, history: Sequence[int]) -> Burst | None:
        """A :class:`Burst` when ``count`` is a burst against ``history`` (oldest first)."""
        if len(history) < self.needed or count < self.min_count:
            return None
        mean = sum(history) / len(history)
        lam = max(mean, self.mean_floor)
        if count < self.min_ratio * lam:
            return None
        if self.method == "poisson":
            p_value = poisson_sf(count, lam)
            score = (count - lam) / math.sqrt(lam)
            hit = p_value <= self.p_threshold
        else:
            spread = 0.0
            if len(history) > 1:
                spread = math.sqrt(sum((v - mean) ** 2 for v in history) / (len(history) - 1))
            score = (count - mean) / max(spread, math.sqrt(lam))
            p_value = normal_sf(score)
            hit = score >= self.z_threshold
        if not hit:
            return None
        return Burst(start, count, round(lam, 4), round(score, 4), p_value)


def detect(
    series: Sequence[tuple[datetime, int | None]],
    *,
    baseline: int = 12,
    method: Method = "poisson",
    min_count: int = 5,
    p_threshold: float = 0.001,
    z_threshold: float = 3.0,
    mean_floor: float = 1.0,
    min_ratio: float = 1.5,
    min_history: int | None = None,
) -> list[Burst]:
    """Every bucket of ``series`` (oldest first) that is a burst against the ``baseline``
    buckets before it. ``None`` counts are gaps: skipped and left out of baselines."""
    test = BurstTest(
        baseline, method, min_count, p_threshold, z_threshold, mean_floor, min_ratio, min_history
    )
    counts = [count for _, count in series]
    bursts: list[Burst] = []
    for i, (start, count) in enumerate(series):
        if count is None:
            continue
        history = [v for v in counts[max(0, i - baseline) : i] if v is not None]
        found = test.check(start, count, history)
        if found is not None:
            bursts.append(found)
    return bursts


class BurstDetector:
    """Online detection, one bucket at a time, for live alerts.

    ``update(bucket_time, count)`` tests the (possibly still filling) bucket at
    ``bucket_time`` against the committed buckets before it. Calling again with the same
    time replaces that bucket's count (the current hour grows as posts arrive); a later
    time commits it, and buckets skipped in between count as zeros. Earlier times are an
    error: the detector is fed in time order.
    """

    def __init__(
        self, test: BurstTest | None = None, *, bucket: timedelta = timedelta(hours=1)
    ) -> None:
        if bucket <= timedelta(0):
            raise UsageError(f"BurstDetector: bucket must be positive, got {bucket}")
        self.test = test or BurstTest()
        self.bucket = bucket
        self._history: deque[int] = deque(maxlen=self.test.baseline)
        self._current: tuple[datetime, int] | None = None

    @property
    def history(self) -> list[int]:
        """The committed baseline buckets, oldest first."""
        return list(self._history)

    def update(self, bucket_time: datetime, count: int) -> Burst | None:
        if self._current is not None:
            last_time, last_count = self._current
            if bucket_time < last_time:
                raise UsageError(
                    f"BurstDetector: bucket {bucket_time.isoformat()} is older than the current "
                    f"bucket {last_time.isoformat()}; feed buckets in time order"
                )
            if bucket_time > last_time:
                self._history.append(last_count)
                skipped = round((bucket_time - last_time) / self.bucket) - 1
                for _ in range(min(max(skipped, 0), self.test.baseline)):
                    self._history.append(0)
        self._current = (bucket_time, count)
        return self.test.check(bucket_time, count, self._history)

    def reset(self) -> None:
        self._history.clear()
        self._current = None
