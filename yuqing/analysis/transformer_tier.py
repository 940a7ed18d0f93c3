"""The optional transformer tier: a local ONNX classifier a user exported themselves.

Configured with ``[analysis.transformer]`` (``sentiment`` and/or ``emotion`` = a folder),
it replaces that judgement's label and score; the explanation (top terms) still comes
from the linear model, pointed at the tier's label. Nothing is downloaded: the folder
holds everything (docs/models-text.md#optional-transformer-tier):

- ``model.onnx``: inputs ``input_ids`` and ``attention_mask`` (``token_type_ids``
  optional), int64 or int32, shape ``[batch, sequence]``; output ``logits`` (or the only
  output) of shape ``[batch, classes]``;
- ``tokenizer.json``: a Hugging Face ``tokenizers`` file (its post-processor adds
  ``[CLS]``/``[SEP]``; truncation to ``max_length`` is set here);
- ``labels.json`` (a list, or an object of index -> label) or ``config.json``'s
  ``id2label``: each output index's label, one of ours (sentiment ``positive neutral
  negative``; emotion ``joy anger sadness fear surprise neutral``; the dataset aliases of
  :data:`yuqing.analysis.datasets.LABEL_MAP` such as ``happy`` or ``disgust`` are read
  too). Several outputs may map to one label (their probabilities add up).

onnxruntime and tokenizers (``pip install 'yuqing[transformer]'``) are imported only when
a folder is configured. **Sentiment score** = ``P(positive) - P(negative)`` from the
softmax of the logits, in -1..1 (for a binary model that is ``2 * P(positive) - 1``, as
the linear model). The label is the most probable of positive/neutral/negative when the
model has a neutral class; otherwise the linear model's rule: neutral when ``|score| <``
the shipped neutral threshold, else the sign.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from yuqing.analysis.datasets import map_label
from yuqing.analysis.emotion import EMOTIONS, EmotionResult
from yuqing.analysis.sentiment import SentimentResult, polarity
from yuqing.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from yuqing.settings import TransformerSettings

SENTIMENTS = ("positive", "neutral", "negative")
LABELS: dict[str, tuple[str, ...]] = {"sentiment": SENTIMENTS, "emotion": EMOTIONS}
EXTRA_HINT = "install the optional extra: pip install 'yuqing[transformer]'"
Explainer = Callable[[list[str | None]], list[list[str]]]


def _import(name: str, where: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: the transformer tier needs the package {name!r}, which is not "
            f"installed; {EXTRA_HINT}"
        ) from exc


def read_labels(folder: Path, task: str, where: str) -> list[str]:
    """Our label of each output index, from ``labels.json`` or ``config.json``'s
    ``id2label``; ConfigError naming the file when a label is not one of the task's."""
    labels_file, config_file = folder / "labels.json", folder / "config.json"
    if labels_file.is_file():
        source = labels_file
        raw: Any = _read_json(labels_file, where)
    elif config_file.is_file():
        source = config_file
        config = _read_json(config_file, where)
        raw = config.get("id2label") if isinstance(config, dict) else None
        if raw is None:
            raise ConfigError(
                f"{where}: {config_file} has no id2label; write a labels.json listing each "
                "output's label"
            )
    else:
        raise ConfigError(
            f"{where}: {folder} has neither labels.json nor config.json; write a labels.json "
            f"listing each output's label (one of {', '.join(LABELS[task])})"
        )
    if isinstance(raw, dict):
        try:
            pairs = sorted((int(k), str(v)) for k, v in raw.items())
        except ValueError as exc:
            raise ConfigError(f"{where}: {source}: the keys must be output indexes") from exc
        if [i for i, _ in pairs] != list(range(len(pairs))):
            raise ConfigError(f"{where}: {source}: the indexes must run 0..{len(pairs) - 1}")
        names = [v for _, v in pairs]
    elif isinstance(raw, list):
        names = [str(v) for v in raw]
    else:
        raise ConfigError(f"{where}: {source}: expected a list or an object of labels")
    ours = LABELS[task]
    out: list[str] = []
    for name in names:
        mapped = None if name.strip().lstrip("-").isdigit() else map_label(task, name)
        if mapped is None and name.strip().lower() in ours:
            mapped = name.strip().lower()
        if mapped not in ours:
            raise ConfigError(
                f"{where}: {source}: label {name!r} is not a {task} label of yuqing; "
                f"use {', '.join(ours)}"
            )
        out.append(mapped)
    if len(set(out)) < 2:
        raise ConfigError(f"{where}: {source}: a classifier needs at least two labels")
    if task == "sentiment" and not {"positive", "negative"} <= set(out):
        raise ConfigError(f"{where}: {source}: a sentiment model needs positive and negative")
    return out


def _read_json(path: Path, where: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: {path}: not readable JSON: {exc}") from exc


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:8]


class TransformerClassifier:
    """One exported classifier: tokenizes, pads per length-sorted batch, runs onnxruntime
    and returns softmax probabilities per output index (:attr:`labels`)."""

    def __init__(
        self,
        task: str,
        folder: str | Path,
        *,
        max_length: int = 256,
        batch_size: int = 32,
        device: str = "cpu",
        threads: int = 0,
    ) -> None:
        if task not in LABELS:
            raise ConfigError(f"the transformer tier covers sentiment and emotion, not {task!r}")
        self.task = task
        self.folder = Path(folder).expanduser()
        self.where = f"analysis.transformer.{task} = {str(folder)!r}"
        self.max_length = max_length
        self.batch_size = batch_size
        if not self.folder.is_dir():
            what = "is not a folder" if self.folder.exists() else "does not exist"
            raise ConfigError(f"{self.where}: {self.folder} {what}")
        model_file, tokenizer_file = self.folder / "model.onnx", self.folder / "tokenizer.json"
        for needed in (model_file, tokenizer_file):
            if not needed.is_file():
                raise ConfigError(
                    f"{self.where}: {needed} is missing (the folder needs model.onnx, "
                    "tokenizer.json and labels.json; see docs/models-text.md)"
                )
        self.labels = read_labels(self.folder, task, self.where)
        ort = _import("onnxruntime", self.where)
        tokenizers = _import("tokenizers", self.where)
        try:
            tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        except Exception as exc:  # the Rust side raises plain Exception
            raise ConfigError(
                f"{self.where}: {tokenizer_file}: not a tokenizers file: {exc}"
            ) from exc
        padding = tokenizer.padding
        self.pad_id = int(padding["pad_id"]) if padding else _pad_id(tokenizer)
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer = tokenizer
        self.session = self._session(ort, model_file, device, threads)
        self.version = f"{task}-onnx-{self.folder.name}-{_digest(model_file)}"

    def _session(self, ort: Any, model_file: Path, device: str, threads: int) -> Any:
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ConfigError(
                    f"{self.where}: device = cuda, but this onnxruntime has no "
                    "CUDAExecutionProvider; install onnxruntime-gpu or set device = cpu"
                )
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(model_file), options, providers=providers)
        except Exception as exc:  # onnxruntime's own error types
            raise ConfigError(
                f"{self.where}: {model_file}: onnxruntime cannot load it: {exc}"
            ) from exc
        inputs = {i.name: i for i in session.get_inputs()}
        for name in ("input_ids", "attention_mask"):
            if name not in inputs:
                raise ConfigError(
                    f"{self.where}: {model_file} has no input {name!r} "
                    f"(inputs: {', '.join(inputs)})"
                )
        unknown = set(inputs) - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise ConfigError(
                f"{self.where}: {model_file} needs inputs the tier does not give: "
                f"{', '.join(sorted(unknown))}"
            )
        self.input_types = {
            name: (np.int32 if "int32" in str(i.type) else np.int64) for name, i in inputs.items()
        }
        outputs = session.get_outputs()
        chosen = next((o for o in outputs if o.name == "logits"), outputs[0])
        self.output = str(chosen.name)
        width = chosen.shape[-1] if chosen.shape else None
        if isinstance(width, int) and width != len(self.labels):
            raise ConfigError(
                f"{self.where}: {model_file} gives {width} outputs per text but the labels "
                f"name {len(self.labels)} ({', '.join(self.labels)})"
            )
        return session

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Softmax probabilities, one row per text, columns as :attr:`labels`."""
        n = len(texts)
        out = np.zeros((n, len(self.labels)), dtype=np.float64)
        if n == 0:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        ids_of = [enc.ids for enc in encodings]
        types_of = [enc.type_ids for enc in encodings]
        order = sorted(range(n), key=lambda i: len(ids_of[i]))  # like lengths share a batch
        for start in range(0, n, self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(1, *(len(ids_of[i]) for i in rows))
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                m = len(ids_of[i])
                ids[r, :m] = ids_of[i]
                mask[r, :m] = 1
                types[r, :m] = types_of[i]
            given = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            feeds = {name: given[name].astype(kind) for name, kind in self.input_types.items()}
            try:
                found = self.session.run([self.output], feeds)[0]
            except Exception as exc:  # onnxruntime's own error types
                raise ModelError(
                    f"{self.where}: onnxruntime failed on a batch of {len(rows)} texts of up to "
                    f"{width} tokens (is max_length above the model's positions?): {exc}"
                ) from exc
            logits = np.asarray(found, dtype=np.float64)
            if logits.shape != (len(rows), len(self.labels)):
                raise ModelError(
                    f"{self.where}: the model gave logits of shape {logits.shape}, expected "
                    f"({len(rows)}, {len(self.labels)})"
                )
            logits -= logits.max(axis=1, keepdims=True)
            exp = np.exp(logits)
            out[rows] = exp / exp.sum(axis=1, keepdims=True)
        return out

    def by_label(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Probabilities per label of the task (:data:`LABELS`), outputs of one label added."""
        proba = self.probabilities(texts)
        ours = LABELS[self.task]
        full = np.zeros((proba.shape[0], len(ours)))
        for j, label in enumerate(self.labels):
            full[:, ours.index(label)] += proba[:, j]
        return full


def _pad_id(tokenizer: Any) -> int:
    for token in ("[PAD]", "<pad>", "<PAD>"):
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    return 0


def _judged(
    classifier: TransformerClassifier, texts: Sequence[str], judge: Sequence[bool]
) -> npt.NDArray[np.float64]:
    """Per-label probabilities of the texts to judge (rows of the others stay 0: those
    keep the linear result, so the model does not spend time on them)."""
    full = np.zeros((len(texts), len(LABELS[classifier.task])))
    rows = [i for i, j in enumerate(judge) if j]
    if rows:
        full[rows] = classifier.by_label([texts[i] for i in rows])
    return full


def relabel_sentiment(
    classifier: TransformerClassifier,
    texts: Sequence[str],
    linear: Sequence[SentimentResult],
    neutral_threshold: float,
    explain: Explainer | None = None,
) -> list[SentimentResult]:
    """The tier's label and score for each text the linear model judged (a text empty
    after normalization keeps its neutral result and reason); ``explain`` gives the linear
    model's phrases for the new labels (None targets for neutral)."""
    full = _judged(classifier, texts, [r.reason is None for r in linear])
    has_neutral = "neutral" in classifier.labels
    pos, neu, neg = full[:, 0], full[:, 1], full[:, 2]
    scores = np.clip(pos - neg, -1.0, 1.0).tolist()
    labels: list[str] = []
    for i, s in enumerate(scores):
        if has_neutral:
            labels.append(SENTIMENTS[int(np.argmax([pos[i], neu[i], neg[i]]))])
        else:
            labels.append(polarity(s, neutral_threshold))
    targets: list[str | None] = [
        None if r.reason or lab == "neutral" else lab for r, lab in zip(linear, labels, strict=True)
    ]
    why = explain(targets) if explain is not None else [[] for _ in texts]
    out: list[SentimentResult] = []
    for r, label, s, phrases in zip(linear, labels, scores, why, strict=True):
        out.append(r if r.reason else SentimentResult(label, round(float(s), 4), phrases))
    return out


def relabel_emotion(
    classifier: TransformerClassifier,
    texts: Sequence[str],
    linear: Sequence[EmotionResult],
    explain: Explainer | None = None,
) -> list[EmotionResult]:
    """The tier's six scores and label per text, like :func:`relabel_sentiment`."""
    full = _judged(classifier, texts, [r.reason is None for r in linear])
    labels = [EMOTIONS[j] for j in full.argmax(axis=1).tolist()]
    targets: list[str | None] = [
        None if r.reason or lab == "neutral" else lab for r, lab in zip(linear, labels, strict=True)
    ]
    why = explain(targets) if explain is not None else [[] for _ in texts]
    out: list[EmotionResult] = []
    for r, row, label, phrases in zip(linear, full.tolist(), labels, why, strict=True):
        if r.reason:
            out.append(r)
        else:
            scores = dict(zip(EMOTIONS, [round(p, 4) for p in row], strict=True))
            out.append(replace(r, label=label, scores=scores, explain=phrases))
    return out


class TransformerTier:
    """The classifiers ``[analysis.transformer]`` names (None where not configured)."""

    def __init__(self, settings: TransformerSettings) -> None:
        def build(task: str, folder: str | None) -> TransformerClassifier | None:
            if not folder:
                return None
            return TransformerClassifier(
                task,
                folder,
                max_length=settings.max_length,
                batch_size=settings.batch_size,
                device=settings.device,
                threads=settings.threads,
            )

        self.sentiment = build("sentiment", settings.sentiment)
        self.emotion = build("emotion", settings.emotion)
