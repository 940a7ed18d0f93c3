"""One typed Settings object: ``yuqing.toml`` < ``YUQING_*`` environment < CLI flags.

Nested sections map to environment variables with a double underscore:
``YUQING_DEDUP__JACCARD=0.8`` sets ``settings.dedup.jaccard``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from yuqing.errors import ConfigError
from yuqing.plans.config import PlansSettings
from yuqing.privacy.config import PrivacySettings

ENV_PREFIX = "YUQING_"
DEFAULT_CONFIG = "yuqing.toml"


class DedupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shingle: int = Field(2, ge=1, le=8, description="character n-gram size of shingles")
    num_perm: int = Field(128, ge=16, le=256, description="MinHash permutations")
    bands: int = Field(32, ge=2, description="LSH bands (num_perm must divide by it)")
    jaccard: float = Field(
        0.4, gt=0, le=1, description="verified shingle Jaccard for a near-duplicate"
    )
    window_days: float = Field(30, gt=0, description="lookback window of the near-duplicate index")
    max_entries: int = Field(200_000, ge=1000, description="most posts kept in the index")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: str | int | float, where: str = "duration") -> timedelta:
    """A duration such as ``"30s"``, ``"5m"``, ``"1h"``, ``"2d"`` (or a number of seconds).

    Raises ConfigError naming ``where`` when the text is not a positive duration.
    """
    if isinstance(value, bool):
        raise ConfigError(f'{where}: expected a duration such as "30s", "5m", "1h", got {value!r}')
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ConfigError(
                f"{where}: {value!r} is not a duration; write a number and a unit "
                '(ms, s, m, h, d, w), e.g. "30s", "5m", "1h", "2d"'
            )
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{where}: a duration must be positive, got {value!r}")
    return timedelta(seconds=seconds)


class MonitorSettings(BaseModel):
    """``[monitor]``: the monitoring rules (监测规则), each a ``[[monitor.rules]]`` table."""

    model_config = ConfigDict(extra="forbid")

    rules: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[[monitor.rules]] tables: id, name, query, triggers, severity, cooldown, "
        "channels (checked by yuqing.alerts.rules_config; see docs/monitoring.md)",
    )
    cooldown: str = Field(
        "30m", description="cooldown of a rule that names none (one alert per rule and event)"
    )
    recent_alerts: int = Field(
        1000, ge=1, description="alerts kept in memory for the recent-alerts list"
    )

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: str) -> str:
        _check_duration(value, "monitor.cooldown")
        return value


class AlertsSettings(BaseModel):
    """``[alerts]``: where alerts go (``[[alerts.channels]]``) and how (``[alerts.delivery]``)."""

    model_config = ConfigDict(extra="forbid")

    channels: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[[alerts.channels]] tables: name, kind (webhook, email, dingtalk, wecom, log) "
        "and the kind's keys (docs/alerts.md)",
    )
    delivery: dict[str, Any] = Field(
        default_factory=dict,
        description="[alerts.delivery]: attempts, base_delay, multiplier, max_delay, jitter, "
        "workers, max_pending, log (docs/alerts.md)",
    )
    escalation: dict[str, Any] = Field(
        default_factory=dict,
        description="[alerts.escalation]: steps ([[alerts.escalation.steps]] with after and "
        "channels: an alert not acknowledged that long goes to those channels, once per step), "
        "min_severity, max_age (docs/alerts.md#escalation)",
    )
    digest: dict[str, Any] = Field(
        default_factory=dict,
        description="[alerts.digest]: channels (a table of channel name = immediate, hourly or "
        "daily: one message per period instead of one per alert), daily_at (local time of the "
        'daily digest, default "08:00") (docs/alerts.md#digests)',
    )


class RunSettings(BaseModel):
    """``[run]``: what ``yuqing run`` polls and how often."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(
        default_factory=list,
        description="files, globs (re-expanded each poll) or feed/page URLs polled by `yuqing run`",
    )
    poll_interval: str = Field("30s", description='wait between polls, e.g. "30s", "5m"')
    analysis: bool = Field(
        True, description="run sentiment, emotion, risk and regions in `yuqing run`"
    )
    events: bool = Field(
        True,
        description="cluster posts into events in `yuqing run` (when the events stage is installed)",
    )

    @field_validator("sources", mode="before")
    @classmethod
    def _one_source(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("poll_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        _check_duration(value, "run.poll_interval")
        return value

    @property
    def poll_seconds(self) -> float:
        return parse_duration(self.poll_interval, "run.poll_interval").total_seconds()


class WebSettings(BaseModel):
    """``[web]``: the dashboard and REST API served by ``yuqing serve``."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="address `yuqing serve` listens on")
    port: int = Field(8000, ge=1, le=65535, description="port `yuqing serve` listens on")
    api_tokens: list[str] = Field(
        default_factory=list,
        description="service API tokens (`Authorization: Bearer <token>`) with admin rights, "
        "for push clients and scripts; users make their own with `yuqing user token` "
        "(comma-separated in YUQING_WEB__API_TOKENS)",
    )
    max_push: int = Field(1000, ge=1, description="most records in one POST /api/v1/posts")
    push_alerts: bool = Field(
        True,
        description="run the alert rules (yuqing.toml, saved, plans) on posts pushed to "
        "POST /api/v1/posts, store their alerts and deliver them through [[alerts.channels]]",
    )
    secret_key: str | None = Field(
        None,
        min_length=16,
        description="key that signs session cookies; default: one made once and kept in the store",
    )
    session_hours: float = Field(12, gt=0, le=24 * 30, description="a sign-in lasts this long")
    secure_cookies: bool = Field(
        False, description="send cookies over HTTPS only (set it when served behind HTTPS)"
    )

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


_LEVEL_KEYS = ("I", "II", "III", "IV")


class CasesSettings(BaseModel):
    """``[cases]``: first-statement deadlines per level and the overdue check."""

    model_config = ConfigDict(extra="forbid")

    first_statement: dict[str, str] = Field(
        default_factory=lambda: {"I": "1h", "II": "2h", "III": "4h", "IV": "24h"},
        description="[cases.first_statement]: time for the first statement per level I-IV "
        '(durations such as "1h", "90m"; levels left out keep 1h, 2h, 4h, 24h)',
    )
    deadline_start: str = Field(
        "opened",
        description="where the deadline clock starts: opened (the case) or first_post "
        "(the event's first post, when the case has an event)",
    )
    check_interval: str = Field(
        "1m",
        description="how often `yuqing run` and `yuqing serve` look for overdue first "
        "statements (each raises one alert)",
    )

    @field_validator("first_statement", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        merged = {"I": "1h", "II": "2h", "III": "4h", "IV": "24h"}
        for key, given in value.items():
            level = str(key).strip().upper()
            if level not in _LEVEL_KEYS:
                raise ValueError(
                    f"cases.first_statement: unknown level {key!r}; use I, II, III, IV"
                )
            if isinstance(given, bool) or not isinstance(given, str | int | float):
                raise ValueError(f"cases.first_statement.{level}: {given!r} is not a duration")
            text = f"{given}h" if isinstance(given, int | float) else given  # a number: hours
            _check_duration(text, f"cases.first_statement.{level}")
            merged[level] = text
        return merged

    @field_validator("deadline_start")
    @classmethod
    def _start(cls, value: str) -> str:
        if value not in ("opened", "first_post"):
            raise ValueError(f"cases.deadline_start must be opened or first_post, not {value!r}")
        return value

    @field_validator("check_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        _check_duration(value, "cases.check_interval")
        return value

    def first_statement_times(self) -> dict[str, timedelta]:
        """The time for the first statement per level."""
        return {
            level: parse_duration(text, f"cases.first_statement.{level}")
            for level, text in self.first_statement.items()
        }

    @property
    def check_seconds(self) -> float:
        return parse_duration(self.check_interval, "cases.check_interval").total_seconds()


class RumorsSettings(BaseModel):
    """``[rumors]``: how posts are matched against claims with a verdict (docs/rumors.md)."""

    model_config = ConfigDict(extra="forbid")

    containment: float = Field(
        0.6, gt=0, le=1, description="share of a claim's character bigrams a post must hold"
    )
    raise_to: float = Field(
        0.9, gt=0, le=1, description="rumour score of a post repeating a debunked claim (at least)"
    )
    refresh: str = Field("1m", description="how often the pipeline reloads the claims")
    rescore_days: float = Field(
        7, gt=0, description="a new verdict is applied to the stored posts of this many days"
    )

    @field_validator("refresh")
    @classmethod
    def _refresh(cls, value: str) -> str:
        _check_duration(value, "rumors.refresh")
        return value


class TransformerSettings(BaseModel):
    """``[analysis.transformer]``: the optional transformer tier (docs/models-text.md)."""

    model_config = ConfigDict(extra="forbid")

    sentiment: str | None = Field(
        None,
        description="folder of an exported sentiment classifier (model.onnx, tokenizer.json, "
        "labels.json); replaces the linear model's sentiment label and score",
    )
    emotion: str | None = Field(
        None, description="folder of an exported emotion classifier (same layout)"
    )
    max_length: int = Field(256, ge=8, le=8192, description="tokens per text (longer are cut)")
    batch_size: int = Field(32, ge=1, le=4096, description="texts per inference batch")
    device: str = Field(
        "cpu", description="cpu, or cuda (needs onnxruntime-gpu's CUDAExecutionProvider)"
    )
    threads: int = Field(0, ge=0, description="onnxruntime intra-op threads (0: its default)")

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if value not in ("cpu", "cuda"):
            raise ValueError(f"analysis.transformer.device must be cpu or cuda, not {value!r}")
        return value

    @property
    def configured(self) -> bool:
        return bool(self.sentiment or self.emotion)


class AnalysisSettings(BaseModel):
    """``[analysis]``: options of the analysis stage."""

    model_config = ConfigDict(extra="forbid")

    transformer: TransformerSettings = Field(default_factory=TransformerSettings)  # type: ignore[arg-type]


def _check_duration(value: str, where: str) -> None:
    try:
        parse_duration(value, where)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc


class Settings(BaseModel):
    """Everything yuqing can be configured with. Documented in docs/settings.md."""

    model_config = ConfigDict(extra="forbid")

    store: str = Field("sqlite:///yuqing.db", description="store URL")
    timezone: str = Field("Asia/Shanghai", description="zone for naive times, days and hours")
    batch_size: int = Field(2000, ge=1, description="records per pipeline batch / transaction")
    max_record_bytes: int = Field(1 << 20, ge=1, description="larger records are rejected")
    max_analysis_chars: int = Field(2000, ge=50, description="analysis reads this many characters")
    user_dict: str | None = Field(
        None, description="jieba user dictionary file (word [freq] [tag])"
    )
    public_url: str = Field("http://127.0.0.1:8000", description="base of links in briefings")
    dedup: DedupSettings = Field(default_factory=DedupSettings)  # type: ignore[arg-type]
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)  # type: ignore[arg-type]
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    run: RunSettings = Field(default_factory=RunSettings)  # type: ignore[arg-type]
    web: WebSettings = Field(default_factory=WebSettings)  # type: ignore[arg-type]
    cases: CasesSettings = Field(default_factory=CasesSettings)  # type: ignore[arg-type]
    rumors: RumorsSettings = Field(default_factory=RumorsSettings)  # type: ignore[arg-type]
    plans: PlansSettings = Field(default_factory=PlansSettings)  # type: ignore[arg-type]
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    secrets_file: str | None = Field(
        None,
        description="TOML file of channel secrets named by `file:KEY` (mode 0600; "
        "docs/plans.md#secrets)",
    )

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
    not_settings = ("YUQING_CONFIG", "YUQING_TOKEN")  # the file; `drill run --push`'s token
    env_over = _env_overrides({k: v for k, v in env.items() if k not in not_settings})
    data = _merge(_merge(data, env_over), overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings ({path if path.is_file() else 'defaults'}): {problems}"
        ) from exc
