"""Generic webhook: POST the alert payload as JSON, signed with HMAC-SHA256.

Headers (DESIGN.md, HTTP): ``X-Yuqing-Timestamp`` (unix seconds) and
``X-Yuqing-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``, plus
``X-Yuqing-Alert-Id`` so a receiver can drop a retried duplicate. Any 2xx is success;
5xx, 408, 429 and transport errors are retryable, other 4xx are not.
:func:`verify_signature` is the receiver's half.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import orjson

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels.base import (
    DEFAULT_TIMEOUT,
    ConfigReader,
    DeliveryResult,
    excerpt,
    http_client,
    http_retryable,
    post,
    retry_after_seconds,
)
from yuqing.clock import Clock, SystemClock

TIMESTAMP_HEADER = "X-Yuqing-Timestamp"
SIGNATURE_HEADER = "X-Yuqing-Signature"
ALERT_ID_HEADER = "X-Yuqing-Alert-Id"


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of ``timestamp.body``."""
    mac = hmac.new(_key(secret), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str,
    body: bytes,
    header: str,
    tolerance: float = 300.0,
    *,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` at ``timestamp`` with ``secret``.

    Receivers pass the raw request body (bytes, before any JSON parsing), the two header
    values and a tolerance in seconds: a timestamp further than that from ``now``
    (default: this machine's clock) fails, which stops replays of captured requests.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    if not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header.strip())


class WebhookChannel:
    """POST the payload of each alert to ``url``, signed with ``secret``.

    ``clock`` gives the signature timestamp. It is wall time by default even in drills,
    because the receiver checks the timestamp against its own clock.
    """

    kind = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        name: str = "webhook",
        timeout: float = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._headers = dict(headers or {})
        self._clock: Clock = clock or SystemClock()
        self._client = http_client(timeout)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookChannel:
        name = str(config.get("name") or "webhook")
        r = ConfigReader(
            config, f"alert channel {name!r} (webhook)", ("url", "secret", "timeout", "headers")
        )
        return cls(
            r.url(),
            r.required_text("secret"),
            name=name,
            timeout=r.number("timeout", DEFAULT_TIMEOUT),
            headers=r.text_map("headers"),
        )

    def request(self, alert: Alert) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the POST for ``alert`` (public for tests and docs)."""
        body = orjson.dumps(alert.as_payload())
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            **self._headers,
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            ALERT_ID_HEADER: alert.id,
        }
        return body, headers

    def send(self, alert: Alert) -> DeliveryResult:
        body, headers = self.request(alert)
        where = f"webhook {self.name!r}"
        answer = post(self._client, self.url, content=body, headers=headers, where=where)
        if isinstance(answer, DeliveryResult):
            return answer
        text = excerpt(answer.text)
        if answer.is_success:
            return DeliveryResult.success(answer.status_code, text)
        return DeliveryResult.failure(
            f"{where}: HTTP {answer.status_code} from {self.url}",
            retryable=http_retryable(answer.status_code),
            status=answer.status_code,
            response=text,
            retry_after=retry_after_seconds(answer),
        )

    def close(self) -> None:
        self._client.close()
