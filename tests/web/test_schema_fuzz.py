"""schemathesis over ``/openapi.json``: every operation of the REST API, called with
generated parameters and bodies as the admin service token, never answers 5xx.

Bounded (a few derandomized examples per operation, no shrinking) so that it runs in
seconds; the alert stream is left out (an endless server-sent event stream). Runs over a
copy of the demo store, so searches, trends and events meet real data."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from tests.web.conftest import AUTH, TOKEN
from yuqing.settings import Settings
from yuqing.web import create_app

EXAMPLES = 3  # per operation: about 200 calls in all
# The app is made at import (schemathesis reads its schema while collecting); it opens its
# store only at the first request, so the module fixture below puts the demo copy there first.
# (schemathesis.pytest.from_fixture does not work with pytest 9: it reads Function._nodeid.)
FOLDER = Path(tempfile.mkdtemp(prefix="yuqing-fuzz-"))
URL = f"sqlite:///{FOLDER / 'web.db'}"
APP = create_app(Settings.model_validate({"store": URL, "web": {"api_tokens": [TOKEN]}}))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/api/v1/alerts/stream")


@pytest.fixture(scope="module", autouse=True)
def demo_copy(demo_url: str) -> Iterator[None]:
    shutil.copy(Path(demo_url.removeprefix("sqlite:///")), FOLDER / "web.db")
    yield
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: Any) -> None:
    response = case.call(headers=AUTH)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}: "
        f"{response.text[:500]}\n{case.as_curl_command()}"
    )
