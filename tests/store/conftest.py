"""The ``store`` fixture: one fresh store per test, for every backend.

Only SQLite (a file under tmp_path) for now; the PostgreSQL backend joins by adding a param
here (skipped unless a test database URL is configured).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from yuqing.store.base import Store
from yuqing.store.url import open_store


def _url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(_url(request.param, tmp_path))
    yield opened
    opened.close()
