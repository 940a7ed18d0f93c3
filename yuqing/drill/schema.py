"""Validation of scenario files: from a composed YAML tree to a :class:`Scenario`.

Every mistake is a :class:`~yuqing.errors.ConfigError` naming the file, the line and
column of the offending node (for a key whose value is a list or mapping, the key's own
line) and the key path, e.g. ``phases[1].duration``. The format is in docs/drills.md.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import yaml

from yuqing.drill import lexicon
from yuqing.drill.scenario import (
    DEFAULT_ZONE,
    EFFECTS,
    Account,
    Campaign,
    Cascade,
    Phase,
    Rumour,
    Scenario,
    Statement,
)
from yuqing.errors import ConfigError
from yuqing.settings import parse_duration
from yuqing.yamlpath import key_path, mark_of

__all__ = ["ScenarioReader"]

# -- reading -------------------------------------------------------------------------

_TOP = {
    "name",
    "title",
    "field",
    "description",
    "start",
    "region",
    "facts",
    "sources",
    "chatter",
    "accounts",
    "phases",
    "rumours",
    "cascades",
    "statement",
    "campaign",
}
_PHASE = {
    "name",
    "duration",
    "posts_per_hour",
    "templates",
    "facts",
    "sentiment",
    "emotions",
    "duplicates",
    "traditional",
    "reposts",
    "hashtags",
}
_RUMOUR = {"at", "templates", "spread", "over"}
_ACCOUNT = {"name", "followers", "verified"}
_CASCADE = {"at", "account", "templates", "size", "depth", "over"}
_STATEMENT = {
    "at",
    "quality",
    "account",
    "text",
    "negative_factor",
    "volume_factor",
    "reaction_share",
    "reactions",
}
_CAMPAIGN = {
    "at",
    "over",
    "accounts",
    "waves",
    "jitter",
    "identical",
    "templates",
    "sentiment",
    "facts",
    "followers",
    "age_days",
    "posts",
    "reposts",
    "repost_over",
    "profiles",
}

Where = list[str | int]


class ScenarioReader:
    """Validates one parsed scenario, raising ConfigError with file, position and key."""

    def __init__(self, origin: str, node: yaml.Node | None) -> None:
        self.origin = origin
        self.node = node

    def fail(self, where: Sequence[str | int], message: str) -> ConfigError:
        mark = mark_of(self.node, where)
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        key = key_path(where)
        keypart = f", key {key}" if key else ""
        return ConfigError(
            f"scenario file {self.origin}{at}{keypart}: {message} "
            "(the scenario format is in docs/drills.md)"
        )

    # -- scalars
    def keys(self, data: Mapping[str, Any], allowed: set[str], where: Where) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    [*where, str(key)],
                    f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}",
                )

    def mapping(self, value: object, where: Where, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping ({what}), got {_kind(value)}")
        return value

    def required(self, data: Mapping[str, Any], key: str, where: Where) -> Any:
        if data.get(key) is None:
            raise self.fail(where, f"missing required key {key!r}")
        return data[key]

    def text(
        self, data: Mapping[str, Any], key: str, where: Where, default: str | None = None
    ) -> str:
        value = data.get(key) if default is not None else self.required(data, key, where)
        if value is None:
            return default or ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail([*where, key], f"{key!r} must be text, got {_kind(value)}")
        text = str(value).strip()
        if not text and default is None:
            raise self.fail([*where, key], f"{key!r} must not be empty")
        return text

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        where: Where,
        default: float | None = None,
        *,
        low: float = 0.0,
        high: float | None = None,
    ) -> float:
        value = data.get(key) if default is not None else self.required(data, key, where)
        if value is None:
            return float(default or 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail([*where, key], f"{key!r} must be a number, got {_kind(value)}")
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise self.fail([*where, key], f"{key!r} must be {bound}, got {value!r}")
        return float(value)

    def integer(
        self,
        data: Mapping[str, Any],
        key: str,
        where: Where,
        default: int | None = None,
        low: int = 0,
    ) -> int:
        value = data.get(key) if default is not None else self.required(data, key, where)
        if value is None:
            return int(default or 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail([*where, key], f"{key!r} must be a whole number, got {_kind(value)}")
        if value < low:
            raise self.fail([*where, key], f"{key!r} must be at least {low}, got {value}")
        return value

    def share(self, data: Mapping[str, Any], key: str, where: Where) -> float:
        return self.number(data, key, where, 0.0, high=1.0)

    def duration(
        self, data: Mapping[str, Any], key: str, where: Where, default: str | None = None
    ) -> timedelta:
        value = data.get(key, default) if default is not None else self.required(data, key, where)
        try:
            return parse_duration(value, key)
        except ConfigError as exc:
            raise self.fail([*where, key], str(exc).split(": ", 1)[-1]) from exc

    def offset(self, data: Mapping[str, Any], key: str, where: Where) -> timedelta:
        """A time in the scenario, as an offset from its start ("0h" allowed)."""
        value = self.required(data, key, where)
        if value in (0, "0", "0h", "0m", "0s"):
            return timedelta()
        return self.duration(data, key, where)

    def templates(
        self, data: Mapping[str, Any], key: str, where: Where, facts: set[str]
    ) -> tuple[str, ...]:
        value = self.required(data, key, where)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.fail([*where, key], f"{key!r} must be a non-empty list of texts")
        out: list[str] = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise self.fail([*where, key, i], f"each of {key!r} must be a non-empty text")
            self.placeholders(item, facts, [*where, key, i])
            out.append(item.strip())
        return tuple(out)

    def placeholders(self, template: str, facts: set[str], where: Where) -> None:
        try:
            names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
        except ValueError as exc:
            raise self.fail(
                where, f"bad template {template!r}: {exc} (write a literal brace twice)"
            ) from exc
        for name in names:
            if name not in facts:
                known = ", ".join(sorted(facts)) or "none"
                raise self.fail(
                    where,
                    f"template uses {{{name}}} but no fact {name!r} is defined (facts: {known})",
                )

    def facts(self, value: object, where: Where) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        data = self.mapping(value, where, "fact name: text or list of texts")
        out: dict[str, tuple[str, ...]] = {}
        for name, raw in data.items():
            if not str(name).isidentifier():
                raise self.fail(
                    [*where, str(name)], f"fact name {name!r} must be a plain identifier"
                )
            items = raw if isinstance(raw, list) else [raw]
            if not items or any(
                isinstance(x, bool) or not isinstance(x, str | int | float) for x in items
            ):
                raise self.fail(
                    [*where, str(name)], "a fact is a text or a non-empty list of texts"
                )
            out[str(name)] = tuple(str(x) for x in items)
        return out

    def mix(self, value: object, where: Where, allowed: Sequence[str]) -> dict[str, float]:
        if value is None:
            return {}
        data = self.mapping(value, where, f"weights of {', '.join(allowed)}")
        out: dict[str, float] = {}
        for key in data:
            if key not in allowed:
                raise self.fail(
                    [*where, str(key)], f"unknown key {key!r}; allowed: {', '.join(allowed)}"
                )
            out[str(key)] = self.number(data, str(key), where)
        if out and sum(out.values()) <= 0:
            raise self.fail(where, "at least one weight must be positive")
        return out

    def start(self, data: Mapping[str, Any]) -> datetime:
        value = self.required(data, "start", [])
        if isinstance(value, datetime):
            when = value
        elif isinstance(value, date):
            when = datetime.combine(value, time())
        elif isinstance(value, str):
            try:
                when = datetime.fromisoformat(value)
            except ValueError as exc:
                raise self.fail(
                    ["start"], f"'start' must be an ISO 8601 time, got {value!r}"
                ) from exc
        else:
            raise self.fail(["start"], f"'start' must be an ISO 8601 time, got {_kind(value)}")
        return when if when.tzinfo is not None else when.replace(tzinfo=DEFAULT_ZONE)

    # -- structure
    def scenario(self, data: object) -> Scenario:
        top = self.mapping(data, [], "a scenario: name, title, field, start, region, phases, ...")
        self.keys(top, _TOP, [])
        name = self.text(top, "name", [])
        if not all(c.isalnum() or c in "-_" for c in name) or not name.isascii():
            raise self.fail(["name"], f"name {name!r} must be ASCII letters, digits, '-' or '_'")
        facts = self.facts(top.get("facts"), ["facts"])
        known = set(facts) | {"region"}
        accounts = self.accounts(top.get("accounts"))
        names = {a.name for a in accounts}
        raw_phases = self.required(top, "phases", [])
        if not isinstance(raw_phases, list) or not raw_phases:
            raise self.fail(["phases"], "'phases' must be a non-empty list")
        phases = tuple(self.phase(p, i, facts, known) for i, p in enumerate(raw_phases))
        total = sum((p.duration for p in phases), timedelta())
        rumours = tuple(
            self.rumour(r, i, known, total) for i, r in enumerate(self.items(top, "rumours"))
        )
        cascades = tuple(
            self.cascade(c, i, known, total, names)
            for i, c in enumerate(self.items(top, "cascades"))
        )
        statement = self.statement(top.get("statement"), known, total, names)
        campaign = self.campaign(top.get("campaign"), facts, known, total)
        sources = self.mix(top.get("sources"), ["sources"], list(lexicon.SOURCES)) or dict(
            lexicon.SOURCES
        )
        return Scenario(
            name=name,
            title=self.text(top, "title", []),
            field=self.text(top, "field", []),
            description=self.text(top, "description", [], default=""),
            start=self.start(top),
            region=self.text(top, "region", []),
            phases=phases,
            facts=facts,
            accounts=accounts,
            rumours=rumours,
            cascades=cascades,
            statement=statement,
            campaign=campaign,
            chatter=self.share(top, "chatter", []),
            sources=sources,
            path=self.origin,
        )

    def items(self, top: Mapping[str, Any], key: str) -> list[Any]:
        value = top.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail([key], f"{key!r} must be a list, got {_kind(value)}")
        return value

    def accounts(self, value: object) -> tuple[Account, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(["accounts"], f"'accounts' must be a list, got {_kind(value)}")
        out: list[Account] = []
        for i, raw in enumerate(value):
            where: Where = ["accounts", i]
            data = self.mapping(raw, where, "name, followers, verified")
            self.keys(data, _ACCOUNT, where)
            verified = data.get("verified", False)
            if not isinstance(verified, bool):
                raise self.fail([*where, "verified"], "'verified' must be true or false")
            out.append(
                Account(
                    self.text(data, "name", where), self.integer(data, "followers", where), verified
                )
            )
        return tuple(out)

    def phase(
        self, raw: object, i: int, facts: dict[str, tuple[str, ...]], known: set[str]
    ) -> Phase:
        where: Where = ["phases", i]
        data = self.mapping(raw, where, "a phase: name, duration, posts_per_hour, templates, ...")
        self.keys(data, _PHASE, where)
        own = self.facts(data.get("facts"), [*where, "facts"])
        names = known | set(own)
        tags = data.get("hashtags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            raise self.fail([*where, "hashtags"], "'hashtags' must be a list of texts (without #)")
        for j, tag in enumerate(tags):
            self.placeholders(tag, names, [*where, "hashtags", j])
        return Phase(
            name=self.text(data, "name", where),
            duration=self.duration(data, "duration", where),
            posts_per_hour=self.number(data, "posts_per_hour", where),
            templates=self.templates(data, "templates", where, names),
            facts={**facts, **own},
            sentiment=self.mix(data.get("sentiment"), [*where, "sentiment"], lexicon.SENTIMENTS),
            emotions=self.mix(data.get("emotions"), [*where, "emotions"], lexicon.EMOTIONS),
            duplicates=self.share(data, "duplicates", where),
            traditional=self.share(data, "traditional", where),
            reposts=self.share(data, "reposts", where),
            hashtags=tuple(t.strip().strip("#") for t in tags),
        )

    def within(self, at: timedelta, total: timedelta, where: Where) -> None:
        if at >= total:
            raise self.fail(where, f"{_hours(at)} is after the scenario ends ({_hours(total)})")

    def rumour(self, raw: object, i: int, known: set[str], total: timedelta) -> Rumour:
        where: Where = ["rumours", i]
        data = self.mapping(raw, where, "a rumour: at, templates, spread, over")
        self.keys(data, _RUMOUR, where)
        at = self.offset(data, "at", where)
        self.within(at, total, [*where, "at"])
        return Rumour(
            at=at,
            templates=self.templates(data, "templates", where, known),
            spread=self.integer(data, "spread", where, low=1),
            over=self.duration(data, "over", where, "6h"),
        )

    def cascade(
        self, raw: object, i: int, known: set[str], total: timedelta, names: set[str]
    ) -> Cascade:
        where: Where = ["cascades", i]
        data = self.mapping(raw, where, "a cascade: at, account, templates, size, depth, over")
        self.keys(data, _CASCADE, where)
        at = self.offset(data, "at", where)
        self.within(at, total, [*where, "at"])
        account = self.text(data, "account", where)
        if account not in names:
            raise self.fail(
                [*where, "account"], f"account {account!r} is not listed under 'accounts'"
            )
        return Cascade(
            at=at,
            account=account,
            templates=self.templates(data, "templates", where, known),
            size=self.integer(data, "size", where, low=1),
            depth=self.integer(data, "depth", where, 3, low=1),
            over=self.duration(data, "over", where, "3h"),
        )

    def statement(
        self, raw: object, known: set[str], total: timedelta, names: set[str]
    ) -> Statement | None:
        if raw is None:
            return None
        where: Where = ["statement"]
        data = self.mapping(raw, where, "the statement: at, quality, account, text, ...")
        self.keys(data, _STATEMENT, where)
        at = self.offset(data, "at", where)
        self.within(at, total, [*where, "at"])
        quality = self.text(data, "quality", where)
        if quality not in EFFECTS:
            raise self.fail([*where, "quality"], f"'quality' must be good or poor, got {quality!r}")
        account = self.text(data, "account", where)
        if account not in names:
            raise self.fail(
                [*where, "account"], f"account {account!r} is not listed under 'accounts'"
            )
        text = self.text(data, "text", where)
        self.placeholders(text, known, [*where, "text"])
        negative, volume = EFFECTS[quality]
        reactions = (
            self.templates(data, "reactions", where, known)
            if data.get("reactions") is not None
            else lexicon.REACTIONS[quality]
        )
        return Statement(
            at=at,
            quality=quality,
            account=account,
            text=text,
            negative_factor=self.number(data, "negative_factor", where, negative),
            volume_factor=self.number(data, "volume_factor", where, volume),
            reaction_share=self.number(data, "reaction_share", where, 0.25, high=1.0),
            reactions=reactions,
        )

    def span(
        self, data: Mapping[str, Any], key: str, where: Where, default: tuple[int, int]
    ) -> tuple[int, int]:
        """A range of whole numbers: ``[low, high]`` or one number."""
        value = data.get(key)
        if value is None:
            return default
        items = value if isinstance(value, list) else [value, value]
        if len(items) != 2 or any(isinstance(x, bool) or not isinstance(x, int) for x in items):
            raise self.fail(
                [*where, key], f"{key!r} must be [low, high] whole numbers, got {value!r}"
            )
        low, high = items
        if not 0 <= low <= high:
            raise self.fail([*where, key], f"{key!r} needs 0 <= low <= high, got {value!r}")
        return low, high

    def campaign(
        self,
        raw: object,
        facts: dict[str, tuple[str, ...]],
        known: set[str],
        total: timedelta,
    ) -> Campaign | None:
        if raw is None:
            return None
        where: Where = ["campaign"]
        data = self.mapping(raw, where, "a campaign: at, over, accounts, waves, templates, ...")
        self.keys(data, _CAMPAIGN, where)
        at = self.offset(data, "at", where)
        self.within(at, total, [*where, "at"])
        own = self.facts(data.get("facts"), [*where, "facts"])
        sentiment = self.text(data, "sentiment", where, default="negative")
        if sentiment not in lexicon.SENTIMENTS:
            raise self.fail(
                [*where, "sentiment"],
                f"'sentiment' must be one of {', '.join(lexicon.SENTIMENTS)}, got {sentiment!r}",
            )
        profiles = data.get("profiles", False)
        if not isinstance(profiles, bool):
            raise self.fail([*where, "profiles"], "'profiles' must be true or false")
        return Campaign(
            at=at,
            over=self.duration(data, "over", where, "2h"),
            accounts=self.integer(data, "accounts", where, low=2),
            waves=self.integer(data, "waves", where, 3, low=1),
            jitter=self.duration(data, "jitter", where, "2m"),
            identical=self.share(data, "identical", where),
            templates=self.templates(data, "templates", where, known | set(own)),
            sentiment=sentiment,
            facts={**facts, **own},
            followers=self.span(data, "followers", where, (0, 30)),
            age_days=self.span(data, "age_days", where, (1, 20)),
            posts=self.span(data, "posts", where, (0, 15)),
            reposts=self.integer(data, "reposts", where, 0),
            repost_over=self.duration(data, "repost_over", where, "5m"),
            profiles=profiles,
        )


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    names = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a mapping",
    }
    return names.get(type(value), type(value).__name__)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}h"
