"""``[plans]``: how monitoring plans (监测方案) are polled. A section of
:class:`yuqing.settings.Settings`; kept here, next to its only users, and imported there.

Only pydantic and the duration parser are imported, so settings can load it without
pulling in the poller.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yuqing.errors import ConfigError

DEFAULT_USER_AGENT = "yuqing/{version} (monitoring-plan poller; +https://github.com/yuqing)"


def _duration(value: str, where: str) -> str:
    from yuqing.settings import parse_duration

    try:
        parse_duration(value, where)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
    return value


class PlansSettings(BaseModel):
    """``[plans]``: polling of the sources of monitoring plans (docs/plans.md)."""

    model_config = ConfigDict(extra="forbid")

    poll_in_run: bool = Field(True, description="`yuqing run` polls the plans' due sources")
    poll_in_serve: bool = Field(
        True, description="`yuqing serve` polls the plans' due sources in a background thread"
    )
    tick: str = Field("5s", description="how often the serve poller looks for due sources")
    default_interval: str = Field(
        "15m", description="polling interval of a plan source that names none"
    )
    min_interval: str = Field(
        "1m", description="shortest polling interval a plan source may ask for"
    )
    host_interval: str = Field(
        "2s", description="at most one request per host in this time (politeness)"
    )
    timeout: str = Field("20s", description="HTTP timeout of one fetch (connect and read)")
    max_backoff: str = Field(
        "6h", description="longest wait after repeated errors (exponential backoff, jittered)"
    )
    lease: str = Field(
        "10m",
        description="a claimed source is not claimed again by another poller for this long "
        "unless its poll finishes (several processes may poll one store)",
    )
    user_agent: str = Field(
        DEFAULT_USER_AGENT,
        description="User-Agent of plan fetches ({version} becomes yuqing's version)",
    )

    @field_validator(
        "tick",
        "default_interval",
        "min_interval",
        "host_interval",
        "timeout",
        "max_backoff",
        "lease",
    )
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value, "plans duration")

    def seconds(self, name: str) -> float:
        """One of the duration settings in seconds (``seconds("host_interval")``)."""
        from yuqing.settings import parse_duration

        return parse_duration(getattr(self, name), f"plans.{name}").total_seconds()
