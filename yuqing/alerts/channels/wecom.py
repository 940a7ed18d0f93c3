"""WeCom (企业微信) group robot.

Message: ``{"msgtype": "markdown", "markdown": {"content": ...}}`` POSTed to the robot's
URL (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``); the content is cut to
the robot's 4096-byte limit. The robot answers ``{"errcode": 0, "errmsg": "ok"}`` on
success; other errcodes fail (only the rate limit, 45009, is retried).
"""

from __future__ import annotations

from collections.abc import Mapping
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

MAX_CONTENT_BYTES = 4096
RATE_LIMIT_CODES = (45009,)  # api freq out of limit


class WeComChannel:
    """Send each alert as a markdown message through a WeCom group robot."""

    kind = "wecom"

    def __init__(
        self,
        url: str,
        *,
        name: str = "wecom",
        timeout: float = DEFAULT_TIMEOUT,
        zone: str = render.DEFAULT_ZONE,
    ) -> None:
        self.name = name
        self.url = url
        self._zone = ZoneInfo(zone)
        self._client = http_client(timeout)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WeComChannel:
        name = str(config.get("name") or "wecom")
        r = ConfigReader(config, f"alert channel {name!r} (wecom)", ("url", "timeout", "timezone"))
        return cls(
            r.url(),
            name=name,
            timeout=r.number("timeout", DEFAULT_TIMEOUT),
            zone=r.text("timezone", render.DEFAULT_ZONE) or render.DEFAULT_ZONE,
        )

    def message(self, alert: Alert) -> dict[str, Any]:
        """The robot message for ``alert``."""
        content = render.markdown(alert, self._zone, max_bytes=MAX_CONTENT_BYTES)
        return {"msgtype": "markdown", "markdown": {"content": content}}

    def send(self, alert: Alert) -> DeliveryResult:
        where = f"wecom {self.name!r}"
        body = orjson.dumps(self.message(alert))
        headers = {"Content-Type": "application/json; charset=utf-8"}
        answer = post(self._client, self.url, content=body, headers=headers, where=where)
        if isinstance(answer, DeliveryResult):
            return answer
        return robot_result(answer, where, RATE_LIMIT_CODES)

    def close(self) -> None:
        self._client.close()
