"""The demo's story: a drill scenario (built-in ``school-food-safety`` by default) through
the drill generator, optionally thinned to ``posts`` posts, cut at ``head`` scenario time
into the part ingested at once and the part replayed live.

``posts`` keeps an even sample over the whole story (not its first posts), so a small
demo still has the rise, the rumour, the statement and the decline. With ``--loop``,
round ``k`` (1, 2, ...) is the same scenario moved ``k`` scenario lengths later and
generated with seed ``seed + k``: new posts and ids, the clock running on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from yuqing.drill.generator import generate
from yuqing.drill.scenario import Scenario, load_scenario
from yuqing.errors import UsageError

__all__ = ["DEFAULT_HEAD", "DEFAULT_SCENARIO", "Story", "load_story", "thin"]

DEFAULT_SCENARIO = "school-food-safety"
DEFAULT_HEAD = timedelta(hours=12)  # the first two phases and the big account's cascade


def thin(records: list[dict[str, Any]], posts: int) -> list[dict[str, Any]]:
    """An even, deterministic sample of ``posts`` records in time order (all when
    ``posts`` is 0 or at least their number)."""
    if posts <= 0 or posts >= len(records):
        return records
    step = len(records) / posts
    return [records[int(i * step)] for i in range(posts)]


def _time(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["published_at"])


@dataclass(frozen=True, slots=True)
class Story:
    """A scenario's posts (DESIGN.md input records, by time) and where the live part
    starts (``split_at``, scenario time)."""

    scenario: Scenario
    seed: int
    posts: int  # the sample size asked for (0: all)
    records: list[dict[str, Any]]
    split_at: datetime

    @property
    def head(self) -> list[dict[str, Any]]:
        """The posts ingested at once (before ``split_at``)."""
        return [r for r in self.records if _time(r) < self.split_at]

    @property
    def tail(self) -> list[dict[str, Any]]:
        """The posts replayed live (from ``split_at`` on)."""
        return [r for r in self.records if _time(r) >= self.split_at]

    def round(self, k: int) -> tuple[Scenario, list[dict[str, Any]]]:
        """Round ``k`` of a looping demo (0: this story): the scenario moved ``k`` lengths
        later and its posts, generated with seed ``seed + k``."""
        if k == 0:
            return self.scenario, self.records
        moved = dataclasses.replace(
            self.scenario, start=self.scenario.start + k * self.scenario.duration
        )
        return moved, thin(generate(moved, self.seed + k), self.posts)


def load_story(
    name: str = DEFAULT_SCENARIO,
    *,
    seed: int = 7,
    posts: int = 0,
    head: timedelta = DEFAULT_HEAD,
) -> Story:
    """The story of scenario ``name`` (a built-in name or a YAML file). Raises ConfigError
    for a bad scenario, UsageError for a negative ``posts`` or ``head``."""
    if posts < 0:
        raise UsageError(f"--posts must be 0 (the whole scenario) or positive, got {posts}")
    if head < timedelta():
        raise UsageError(f"--head-hours must be 0 or positive, got {head}")
    scenario = load_scenario(name)
    split_at = scenario.start + min(head, scenario.duration)
    return Story(scenario, seed, posts, thin(generate(scenario, seed), posts), split_at)
