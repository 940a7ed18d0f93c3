"""Secrets of alert channels (SMTP passwords, webhook secrets, robot keys) by reference.

A channel table in yuqing.toml may name its secret instead of holding it::

    [[alerts.channels]]
    name = "duty-robot"
    kind = "dingtalk"
    url = "env:YUQING_DINGTALK_URL"        # the robot URL carries its access_token
    secret = "file:dingtalk"               # key `dingtalk` of the secrets file

``env:NAME`` reads the environment variable NAME; ``file:KEY`` reads KEY of the secrets
file (the ``secrets_file`` setting, or ``$YUQING_SECRETS_FILE``): a TOML file of
``key = "value"`` lines that must not be readable by group or others (``chmod 600``; a
looser mode is refused). Only the keys in :data:`SECRET_KEYS` are resolved, when the
channel is built (so a command that sends no alerts never needs them), and the values
stay in the channel object: they are never written to the store, logs or API answers.
A plain value still works (yuqing.toml is configuration, not the database), but
references keep the secret out of a file that is often shared or committed.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from yuqing.errors import ConfigError

__all__ = ["SECRET_KEYS", "SecretResolver", "is_reference"]

SECRET_KEYS: Final = ("secret", "password", "username", "url", "key")
"""Channel keys whose value may be an ``env:``/``file:`` reference."""

_REFERENCE = re.compile(r"^(env|file):([A-Za-z_][A-Za-z0-9_.-]{0,127})$")
ENV_FILE = "YUQING_SECRETS_FILE"


def is_reference(value: object) -> bool:
    """True for ``env:NAME`` or ``file:KEY``."""
    return isinstance(value, str) and _REFERENCE.match(value.strip()) is not None


class SecretResolver:
    """Turns ``env:NAME`` and ``file:KEY`` into the secret. ``secrets_file`` None: the
    environment's ``$YUQING_SECRETS_FILE``, if set; ``environ`` defaults to os.environ."""

    def __init__(
        self, secrets_file: str | Path | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        chosen = secrets_file or self.environ.get(ENV_FILE) or None
        self.secrets_file = Path(chosen).expanduser() if chosen else None
        self._file: dict[str, Any] | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> SecretResolver:
        """The resolver of ``settings.secrets_file`` (duck-typed to keep imports light)."""
        return cls(getattr(settings, "secrets_file", None))

    def resolve(self, value: str, where: str) -> str:
        """The secret a reference names (a value that is no reference is returned as is);
        ConfigError says what is missing and where."""
        match = _REFERENCE.match(value.strip())
        if match is None:
            return value
        scheme, name = match.groups()
        if scheme == "env":
            found = self.environ.get(name)
            if not found:
                raise ConfigError(
                    f"{where}: the environment variable {name} named by {value!r} is not set "
                    "(or empty); export it before starting yuqing"
                )
            return found
        secret = self._secrets(where).get(name)
        if not isinstance(secret, str) or not secret:
            raise ConfigError(
                f"{where}: {value!r}: the secrets file {self.secrets_file} has no string "
                f'value {name!r}; add `{name} = "..."` to it'
            )
        return secret

    def resolve_table(self, config: Mapping[str, Any], where: str) -> dict[str, Any]:
        """A copy of a channel table with its :data:`SECRET_KEYS` references resolved."""
        out = dict(config)
        for key in SECRET_KEYS:
            value = out.get(key)
            if isinstance(value, str) and is_reference(value):
                out[key] = self.resolve(value, f"{where}: {key!r}")
        return out

    def _secrets(self, where: str) -> dict[str, Any]:
        if self._file is not None:
            return self._file
        path = self.secrets_file
        if path is None:
            raise ConfigError(
                f"{where}: a file: reference needs a secrets file; set secrets_file in "
                f"yuqing.toml or {ENV_FILE}"
            )
        try:
            info = path.stat()
            if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(
                    f"{path}: the secrets file is open to group or others (mode "
                    f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}`"
                )
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{where}: the secrets file {path} does not exist") from exc
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the secrets file: {exc}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: the secrets file is not valid TOML: {exc}") from exc
        self._file = data
        return data
