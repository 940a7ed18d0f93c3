"""Overhead of the optional transformer tier, measured on the tests' tiny ONNX model.

    .venv/bin/python benchmarks/transformer_tier.py --n 2000

Builds the tiny classifier of tests/analysis/test_transformer_tier.py (a token embedding
averaged over the sequence: almost no arithmetic) in a temporary folder and times, on
``n`` real COVID-19 Weibo posts of 20-200 characters (synthetic texts when ../shared/data
is absent), best of 3, CPU and wall, one onnxruntime thread:

- the classifier alone (tokenization, length-sorted padding, onnxruntime calls, softmax);
- the whole ``analysis`` stage without and with the tier (sentiment and emotion).

The tiny model's figures are the tier's fixed cost (an upper bound of its speed).
``--bert-base N`` also builds a graph of BERT-base's shape (12 layers, hidden 768, 12
heads, FFN 3072, vocabulary 21,128, random weights: the arithmetic of a real
``bert-base-chinese`` classifier, not its accuracy; about 400 MB in a temporary folder)
and times the classifier on the first N posts, at 1 and at ``--threads`` onnxruntime
threads.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tiny-model builders live with the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analysis_speed import best_of  # noqa: E402

from tests.analysis.test_transformer_tier import make_folder  # noqa: E402

POSTS = REPO.parent / "shared" / "data" / "event_covid19_weibo_hashtags" / "posts_sample.csv"


def short_posts(n: int) -> list[str]:
    with POSTS.open(encoding="utf-8", newline="") as fh:
        texts = [r["text"] for r in csv.DictReader(fh) if 20 <= len(r["text"]) <= 200]
    return texts[:n]


def write_bert_base(path: Path, classes: int = 3, layers: int = 12, seed: int = 0) -> None:
    """A BERT-base-shaped sequence classifier with random weights (see the module doc)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    hidden, heads, ffn, vocab, positions = 768, 12, 3072, 21128, 512
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def weight(name: str, *shape: int, scale: float = 0.02) -> str:
        inits.append(
            numpy_helper.from_array((rng.standard_normal(shape) * scale).astype("float32"), name)
        )
        return name

    def const(name: str, value: object, dtype: str) -> str:
        inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def layer_norm(x: str, name: str) -> str:
        gamma = const(f"{name}.g", np.ones(hidden), "float32")
        beta = const(f"{name}.b", np.zeros(hidden), "float32")
        return node("LayerNormalization", [x, gamma, beta], f"{name}.out", axis=-1)

    def dense(x: str, name: str, n_in: int, n_out: int) -> str:
        mm = node("MatMul", [x, weight(f"{name}.w", n_in, n_out)], f"{name}.mm")
        return node("Add", [mm, const(f"{name}.bias", np.zeros(n_out), "float32")], f"{name}.out")

    const("i0", 0, "int64")
    const("i1", 1, "int64")
    const("heads_shape", [0, 0, heads, hidden // heads], "int64")
    const("hidden_shape", [0, 0, hidden], "int64")
    const("axes12", [1, 2], "int64")
    const("neg", -10000.0, "float32")
    const("onef", 1.0, "float32")
    const("scale", 1.0 / np.sqrt(hidden // heads), "float32")
    const("sqrt2", np.sqrt(2.0), "float32")
    const("half", 0.5, "float32")
    shape = node("Shape", ["input_ids"], "ids_shape")
    length = node("Gather", [shape, "i1"], "length", axis=0)
    pos = node("Range", ["i0", length, "i1"], "pos")
    word = node("Gather", [weight("word", vocab, hidden), "input_ids"], "word_emb")
    where = node("Gather", [weight("position", positions, hidden), pos], "pos_emb")
    kind = node("Gather", [weight("type", 2, hidden), "token_type_ids"], "type_emb")
    x = node("Add", [node("Add", [word, where], "emb1"), kind], "emb")
    x = layer_norm(x, "emb_ln")
    maskf = node("Cast", ["attention_mask"], "maskf", to=TensorProto.FLOAT)
    inverted = node("Sub", ["onef", maskf], "inv_mask")
    bias = node("Unsqueeze", [node("Mul", [inverted, "neg"], "mask_neg"), "axes12"], "mask_bias")
    for i in range(layers):
        p = f"l{i}"

        def split(name: str, perm: list[int], src: str, p: str = p) -> str:
            r = node(
                "Reshape",
                [dense(src, f"{p}.{name}", hidden, hidden), "heads_shape"],
                f"{p}.{name}.r",
            )
            return node("Transpose", [r], f"{p}.{name}.t", perm=perm)

        q, k, v = (
            split("q", [0, 2, 1, 3], x),
            split("k", [0, 2, 3, 1], x),
            split("v", [0, 2, 1, 3], x),
        )
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), "scale"], f"{p}.scaled")
        probs = node("Softmax", [node("Add", [scores, bias], f"{p}.masked")], f"{p}.probs", axis=-1)
        ctx = node(
            "Transpose", [node("MatMul", [probs, v], f"{p}.ctx")], f"{p}.ctx.t", perm=[0, 2, 1, 3]
        )
        ctx = node("Reshape", [ctx, "hidden_shape"], f"{p}.ctx.r")
        x = layer_norm(
            node("Add", [x, dense(ctx, f"{p}.o", hidden, hidden)], f"{p}.res1"), f"{p}.ln1"
        )
        h = dense(x, f"{p}.ffn1", hidden, ffn)
        erf = node("Erf", [node("Div", [h, "sqrt2"], f"{p}.hs")], f"{p}.erf")
        gelu = node(
            "Mul",
            [node("Mul", [h, "half"], f"{p}.hh"), node("Add", [erf, "onef"], f"{p}.erf1")],
            f"{p}.gelu",
        )
        out = dense(gelu, f"{p}.ffn2", ffn, hidden)
        x = layer_norm(node("Add", [x, out], f"{p}.res2"), f"{p}.ln2")
    cls = node("Gather", [x, "i0"], "cls", axis=1)
    pooled = node("Tanh", [dense(cls, "pooler", hidden, hidden)], "pooled")
    nodes.append(helper.make_node("MatMul", [pooled, weight("cls.w", hidden, classes)], ["cls.mm"]))
    node("Add", ["cls.mm", const("cls.b", np.zeros(classes), "float32")], "logits")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    graph = helper.make_graph(
        nodes,
        "bert-base-shaped",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"]) for n in names],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--bert-base", type=int, default=0, help="posts for the BERT-base run")
    parser.add_argument("--threads", type=int, default=2, help="threads of the 2nd BERT run")
    args = parser.parse_args()

    from yuqing.analysis.analyzer import Analyzer
    from yuqing.analysis.transformer_tier import TransformerClassifier
    from yuqing.models import Document
    from yuqing.pipeline.normalize import Normalizer
    from yuqing.settings import TransformerSettings

    if POSTS.is_file():
        texts = short_posts(args.n)
    else:
        texts = [f"今天是第{i}天，食堂的服务好差，孩子们怕了" for i in range(args.n)]
    normalizer = Normalizer()

    def docs() -> list[Document]:
        batch = [Document(source="b", id=str(i), text=t) for i, t in enumerate(texts)]
        return normalizer.process(batch)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folders = {task: make_folder(root, task) for task in ("sentiment", "emotion")}
        settings = TransformerSettings.model_validate(
            {
                "sentiment": str(folders["sentiment"]),
                "emotion": str(folders["emotion"]),
                "batch_size": args.batch_size,
                "max_length": args.max_length,
                "threads": 1,
            }
        )
        clf = TransformerClassifier(
            "sentiment",
            folders["sentiment"],
            batch_size=args.batch_size,
            max_length=args.max_length,
            threads=1,
        )
        linear, tiered = Analyzer(), Analyzer(transformer=settings)
        warm = docs()[:50]
        linear.process(warm)
        tiered.process(docs()[:50])
        clf.probabilities(texts[:50])
        n = len(texts)
        print(f"{n} posts, batch_size {args.batch_size}, max_length {args.max_length}")
        print("| path | posts/s (CPU) | posts/s (wall) |")
        print("|---|---|---|")
        for name, fn in (
            ("tiny classifier alone (one task)", lambda: clf.probabilities(texts)),
            ("analysis stage, linear only", lambda: linear.process(docs())),
            ("analysis stage, tier for sentiment + emotion", lambda: tiered.process(docs())),
        ):
            cpu, wall = best_of(fn)
            print(f"| {name} | {n / cpu:,.0f} | {n / wall:,.0f} |")
        if args.bert_base > 0:
            bert = root / "bert-base-shaped"
            bert.mkdir()
            write_bert_base(bert / "model.onnx")
            for name in ("tokenizer.json", "labels.json"):
                (bert / name).write_bytes((folders["sentiment"] / name).read_bytes())
            sample = texts[: args.bert_base]
            for threads in sorted({1, args.threads}):
                model = TransformerClassifier(
                    "sentiment",
                    bert,
                    batch_size=args.batch_size,
                    max_length=args.max_length,
                    threads=threads,
                )
                model.probabilities(sample[:8])
                cpu, wall = best_of(lambda m=model: m.probabilities(sample), reps=1)  # type: ignore[misc]
                print(
                    f"| BERT-base-shaped classifier, {threads} thread(s), {len(sample)} posts "
                    f"| {len(sample) / cpu:,.1f} | {len(sample) / wall:,.1f} |"
                )


if __name__ == "__main__":
    main()
