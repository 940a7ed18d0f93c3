"""Alert channels: webhook, e-mail, DingTalk and WeCom robots, the log.

Each is configured from a plain dict (a ``[[alerts.channels]]`` table of yuqing.toml)::

    channel = channel_from_config({"kind": "webhook", "url": "https://...", "secret": "s"})

and delivers with ``channel.send(alert) -> DeliveryResult``. Formats and options are in
docs/alerts.md. Secret values (``secret``, ``password``, robot URLs) may be given as
``env:NAME`` or ``file:KEY`` references, resolved here when the channel is built
(:mod:`yuqing.alerts.channels.secrets`, docs/plans.md#secrets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from yuqing.alerts.channels.base import Channel, DeliveryResult
from yuqing.alerts.channels.dingtalk import DingTalkChannel
from yuqing.alerts.channels.log import LogChannel
from yuqing.alerts.channels.secrets import SecretResolver
from yuqing.alerts.channels.smtp import EmailChannel
from yuqing.alerts.channels.webhook import WebhookChannel, sign, verify_signature
from yuqing.alerts.channels.wecom import WeComChannel
from yuqing.errors import ConfigError

__all__ = [
    "CHANNEL_KINDS",
    "Channel",
    "DeliveryResult",
    "DingTalkChannel",
    "EmailChannel",
    "LogChannel",
    "SecretResolver",
    "WeComChannel",
    "WebhookChannel",
    "channel_from_config",
    "channels_from_config",
    "sign",
    "verify_signature",
]

CHANNEL_KINDS: Mapping[str, Callable[[Mapping[str, Any]], Channel]] = {
    "webhook": WebhookChannel.from_config,
    "email": EmailChannel.from_config,
    "dingtalk": DingTalkChannel.from_config,
    "wecom": WeComChannel.from_config,
    "log": LogChannel.from_config,
}


def channel_from_config(
    config: Mapping[str, Any], *, secrets: SecretResolver | None = None
) -> Channel:
    """Build one channel from its table; ConfigError names the bad or missing key.
    ``env:``/``file:`` references are resolved with ``secrets`` (default: environment)."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"alert channel: expected a table, got {type(config).__name__}")
    kind = config.get("kind")
    if kind not in CHANNEL_KINDS:
        raise ConfigError(
            f"alert channel {config.get('name', '')!r}: kind {kind!r} is not one of "
            f"{', '.join(CHANNEL_KINDS)}"
        )
    name = config.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise ConfigError(f"alert channel of kind {kind!r}: 'name' must be a non-empty string")
    resolver = secrets if secrets is not None else SecretResolver()
    config = resolver.resolve_table(config, f"alert channel {name or kind!r}")
    return CHANNEL_KINDS[str(kind)](config)


def channels_from_config(
    configs: Iterable[Mapping[str, Any]], *, secrets: SecretResolver | None = None
) -> list[Channel]:
    """Build every channel of ``[[alerts.channels]]``; names must be unique.

    A table without ``name`` is named after its kind (``webhook``, then ``webhook-2``...).
    """
    channels: list[Channel] = []
    seen: dict[str, int] = {}
    for index, config in enumerate(configs, 1):
        if not isinstance(config, Mapping):
            raise ConfigError(f"alerts.channels[{index}]: expected a table")
        if not config.get("name") and isinstance(config.get("kind"), str):
            kind = config["kind"]
            seen[kind] = seen.get(kind, 0) + 1
            config = {**config, "name": kind if seen[kind] == 1 else f"{kind}-{seen[kind]}"}
        channel = channel_from_config(config, secrets=secrets)
        if any(c.name == channel.name for c in channels):
            raise ConfigError(
                f"alerts.channels[{index}]: the name {channel.name!r} is used twice; give each a unique 'name'"
            )
        channels.append(channel)
    return channels
