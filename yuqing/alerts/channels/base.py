"""What every alert channel shares: the Channel protocol, the DeliveryResult it returns,
the reading of its configuration dict and the HTTP round trip of the robot channels.

A channel's ``send`` never raises for a failed delivery: it returns a DeliveryResult that
says whether it worked and whether trying again could help (``retryable``). The
dispatcher decides about retries; channels only describe what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from yuqing.alerts.alert import Alert
from yuqing.errors import ConfigError

USER_AGENT = "yuqing-alerts/1"
DEFAULT_TIMEOUT = 5.0
_EXCERPT = 300

T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class DeliveryResult:
    """What one attempt to deliver one alert through one channel did.

    ``status`` is the HTTP or SMTP status when there was one; ``retry_after`` the
    seconds a server asked us to wait (HTTP 429 ``Retry-After``).
    """

    ok: bool
    retryable: bool = False
    status: int | None = None
    error: str | None = None
    response: str | None = None
    retry_after: float | None = None

    @classmethod
    def success(cls, status: int | None = None, response: str | None = None) -> DeliveryResult:
        return cls(ok=True, status=status, response=response)

    @classmethod
    def failure(
        cls,
        error: str,
        *,
        retryable: bool,
        status: int | None = None,
        response: str | None = None,
        retry_after: float | None = None,
    ) -> DeliveryResult:
        return cls(
            ok=False,
            retryable=retryable,
            status=status,
            error=error,
            response=response,
            retry_after=retry_after,
        )


class Channel(Protocol):
    """A way out for alerts. ``name`` is unique among configured channels."""

    name: str
    kind: str

    def send(self, alert: Alert) -> DeliveryResult:
        """Deliver ``alert`` once; never raises for a failed delivery."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


def excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


def http_retryable(status: int) -> bool:
    """5xx, 408 and 429 may pass on a later try; other 4xx will not (a bad URL, a bad key)."""
    return status >= 500 or status in (408, 429)


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare for webhooks, the backoff schedule applies instead


def post(
    client: httpx.Client,
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str],
    where: str,
) -> httpx.Response | DeliveryResult:
    """POST and return the response, or a failed DeliveryResult for transport errors."""
    try:
        return client.post(url, content=content, headers=dict(headers))
    except httpx.TimeoutException as exc:
        return DeliveryResult.failure(
            f"{where}: no answer from {url} within the timeout ({type(exc).__name__})",
            retryable=True,
        )
    except httpx.HTTPError as exc:
        return DeliveryResult.failure(
            f"{where}: {url}: {type(exc).__name__}: {exc}", retryable=True
        )


def robot_result(
    response: httpx.Response, where: str, rate_limit_codes: Sequence[int]
) -> DeliveryResult:
    """Read a DingTalk/WeCom robot answer: HTTP 200 with ``{"errcode": 0}`` is success."""
    body = excerpt(response.text)
    if response.status_code != 200:
        return DeliveryResult.failure(
            f"{where}: HTTP {response.status_code}",
            retryable=http_retryable(response.status_code),
            status=response.status_code,
            response=body,
            retry_after=retry_after_seconds(response),
        )
    try:
        data = orjson.loads(response.content)
        code = int(data["errcode"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return DeliveryResult.failure(
            f"{where}: the answer is not robot JSON with an errcode",
            retryable=False,
            status=200,
            response=body,
        )
    if code == 0:
        return DeliveryResult.success(200, body)
    return DeliveryResult.failure(
        f"{where}: errcode {code}: {data.get('errmsg', '')}",
        retryable=code in rate_limit_codes,
        status=200,
        response=body,
    )


class ConfigReader:
    """Typed access to one channel's configuration dict, with errors that name the key."""

    def __init__(self, config: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
        self._config = config
        self.where = where
        unknown = sorted(set(config) - set(allowed) - {"kind", "name"})
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
            )

    def _get(self, key: str, kind: type[T], default: T | None, required: bool) -> T | None:
        value = self._config.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{self.where}: missing required key {key!r}")
            return default
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(
                f"{self.where}: {key!r} must be a {kind.__name__}, got {type(value).__name__} {value!r}"
            )
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self._get(key, str, default, False)
        return value if value else default

    def required_text(self, key: str) -> str:
        value = self._get(key, str, None, True)
        if not value:
            raise ConfigError(f"{self.where}: {key!r} must not be empty")
        return value

    def url(self, key: str = "url") -> str:
        value = self.required_text(key)
        if not value.startswith(("http://", "https://")):
            raise ConfigError(f"{self.where}: {key!r} must be an http(s) URL, got {value!r}")
        return value

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self._get(key, float, default, False)
        assert value is not None
        if value <= minimum:
            raise ConfigError(f"{self.where}: {key!r} must be greater than {minimum}, got {value}")
        return value

    def integer(self, key: str, default: int | None) -> int | None:
        return self._get(key, int, default, False)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, bool, default, False)
        return bool(value)

    def text_list(self, key: str, required: bool = False) -> list[str]:
        value = self._config.get(key)
        if value is None:
            if required:
                raise ConfigError(f"{self.where}: missing required key {key!r}")
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{self.where}: {key!r} must be a string or a list of strings")
        if required and not value:
            raise ConfigError(f"{self.where}: {key!r} must name at least one entry")
        return list(value)

    def text_map(self, key: str) -> dict[str, str]:
        value = self._config.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f"{self.where}: {key!r} must be a table of string values")
        return dict(value)


def http_client(timeout: float) -> httpx.Client:
    """One pooled client per channel: keep-alive saves the TCP/TLS setup on every alert."""
    return httpx.Client(timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT})
