"""Monitoring rules saved in the store (through ``/api/v1/rules``) as the engine's
:class:`~yuqing.alerts.rules_config.MonitorRule` s, checked exactly like yuqing.toml's
``[[monitor.rules]]`` (same keys, same trigger checks) and never sharing an id with them.

:class:`RuleSync` lets ``yuqing run`` pick up rules saved, changed or deleted while it runs:
each poll it compares the stored rules with what it loaded and returns what changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from yuqing.alerts.rules_config import MonitorRule, channel_names, load_rules
from yuqing.errors import ConfigError
from yuqing.settings import Settings
from yuqing.store.base import Store, StoredRule

__all__ = ["RuleSync", "config_rule_ids", "load_saved_rule", "saved_rules"]


def config_rule_ids(settings: Settings) -> set[str]:
    """The ids of yuqing.toml's ``[[monitor.rules]]`` (enabled or not)."""
    return {
        str(t.get("id")).strip() for t in settings.monitor.rules if isinstance(t.get("id"), str)
    }


def load_saved_rule(
    rule: StoredRule, settings: Settings, *, label: str = " saved in the store"
) -> MonitorRule | None:
    """The engine's rule for a saved one (None when disabled); ConfigError says what is
    wrong with it, naming the rule (``rule 'id'{label}: ...``)."""
    where = f"monitor.rules[1] (id {rule.id.strip()!r}): "
    try:
        found = load_rules(
            [rule.as_table()],
            default_cooldown=settings.monitor.cooldown,
            channel_names=channel_names(settings.alerts.channels),
        )
    except ConfigError as exc:
        reason = str(exc).removeprefix(where).removeprefix("monitor.rules[1]: ")
        raise ConfigError(f"rule {rule.id!r}{label}: {reason}") from exc
    return found[0] if found else None


def _check_clash(ids: Sequence[str], settings: Settings) -> None:
    clash = sorted(set(ids) & config_rule_ids(settings))
    if clash:
        raise ConfigError(
            f"rule id(s) {', '.join(repr(c) for c in clash)} defined both in yuqing.toml "
            "[[monitor.rules]] and in the store (saved through /api/v1/rules): rename one, or "
            "delete the stored one (DELETE /api/v1/rules/{id})"
        )


def saved_rules(store: Store, settings: Settings) -> list[MonitorRule]:
    """The enabled saved rules; ConfigError for a bad one or an id used in yuqing.toml."""
    stored = store.rules()
    _check_clash([r.id for r in stored], settings)
    return [m for r in stored if (m := load_saved_rule(r, settings)) is not None]


def _fingerprint(rule: StoredRule) -> bytes:
    return orjson.dumps(rule.as_table(), option=orjson.OPT_SORT_KEYS)


class RuleSync:
    """What changed among the saved rules since the last call.

    ``changes(store)`` returns (rules to add or replace, ids to remove); the first call
    returns every enabled rule. A rule that fails its checks is reported through
    ``errors`` and skipped (the running engine keeps its previous version, if any), so a
    bad rule saved while ``yuqing run`` runs does not stop it.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._seen: dict[str, bytes] = {}
        self.errors: list[str] = []

    def changes(self, store: Store) -> tuple[list[MonitorRule], list[str]]:
        self.errors = []
        config_ids = config_rule_ids(self.settings)
        stored = {r.id: r for r in store.rules()}
        add: list[MonitorRule] = []
        remove = [rule_id for rule_id in self._seen if rule_id not in stored]
        for rule_id in remove:
            del self._seen[rule_id]
        for rule_id, rule in stored.items():
            print_ = _fingerprint(rule)
            if self._seen.get(rule_id) == print_:
                continue
            if rule_id in config_ids:
                self.errors.append(
                    f"rule {rule_id!r} saved in the store is also defined in yuqing.toml; "
                    "the yuqing.toml rule is used"
                )
                self._seen[rule_id] = print_
                continue
            try:
                loaded = load_saved_rule(rule, self.settings)
            except ConfigError as exc:
                self.errors.append(str(exc))
                self._seen[rule_id] = print_
                continue
            self._seen[rule_id] = print_
            if loaded is None:
                remove.append(rule_id)
            else:
                add.append(loaded)
        return add, remove
