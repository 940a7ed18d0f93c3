"""DingTalk (钉钉) custom group robot.

Message: ``{"msgtype": "markdown", "markdown": {"title": ..., "text": ...}, "at": {...}}``
POSTed to the robot's webhook URL (``https://oapi.dingtalk.com/robot/send?access_token=...``).
With a ``secret`` (the robot's 加签 setting) the URL also carries ``timestamp`` (ms) and
``sign`` = url-encoded base64 of HMAC-SHA256(secret, timestamp + "\\n" + secret).
The robot answers HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` on success; any other
errcode is a failure (only the rate limit, 130101, is retried).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels import render
from yuqing.alerts.channels.base import (
    DEFAULT_TIMEOUT,
    ConfigReader,
    DeliveryResult,
    http_client,
    post,
    robot_result,
)
from yuqing.clock import Clock, SystemClock

RATE_LIMIT_CODES = (130101,)  # 发送速度太快而限流


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value (already url-encoded) for ``timestamp_ms``."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


class DingTalkChannel:
    """Send each alert as a markdown message through a DingTalk group robot."""

    kind = "dingtalk"

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        name: str = "dingtalk",
        timeout: float = DEFAULT_TIMEOUT,
        at_mobiles: Sequence[str] = (),
        at_all: bool = False,
        zone: str = render.DEFAULT_ZONE,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._at_mobiles = list(at_mobiles)
        self._at_all = at_all
        self._zone = ZoneInfo(zone)
        self._clock: Clock = clock or SystemClock()
        self._client = http_client(timeout)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DingTalkChannel:
        name = str(config.get("name") or "dingtalk")
        r = ConfigReader(
            config,
            f"alert channel {name!r} (dingtalk)",
            ("url", "secret", "timeout", "at_mobiles", "at_all", "timezone"),
        )
        return cls(
            r.url(),
            secret=r.text("secret"),
            name=name,
            timeout=r.number("timeout", DEFAULT_TIMEOUT),
            at_mobiles=r.text_list("at_mobiles"),
            at_all=r.flag("at_all", False),
            zone=r.text("timezone", render.DEFAULT_ZONE) or render.DEFAULT_ZONE,
        )

    def message(self, alert: Alert) -> dict[str, Any]:
        """The robot message for ``alert``."""
        text = render.markdown(alert, self._zone)
        if self._at_mobiles:  # DingTalk only notifies mobiles that also appear in the text
            text += "\n\n" + " ".join(f"@{m}" for m in self._at_mobiles)
        return {
            "msgtype": "markdown",
            "markdown": {"title": render.subject(alert), "text": text},
            "at": {"atMobiles": self._at_mobiles, "isAtAll": self._at_all},
        }

    def signed_url(self) -> str:
        """The robot URL, with ``timestamp`` and ``sign`` when a secret is configured."""
        if not self._secret:
            return self.url
        timestamp = int(self._clock.now().timestamp() * 1000)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}timestamp={timestamp}&sign={dingtalk_sign(self._secret, timestamp)}"

    def send(self, alert: Alert) -> DeliveryResult:
        where = f"dingtalk {self.name!r}"
        body = orjson.dumps(self.message(alert))
        headers = {"Content-Type": "application/json; charset=utf-8"}
        answer = post(self._client, self.signed_url(), content=body, headers=headers, where=where)
        if isinstance(answer, DeliveryResult):
            return answer
        return robot_result(answer, where, RATE_LIMIT_CODES)

    def close(self) -> None:
        self._client.close()
