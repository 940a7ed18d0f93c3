"""Errors of corrections: a request that cannot be applied (a UsageError: the CLI exits 2,
the API answers 400) and its case of a target that is not in the store (404)."""

from __future__ import annotations

from yuqing.errors import UsageError


class CorrectionError(UsageError):
    """A correction that cannot be applied: an unknown label, a bad event merge or split."""


class CorrectionNotFoundError(CorrectionError):
    """The post, event or alert that a correction names is not in the store."""
