"""Lifecycle stage of an event from its hourly series: 潜伏 爆发 蔓延 反复 缓解 长尾.

The rules (constants in :class:`LifecycleConfig`, table in docs/trends.md) read the
series up to ``now``, with ``W = window`` hours (default 6):

- ``r_now``: mean posts per hour over the last W hours; ``r_prev``: the W hours before;
- ``peak``: the highest W-hour mean so far, and the hours since that window ended;
- bursts: :func:`yuqing.events.burst.detect` on the series, with zeros before its first
  bucket (the event did not exist before its first post).

Checked in order, the first that holds wins:

1. **latent** — fewer than ``min_posts`` posts in all, or no burst yet and the peak
   below ``latent_rate`` posts per hour;
2. **recurrence** — a burst in the last W hours, after an earlier burst whose W-hour mean
   then fell to ``trough_ratio`` of its peak or less;
3. **outbreak** — a burst in the last W hours and ``r_now >= r_prev`` (rising);
4. **spread** — ``r_now >= spread_ratio * peak``: volume stays high;
5. **long_tail** — at least ``long_tail_hours`` since the peak and
   ``r_now <= long_tail_ratio * peak``;
6. **decline** — otherwise: volume well below the peak.

Reasons are Chinese sentences for the UI, with the numbers that decided the stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from yuqing.errors import UsageError
from yuqing.events.burst import BurstTest, detect

Stage = Literal["latent", "outbreak", "spread", "recurrence", "decline", "long_tail"]
STAGES: tuple[str, ...] = get_args(Stage)
STAGE_LABELS: dict[str, str] = {
    "latent": "潜伏",
    "outbreak": "爆发",
    "spread": "蔓延",
    "recurrence": "反复",
    "decline": "缓解",
    "long_tail": "长尾",
}
_HOUR = timedelta(hours=1)
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)  # positions of the series as times, for detect


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    window: int = 6  # hours in the "recent" window
    min_posts: int = 10  # fewer posts in all: latent
    latent_rate: float = 2.0  # posts/hour: a peak below this without a burst is latent
    spread_ratio: float = 0.5  # r_now at least this share of the peak: spread
    trough_ratio: float = 0.3  # a fall to this share of the peak before a new burst: recurrence
    long_tail_ratio: float = 0.1  # r_now at most this share of the peak ...
    long_tail_hours: int = 48  # ... this long after the peak: long tail
    burst: BurstTest = field(default_factory=BurstTest)

    def __post_init__(self) -> None:
        if self.window < 1:
            raise UsageError(f"LifecycleConfig.window must be >= 1 hour, got {self.window}")


@dataclass(frozen=True, slots=True)
class LifecycleResult:
    stage: Stage
    reasons: list[str]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The Chinese name of the stage (潜伏, 爆发, ...)."""
        return STAGE_LABELS[self.stage]


def _counts_until(series: Sequence[tuple[datetime, int]], now: datetime) -> list[int]:
    """The counts of the buckets that start at or before ``now``, padded with zeros up to
    the hour that contains ``now``."""
    if now.tzinfo is None:
        raise UsageError("lifecycle.stage: now must be timezone-aware")
    kept = [(start, count) for start, count in series if start <= now]
    counts = [count for _, count in kept]
    if kept:
        missing = int((now - kept[-1][0]) // _HOUR)
        counts.extend([0] * missing)
    return counts


def _rolling(counts: list[int], window: int) -> list[float]:
    """Mean of the ``window`` buckets ending at each index (zeros before the start)."""
    out: list[float] = []
    total = 0
    for i, count in enumerate(counts):
        total += count
        if i >= window:
            total -= counts[i - window]
        out.append(total / window)
    return out


def _fmt(rate: float) -> str:
    return f"{rate:.1f}"


def stage(
    series: Sequence[tuple[datetime, int]],
    now: datetime,
    config: LifecycleConfig | None = None,
) -> LifecycleResult:
    """The lifecycle stage of an event at ``now`` from its hourly ``series`` (oldest first,
    as :meth:`TrendCounter.series` returns it)."""
    cfg = config or LifecycleConfig()
    counts = _counts_until(series, now)
    total = sum(counts)
    if total == 0:
        return LifecycleResult("latent", ["暂无相关信息"], {"posts": 0.0})
    w = cfg.window
    last = len(counts) - 1
    rolling = _rolling(counts, w)
    r_now = rolling[last]
    r_prev = rolling[last - w] if last - w >= 0 else 0.0
    peak = max(rolling)
    peak_end = rolling.index(peak)
    since_peak = last - peak_end
    padding = cfg.burst.baseline
    padded = [(_ORIGIN + i * _HOUR, c) for i, c in enumerate([0] * padding + counts)]
    b = cfg.burst
    found = detect(
        padded,
        baseline=b.baseline,
        method=b.method,
        min_count=b.min_count,
        p_threshold=b.p_threshold,
        z_threshold=b.z_threshold,
        mean_floor=b.mean_floor,
        min_ratio=b.min_ratio,
        min_history=b.min_history,
    )
    burst_at = [(x.start - _ORIGIN) // _HOUR - padding for x in found]
    metrics = {
        "posts": float(total),
        "rate_recent": round(r_now, 3),
        "rate_before": round(r_prev, 3),
        "peak_rate": round(peak, 3),
        "hours_since_peak": float(since_peak),
        "bursts": float(len(burst_at)),
    }
    share = r_now / peak if peak else 0.0
    rates = f"近{w}小时平均每小时 {_fmt(r_now)} 条，为峰值（{_fmt(peak)} 条/小时）的 {share:.0%}"

    if total < cfg.min_posts:
        return LifecycleResult("latent", [f"累计 {total} 条，少于 {cfg.min_posts} 条"], metrics)
    if not burst_at and peak < cfg.latent_rate:
        reason = f"尚未出现爆发，峰值仅 {_fmt(peak)} 条/小时（低于 {_fmt(cfg.latent_rate)}）"
        return LifecycleResult("latent", [f"累计 {total} 条", reason], metrics)

    recent = [i for i in burst_at if i > last - w]
    if recent:
        first = recent[0]
        strongest = max(
            (found[burst_at.index(i)] for i in recent), key=lambda x: (x.score, x.start)
        )
        ago = last - burst_at[found.index(strongest)]
        burst_reason = (
            f"出现爆发（{'本小时' if ago == 0 else f'{ago} 小时前'}）："
            f"{strongest.count} 条/小时，基线预期 {strongest.expected:.1f} 条"
            f"（p={strongest.p_value:.1e}）"
        )
        earlier = [i for i in burst_at if i < first - w]
        if earlier:
            before = rolling[:first]
            prior_peak = max(before)
            prior_end = before.index(prior_peak)
            trough = min(before[prior_end:]) if prior_end < len(before) else prior_peak
            if prior_peak > 0 and trough <= cfg.trough_ratio * prior_peak:
                reasons = [
                    f"前一轮峰值 {_fmt(prior_peak)} 条/小时后回落至 {_fmt(trough)} 条/小时"
                    f"（{trough / prior_peak:.0%}）",
                    "再次" + burst_reason,
                ]
                return LifecycleResult("recurrence", reasons, metrics)
        if r_now >= r_prev:
            rising = f"声量上升：近{w}小时平均每小时 {_fmt(r_now)} 条，此前 {_fmt(r_prev)} 条"
            return LifecycleResult("outbreak", [burst_reason, rising], metrics)

    after = f"距峰值 {since_peak} 小时"
    if r_now >= cfg.spread_ratio * peak:
        reasons = ["声量维持高位：" + rates, after]
        if burst_at:
            reasons.append(f"首次爆发于 {last - burst_at[0]} 小时前")
        return LifecycleResult("spread", reasons, metrics)
    if since_peak >= cfg.long_tail_hours and r_now <= cfg.long_tail_ratio * peak:
        reasons = [f"峰值已过 {since_peak} 小时（≥ {cfg.long_tail_hours}）", "残余声量低：" + rates]
        return LifecycleResult("long_tail", reasons, metrics)
    trend = "仍在下降" if r_now < r_prev else "趋于平稳"
    return LifecycleResult("decline", ["声量回落：" + rates, f"{after}，{trend}"], metrics)
