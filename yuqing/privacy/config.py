"""``[privacy]``: who sees personal fields, and how long raw text is kept
(``[privacy.retention]``). A section of :class:`yuqing.settings.Settings`, kept here next to
its users and imported there; only pydantic is imported, so settings load it cheaply.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

ROLE_NAMES = ("admin", "analyst", "viewer")


class RetentionSettings(BaseModel):
    """``[privacy.retention]``: delete the raw text of posts after N days, keep aggregates."""

    model_config = ConfigDict(extra="forbid")

    text_days: int = Field(
        0,
        ge=0,
        description="remove the raw text and personal fields of posts older than this many "
        "days (0: keep them); labels, counts and event ids stay (docs/privacy.md)",
    )
    sources: dict[str, int] = Field(
        default_factory=dict,
        description="[privacy.retention.sources]: per-source text_days (source name = days; "
        "0 keeps that source's text), overriding text_days",
    )
    daily: bool = Field(
        True,
        description="`yuqing serve` applies retention once a day in a background thread "
        "(when any text_days is set)",
    )

    @field_validator("sources")
    @classmethod
    def _days(cls, value: dict[str, int]) -> dict[str, int]:
        for source, days in value.items():
            if days < 0:
                raise ValueError(f"privacy.retention.sources.{source}: days must be >= 0")
        return value

    @property
    def active(self) -> bool:
        return self.text_days > 0 or any(days > 0 for days in self.sources.values())


class PrivacySettings(BaseModel):
    """``[privacy]``: personal fields and retention (docs/privacy.md)."""

    model_config = ConfigDict(extra="forbid")

    personal_roles: list[str] = Field(
        default_factory=lambda: ["admin", "analyst"],
        description="roles that see author handles and follower counts; others see 用户***",
    )
    retention: RetentionSettings = Field(default_factory=RetentionSettings)  # type: ignore[arg-type]

    @field_validator("personal_roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        for role in value:
            if role not in ROLE_NAMES:
                raise ValueError(f"privacy.personal_roles: unknown role {role!r}")
        return value
