"""The 预警 and 处置案件 sections of a briefing, read from the store.

Alerts are the stored alerts created in the period (a special report: those of its event);
cases are the stored cases opened before the period ends and not closed before it starts
(a special report: those of its event). Each is cited by its stored id and title so that
:func:`yuqing.reports.verify.verify` can check it exists. Timeliness of a case's first
statement comes from :func:`yuqing.cases.deadlines.timeliness` at the briefing's ``as_of``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from urllib.parse import quote

from yuqing.alerts.alert import KIND_LABELS, SEVERITIES, SEVERITY_LABELS
from yuqing.cases.case import STATUS_LABELS, Case
from yuqing.cases.deadlines import DeadlinePolicy, timeliness
from yuqing.cases.levels import LEVEL_LABELS
from yuqing.reports.model import AlertItem, Briefing, CaseItem, Citation
from yuqing.store.base import Store, StoredAlert

MAX_ALERTS = 200
MAX_CASES = 500
ALERT_STATUS = {"new": "未确认", "acknowledged": "已确认"}
TIMELINESS = {"on_time": "按时", "late": "超时", "overdue": "逾期未发布", "pending": "未到时限"}


def alert_citation(stored: StoredAlert, base: str) -> Citation:
    a = stored.alert
    return Citation(
        source="alert",
        id=a.id,
        quote=a.title,
        length=len(a.title),
        link=f"{base}/alerts/{quote(a.id, safe='')}",
        published_at=a.created_at,
        kind="alert",
    )


def case_citation(case: Case, base: str) -> Citation:
    return Citation(
        source="case",
        id=case.id,
        quote=case.title,
        length=len(case.title),
        link=f"{base}/cases/{quote(case.id, safe='')}",
        author=case.owner,
        published_at=case.opened_at,
        kind="case",
    )


def _alert_item(stored: StoredAlert, base: str) -> AlertItem:
    a = stored.alert
    return AlertItem(
        citation=alert_citation(stored, base),
        created_at=a.created_at,
        severity=a.severity,
        severity_label=SEVERITY_LABELS.get(a.severity, a.severity),
        rule_id=a.rule_id,
        kind_label=KIND_LABELS.get(a.kind, a.kind),
        status=stored.status,
        status_label=ALERT_STATUS.get(stored.status, stored.status),
    )


def _active(case: Case, since: datetime | None, until: datetime | None) -> bool:
    if until is not None and case.opened_at >= until:
        return False
    return not (since is not None and case.closed_at is not None and case.closed_at < since)


def _case_item(case: Case, base: str, now: datetime, policy: DeadlinePolicy) -> CaseItem:
    t = timeliness(case, now, policy)
    return CaseItem(
        citation=case_citation(case, base),
        level=case.level,
        level_label=LEVEL_LABELS.get(case.level, case.level),
        status=case.status,
        status_label=STATUS_LABELS.get(case.status, case.status),
        owner=case.owner,
        opened_at=case.opened_at,
        due=t.due,
        timeliness=t.status,
        timeliness_label=TIMELINESS.get(t.status, t.status),
        timeliness_summary=t.summary,
    )


def fill_alerts_and_cases(store: Store, b: Briefing, policy: DeadlinePolicy | None = None) -> None:
    """Set ``b.alerts`` (oldest first), their counts by severity, the acknowledged count and
    ``b.cases`` (most severe level, then earliest opened, first) from ``store``."""
    stored = store.alerts(since=b.since, until=b.until, limit=MAX_ALERTS)
    if b.event_id:
        stored = [s for s in stored if s.alert.event_id == b.event_id]
    stored.sort(key=lambda s: (s.alert.created_at, s.alert.id))
    b.alerts = [_alert_item(s, b.public_url) for s in stored]
    counts = Counter(s.alert.severity for s in stored)
    order = list(reversed(SEVERITIES)) + sorted(set(counts) - set(SEVERITIES))
    b.alert_counts = {SEVERITY_LABELS.get(k, k): counts[k] for k in order if counts[k]}
    b.acknowledged = sum(1 for s in stored if s.status == "acknowledged")
    records = store.cases(event_id=b.event_id, limit=MAX_CASES)
    cases = [Case.from_dict(r) for r in records]
    cases = [c for c in cases if _active(c, b.since, b.until)]
    cases.sort(key=lambda c: (c.level, c.opened_at, c.id))
    pol = policy or DeadlinePolicy()
    b.cases = [_case_item(c, b.public_url, b.as_of, pol) for c in cases]


def alert_summary(b: Briefing) -> str:
    """``共 3 条预警（紧急 1 · 高 2），已确认 1 条（33.3%）``."""
    by = " · ".join(f"{k} {n}" for k, n in b.alert_counts.items())
    share = f"{b.acknowledged_share * 100:.1f}%"
    return f"共 {len(b.alerts)} 条预警（{by}），已确认 {b.acknowledged} 条（{share}）"
