"""A per-token memo for the hot loops of segmentation and keyword weighting."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

V = TypeVar("V")


class TokenCache(dict[str, V]):
    """token -> value, computed once per distinct token by ``compute``; a hit is a plain
    dict lookup in C. Cleared when it grows past ``limit``, so memory stays flat on an
    endless stream of new tokens."""

    def __init__(self, compute: Callable[[str], V], limit: int = 200_000) -> None:
        super().__init__()
        self._compute = compute
        self._limit = limit

    def __missing__(self, token: str) -> V:
        if len(self) >= self._limit:
            self.clear()
        value = self[token] = self._compute(token)
        return value
