"""Where Debian's Chromium is and how the browser tests start it (never a downloaded
browser). A browser test module calls :func:`require_chromium` before importing Playwright
and defines a module-scoped ``url`` fixture (its store); the ``base_url``, ``browser`` and
``page`` fixtures come from tests/web/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def require_chromium() -> None:
    """Skip the calling module without Chromium (fail in CI, where it must be there)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must have it)", pytrace=False)
        pytest.skip(message, allow_module_level=True)
