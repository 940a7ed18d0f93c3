"""One typed Settings object: ``yuqing.toml`` < ``YUQING_*`` environment < CLI flags.

Nested sections map to environment variables with a double underscore:
``YUQING_DEDUP__JACCARD=0.8`` sets ``settings.dedup.jaccard``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yuqing.errors import ConfigError

ENV_PREFIX = "YUQING_"
DEFAULT_CONFIG = "yuqing.toml"


class DedupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shingle: int = Field(2, ge=1, le=8, description="character n-gram size of shingles")
    num_perm: int = Field(128, ge=16, le=256, description="MinHash permutations")
    bands: int = Field(32, ge=2, description="LSH bands (num_perm must divide by it)")
    jaccard: float = Field(0.4, gt=0, le=1, description="verified shingle Jaccard for a near-duplicate")
    window_days: float = Field(30, gt=0, description="lookback window of the near-duplicate index")
    max_entries: int = Field(200_000, ge=1000, description="most posts kept in the index")


class Settings(BaseModel):
    """Everything yuqing can be configured with. Documented in docs/settings.md."""

    model_config = ConfigDict(extra="forbid")

    store: str = Field("sqlite:///yuqing.db", description="store URL")
    timezone: str = Field("Asia/Shanghai", description="zone for naive times, days and hours")
    batch_size: int = Field(2000, ge=1, description="records per pipeline batch / transaction")
    max_record_bytes: int = Field(1 << 20, ge=1, description="larger records are rejected")
    max_analysis_chars: int = Field(2000, ge=50, description="analysis reads this many characters")
    user_dict: str | None = Field(None, description="jieba user dictionary file (word [freq] [tag])")
    public_url: str = Field("http://127.0.0.1:8000", description="base of links in briefings")
    dedup: DedupSettings = Field(default_factory=DedupSettings)  # type: ignore[arg-type]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or not value:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None:
            merged[key] = value
    return merged


def load_settings(
    config: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read settings in order: the TOML file, then ``YUQING_*`` variables, then ``overrides``.

    ``config`` None means ``./yuqing.toml`` if present (or ``$YUQING_CONFIG``).
    """
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    explicit = config is not None or "YUQING_CONFIG" in env
    path = Path(config) if config is not None else Path(env.get("YUQING_CONFIG", DEFAULT_CONFIG))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        data = data.get("yuqing", data)
    elif explicit:
        raise ConfigError(f"{path}: configuration file not found")
    env_over = _env_overrides({k: v for k, v in env.items() if k != "YUQING_CONFIG"})
    data = _merge(_merge(data, env_over), overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings ({path if path.is_file() else 'defaults'}): {problems}") from exc
