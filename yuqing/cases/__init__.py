"""Cases and the response assistant: levels, plans, deadlines, statements, effect.

See docs/response.md. The domain is a library over a :class:`CaseRepository`; the
store, the API and the pages plug into it.
"""

from __future__ import annotations

from yuqing.cases.case import (
    STATUS_LABELS,
    STATUSES,
    TRANSITIONS,
    Action,
    Case,
    CaseError,
    CaseNotFoundError,
    CaseStatus,
    CaseTransitionError,
    ChecklistItem,
    ClosedCaseError,
    Statement,
    new_case,
    open_case_from_event,
)
from yuqing.cases.deadlines import (
    DEFAULT_FIRST_STATEMENT,
    DeadlinePolicy,
    Timeliness,
    first_statement_due,
    overdue,
    overdue_items,
    timeliness,
    timeliness_report,
)
from yuqing.cases.effect import Effect, WindowStats, statement_effect
from yuqing.cases.levels import (
    LEVEL_LABELS,
    LEVELS,
    Level,
    LevelSuggestion,
    LevelTable,
    aggregate_risk,
    parse_level,
    suggest_level,
)
from yuqing.cases.plans import Plan, PlanItem, load_plan, load_plans, shipped_plans
from yuqing.cases.principles import Check, PrincipleResult, check_statement
from yuqing.cases.repository import (
    CaseRepository,
    InMemoryCaseRepository,
    StoreCaseRepository,
)
from yuqing.cases.statements import StatementFacts, StatementTemplate, draft_statement

__all__ = [
    "DEFAULT_FIRST_STATEMENT",
    "LEVELS",
    "LEVEL_LABELS",
    "STATUSES",
    "STATUS_LABELS",
    "TRANSITIONS",
    "Action",
    "Case",
    "CaseError",
    "CaseNotFoundError",
    "CaseRepository",
    "CaseStatus",
    "CaseTransitionError",
    "Check",
    "ChecklistItem",
    "ClosedCaseError",
    "DeadlinePolicy",
    "Effect",
    "InMemoryCaseRepository",
    "Level",
    "LevelSuggestion",
    "LevelTable",
    "Plan",
    "PlanItem",
    "PrincipleResult",
    "Statement",
    "StatementFacts",
    "StatementTemplate",
    "StoreCaseRepository",
    "Timeliness",
    "WindowStats",
    "aggregate_risk",
    "check_statement",
    "draft_statement",
    "first_statement_due",
    "load_plan",
    "load_plans",
    "new_case",
    "open_case_from_event",
    "overdue",
    "overdue_items",
    "parse_level",
    "shipped_plans",
    "statement_effect",
    "suggest_level",
    "timeliness",
    "timeliness_report",
]
