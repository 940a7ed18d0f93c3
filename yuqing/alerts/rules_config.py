"""Monitoring rules (监测规则) from yuqing.toml's ``[[monitor.rules]]`` tables.

::

    [[monitor.rules]]
    id = "canteen"                       # required, unique
    name = "食堂食品安全"                  # default: the id
    query = '食堂 AND (过期 OR 变质)'      # required: the rule language (docs/rules.md)
    triggers = [{kind = "match"}, {kind = "count", threshold = 20, window = "1h"}]
    severity = "high"                    # low | medium (default) | high | critical
    cooldown = "30m"                     # default: [monitor] cooldown
    channels = ["ops-webhook"]           # default: every [[alerts.channels]]
    enabled = true

Every mistake is a ConfigError naming the rule (its position and id) and the key; a
query with a syntax error carries the parser's position. docs/monitoring.md describes
each trigger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from yuqing.alerts.alert import SEVERITIES, Severity
from yuqing.alerts.channels.base import ConfigReader
from yuqing.alerts.rule_syntax import RuleSyntaxError, parse
from yuqing.alerts.triggers import (
    BurstTrigger,
    CountTrigger,
    MatchTrigger,
    NegativeShareTrigger,
    NewEventTrigger,
    RiskTrigger,
    Trigger,
)
from yuqing.errors import ConfigError, UsageError
from yuqing.events.burst import BurstTest
from yuqing.settings import Settings, parse_duration

__all__ = [
    "RULE_KEYS",
    "TRIGGER_KINDS",
    "MonitorRule",
    "channel_names",
    "load_rules",
    "rules_from_settings",
    "trigger_from_config",
]

RULE_KEYS = ("id", "name", "query", "triggers", "severity", "cooldown", "channels", "enabled")


# -- triggers ------------------------------------------------------------------------

_COMMON = ("severity",)
_KEYS: dict[str, tuple[str, ...]] = {
    "match": (),
    "count": ("threshold", "window", "per_event"),
    "negative_share": ("threshold", "window", "min_count", "per_event"),
    "burst": (
        "bucket",
        "baseline",
        "method",
        "min_count",
        "p_threshold",
        "z_threshold",
        "min_ratio",
        "min_history",
    ),
    "new_event": ("threshold", "min_posts"),
    "risk": ("threshold", "score"),
}
TRIGGER_KINDS: tuple[str, ...] = tuple(_KEYS)


def _int(r: ConfigReader, key: str, default: int | None, minimum: int = 1) -> int | None:
    value = r.integer(key, default)
    if value is not None and value < minimum:
        raise ConfigError(f"{r.where}: {key!r} must be at least {minimum}, got {value}")
    return value


def _fraction(r: ConfigReader, key: str, default: float) -> float:
    value = r.number(key, default)
    if value > 1:
        raise ConfigError(f"{r.where}: {key!r} is a share in (0, 1], got {value}")
    return value


def _duration(config: Mapping[str, Any], where: str, key: str, default: str) -> timedelta:
    return parse_duration(config.get(key, default), f"{where}: {key!r}")


def trigger_from_config(config: Mapping[str, Any], where: str) -> Trigger:
    """One trigger from its table (``{kind = "count", threshold = 20, window = "1h"}``).

    ConfigError names ``where`` (the rule and trigger) and the bad key.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f'{where}: a trigger is a table such as {{kind = "match"}}')
    kind = config.get("kind")
    if kind not in _KEYS:
        raise ConfigError(f"{where}: 'kind' {kind!r} is not one of {', '.join(TRIGGER_KINDS)}")
    where = f"{where} ({kind})"
    r = ConfigReader(config, where, _KEYS[str(kind)] + _COMMON)
    severity = r.text("severity")
    if severity is not None and severity not in SEVERITIES:
        raise ConfigError(f"{where}: 'severity' {severity!r} is not one of {', '.join(SEVERITIES)}")
    sev: Severity | None = severity  # checked above
    if kind == "match":
        return MatchTrigger(severity=sev)
    if kind == "count":
        if config.get("threshold") is None:
            raise ConfigError(f"{where}: missing required key 'threshold' (posts in the window)")
        threshold = _int(r, "threshold", None)
        assert threshold is not None
        window = _duration(config, where, "window", "1h")
        return CountTrigger(threshold, window, per_event=r.flag("per_event", False), severity=sev)
    if kind == "negative_share":
        if config.get("threshold") is None:
            raise ConfigError(f"{where}: missing required key 'threshold' (a share, e.g. 0.6)")
        return NegativeShareTrigger(
            _fraction(r, "threshold", 0.6),
            _duration(config, where, "window", "1h"),
            min_count=_int(r, "min_count", 10) or 10,
            per_event=r.flag("per_event", False),
            severity=sev,
        )
    if kind == "burst":
        try:
            test = BurstTest(
                baseline=_int(r, "baseline", 12) or 12,
                method=cast(Any, r.text("method", "poisson")),
                min_count=_int(r, "min_count", 5) or 5,
                p_threshold=_fraction(r, "p_threshold", 0.001),
                z_threshold=r.number("z_threshold", 3.0),
                min_ratio=r.number("min_ratio", 1.5),
                min_history=_int(r, "min_history", None),
            )
        except UsageError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        return BurstTrigger(test, bucket=_duration(config, where, "bucket", "1h"), severity=sev)
    if kind == "new_event":
        heat_threshold = r.number("threshold", 30.0)
        if heat_threshold > 100:
            raise ConfigError(
                f"{where}: 'threshold' is a heat index in (0, 100], got {heat_threshold}"
            )
        return NewEventTrigger(heat_threshold, min_posts=_int(r, "min_posts", 5) or 5, severity=sev)
    score = r.text("score", "any") or "any"
    if score not in ("any", "rumor", "group_incident"):
        raise ConfigError(f"{where}: 'score' {score!r} is not one of any, rumor, group_incident")
    return RiskTrigger(_fraction(r, "threshold", 0.7), score=score, severity=sev)


# -- rules ---------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class MonitorRule:
    """One monitoring rule: a query, its triggers (with their state), how loud it is,
    how long its cooldown and where its alerts go (empty ``channels``: everywhere)."""

    id: str
    name: str
    query: str
    triggers: tuple[Trigger, ...]
    severity: Severity = "medium"
    cooldown: timedelta = timedelta(minutes=30)
    channels: tuple[str, ...] = ()


def _rule(
    table: Mapping[str, Any],
    index: int,
    default_cooldown: str,
    channel_names: Collection[str] | None,
) -> MonitorRule | None:
    if not isinstance(table, Mapping):
        raise ConfigError(f"monitor.rules[{index}]: expected a table ([[monitor.rules]])")
    raw_id = table.get("id")
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise ConfigError(f"monitor.rules[{index}]: missing required key 'id' (a non-empty string)")
    rule_id = raw_id.strip()
    where = f"monitor.rules[{index}] (id {rule_id!r})"
    r = ConfigReader({k: v for k, v in table.items() if k != "name"}, where, RULE_KEYS)
    if not r.flag("enabled", True):
        return None
    name = table.get("name", rule_id)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    query = r.required_text("query")
    try:
        parse(query)
    except RuleSyntaxError as exc:
        raise ConfigError(f"{where}: 'query': {exc}") from exc
    severity = r.text("severity", "medium")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: 'severity' {severity!r} is not one of {', '.join(SEVERITIES)}")
    cooldown = parse_duration(table.get("cooldown", default_cooldown), f"{where}: 'cooldown'")
    channels = tuple(r.text_list("channels"))
    if channel_names is not None:
        unknown = [c for c in channels if c not in channel_names]
        if unknown:
            raise ConfigError(
                f"{where}: 'channels': unknown channel(s) {', '.join(unknown)}; "
                f"[[alerts.channels]] names: {', '.join(channel_names) or 'none configured'}"
            )
    raw_triggers = table.get("triggers", [{"kind": "match"}])
    if isinstance(raw_triggers, Mapping):
        raw_triggers = [raw_triggers]
    if not isinstance(raw_triggers, list) or not raw_triggers:
        raise ConfigError(
            f"{where}: 'triggers' must be a list of tables such as "
            '[{kind = "match"}, {kind = "count", threshold = 20, window = "1h"}]'
        )
    triggers = tuple(
        trigger_from_config(t, f"{where}: triggers[{i}]") for i, t in enumerate(raw_triggers, 1)
    )
    return MonitorRule(
        id=rule_id,
        name=name.strip(),
        query=query,
        triggers=triggers,
        severity=severity,
        cooldown=cooldown,
        channels=channels,
    )


def load_rules(
    tables: Sequence[Mapping[str, Any]],
    *,
    default_cooldown: str = "30m",
    channel_names: Collection[str] | None = None,
) -> list[MonitorRule]:
    """Rules from ``[[monitor.rules]]`` tables (disabled ones left out), in order.

    ``channel_names``, when given, are the configured channels a rule may name.
    """
    rules: list[MonitorRule] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables, 1):
        rule = _rule(table, index, default_cooldown, channel_names)
        if rule is None:
            continue
        if rule.id in seen:
            raise ConfigError(
                f"monitor.rules[{index}]: the id {rule.id!r} is already used by "
                f"monitor.rules[{seen[rule.id]}]; ids must be unique"
            )
        seen[rule.id] = index
        rules.append(rule)
    return rules


def channel_names(tables: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names ``[[alerts.channels]]`` tables get (an unnamed one: its kind, then
    ``kind-2``...), as :func:`~yuqing.alerts.channels.channels_from_config` names them."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for table in tables:
        name = table.get("name") if isinstance(table, Mapping) else None
        if not name:
            kind = str(table.get("kind") or "") if isinstance(table, Mapping) else ""
            seen[kind] = seen.get(kind, 0) + 1
            name = kind if seen[kind] == 1 else f"{kind}-{seen[kind]}"
        names.append(str(name))
    return names


def rules_from_settings(settings: Settings) -> list[MonitorRule]:
    """The rules of ``settings.monitor``, checked against ``settings.alerts.channels``."""
    return load_rules(
        settings.monitor.rules,
        default_cooldown=settings.monitor.cooldown,
        channel_names=channel_names(settings.alerts.channels),
    )
