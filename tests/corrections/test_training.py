"""Corrections teach: the relabelled posts become training rows (latest label wins), the
trainer receives them on its training side, the retrained model learns them, and
``yuqing train --corrections-from --report`` writes the before/after figures."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.conftest import shared_data
from yuqing.analysis.datasets import Example
from yuqing.analysis.sentiment import SentimentModel
from yuqing.analysis.training import with_corrections
from yuqing.cli import app
from yuqing.corrections import relabel_post
from yuqing.corrections.teach import train_with_corrections
from yuqing.corrections.training_rows import correction_rows
from yuqing.store.base import Store

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
GOOD = ["很好", "满意", "喜欢", "推荐", "不错"]
BAD = ["很差", "失望", "难吃", "垃圾", "退货"]
THINGS = ["这家店", "服务", "快递", "菜品", "价格"]
CORRECTED_TEXT = "学校食堂被曝使用过期食材"  # p1 of the canteen store, relabelled negative


def _relabel(store: Store) -> None:
    relabel_post(store, "weibo", "p1", "sentiment", "positive", by="li", at=AT)
    relabel_post(store, "weibo", "p1", "sentiment", "negative", by="li", at=AT + timedelta(1))
    relabel_post(store, "weibo", "p4", "sentiment", "neutral", by="li", at=AT)
    relabel_post(store, "weibo", "p5", "sentiment", "positive", by="li", at=AT)
    relabel_post(store, "weibo", "p3", "risk", "ordinary", by="li", at=AT)
    relabel_post(store, "weibo", "p6", "emotion", "surprise", by="li", at=AT)


def test_corrections_become_training_rows(store: Store) -> None:
    _relabel(store)
    rows = correction_rows(store, "sentiment")
    assert {(e.text, e.label) for e in rows.examples} == {
        (CORRECTED_TEXT, "negative"),
        ("教育局回应食堂事件", "positive"),
    }  # fmt: skip  (the later correction of p1 wins; neutral is left out)
    assert rows.corrections == 4 and sum(rows.skipped.values()) == 1
    assert "neutral" in rows.summary()
    rumor = correction_rows(store, "rumor")
    assert [(e.text, e.label) for e in rumor.examples] == [("听说食堂的肉是僵尸肉", "non-rumor")]
    emotion = correction_rows(store, "emotion")
    assert [e.label for e in emotion.examples] == ["surprise"]


def test_a_correction_overrides_the_same_text_in_the_dataset() -> None:
    rows = [Example("食堂很好", "positive"), Example("快递很差", "negative")]
    extra = [Example("食堂 很好!", "negative", source="corrections")]
    got = with_corrections(rows, extra)
    assert [(e.text, e.label) for e in got] == [
        ("快递很差", "negative"),
        ("食堂 很好!", "negative"),
    ]
    assert with_corrections(rows, extra, banned={"食堂很好"}) == [rows[1]]  # held-out text


def _training_csv(path: Path) -> Path:
    rng = random.Random(5)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for i in range(300):
            good = i % 2 == 0
            word = rng.choice(GOOD if good else BAD)
            w.writerow([f"{rng.choice(THINGS)}{word}{i}号", "1" if good else "0"])
        w.writerow([CORRECTED_TEXT, "1"])  # the dataset says positive; the analyst says not
    return path


def test_the_retrained_model_learns_the_corrections(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    _relabel(store)
    data = _training_csv(tmp_path / "train.csv")
    out = tmp_path / "sentiment.npz"
    messages: list[str] = []
    done = train_with_corrections(
        "sentiment", [data], out, seed=7, corrections_from=store_url,
        report=tmp_path / "report.json", progress=messages.append, data_root=tmp_path / "none",
    )  # fmt: skip
    assert done.card.metrics["corrections_rows"] == 2
    assert any("2 corrected post(s)" in m for m in messages)
    (result,) = SentimentModel(out).predict([CORRECTED_TEXT])
    assert result.score < 0  # the analyst's label, over the dataset's
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["sets"]["chnsenticorp_test"] == {
        "missing": str(tmp_path / "none" / "sentiment_chnsenticorp/test.csv")
    }
    own = report["sets"]["corrections (trained on)"]
    assert own["n"] == 2 and own["after"]["accuracy"] == 1.0
    assert report["corrections"] == {
        "rows": 2, "read": 4, "left_out": {"neutral (the sentiment model is binary)": 1}
    }  # fmt: skip


def test_cli_reports_before_and_after_on_the_standard_sets(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    shared_data("sentiment_chnsenticorp", "test.csv")
    shared_data("emotion_smp2020_ewect", "dev.csv")
    _relabel(store)
    data = _training_csv(tmp_path / "train.csv")
    out, report = tmp_path / "sentiment.npz", tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        ["train", "sentiment", "--data", str(data), "--out", str(out),
         "--corrections-from", store_url, "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "chnsenticorp_test" in result.output and "acc before" in result.output
    figures = orjson.loads(report.read_bytes())["sets"]
    chn = figures["chnsenticorp_test"]
    assert chn["n"] == 1200 and chn["before"]["accuracy"] > 0.8  # the shipped model
    assert set(chn["delta"]) == {"accuracy", "macro_f1"}
    assert figures["smp2020_eval_3way"]["n"] > 1000
