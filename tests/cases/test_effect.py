"""The measured effect of a statement on hand-made documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.cases import statement_effect
from yuqing.errors import UsageError
from yuqing.models import Document

PUB = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)


def _docs(
    offset_hours: float, n: int, negative: int, emotion: str, rest: str = "neutral"
) -> list[Document]:
    out = []
    for i in range(n):
        doc = Document(
            id=f"{offset_hours}-{i}",
            source="weibo",
            text="x",
            published_at=PUB + timedelta(hours=offset_hours, seconds=i),
        )
        doc.analysis["sentiment"] = "negative" if i < negative else "neutral"
        doc.analysis["emotion"] = emotion if i < negative else rest
        out.append(doc)
    return out


def test_before_and_after() -> None:
    docs = _docs(-3, 40, 30, "anger") + _docs(2, 20, 5, "anger")
    docs += _docs(-8, 10, 10, "fear") + _docs(7, 10, 10, "fear")  # outside the windows
    docs.append(Document(id="no-time", source="weibo", text="x"))
    effect = statement_effect(docs, PUB)
    assert (effect.before.volume, effect.after.volume) == (40, 20)
    assert effect.before.negative_share == 0.75 and effect.after.negative_share == 0.25
    assert effect.negative_share_delta == -0.5
    assert effect.volume_change == -0.5
    assert effect.before.emotions == {"anger": 0.75, "neutral": 0.25}
    assert effect.emotion_delta == {"anger": -0.5, "neutral": 0.5}
    assert effect.before.top_emotion == "anger" and effect.after.top_emotion == "neutral"
    assert effect.skipped == 1 and not effect.partial
    assert effect.summary.startswith(
        "通报发布后 6 小时声量 20 条（前 6 小时 40 条，每小时下降 50%）"
    )
    assert "负面占比由 75% 降至 25%（-50 个百分点）" in effect.summary
    assert "主要情绪由愤怒转为中性" in effect.summary
    assert "样本较少" not in effect.summary


def test_partial_window_compares_rates() -> None:
    docs = _docs(-1, 60, 30, "anger") + _docs(0.5, 30, 30, "anger")
    effect = statement_effect(docs, PUB, timedelta(hours=6), now=PUB + timedelta(hours=1))
    assert effect.partial and effect.after.hours == 1.0
    assert effect.after.per_hour == 30 and effect.before.per_hour == 10
    assert effect.volume_change == 2.0
    assert "每小时上升 200%" in effect.summary and "尚未结束" in effect.summary


def test_no_posts_before_and_small_samples() -> None:
    effect = statement_effect(_docs(1, 3, 1, "sadness"), PUB)
    assert effect.volume_change is None and effect.before.volume == 0
    assert effect.summary.endswith("样本较少，仅供参考。")


def test_bad_arguments() -> None:
    with pytest.raises(UsageError, match="timezone-aware"):
        statement_effect([], datetime(2026, 3, 5))  # noqa: DTZ001
    with pytest.raises(UsageError, match="positive"):
        statement_effect([], PUB, timedelta(0))
    with pytest.raises(UsageError, match="before the publication"):
        statement_effect([], PUB, now=PUB - timedelta(minutes=1))
