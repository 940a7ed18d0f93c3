"""A real SQLite store filled by the real pipeline with the demo scenario (once per test
session), and a TestClient over the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from yuqing.demo.scenario import generate, iter_jsonl
from yuqing.runtime.factory import build_pipeline
from yuqing.runtime.ingest import Ingestor
from yuqing.settings import Settings
from yuqing.sources.resolve import open_sources
from yuqing.store.url import open_store
from yuqing.web import create_app

TOKEN = "test-token-123"


def fill_demo_store(folder: Path, posts: int = 600) -> str:
    """Ingest the demo scenario through normalize ... analysis, events into a new store
    under ``folder``, save the events, and return the store URL."""
    data = folder / "posts.jsonl"
    data.write_bytes(b"".join(iter_jsonl(generate(posts, seed=7))))
    url = f"sqlite:///{folder / 'web.db'}"
    settings = Settings.model_validate({"store": url})
    pipeline = build_pipeline(settings, analysis=True, events=True)
    store = open_store(url)
    try:
        Ingestor(store, pipeline, batch_size=200).run(
            list(open_sources([str(data)], zone=settings.zone))
        )
        clusterer = next(s for s in pipeline.stages if s.name == "events")
        store.upsert_events(clusterer.close_all())  # type: ignore[attr-defined]
    finally:
        store.close()
    return url


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fill_demo_store(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture(scope="session")
def settings(demo_url: str) -> Settings:
    return Settings.model_validate({"store": demo_url, "web": {"api_tokens": [TOKEN]}})


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}
