"""Monitoring rules and alerts.

The rule language (:mod:`~yuqing.alerts.rule_syntax`: parse, format, the AST), the
evaluation of one rule on a document (:mod:`~yuqing.alerts.rule_match`) and many rules at
once behind an Aho-Corasick prefilter (:mod:`~yuqing.alerts.matcher`). docs/rules.md
describes the language.
"""

from __future__ import annotations

from yuqing.alerts.matcher import MatcherStats, RuleMatcher
from yuqing.alerts.rule_match import (
    explain,
    gazetteer_region_lookup,
    matches,
    required_literals,
)
from yuqing.alerts.rule_syntax import RuleSyntaxError, format, parse

__all__ = [
    "MatcherStats",
    "RuleMatcher",
    "RuleSyntaxError",
    "explain",
    "format",
    "gazetteer_region_lookup",
    "matches",
    "parse",
    "required_literals",
]
