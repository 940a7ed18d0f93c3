"""The optional transformer tier on a tiny real ONNX model and a real WordPiece tokenizer.

The model (built here with the ``onnx`` helper API) embeds each token into one score per
class, averages over the unmasked tokens and adds a bias: a token's class is the one its
embedding row pushes. Its weights are deliberately *inverted* against ordinary sentiment
(好/赞/谢 push negative, 怒/差 push positive), so a label that comes from the tier can be
told from the linear model's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from yuqing.analysis.analyzer import Analyzer
from yuqing.analysis.emotion import EMOTIONS
from yuqing.analysis.evaluation import evaluate
from yuqing.analysis.transformer_tier import TransformerClassifier
from yuqing.errors import ConfigError
from yuqing.models import Document
from yuqing.settings import TransformerSettings, load_settings

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
FILLER = list("今天是的了我们这个服务酒店房间孩子学校食堂")
SENTIMENT_PUSH = {  # token -> output index of labels ["negative", "neutral", "positive"]
    "好": 0,
    "赞": 0,
    "谢": 0,
    "怒": 2,
    "差": 2,
    "嗯": 1,
}
EMOTION_PUSH = {"乐": 0, "怒": 1, "哭": 2, "怕": 3, "惊": 4, "嗯": 5}  # EMOTIONS order

REPO = Path(__file__).resolve().parents[2]


def vocab() -> dict[str, int]:
    tokens = [*SPECIAL, *FILLER, *SENTIMENT_PUSH, *EMOTION_PUSH]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def write_tokenizer(path: Path, max_length: int = 512) -> None:
    words = vocab()
    tok = Tokenizer(models.WordPiece(words, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", words["[CLS]"]), ("[SEP]", words["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece()
    tok.enable_truncation(max_length=max_length)
    tok.save(str(path))


def write_model(
    path: Path,
    push: dict[str, int],
    width: int,
    *,
    lean: int | None = None,
    token_types: bool = True,
) -> None:
    """Gather -> mask -> mean over the sequence -> MatMul + Add -> logits [batch, width];
    ``lean``: the output a text without a pushing token leans to."""
    words = vocab()
    table = np.zeros((len(words), width), dtype=np.float32)
    for token, cls in push.items():
        table[words[token], cls % width] = 60.0
    weight = np.eye(width, dtype=np.float32)
    bias = np.zeros(width, dtype=np.float32)
    if lean is not None:
        bias[lean] = 0.5
    inits = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(weight, "weight"),
        numpy_helper.from_array(bias, "bias"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["emb"]),
        helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["maskf", "axis2"], ["mask3"]),
    ]
    emb = "emb"
    if token_types:
        inits.append(numpy_helper.from_array(np.zeros((2, width), dtype=np.float32), "types"))
        nodes += [
            helper.make_node("Gather", ["types", "token_type_ids"], ["temb"]),
            helper.make_node("Add", ["emb", "temb"], ["emb2"]),
        ]
        emb = "emb2"
    nodes += [
        helper.make_node("Mul", [emb, "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis1"], ["count"], keepdims=0),
        helper.make_node("Max", ["count", "one"], ["count1"]),
        helper.make_node("Div", ["summed", "count1"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "weight"], ["scores"]),
        helper.make_node("Add", ["scores", "bias"], ["logits"]),
    ]
    ids = ["input_ids", "attention_mask", *(["token_type_ids"] if token_types else [])]
    graph = helper.make_graph(
        nodes,
        "tiny-classifier",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in ids],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", width])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def make_folder(
    root: Path,
    task: str,
    *,
    labels: Any = None,
    outputs: int | None = None,
    token_types: bool = True,
    push: dict[str, int] | None = None,
) -> Path:
    folder = root / f"tiny-{task}"
    folder.mkdir(parents=True, exist_ok=True)
    if task == "sentiment":
        pushes, width, lean = SENTIMENT_PUSH, 3, 1
        default: Any = ["negative", "neutral", "positive"]
    else:
        pushes, width, lean = EMOTION_PUSH, 6, None
        default = {str(i): e for i, e in enumerate(["happy", *EMOTIONS[1:]])}  # an alias too
    if push is not None:
        pushes, width, lean = push, max(push.values()) + 1, None
    write_model(
        folder / "model.onnx",
        pushes,
        outputs or width,
        lean=lean if outputs is None else None,
        token_types=token_types,
    )
    write_tokenizer(folder / "tokenizer.json")
    (folder / "labels.json").write_text(
        json.dumps(default if labels is None else labels, ensure_ascii=False), encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tier")
    return {"sentiment": make_folder(root, "sentiment"), "emotion": make_folder(root, "emotion")}


def tier_settings(folders: dict[str, Path], **kw: Any) -> TransformerSettings:
    return TransformerSettings.model_validate(
        {"sentiment": str(folders["sentiment"]), "emotion": str(folders["emotion"]), **kw}
    )


POSITIVE = "太好了，谢谢警察叔叔[赞]"  # the linear model: positive; the tiny model: negative
ANGRY = "食堂用过期食材，孩子腹痛，学校必须给说法[怒]"  # linear: negative; tiny: positive


def doc(i: int, text: str) -> Document:
    return Document(source="test", id=str(i), text=text, norm_text=text)


def test_classifier_probabilities_follow_the_pushing_tokens(folders: dict[str, Path]) -> None:
    clf = TransformerClassifier("sentiment", folders["sentiment"], batch_size=2)
    texts = ["好", "今天是的了", "差差差", "好" * 40 + "差", ""]
    proba = clf.probabilities(texts)
    assert proba.shape == (5, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert [clf.labels[j] for j in proba.argmax(axis=1)] == [
        "negative",
        "neutral",
        "positive",
        "negative",
        "neutral",
    ]
    # batching and length sorting do not change a text's row
    alone = np.vstack([clf.probabilities([t]) for t in texts])
    assert np.allclose(alone, proba, atol=1e-6)


def test_truncation_to_max_length(folders: dict[str, Path]) -> None:
    clf = TransformerClassifier("sentiment", folders["sentiment"], max_length=8)
    # 6 tokens of 好 fit ([CLS] + 6 + [SEP]); the 差 run after them is cut off
    text = "好" * 6 + "差" * 30
    assert clf.labels[int(clf.probabilities([text])[0].argmax())] == "negative"
    full = TransformerClassifier("sentiment", folders["sentiment"], max_length=64)
    assert full.labels[int(full.probabilities([text])[0].argmax())] == "positive"


def test_analyzer_takes_labels_from_the_tier(folders: dict[str, Path]) -> None:
    linear = Analyzer().process([doc(1, POSITIVE), doc(2, ANGRY)])
    assert [d.analysis["sentiment"] for d in linear] == ["positive", "negative"]

    analyzer = Analyzer(transformer=tier_settings(folders))
    docs = analyzer.process(
        [doc(1, POSITIVE), doc(2, ANGRY), doc(3, "http://t.cn/好好好"), doc(4, "我哭了")]
    )
    a = [d.analysis for d in docs]
    assert [x["sentiment"] for x in a[:2]] == ["negative", "positive"]
    assert a[0]["sentiment_score"] < -0.5 < 0.5 < a[1]["sentiment_score"]
    # only a link (the tier alone would say negative): the linear rule for empty texts
    assert a[2]["sentiment"] == "neutral" and a[2]["sentiment_score"] == 0.0
    assert a[2]["explain"]["sentiment"][0].startswith("文本规范化后为空")
    assert a[1]["emotion"] == "anger" and a[3]["emotion"] == "sadness"
    for x in a:
        assert set(x["emotion_scores"]) == set(EMOTIONS)
        assert abs(sum(x["emotion_scores"].values()) - 1.0) < 1e-3
        assert -1.0 <= x["sentiment_score"] <= 1.0
    assert a[0]["model_version"].startswith("sentiment-onnx-tiny-sentiment-")
    assert "+emotion-onnx-tiny-emotion-" in a[0]["model_version"]
    assert isinstance(a[0]["explain"]["sentiment"], list)  # the linear model's phrases


def test_binary_model_uses_the_linear_neutral_rule(tmp_path: Path) -> None:
    push = {"好": 0, "谢": 0, "差": 1, "怒": 1}
    folder = make_folder(tmp_path, "sentiment", labels=["negative", "positive"], push=push)
    settings = TransformerSettings.model_validate({"sentiment": str(folder)})
    analyzer = Analyzer(transformer=settings)
    threshold = analyzer.sentiment.neutral_threshold
    docs = analyzer.process([doc(1, "好"), doc(2, "差差"), doc(3, "今天是的"), doc(4, "好差")])
    a = [d.analysis for d in docs]
    assert a[0]["sentiment"] == "negative" and a[1]["sentiment"] == "positive"
    assert a[0]["sentiment_score"] < -threshold < threshold < a[1]["sentiment_score"]
    for x in a[2:]:  # no pushing token, or both sides: score 0, neutral by the threshold
        assert abs(x["sentiment_score"]) < threshold and x["sentiment"] == "neutral"
    # the emotion judgement is the linear model's when only sentiment is configured
    assert "+emotion-20" in a[0]["model_version"]


def test_default_imports_nothing_new() -> None:
    code = (
        "import sys\n"
        "from yuqing.settings import load_settings\n"
        "from yuqing.runtime.factory import build_pipeline\n"
        "from yuqing.models import Document\n"
        "p = build_pipeline(load_settings(environ={}), analysis=True)\n"
        "docs = p.process([Document(source='t', id='1', text='太好了')])\n"
        "assert docs[0].analysis['sentiment'] == 'positive', docs[0].analysis\n"
        "bad = [m for m in ('onnxruntime', 'tokenizers', 'onnx', "
        "'yuqing.analysis.transformer_tier') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr


def test_settings_and_pipeline(folders: dict[str, Path]) -> None:
    from yuqing.runtime.factory import build_pipeline

    settings = load_settings(
        environ={"YUQING_ANALYSIS__TRANSFORMER__SENTIMENT": str(folders["sentiment"])}
    )
    assert settings.analysis.transformer.sentiment == str(folders["sentiment"])
    docs = build_pipeline(settings, analysis=True).process([doc(1, POSITIVE)])
    assert docs[0].analysis["sentiment"] == "negative"
    with pytest.raises(ConfigError, match="cpu or cuda"):
        load_settings(environ={"YUQING_ANALYSIS__TRANSFORMER__DEVICE": "tpu"})


def test_eval_with_the_tier(folders: dict[str, Path], tmp_path: Path) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("text,label\n好好,0\n差,1\n谢谢,0\n怒,1\n", encoding="utf-8")
    report = evaluate("sentiment", csv, transformer=tier_settings(folders))
    assert report.accuracy == 1.0 and report.extra["model"].startswith("sentiment-onnx")
    assert "model     sentiment-onnx" in report.format()
    emo = tmp_path / "e.csv"
    emo.write_text("text,label\n乐,happy\n怒,angry\n哭,sad\n怕,fear\n", encoding="utf-8")
    report = evaluate("emotion", emo, transformer=tier_settings(folders))
    assert report.accuracy == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-model", "model.onnx is missing"),
        ("no-tokenizer", "tokenizer.json is missing"),
        ("no-labels", "neither labels.json nor config.json"),
        ("bad-label", "label 'LABEL_0' is not a sentiment label"),
        ("index-label", "label '1' is not a sentiment label"),
        ("one-side", "needs positive and negative"),
        ("width", "gives 4 outputs per text but the labels name 3"),
        ("not-onnx", "onnxruntime cannot load it"),
        ("not-folder", "is not a folder"),
    ],
)
def test_config_errors_name_the_path(tmp_path: Path, change: str, message: str) -> None:
    labels: Any = None
    if change == "bad-label":
        labels = ["LABEL_0", "neutral", "positive"]
    elif change == "index-label":
        labels = ["1", "neutral", "positive"]
    elif change == "one-side":
        labels = ["neutral", "neutral", "positive"]
    folder = make_folder(
        tmp_path, "sentiment", labels=labels, outputs=4 if change == "width" else None
    )
    if change == "no-model":
        (folder / "model.onnx").unlink()
    elif change == "no-tokenizer":
        (folder / "tokenizer.json").unlink()
    elif change == "no-labels":
        (folder / "labels.json").unlink()
    elif change == "not-onnx":
        (folder / "model.onnx").write_bytes(b"not a model")
    elif change == "not-folder":
        folder = folder / "model.onnx"
    with pytest.raises(ConfigError, match=message) as err:
        TransformerClassifier("sentiment", folder)
    assert "analysis.transformer.sentiment" in str(err.value)
    assert str(tmp_path) in str(err.value)


def test_id2label_from_config_json(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, "sentiment", token_types=False)
    (folder / "labels.json").unlink()
    config = {"id2label": {"0": "NEGATIVE", "1": "neutral", "2": "pos"}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    clf = TransformerClassifier("sentiment", folder)
    assert clf.labels == ["negative", "neutral", "positive"]
    assert set(clf.input_types) == {"input_ids", "attention_mask"}  # no token_type_ids
    assert clf.labels[int(clf.probabilities(["差"])[0].argmax())] == "positive"


def test_missing_package_names_the_extra(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"yuqing\[transformer\]"):
        TransformerClassifier("sentiment", folders["sentiment"])


def test_cuda_without_provider_is_a_config_error(folders: dict[str, Path]) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        clf = TransformerClassifier("sentiment", folders["sentiment"], device="cuda")
        assert clf.probabilities(["好"]).shape == (1, 3)
        return
    with pytest.raises(ConfigError, match="CUDAExecutionProvider"):
        TransformerClassifier("sentiment", folders["sentiment"], device="cuda")


def test_cli_analyze_and_eval_with_the_tier(folders: dict[str, Path], tmp_path: Path) -> None:
    (tmp_path / "yuqing.toml").write_text(
        "[analysis.transformer]\n"
        f"sentiment = {json.dumps(str(folders['sentiment']))}\n"
        f"emotion = {json.dumps(str(folders['emotion']))}\n"
        "batch_size = 2\nthreads = 1\n",
        encoding="utf-8",
    )
    posts = [{"id": "a", "text": POSITIVE}, {"id": "b", "text": ANGRY}, {"id": "c", "text": "怕"}]
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env["COLUMNS"] = "200"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "yuqing", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    done = cli("analyze", "in.jsonl", "--output", "out.jsonl", "--no-progress")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["sentiment"] for r in rows[:2]] == ["negative", "positive"]
    assert [r["emotion"] for r in rows[1:]] == ["anger", "fear"]
    assert all("onnx-tiny" in r["model_version"] for r in rows)

    (tmp_path / "s.csv").write_text("text,label\n好好,0\n差,1\n", encoding="utf-8")
    done = cli("eval", "sentiment", "s.csv")
    assert done.returncode == 0, done.stderr
    assert "accuracy  1.0000" in done.stdout and "sentiment-onnx-tiny" in done.stdout
    done = cli("eval", "sentiment", "s.csv", "--linear")
    assert done.returncode == 0, done.stderr
    assert "onnx" not in done.stdout

    (tmp_path / "yuqing.toml").write_text(
        '[analysis.transformer]\nsentiment = "missing-folder"\n', encoding="utf-8"
    )
    done = cli("analyze", "in.jsonl", "--output", "out2.jsonl", "--no-progress")
    assert done.returncode == 1
    assert "analysis.transformer.sentiment" in done.stderr and "does not exist" in done.stderr


def test_emotion_aliases_add_up_and_missing_classes_score_zero(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path,
        "emotion",
        labels=["like", "happiness", "disgust"],
        push={"乐": 0, "哭": 1, "怒": 2},
    )
    clf = TransformerClassifier("emotion", folder)
    assert clf.labels == ["joy", "joy", "anger"]
    analyzer = Analyzer(transformer=TransformerSettings.model_validate({"emotion": str(folder)}))
    a = [d.analysis for d in analyzer.process([doc(1, "乐"), doc(2, "哭哭"), doc(3, "怒")])]
    assert [x["emotion"] for x in a] == ["joy", "joy", "anger"]
    for x in a:
        assert x["emotion_scores"]["surprise"] == 0.0 == x["emotion_scores"]["fear"]
        assert abs(sum(x["emotion_scores"].values()) - 1.0) < 1e-3
    assert a[0]["model_version"].startswith("sentiment-20")  # sentiment stays linear
