"""A monitoring plan (监测方案) and its checks.

A plan, as YAML (``yuqing plans add FILE.yaml``) or JSON (``POST /api/v1/monitoring-plans``)::

    id: campus-food                 # optional: derived from the name
    name: 校园食品安全
    department: 市教育局宣传处        # owner department (free text)
    enabled: true
    regions: [宁波市, "330200"]      # narrows every rule to posts about these places
    notify: [duty-robot]            # channel ids of [[alerts.channels]]; empty: all
    rules:
      - id: canteen                 # optional: r1, r2, ...
        name: 食堂食品安全
        query: 食堂 AND (过期 OR 变质)  # the rule language (docs/rules.md)
        triggers: [{kind: match}, {kind: count, threshold: 20, window: 1h}]
        severity: high
    sources:
      - kind: rss                   # rss | page | files | push
        url: https://edu.example.org/feed.xml
        interval: 15m
      - kind: files
        path: /data/inbox/*.jsonl
        interval: 5m
      - kind: push                  # posts pushed to POST /api/v1/posts with this source
        name: wechat-collector

:func:`plan_from_dict` checks everything a plan can get wrong on its own (ids, the rule
queries with the parser's column, the triggers, durations, URLs, regions, secret-looking
fields) and raises :class:`PlanError` naming the field; :func:`check_plan_against` adds
what needs the settings (channel ids, the shortest interval). ``Plan.as_dict()`` is what
the store keeps; ``plan_from_dict(plan.as_dict())`` gives the same plan back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, get_args

from yuqing.alerts.alert import SEVERITIES
from yuqing.alerts.rule_syntax import RuleSyntaxError, parse
from yuqing.errors import ConfigError
from yuqing.plans.errors import PlanError
from yuqing.plans.guard import refuse_secrets
from yuqing.settings import parse_duration

__all__ = [
    "ID_PATTERN",
    "SOURCE_KINDS",
    "Plan",
    "PlanError",
    "PlanRule",
    "PlanSource",
    "check_plan_against",
    "plan_from_dict",
]

SourceKind = Literal["rss", "page", "files", "push"]
SOURCE_KINDS: Final[tuple[str, ...]] = get_args(SourceKind)
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID = re.compile(ID_PATTERN)
_PLAN_KEYS: Final = frozenset(
    {"id", "name", "department", "enabled", "regions", "notify", "rules", "sources"}
    | {"description", "created_at", "updated_at"}
)
_RULE_KEYS: Final = frozenset({"id", "name", "query", "triggers", "severity", "cooldown"})
_SOURCE_KEYS: Final = frozenset({"id", "kind", "url", "path", "name", "interval"})
MAX_RULES: Final = 100
MAX_SOURCES: Final = 100


@dataclass(slots=True, frozen=True)
class PlanRule:
    """One keyword rule of a plan: a query in the rule language, its triggers
    (``[[monitor.rules]]`` trigger tables), severity and optional cooldown."""

    id: str
    name: str
    query: str
    triggers: tuple[Mapping[str, Any], ...] = ({"kind": "match"},)
    severity: str = "medium"
    cooldown: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "triggers": [dict(t) for t in self.triggers],
            "severity": self.severity,
        }
        if self.cooldown is not None:
            out["cooldown"] = self.cooldown
        return out


@dataclass(slots=True, frozen=True)
class PlanSource:
    """Where a plan's posts come from. ``target`` is the URL (rss, page), the file path or
    glob (files) or the ``source`` name pushed posts carry (push); ``name`` is the source
    name given to fetched posts that have none (default: the feed title or site name)."""

    id: str
    kind: SourceKind
    target: str
    interval: str
    name: str | None = None

    @property
    def polled(self) -> bool:
        """Push sources are not polled: their posts arrive through the API."""
        return self.kind != "push"

    @property
    def interval_seconds(self) -> float:
        return parse_duration(self.interval, f"source {self.id}: interval").total_seconds()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "interval": self.interval}
        if self.kind in ("rss", "page"):
            out["url"] = self.target
        elif self.kind == "files":
            out["path"] = self.target
        if self.name is not None or self.kind == "push":
            out["name"] = self.name if self.name is not None else self.target
        return out


@dataclass(slots=True)
class Plan:
    """A monitoring plan: rules, sources, regions, notify (channel ids), enabled, owner
    department. ``created_at``/``updated_at`` are set by the store's callers."""

    id: str
    name: str
    rules: list[PlanRule] = field(default_factory=list)
    sources: list[PlanSource] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)
    enabled: bool = True
    department: str | None = None
    description: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def source(self, source_id: str) -> PlanSource | None:
        return next((s for s in self.sources if s.id == source_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "department": self.department,
            "enabled": self.enabled,
            "description": self.description,
            "regions": list(self.regions),
            "notify": list(self.notify),
            "rules": [r.as_dict() for r in self.rules],
            "sources": [s.as_dict() for s in self.sources],
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


# -- reading and checking --------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise PlanError(f"{where}: missing required field {key!r}")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PlanError(f"{where}: {key!r} must be text, got {type(value).__name__}")
    return str(value).strip()


def _id(value: str | None, where: str, key: str = "id") -> str | None:
    if value is not None and not _ID.match(value):
        raise PlanError(
            f"{where}: {key} {value!r} must be 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


def _unknown(data: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise PlanError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _texts(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip() for v in value
    ):
        raise PlanError(f"{where}: {key!r} must be a list of non-empty texts")
    return list(dict.fromkeys(str(v).strip() for v in value))


def _duration(value: Any, where: str) -> str:
    try:
        parse_duration(value, where)
    except ConfigError as exc:
        raise PlanError(str(exc)) from exc
    return str(value).strip()


def _rule(data: Any, index: int, where: str) -> PlanRule:
    where = f"{where}: rules[{index}]"
    if not isinstance(data, Mapping):
        raise PlanError(f"{where}: a rule is a table with name and query")
    _unknown(data, _RULE_KEYS, where)
    rule_id = _id(_text(data, "id", where), where) or f"r{index}"
    where = f"{where} (id {rule_id!r})"
    query = _text(data, "query", where, required=True)
    assert query is not None
    try:
        parse(query)
    except RuleSyntaxError as exc:
        raise PlanError(f"{where}: query {query!r}: {exc}") from exc
    name = _text(data, "name", where) or rule_id
    severity = _text(data, "severity", where) or "medium"
    if severity not in SEVERITIES:
        raise PlanError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    raw = data.get("triggers", [{"kind": "match"}])
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, Mapping) for t in raw):
        raise PlanError(
            f"{where}: triggers must be a list of tables such as "
            '[{"kind": "match"}, {"kind": "count", "threshold": 20, "window": "1h"}]'
        )
    cooldown = data.get("cooldown")
    return PlanRule(
        id=rule_id,
        name=name,
        query=query,
        triggers=tuple(dict(t) for t in raw),
        severity=severity,
        cooldown=_duration(cooldown, f"{where}: cooldown") if cooldown is not None else None,
    )


def _derived_id(kind: str, target: str) -> str:
    digest = hashlib.sha1(f"{kind}\n{target}".encode(), usedforsecurity=False).hexdigest()
    return f"{kind}-{digest[:8]}"


def _source(data: Any, index: int, where: str, default_interval: str) -> PlanSource:
    where = f"{where}: sources[{index}]"
    if not isinstance(data, Mapping):
        raise PlanError(f"{where}: a source is a table with kind and url, path or name")
    _unknown(data, _SOURCE_KEYS, where)
    kind = _text(data, "kind", where, required=True)
    if kind not in SOURCE_KINDS:
        raise PlanError(f"{where}: kind {kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    name = _text(data, "name", where)
    if kind in ("rss", "page"):
        target = _text(data, "url", where, required=True)
        assert target is not None
        if not target.lower().startswith(("http://", "https://")):
            raise PlanError(f"{where}: url {target!r} must be an http(s) address")
    elif kind == "files":
        target = _text(data, "path", where, required=True)
        assert target is not None
    else:
        if name is None:
            raise PlanError(
                f"{where}: a push source needs 'name': the `source` of the posts pushed to "
                "POST /api/v1/posts for this plan"
            )
        target = name
    interval = _duration(data.get("interval", default_interval), f"{where}: interval")
    source_id = _id(_text(data, "id", where), where) or _derived_id(kind, target)
    return PlanSource(
        id=source_id,
        kind=kind,  # type: ignore[arg-type]  # checked against SOURCE_KINDS above
        target=target,
        interval=interval,
        name=name,
    )


def _region(value: str, where: str) -> str:
    try:
        parse(f'region:"{value}"' if not value.isdigit() else f"region:{value}")
    except RuleSyntaxError as exc:
        raise PlanError(f"{where}: region {value!r} cannot be a filter: {exc}") from exc
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise PlanError(f"{where}: {value!r} is not an ISO 8601 time") from exc
    return parsed if parsed.tzinfo is not None else None


def default_plan_id(name: str) -> str:
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
    return f"plan-{digest[:8]}"


def plan_from_dict(
    data: Any, *, where: str = "plan", default_interval: str = "15m", plan_id: str | None = None
) -> Plan:
    """A checked Plan from its dict form; PlanError (or PlanSecretError) says what is wrong.
    ``plan_id``, when given, is the id (the URL's, for PUT) and must match any id in data."""
    if not isinstance(data, Mapping):
        raise PlanError(f"{where}: a plan is a table (JSON object) with name, rules and sources")
    refuse_secrets(data, where)
    _unknown(data, _PLAN_KEYS, where)
    name = _text(data, "name", where, required=True)
    assert name is not None
    given = _id(_text(data, "id", where), where)
    if plan_id is not None and given is not None and given != plan_id:
        raise PlanError(f"{where}: the id {given!r} differs from the plan's id {plan_id!r}")
    chosen = _id(plan_id, where) or given or default_plan_id(name)
    where = f"plan {chosen!r}"
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise PlanError(f"{where}: 'enabled' must be true or false")
    raw_rules = data.get("rules") or []
    raw_sources = data.get("sources") or []
    if not isinstance(raw_rules, list) or len(raw_rules) > MAX_RULES:
        raise PlanError(f"{where}: 'rules' must be a list of at most {MAX_RULES} rules")
    if not isinstance(raw_sources, list) or len(raw_sources) > MAX_SOURCES:
        raise PlanError(f"{where}: 'sources' must be a list of at most {MAX_SOURCES} sources")
    rules = [_rule(r, i, where) for i, r in enumerate(raw_rules, 1)]
    sources = [_source(s, i, where, default_interval) for i, s in enumerate(raw_sources, 1)]
    for what, ids in (("rule", [r.id for r in rules]), ("source", [s.id for s in sources])):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise PlanError(f"{where}: {what} id(s) {', '.join(repeated)} used twice")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise PlanError(f"{where}: 'description' must be text")
    return Plan(
        id=chosen,
        name=name,
        rules=rules,
        sources=sources,
        regions=[_region(r, where) for r in _texts(data, "regions", where)],
        notify=_texts(data, "notify", where),
        enabled=enabled,
        department=_text(data, "department", where),
        description=description.strip(),
        created_at=_time(data.get("created_at"), f"{where}: created_at"),
        updated_at=_time(data.get("updated_at"), f"{where}: updated_at"),
    )


def check_plan_against(
    plan: Plan, *, channels: Collection[str], min_interval_seconds: float
) -> None:
    """What needs the settings: ``notify`` names configured channels, and no source polls
    more often than ``[plans] min_interval``. PlanError names the plan and field."""
    where = f"plan {plan.id!r}"
    unknown = [c for c in plan.notify if c not in channels]
    if unknown:
        raise PlanError(
            f"{where}: notify: unknown channel id(s) {', '.join(unknown)}; configured "
            f"[[alerts.channels]]: {', '.join(channels) or 'none'}"
        )
    for source in plan.sources:
        if source.polled and source.interval_seconds < min_interval_seconds:
            raise PlanError(
                f"{where}: source {source.id!r}: interval {source.interval} is shorter than "
                f"[plans] min_interval ({min_interval_seconds:g} s); poll less often"
            )
