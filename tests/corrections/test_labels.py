"""Relabelling posts: the stored analysis changes, the model's value is kept, the log says
who and when; bad requests are refused and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuqing.corrections import CorrectionError, CorrectionNotFoundError, relabel_post
from yuqing.corrections.labels import model_label
from yuqing.store.base import Store

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_relabel_changes_the_label_everywhere_and_keeps_the_model_value(store: Store) -> None:
    assert store.label_counts("sentiment") == {"neutral": 3, "negative": 2, "positive": 1}
    done = relabel_post(store, "weibo", "p1", "sentiment", "negative", by="li", at=AT, note="投诉")
    assert done.changed and done.correction.id > 0
    doc = store.get_document("weibo", "p1")
    assert doc is not None
    assert doc.analysis["sentiment"] == "negative"
    assert doc.analysis["corrected"]["sentiment"] == {
        "model": "neutral", "value": "negative", "by": "li", "at": AT.isoformat(), "note": "投诉",
    }  # fmt: skip
    assert doc.analysis["sentiment_score"] == 0.05  # the model's score stays
    assert store.label_counts("sentiment") == {"negative": 3, "neutral": 2, "positive": 1}
    rollup = store.event_rollups(ids=["ev-a"])[0]
    assert rollup.sentiment == {"negative": 3, "neutral": 1}
    (logged,) = store.corrections(target="weibo/p1")
    assert (logged.kind, logged.old, logged.new, logged.by, logged.at) == (
        "sentiment", "neutral", "negative", "li", AT,
    )  # fmt: skip


def test_a_second_correction_keeps_what_the_model_said(store: Store) -> None:
    relabel_post(store, "weibo", "p3", "risk", "ordinary", by="li", at=AT)
    later = AT + timedelta(hours=1)
    again = relabel_post(store, "weibo", "p3", "risk", "group_incident", by="wang", at=later)
    doc = store.get_document("weibo", "p3")
    assert doc is not None
    assert doc.analysis["risk"]["type"] == "group_incident"
    assert doc.analysis["risk"]["rumor"] == 0.8
    assert model_label(doc.analysis, "risk") == "rumor"
    assert doc.analysis["corrected"]["risk"]["by"] == "wang"
    assert again.correction.old == "ordinary"
    assert [c.new for c in store.corrections(kind="risk")] == ["group_incident", "ordinary"]


def test_confirming_a_label_is_logged_but_changes_nothing(store: Store) -> None:
    done = relabel_post(store, "weibo", "p2", "emotion", "anger", by="li", at=AT)
    assert not done.changed
    assert store.label_counts("emotion")["anger"] == 1
    assert len(store.corrections(kind="emotion")) == 1


def test_bad_relabels_are_refused(store: Store) -> None:
    with pytest.raises(CorrectionError, match="not a label"):
        relabel_post(store, "weibo", "p1", "sentiment", "angry", by="li", at=AT)
    with pytest.raises(CorrectionError, match="cannot correct"):
        relabel_post(store, "weibo", "p1", "topic", "food", by="li", at=AT)
    with pytest.raises(CorrectionNotFoundError, match="weibo/nope"):
        relabel_post(store, "weibo", "nope", "sentiment", "negative", by="li", at=AT)
    assert store.corrections() == []
    doc = store.get_document("weibo", "p1")
    assert doc is not None and "corrected" not in doc.analysis
