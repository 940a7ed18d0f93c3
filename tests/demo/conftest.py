"""A demo feed over a small sample of the built-in story in a fresh SQLite store, with
its start already ingested (real pipeline, real alert engine), and helpers that wait on
conditions with a deadline (never on time alone)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from yuqing.demo.live import DemoFeed
from yuqing.demo.story import load_story
from yuqing.settings import Settings
from yuqing.store.url import open_store

POSTS = 300  # an even sample of the story's 1,336 posts: about 80 up front, 220 live
DEADLINE = 120.0  # seconds a condition may take on a slow, shared machine


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``deadline`` s."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline:g} s waiting for {what}")
        time.sleep(0.02)


def documents(url: str) -> int:
    store = open_store(url)
    try:
        return store.stats().documents
    finally:
        store.close()


def started_feed(folder: Path, posts: int = POSTS) -> DemoFeed:
    """A feed whose story's head is in a new store under ``folder`` (the replay is not
    started); its console lines go to ``feed.out`` (a StringIO)."""
    url = f"sqlite:///{folder / 'yuqing.db'}"
    settings = Settings.model_validate({"store": url})
    feed = DemoFeed(settings, load_story(posts=posts), out=io.StringIO())
    store = open_store(url)
    try:
        feed.ingest_at_once(store, feed.story.head)
    finally:
        store.close()
    return feed


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[DemoFeed]:
    started = started_feed(tmp_path)
    yield started
    started.stop()
