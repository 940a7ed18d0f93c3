"""Training and evaluation end to end on tiny generated CSVs (fast, into tmp_path)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from yuqing.analysis.datasets import dedup_key, dedupe, map_label, read_csv
from yuqing.analysis.emotion import EmotionModel
from yuqing.analysis.evaluation import evaluate, score
from yuqing.analysis.features import FeatureConfig, Featurizer, normalize
from yuqing.analysis.sentiment import SentimentModel
from yuqing.analysis.training import train
from yuqing.errors import UsageError

GOOD = ["很好", "满意", "喜欢", "推荐", "不错", "开心", "赞"]
BAD = ["很差", "失望", "难吃", "垃圾", "退货", "生气", "坑人"]
THINGS = ["这家店", "服务", "快递", "菜品", "价格", "环境", "老板"]


def _write(
    path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("text", "label")
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _sentiment_rows(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        pos = i % 2 == 0
        word = rng.choice(GOOD if pos else BAD)
        rows.append((f"{rng.choice(THINGS)}{word}{rng.choice(THINGS)}{i}号", "1" if pos else "0"))
    return rows


def test_train_and_evaluate_sentiment_end_to_end(tmp_path: Path) -> None:
    data = _write(tmp_path / "train.csv", _sentiment_rows(300, 1))
    out = tmp_path / "sent.npz"
    messages: list[str] = []
    card = train("sentiment", [data], out, seed=7, progress=messages.append)
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert card.metrics["heldout10pct"]["accuracy"] > 0.9
    assert messages
    test = _write(
        tmp_path / "test.csv", [(t, lab) for t, lab in _sentiment_rows(60, 2)], ("review", "y")
    )
    report = evaluate("sentiment", test, text_column="review", label_column="y", model_path=out)
    assert report.accuracy > 0.9
    text = report.format()
    assert "confusion matrix" in text and "macro-F1" in text and "negative" in text
    (r,) = SentimentModel(out).predict(["服务很差，失望"])
    assert r.score < 0


def test_train_emotion_with_dataset_labels(tmp_path: Path) -> None:
    words = {"happy": "开心快乐", "angry": "气愤可恶", "sad": "难过伤心", "neutral": "通知会议"}
    rng = random.Random(3)
    rows = [(f"{rng.choice(THINGS)}{w}{i}", lab) for i in range(200) for lab, w in words.items()]
    data = _write(tmp_path / "emo.csv", rows)
    out = tmp_path / "emo.npz"
    train("emotion", [data], out)
    (r,) = EmotionModel(out).predict(["今天好开心快乐"])
    assert r.label == "joy"
    report = evaluate("emotion", data, model_path=out)
    assert report.accuracy > 0.9
    assert "confusion matrix" in report.format()


def test_unknown_task_and_missing_column(tmp_path: Path) -> None:
    data = _write(tmp_path / "x.csv", [("好", "1")])
    with pytest.raises(UsageError):
        train("topic", [data], tmp_path / "x.npz")
    with pytest.raises(UsageError, match="content"):
        evaluate("sentiment", data, text_column="content")


def test_label_mapping() -> None:
    assert map_label("emotion", "happy") == "joy"
    assert map_label("emotion", "disgust") == "anger"
    assert map_label("emotion", "none") == "neutral"
    assert map_label("rumor", "1") == "rumor"
    assert map_label("sentiment", "0") == "negative"
    assert map_label("sentiment", "maybe") is None


def test_dedupe_across_script_and_punctuation(tmp_path: Path) -> None:
    data = _write(
        tmp_path / "d.csv",
        [("服務很好！", "1"), ("服务很好", "1"), ("服务 很好。", "0"), ("差", "0")],
    )
    rows, _ = read_csv(data, "sentiment")
    kept, dropped = dedupe(rows)
    assert [r.text for r in kept] == ["差"]  # the three copies disagree: all dropped
    assert dropped == 3
    assert dedup_key("服務很好！") == dedup_key("服务 很好")


def test_score_metrics() -> None:
    report = score("x", ["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert report.accuracy == 0.75
    assert report.confusion == [[1, 1], [0, 2]]
    assert report.per_class["a"]["precision"] == 1.0
    assert report.per_class["b"]["recall"] == 1.0


def test_features_are_deterministic_and_normalized() -> None:
    fz = Featurizer(FeatureConfig(n_features=1 << 12))
    a = fz.transform(["不好吃[怒]", "不好吃[怒]"])
    assert (a[0] != a[1]).nnz == 0
    assert abs(a[0].multiply(a[0]).sum() - 1.0) < 1e-5
    names = fz.tokens(normalize("不好吃[怒]"))
    assert "E:[怒]" in names and any(n.startswith("N:") for n in names)
    assert normalize("ＡＢＣ測試") == "abc测试"


def test_indices_match_the_hasher() -> None:
    fz = Featurizer(FeatureConfig(n_features=1 << 16))
    names = fz.tokens(normalize("食堂用过期食材，孩子腹痛！！学校必须给说法[怒] 不满意"))
    matrix = fz._hasher.transform([[name] for name in names]).tocsr()
    assert fz.indices(names).tolist() == matrix.indices.tolist()


def test_nb_scaled_fit_folds_the_ratio_into_one_linear_row() -> None:
    import numpy as np

    from yuqing.analysis.refine import nb_ratio
    from yuqing.analysis.training import fit

    rows = _sentiment_rows(200, 5)
    fz = Featurizer(FeatureConfig())
    x = fz.transform([t for t, _ in rows])
    labels = ["positive" if lab == "1" else "negative" for _, lab in rows]
    positive = np.array([lab == "positive" for lab in labels])
    ratio = nb_ratio(x, positive)
    assert ratio.shape == (x.shape[1],)
    (bucket,) = fz.indices(["W:满意"])
    assert ratio[bucket] > 0  # a positive-only word leans positive
    model = fit(x, labels, task="sentiment", config=fz.config, c=3.0, seed=1, nb_scale=True)
    assert model.coef.shape == (1, x.shape[1]) and model.meta["nb_scale"] is True
    untouched = np.flatnonzero(x.getnnz(axis=0) == 0)
    assert not model.coef[0, untouched].any()  # unseen buckets keep weight 0
    assert model.predict(["服务很好，满意"]) == ["positive"]
    assert model.predict(["快递很差，失望"]) == ["negative"]
