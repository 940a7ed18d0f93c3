"""`yuqing reanalyze`: the local and Ray engines over real SQLite stores give the same
analysis, replace only the model outputs, and keep event ids and analysts' corrections."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from yuqing.demo.scenario import generate
from yuqing.errors import ConfigError, UsageError
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.runtime.reanalyze import MODEL_FIELDS, merge_analysis, reanalyze
from yuqing.settings import load_settings
from yuqing.sources.resolve import open_sources
from yuqing.store.base import Store
from yuqing.store.url import open_store

N = 240


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    """One local Ray session for the module (starting Ray takes a few seconds)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store of N analysed demo posts with events (closed; copy it to use it)."""
    folder = tmp_path_factory.mktemp("reanalyze")
    posts = folder / "posts.jsonl"
    posts.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate(N, seed=3)))
    db = folder / "base.db"
    settings = load_settings(None, overrides={"store": f"sqlite:///{db}"})
    with closing(open_store(settings.store)) as store:
        Ingestor(store, build_pipeline(settings, events=True), batch_size=100).run(
            open_sources([str(posts)], zone=settings.zone)
        )
    return db


def _copy(db: Path, to: Path) -> str:
    shutil.copy(db, to)
    return f"sqlite:///{to}"


def _analyses(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    return {doc.key: doc.analysis for _, doc in store.documents_after(0, 10_000)}


def _tamper(store: Store) -> tuple[tuple[str, str], tuple[str, str]]:
    """Stale model outputs everywhere, an analyst's correction on one post and a field of
    another feature on another; returns those two keys."""
    docs = [doc for _, doc in store.documents_after(0, 10_000)]
    corrected, claimed = docs[3].key, docs[5].key
    updates = []
    for doc in docs:
        analysis = dict(doc.analysis, sentiment="positive", model_version="old-model")
        if doc.key == corrected:
            analysis["corrected"] = {"sentiment": "negative", "emotion": "anger"}
        if doc.key == claimed:
            analysis["claim_id"] = "claim-1"
        updates.append((doc.source, doc.id, analysis))
    store.update_analysis(updates)
    return corrected, claimed


def test_local_and_ray_give_the_same_analysis_and_keep_what_is_not_model_output(
    ingested: Path, tmp_path: Path, ray_session: Any
) -> None:
    with closing(open_store(f"sqlite:///{ingested}")) as store:
        original = _analyses(store)
    assert any(a.get("event_id") for a in original.values())
    results = {}
    for engine in ("local", "ray"):
        with closing(open_store(_copy(ingested, tmp_path / f"{engine}.db"))) as store:
            corrected, claimed = _tamper(store)
            report = reanalyze(store, engine=engine, batch=64)
            assert (report.read, report.analysed, report.pages) == (N, N, 4)
            assert report.changed == N  # the stale outputs were all replaced
            results[engine] = _analyses(store)
    assert results["local"] == results["ray"]
    after = results["local"]
    for key, analysis in after.items():
        expected = dict(original[key])
        if key == claimed:
            expected["claim_id"] = "claim-1"
        if key == corrected:
            expected.update(sentiment="negative", emotion="anger")
            expected["corrected"] = {"sentiment": "negative", "emotion": "anger"}
        assert analysis == expected, key  # same models: the ingest-time labels again


def test_since_leaves_older_posts_alone(ingested: Path, tmp_path: Path) -> None:
    with closing(open_store(_copy(ingested, tmp_path / "since.db"))) as store:
        _tamper(store)
        docs = [doc for _, doc in store.documents_after(0, 10_000)]
        times = sorted(d.published_at for d in docs if d.published_at is not None)
        cut = times[len(times) // 2]
        progress: list[int] = []
        report = reanalyze(store, since=cut, batch=50, on_progress=progress.append)
        newer = sum(1 for d in docs if d.published_at is not None and d.published_at >= cut)
        assert (report.read, report.analysed) == (N, newer)
        assert sum(progress) == N
        for _, doc in store.documents_after(0, 10_000):
            stale = doc.analysis["model_version"] == "old-model"
            assert stale == (doc.published_at is None or doc.published_at < cut)


def test_merge_keeps_other_keys_and_reapplies_corrections() -> None:
    stored = {
        "sentiment": "positive",
        "event_id": "e1",
        "corrected": {"sentiment": "negative"},
        "note": 1,
    }
    fresh = {"sentiment": "neutral", "emotion": "joy", "model_version": "v2"}
    assert merge_analysis(stored, fresh) == {
        "event_id": "e1",
        "note": 1,
        "sentiment": "negative",
        "emotion": "joy",
        "model_version": "v2",
        "corrected": {"sentiment": "negative"},
    }
    assert "event_id" not in MODEL_FIELDS and "regions" in MODEL_FIELDS


def test_ray_missing_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with closing(open_store(f"sqlite:///{tmp_path / 'empty.db'}")) as store:
        with pytest.raises(ConfigError, match=r"pip install 'yuqing\[server\]'"):
            reanalyze(store, engine="ray")
        with pytest.raises(UsageError, match="local or ray"):
            reanalyze(store, engine="spark")
        assert reanalyze(store).analysed == 0  # the local engine needs no Ray


def test_cli_reanalyze(ingested: Path, tmp_path: Path) -> None:
    from yuqing.cli import app

    url = _copy(ingested, tmp_path / "cli.db")
    since = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    result = CliRunner().invoke(
        app, ["--store", url, "reanalyze", "--since", since, "--batch", "100", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"read {N}, reanalysed {N}, changed 0 (local, ")
    bad = CliRunner().invoke(app, ["--store", url, "reanalyze", "--engine", "spark"])
    assert bad.exit_code != 0


def test_local_reanalyze_uses_the_transformer_tier(ingested: Path, tmp_path: Path) -> None:
    """With ``[analysis.transformer]`` set, re-analysis takes sentiment and emotion from the
    local ONNX tier (a tiny model built in tests/analysis/test_transformer_tier.py)."""
    pytest.importorskip("onnxruntime")
    from tests.analysis.test_transformer_tier import make_folder, tier_settings

    folders = {task: make_folder(tmp_path, task) for task in ("sentiment", "emotion")}
    with closing(open_store(_copy(ingested, tmp_path / "tier.db"))) as store:
        report = reanalyze(store, max_chars=2000, batch=100, transformer=tier_settings(folders))
        analyses = _analyses(store)
    assert report.analysed == N
    versions = {a["model_version"] for a in analyses.values()}
    assert all(v.startswith("sentiment-onnx-tiny-sentiment-") for v in versions), versions
    assert all("+emotion-onnx-tiny-emotion-" in v for v in versions)
