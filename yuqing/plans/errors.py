"""The errors of monitoring plans (under :class:`yuqing.errors.UsageError`: the CLI exits 2,
the API answers 400)::

    UsageError
    └── PlanError               a plan that cannot be saved (names the plan and field)
        ├── PlanSecretError     the payload holds something secret-looking (``path``)
        └── PlanExistsError     POST of a plan whose id is taken (the API answers 409)
"""

from __future__ import annotations

from yuqing.errors import UsageError

__all__ = ["PlanError", "PlanExistsError", "PlanSecretError"]


class PlanError(UsageError):
    """A plan that cannot be saved; the message names the plan and the field."""


class PlanSecretError(PlanError):
    """A plan payload holds something that looks like a secret (``path`` says where)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"{path}: {reason}. Secrets (SMTP passwords, webhook secrets, robot keys) are "
            "never stored in a plan: configure the channel in yuqing.toml [[alerts.channels]] "
            'with secret = "env:NAME" or "file:KEY" (docs/plans.md#secrets) and name the '
            "channel's id in the plan's notify list"
        )
        self.path = path
        self.reason = reason


class PlanExistsError(PlanError):
    """POST of a plan whose id is taken (PUT replaces)."""
