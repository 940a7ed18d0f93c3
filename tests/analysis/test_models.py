"""The shipped sentiment, emotion and rumour artifacts: load, predict, explain, bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.analysis.emotion import EMOTIONS, EmotionModel
from yuqing.analysis.evaluation import evaluate
from yuqing.analysis.rumor import RumorModel
from yuqing.analysis.sentiment import SentimentModel
from yuqing.analysis.textmodel import TextModel, load_model
from yuqing.errors import ModelError

# tests/analysis/test_models.py: parents[2] is the repository root, ../shared/data beside it
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

POSITIVE = "太好了，谢谢警察叔叔[赞]"
ANGRY = "食堂用过期食材，孩子腹痛，学校必须给说法[怒]"
RUMOR = "网传某地发生爆炸，紧急扩散！"
OFFICIAL = "【通报】市应急管理局：今日上午召开安全生产工作会议，部署冬季防火工作。"


def test_sentiment_hand_written() -> None:
    pos, neg = SentimentModel().predict([POSITIVE, ANGRY])
    assert pos.label == "positive" and pos.score > 0.3
    assert neg.label == "negative" and neg.score < -0.3
    assert -1.0 <= neg.score <= 1.0


def test_sentiment_negation_and_traditional() -> None:
    results = SentimentModel().predict(
        ["服务非常好，很满意", "服务不好，很不满意", "服務非常好，很滿意"]
    )
    assert results[0].score > 0 > results[1].score
    assert results[2].label == results[0].label


def test_emotion_hand_written() -> None:
    joy, anger = EmotionModel().predict([POSITIVE, ANGRY])
    assert joy.label == "joy"
    assert anger.label == "anger"
    for r in (joy, anger):
        assert set(r.scores) == set(EMOTIONS)
        assert abs(sum(r.scores.values()) - 1.0) < 1e-3


def test_rumor_ranks_rumor_above_official_notice() -> None:
    rumor, official = RumorModel().predict([RUMOR, OFFICIAL])
    assert rumor.probability > official.probability
    assert any("网传" in r for r in rumor.reasons)
    assert any("扩散" in r for r in rumor.reasons)


def test_rumor_author_signal() -> None:
    (r,) = RumorModel().predict([RUMOR], author_followers=[12], author_verified=[False])
    assert any("粉丝少" in x for x in r.reasons)


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "http://t.cn/abc", "！！！。。"])
def test_empty_text_is_neutral_with_reason(text: str) -> None:
    (s,) = SentimentModel().predict([text])
    assert s.label == "neutral" and s.score == 0.0 and s.reason
    (e,) = EmotionModel().predict([text])
    assert e.label == "neutral" and e.scores["neutral"] == 1.0 and e.reason
    (r,) = RumorModel().predict([text])
    assert r.probability == 0.0 and r.reasons


@pytest.mark.parametrize(
    "text",
    [
        "hello world, this is great!",
        "x" * 50_000,
        "混合script文本 ABC 😀 [哈哈] 測試",
        "\x00\ud7ff",
    ],
)
def test_bad_input_gets_a_defined_result(text: str) -> None:
    (s,) = SentimentModel().predict([text])
    assert s.label in ("positive", "neutral", "negative")
    (e,) = EmotionModel().predict([text])
    assert e.label in EMOTIONS
    (r,) = RumorModel().predict([text])
    assert 0.0 <= r.probability <= 1.0


def test_explain_returns_substrings() -> None:
    model = load_model("sentiment")
    for text in (ANGRY, POSITIVE, "這家餐廳的服務太差了，再也不來"):
        words = model.explain(text, 4)
        assert words
        assert all(w in text for w in words), words


def test_artifacts_are_small_and_versioned() -> None:
    for task in ("sentiment", "emotion", "rumor"):
        model = load_model(task)
        assert model.version.startswith(f"{task}-2026.11")
        size = (
            (Path(__file__).resolve().parents[2] / "yuqing/analysis/models" / f"{task}.npz")
            .stat()
            .st_size
        )
        assert size < 6_000_000


def test_missing_and_broken_artifact(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="yuqing train sentiment"):
        TextModel.load(tmp_path / "nope.npz", "sentiment")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=str(broken)):
        SentimentModel(broken).predict(["好"])


def test_predict_proba_batch_shape() -> None:
    model = load_model("emotion")
    proba = model.predict_proba([POSITIVE, ANGRY, ""])
    assert proba.shape == (3, 6)
    assert np.allclose(proba.sum(axis=1), 1.0)


def _data_or_skip(relative: str) -> Path:
    path = DATA / relative
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing (CI=true requires ../shared/data)")
        pytest.skip(f"{path} not present (../shared/data absent)")
    return path


def test_shipped_sentiment_heldout_accuracy_floor() -> None:
    report = evaluate("sentiment", _data_or_skip("sentiment_chnsenticorp/test.csv"))
    assert report.n == 1200
    assert report.accuracy >= FLOOR_CHNSENTICORP, report.format()


FLOOR_CHNSENTICORP = 0.87


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_defined_result(text: str) -> None:
    (s,) = SentimentModel().predict([text])
    assert -1.0 <= s.score <= 1.0
    (e,) = EmotionModel().predict([text])
    assert abs(sum(e.scores.values()) - 1.0) < 1e-3
    (r,) = RumorModel().predict([text], author_followers=[None], author_verified=[None])
    assert 0.0 <= r.probability <= 1.0
    assert all(isinstance(w, str) and w for w in s.explain + e.explain)


_ODD = [
    "",
    "   ",
    "😀😀",
    "[泪][泪]",
    "不好吃[怒] 很不满意！！！！??",
    "𠮷野家",
    "\x00\ud7ff",
    "x" * 3000,
]


def _reference_matrix(texts: list[str]) -> sp.csr_matrix:
    """The former featurization: FeatureHasher over the names of ``tokens``."""
    from yuqing.analysis.features import Featurizer

    fz = Featurizer()
    counts = fz._hasher.transform(fz.tokens(fz.prepare(t)) for t in texts).tocsr()
    counts.sum_duplicates()
    return counts


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="不很好吃的差[]泪怒哈!? ab1😀，。", max_size=30), max_size=6))
def test_vectorized_features_match_feature_hasher(texts: list[str]) -> None:
    from yuqing.analysis.features import Featurizer

    texts = texts + _ODD
    fz = Featurizer()
    fast = fz.transform(texts)
    ref = _reference_matrix(texts)
    fast.sort_indices()
    assert np.array_equal(fast.indptr, ref.indptr)
    assert np.array_equal(fast.indices, ref.indices)
    logged = np.log1p(ref.data)
    norms = np.sqrt(np.bincount(np.repeat(np.arange(len(texts)), np.diff(ref.indptr)), logged**2))
    expected = logged / np.repeat(norms, np.diff(ref.indptr))
    np.testing.assert_allclose(fast.data, expected, rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_murmur_matches_sklearn(names: list[str]) -> None:
    from sklearn.utils import murmurhash3_32

    from yuqing.analysis.features import Featurizer

    names = [n.replace("\n", " ") for n in names if "\n" not in n]
    names = [n.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for n in names]
    if not names:
        return
    got = Featurizer().indices(names).tolist()
    assert got == [abs(murmurhash3_32(n, 0)) % (1 << 20) for n in names]


def test_batch_explanations_do_not_depend_on_the_batch() -> None:
    model = load_model("sentiment")
    texts = [ANGRY, POSITIVE, "這家餐廳的服務太差了，再也不來", "好好好好，不错不错", "😀😀", ""]
    fz = model.featurizer
    norms = [fz.prepare(t) for t in texts]
    _, trace = fz.transform_traced(norms)
    labels = model.predict(texts)
    batch = model.explain_batch(texts, trace, labels, 3)
    for text, label, phrases in zip(texts, labels, batch, strict=True):
        assert phrases == model.explain(text, 3, label)
    empty = model.explain_batch(texts, trace, [None] * len(texts), 3)
    assert empty == [[]] * len(texts)
