"""The measured effect of a published statement: the hours before against the hours after.

:func:`statement_effect` counts the event's posts in ``[published_at - window,
published_at)`` and ``[published_at, published_at + window)`` (cut at ``now`` when the
after-window has not ended yet, and then compared per hour), with each side's negative
share (``doc.analysis["sentiment"] == "negative"`` among posts with a sentiment) and
emotion mix (shares of ``doc.analysis["emotion"]``), the deltas, and a Chinese line for
pages and briefings. Posts without a time are left out and counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from yuqing.errors import UsageError
from yuqing.models import EMOTION_LABELS, Document

__all__ = ["EMOTIONS", "EMOTION_LABELS", "Effect", "WindowStats", "statement_effect"]

EMOTIONS: tuple[str, ...] = ("joy", "anger", "sadness", "fear", "surprise", "neutral")
SMALL_SAMPLE = 20  # fewer posts than this on a side: the summary says so


@dataclass(frozen=True, slots=True)
class WindowStats:
    """Posts in one window ``[start, end)``."""

    start: datetime
    end: datetime
    volume: int
    with_sentiment: int
    negative: int
    emotions: dict[str, float]  # share of each emotion among posts with one; 0..1

    @property
    def hours(self) -> float:
        return max((self.end - self.start).total_seconds() / 3600, 0.0)

    @property
    def per_hour(self) -> float:
        return self.volume / self.hours if self.hours else 0.0

    @property
    def negative_share(self) -> float:
        return self.negative / self.with_sentiment if self.with_sentiment else 0.0

    @property
    def top_emotion(self) -> str | None:
        if not self.emotions:
            return None
        order = {e: -i for i, e in enumerate(EMOTIONS)}  # ties: the earlier enum value
        return max(self.emotions, key=lambda e: (self.emotions[e], order.get(e, -len(EMOTIONS))))


@dataclass(frozen=True, slots=True)
class Effect:
    """Before against after, with deltas (after minus before) and a Chinese summary.

    ``volume_change`` is the relative change of posts per hour (-0.4: 40 % fewer);
    None when there were no posts before.
    """

    published_at: datetime
    before: WindowStats
    after: WindowStats
    volume_change: float | None
    negative_share_delta: float
    emotion_delta: dict[str, float]
    partial: bool  # the after-window is cut at ``now``
    skipped: int  # posts without a time
    summary: str


def _window(docs: list[tuple[datetime, Document]], start: datetime, end: datetime) -> WindowStats:
    volume = with_sentiment = negative = 0
    emotions: Counter[str] = Counter()
    for when, doc in docs:
        if not start <= when < end:
            continue
        volume += 1
        sentiment = doc.analysis.get("sentiment")
        if sentiment:
            with_sentiment += 1
            negative += sentiment == "negative"
        emotion = doc.analysis.get("emotion")
        if isinstance(emotion, str) and emotion:
            emotions[emotion] += 1
    total = sum(emotions.values())
    shares = {e: round(n / total, 4) for e, n in sorted(emotions.items())} if total else {}
    return WindowStats(start, end, volume, with_sentiment, negative, shares)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _summary(
    before: WindowStats, after: WindowStats, change: float | None, window: timedelta, partial: bool
) -> str:
    hours = f"{window.total_seconds() / 3600:g}"
    after_span = f"{after.hours:.1f}" if partial else hours
    parts = [
        f"通报发布后 {after_span} 小时声量 {after.volume} 条（前 {hours} 小时 {before.volume} 条"
    ]
    if change is None:
        parts[0] += "）"
    else:
        word = "上升" if change > 0 else "下降"
        parts[0] += f"，每小时{word} {abs(change) * 100:.0f}%）" if change else "，基本持平）"
    if before.with_sentiment and after.with_sentiment:
        delta = after.negative_share - before.negative_share
        if abs(delta) < 0.005:
            parts.append(f"负面占比持平于 {_pct(after.negative_share)}")
        else:
            word = "降至" if delta < 0 else "升至"
            parts.append(
                f"负面占比由 {_pct(before.negative_share)} {word} {_pct(after.negative_share)}"
                f"（{delta * 100:+.0f} 个百分点）"
            )
    top_before, top_after = before.top_emotion, after.top_emotion
    if top_before and top_after:
        lb, la = (
            EMOTION_LABELS.get(top_before, top_before),
            EMOTION_LABELS.get(top_after, top_after),
        )
        parts.append(f"主要情绪由{lb}转为{la}" if top_before != top_after else f"主要情绪仍为{la}")
    text = "，".join(parts) + "。"
    if min(before.volume, after.volume) < SMALL_SAMPLE:
        text += "样本较少，仅供参考。"
    if partial:
        text += "发布后窗口尚未结束，按每小时声量比较。"
    return text


def statement_effect(
    docs: Iterable[Document],
    published_at: datetime,
    window: timedelta = timedelta(hours=6),
    *,
    now: datetime | None = None,
) -> Effect:
    """The effect of a statement published at ``published_at`` on the event's posts
    ``docs`` (see the module docstring)."""
    if published_at.tzinfo is None or (now is not None and now.tzinfo is None):
        raise UsageError("statement_effect: published_at and now must be timezone-aware")
    if window <= timedelta(0):
        raise UsageError(f"statement_effect: the window must be positive, got {window}")
    published = published_at.astimezone(UTC)
    end = published + window
    partial = False
    if now is not None and now.astimezone(UTC) < end:
        if now.astimezone(UTC) <= published:
            raise UsageError(
                "statement_effect: now is before the publication time; nothing to measure yet"
            )
        end, partial = now.astimezone(UTC), True
    timed: list[tuple[datetime, Document]] = []
    skipped = 0
    for doc in docs:
        when = doc.published_at
        if when is None:
            skipped += 1
            continue
        timed.append((when.astimezone(UTC), doc))
    before = _window(timed, published - window, published)
    after = _window(timed, published, end)
    change = (after.per_hour / before.per_hour - 1.0) if before.volume else None
    emotion_keys = sorted(set(before.emotions) | set(after.emotions))
    emotion_delta = {
        e: round(after.emotions.get(e, 0.0) - before.emotions.get(e, 0.0), 4) for e in emotion_keys
    }
    return Effect(
        published_at=published,
        before=before,
        after=after,
        volume_change=round(change, 4) if change is not None else None,
        negative_share_delta=round(after.negative_share - before.negative_share, 4),
        emotion_delta=emotion_delta,
        partial=partial,
        skipped=skipped,
        summary=_summary(before, after, change, window, partial),
    )
