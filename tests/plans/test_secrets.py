"""Channel secrets by reference: ``env:NAME`` and ``file:KEY`` (a 0600 TOML file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from yuqing.alerts.channels import SecretResolver, channels_from_config
from yuqing.alerts.channels.webhook import WebhookChannel
from yuqing.alerts.delivery import dispatcher_from_config
from yuqing.errors import ConfigError
from yuqing.settings import load_settings


def _secrets_file(tmp_path: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text('dingtalk = "SEC-from-file"\nsmtp = "mail-pass"\n', encoding="utf-8")
    path.chmod(mode)
    return path


def test_env_and_file_references(tmp_path: Path) -> None:
    resolver = SecretResolver(_secrets_file(tmp_path), environ={"HOOK_SECRET": "from-env"})
    assert resolver.resolve("env:HOOK_SECRET", "x") == "from-env"
    assert resolver.resolve("file:dingtalk", "x") == "SEC-from-file"
    assert resolver.resolve("plain-value", "x") == "plain-value"  # not a reference
    with pytest.raises(ConfigError, match=r"environment variable MISSING.*not set"):
        resolver.resolve("env:MISSING", "alert channel 'a': 'secret'")
    with pytest.raises(ConfigError, match="has no string value 'nope'"):
        resolver.resolve("file:nope", "x")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_secrets_file_open_to_others_is_refused(tmp_path: Path) -> None:
    resolver = SecretResolver(_secrets_file(tmp_path, 0o644), environ={})
    with pytest.raises(ConfigError, match=r"mode 0644.*chmod 600"):
        resolver.resolve("file:dingtalk", "x")


def test_file_reference_without_a_secrets_file(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"set secrets_file in yuqing\.toml or YUQING_SECRETS_FILE"
    ):
        SecretResolver(None, environ={}).resolve("file:dingtalk", "x")
    found = SecretResolver(None, environ={"YUQING_SECRETS_FILE": str(_secrets_file(tmp_path))})
    assert found.resolve("file:smtp", "x") == "mail-pass"


def test_channels_resolve_their_secrets_when_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YUQING_TEST_HOOK", "s3cret")
    tables: list[dict[str, Any]] = [
        {
            "kind": "webhook",
            "name": "hook",
            "url": "https://h.example/in",
            "secret": "env:YUQING_TEST_HOOK",
        },
        {
            "kind": "dingtalk",
            "name": "robot",
            "url": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "secret": "file:dingtalk",
        },
        {
            "kind": "email",
            "name": "mail",
            "host": "smtp.example.org",
            "sender": "a@example.org",
            "to": ["b@example.org"],
            "username": "a",
            "password": "file:smtp",
        },
    ]
    resolver = SecretResolver(_secrets_file(tmp_path))
    hook, robot, mail = channels_from_config(tables, secrets=resolver)
    assert isinstance(hook, WebhookChannel) and hook._secret == "s3cret"
    assert robot._secret == "SEC-from-file"  # type: ignore[attr-defined]
    assert mail._password == "mail-pass"  # type: ignore[attr-defined]
    for channel in (hook, robot, mail):
        channel.close()
    assert tables[0]["secret"] == "env:YUQING_TEST_HOOK"  # the settings keep the reference


def test_settings_secrets_file_reaches_the_dispatcher(tmp_path: Path) -> None:
    secrets = _secrets_file(tmp_path)
    config = tmp_path / "yuqing.toml"
    config.write_text(
        f'secrets_file = "{secrets}"\n'
        '[[alerts.channels]]\nkind = "webhook"\nname = "hook"\n'
        'url = "https://h.example/in"\nsecret = "file:dingtalk"\n',
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    with dispatcher_from_config(
        settings.alerts.channels, secrets=SecretResolver.from_settings(settings)
    ) as dispatcher:
        assert dispatcher.channels["hook"]._secret == "SEC-from-file"  # type: ignore[attr-defined]
