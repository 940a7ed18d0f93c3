"""Secrets never go into a plan: a plan names its channels by id, and the channels' secrets
come from the environment or the secrets file (:mod:`yuqing.alerts.channels.secrets`).

:func:`refuse_secrets` walks a plan payload (from the API, the UI or a YAML file) and
raises :class:`PlanSecretError` at the first key or value that looks like a secret, so it
is never stored in the database in clear. What counts:

- a key named like a credential: ``password``, ``passwd``, ``secret``, ``token``,
  ``api_key``, ``access_key``, ``private_key``, ``credential(s)``, ``auth``,
  ``authorization``, ``cookie``, ``smtp_password``, ``webhook_secret``... (any key whose
  words include one of these);
- a URL with credentials in it: ``user:pass@host``, or a query parameter named
  ``access_token``, ``token``, ``key``, ``secret``, ``sign``, ``password`` (DingTalk and
  WeCom robot URLs carry their key this way);
- a PEM private key block.

Not even ``env:``/``file:`` references belong in a plan: channels (and their secret
references) are configured in yuqing.toml, and a plan only names them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from yuqing.plans.errors import PlanSecretError

__all__ = ["PlanSecretError", "refuse_secrets"]

_SECRET_WORDS: Final = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "cookie",
        "privatekey",
        "accesskey",
        "accesstoken",
        "signature",
        "key",
    }
)
_URL_SECRET_PARAMS: Final = frozenset(
    {"access_token", "token", "key", "secret", "sign", "signature", "password", "apikey"}
)
_PEM: Final = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_URL: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _words(key: str) -> set[str]:
    """``smtpPassword`` / ``smtp-password`` / ``smtp_password`` -> {smtp, password, ...}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if p]
    joined = {"".join(parts[i : i + 2]) for i in range(len(parts))}  # api key -> apikey
    return set(parts) | joined


def _check_key(key: str, path: str) -> None:
    found = sorted(_words(key) & _SECRET_WORDS)
    if found:
        raise PlanSecretError(path, f"the field {key!r} looks like a secret ({found[0]})")


def _check_text(value: str, path: str) -> None:
    if _PEM.search(value):
        raise PlanSecretError(path, "the value holds a private key")
    text = value.strip()
    if not _URL.match(text):
        return
    try:
        parts = urlsplit(text)
    except ValueError:
        return
    if parts.password is not None or (parts.username and "@" in parts.netloc):
        raise PlanSecretError(path, "the URL carries a user name or password (user:pass@host)")
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in _URL_SECRET_PARAMS:
            raise PlanSecretError(
                path, f"the URL carries a credential in its query parameter {name!r}"
            )


def refuse_secrets(data: Any, path: str = "plan") -> None:
    """Raise PlanSecretError naming the first secret-looking key or value under ``data``."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}"
            _check_key(str(key), where)
            refuse_secrets(value, where)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            refuse_secrets(value, f"{path}[{index}]")
    elif isinstance(data, str):
        _check_text(data, path)
