"""Shared fixtures: where ../shared/data lives, and the rule for when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skip the test when it is absent (fail in CI)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: the labelled datasets live in ../shared/data"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must have it)")
        pytest.skip(message)
    return path
