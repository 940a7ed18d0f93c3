"""Drill scenarios (演练脚本): the YAML format, its validation and the built-in scenarios.

A scenario describes an incident as it unfolds: phases with durations and post rates,
templates and key facts, sentiment and emotion mixes, duplicate / Traditional / repost
shares, rumour injections, influential accounts and their repost cascades, and an
official statement whose quality changes the posts that follow. docs/drills.md holds
the format with a full example.

Every mistake is a :class:`~yuqing.errors.ConfigError` naming the file, the line and
column (where PyYAML knows them) and the key path, e.g.
``scenario file x.yaml, line 12, column 5, key phases[1].duration: ...`` (the reader is
:mod:`yuqing.drill.schema`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.drill import lexicon
from yuqing.errors import ConfigError
from yuqing.yamlpath import compose_and_load

__all__ = [
    "BUILTIN_DIR",
    "Account",
    "Campaign",
    "Cascade",
    "Phase",
    "Rumour",
    "Scenario",
    "ScenarioInfo",
    "Statement",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "validate_command",
]

BUILTIN_DIR = Path(__file__).with_name("scenarios")
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
BUILTIN_FIELDS = ("{region}",)  # placeholders every template may use besides its facts

# Default effects of an official statement on the posts after it, by quality.
EFFECTS: dict[str, tuple[float, float]] = {"good": (0.5, 0.6), "poor": (1.5, 1.4)}


@dataclass(frozen=True, slots=True)
class Account:
    """An influential account (大V, media, official)."""

    name: str
    followers: int
    verified: bool = False


@dataclass(frozen=True, slots=True)
class Phase:
    """One stretch of the incident with its own rate, texts and mood."""

    name: str
    duration: timedelta
    posts_per_hour: float
    templates: tuple[str, ...]
    facts: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    sentiment: dict[str, float] = dataclasses.field(
        default_factory=dict
    )  # negative/neutral/positive
    emotions: dict[str, float] = dataclasses.field(default_factory=dict)
    duplicates: float = 0.0
    traditional: float = 0.0
    reposts: float = 0.0
    hashtags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rumour:
    """A rumour injected at ``at`` (offset from the start), ``spread`` posts over ``over``."""

    at: timedelta
    templates: tuple[str, ...]
    spread: int
    over: timedelta


@dataclass(frozen=True, slots=True)
class Cascade:
    """An account posts at ``at``; ``size`` reposts follow as ``//@`` chains up to ``depth``."""

    at: timedelta
    account: str
    templates: tuple[str, ...]
    size: int
    depth: int
    over: timedelta


@dataclass(frozen=True, slots=True)
class Campaign:
    """A coordinated campaign (水军) laid over the incident, for the coordination signals.

    ``accounts`` new, low-activity accounts post in ``waves`` rounds spread evenly over
    ``over`` from ``at``; each account keeps its own offset (within ``jitter``) from the
    wave time, so all of them post on the same rhythm. ``identical`` of the posts copy
    the wave's first text (half exact, half with 1-3 characters edited); the rest write
    their own from ``templates``. ``reposts`` reposts of the campaign's first post come
    within ``repost_over`` from the middle of the campaign. ``followers``, ``age_days``
    and ``posts`` are (low, high) ranges for the accounts; with ``profiles`` every record
    of the scenario carries ``account_created_at`` and ``author_posts`` (unknown fields,
    which land in ``Document.extra``). Campaign posts have the ground-truth kind
    ``campaign``.
    """

    at: timedelta
    over: timedelta
    accounts: int
    waves: int
    jitter: timedelta
    identical: float
    templates: tuple[str, ...]
    sentiment: str = "negative"
    facts: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    followers: tuple[int, int] = (0, 30)
    age_days: tuple[int, int] = (1, 20)
    posts: tuple[int, int] = (0, 15)
    reposts: int = 0
    repost_over: timedelta = timedelta(minutes=5)
    profiles: bool = False

    @property
    def size(self) -> int:
        """How many posts the campaign adds."""
        return self.accounts * self.waves + self.reposts


@dataclass(frozen=True, slots=True)
class Statement:
    """The official statement: when, by whom, how good, and its effect afterwards.

    After ``at`` the negative share of the sentiment mix is multiplied by
    ``negative_factor`` and the post rate by ``volume_factor`` (defaults by quality: good
    0.5 and 0.6, poor 1.5 and 1.4); ``reaction_share`` of the incident posts react to it.
    """

    at: timedelta
    quality: str  # good | poor
    account: str
    text: str
    negative_factor: float
    volume_factor: float
    reaction_share: float
    reactions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario. ``start`` is timezone-aware; offsets are from it."""

    name: str
    title: str
    field: str
    start: datetime
    region: str
    phases: tuple[Phase, ...]
    description: str = ""
    facts: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    accounts: tuple[Account, ...] = ()
    rumours: tuple[Rumour, ...] = ()
    cascades: tuple[Cascade, ...] = ()
    statement: Statement | None = None
    campaign: Campaign | None = None
    chatter: float = 0.0
    sources: dict[str, float] = dataclasses.field(default_factory=lambda: dict(lexicon.SOURCES))
    path: str = ""

    @property
    def duration(self) -> timedelta:
        return sum((p.duration for p in self.phases), timedelta())

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def account(self, name: str) -> Account | None:
        return next((a for a in self.accounts if a.name == name), None)

    def expected_posts(self) -> int:
        """About how many posts the generator makes (before the statement's effect)."""
        hours = sum(p.posts_per_hour * p.duration.total_seconds() / 3600 for p in self.phases)
        extra = sum(r.spread for r in self.rumours) + sum(c.size + 1 for c in self.cascades)
        campaign = self.campaign.size if self.campaign else 0
        return round(hours) + extra + (1 if self.statement else 0) + campaign


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """One line of ``yuqing drill list``."""

    name: str
    title: str
    field: str
    hours: float
    expected_posts: int
    path: str


def parse_scenario(text: str, origin: str = "<text>") -> Scenario:
    """Validate a scenario given as YAML text; ``origin`` names it in messages."""
    node, data = compose_and_load(text, f"scenario file {origin}")
    from yuqing.drill.schema import ScenarioReader

    return ScenarioReader(origin, node).scenario(data)


def _builtin_files() -> list[Path]:
    return sorted(BUILTIN_DIR.glob("*.yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name (``yuqing drill list``) or a scenario file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
        if builtin.is_file():
            path = builtin
        else:
            names = ", ".join(p.stem for p in _builtin_files())
            raise ConfigError(
                f"scenario {str(name_or_path)!r}: no such file and no built-in scenario of that "
                f"name; built-in: {names}"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"scenario file {path}: cannot be read as UTF-8 text: {exc}") from exc
    return parse_scenario(text, str(path))


def list_scenarios() -> list[ScenarioInfo]:
    """The built-in scenarios, by name."""
    out: list[ScenarioInfo] = []
    for path in _builtin_files():
        sc = load_scenario(path)
        hours = sc.duration.total_seconds() / 3600
        out.append(ScenarioInfo(sc.name, sc.title, sc.field, hours, sc.expected_posts(), str(path)))
    return out


def validate_command(path: str | Path, out: Any = None) -> int:
    """``yuqing drill validate PATH``: 0 and a one-line summary when valid; ConfigError
    (the CLI prints it and exits 1) when not."""
    import sys

    sc = load_scenario(path)
    stream = out or sys.stdout
    stream.write(
        f"{sc.path}: ok: {sc.name} 「{sc.title}」 {sc.field}, {len(sc.phases)} phase(s), "
        f"{sc.duration.total_seconds() / 3600:g}h, about {sc.expected_posts()} posts\n"
    )
    return 0
