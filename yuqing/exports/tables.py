"""Exports built from store reads: search results, alerts and cases (an event's posts and
figures are in :mod:`yuqing.exports.event`). Labels are the UI's Simplified Chinese names
of the enums; ids stay as stored so that a row can be found again.

Every builder validates its filters first (a bad one is a UsageError naming it), reads
through the :class:`~yuqing.store.base.Store` protocol only, and writes the filters it
was given into the export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from yuqing.alerts.alert import KIND_LABELS, SEVERITY_LABELS
from yuqing.cases import (
    LEVEL_LABELS,
    STATUS_LABELS,
    STATUSES,
    Case,
    CaseStatus,
    DeadlinePolicy,
    StoreCaseRepository,
    first_statement_due,
    timeliness,
)
from yuqing.errors import UsageError
from yuqing.exports.model import Cell, Export, Table, filter_value
from yuqing.models import EMOTION_LABELS, RISK_LABELS, SENTIMENT_LABELS, Document
from yuqing.privacy.alert_scope import visible_alerts
from yuqing.privacy.masking import masked_handle
from yuqing.privacy.scope import EVERYTHING, Scope
from yuqing.store.base import ALERT_STATUSES, AlertStatus, Store

POST_HEADERS = [
    "发布时间",
    "来源",
    "编号",
    "作者",
    "标题",
    "内容",
    "链接",
    "地域",
    "情感",
    "情感分值",
    "情绪",
    "风险类型",
    "谣言分",
    "群体性事件分",
    "风险依据",
    "所属事件",
    "转发",
    "评论",
    "点赞",
    "重复于",
    "转发自",
    "关键词",
]
ALERT_STATUS_LABELS = {"new": "未确认", "acknowledged": "已确认", "false_alarm": "误报"}
TIMELINESS_LABELS = {
    "on_time": "按时",
    "late": "超时发布",
    "pending": "待发布",
    "overdue": "已超时",
}


def _label(names: dict[str, str], key: object) -> str | None:
    return None if key is None else names.get(str(key), str(key))


def _number(value: object) -> float | None:
    return round(float(value), 4) if isinstance(value, int | float) else None


def post_row(doc: Document) -> list[Cell]:
    """A post as one row under :data:`POST_HEADERS`."""
    a = doc.analysis
    risk = a.get("risk") or {}
    regions = [str(r.get("name")) for r in a.get("regions") or [] if r.get("name")]
    return [
        doc.published_at,
        doc.source,
        doc.id,
        masked_handle(doc.author),  # 用户*** for roles without [privacy] personal_roles
        doc.title,
        doc.text,
        doc.url,
        "、".join(regions) or doc.region,
        _label(SENTIMENT_LABELS, a.get("sentiment")),
        _number(a.get("sentiment_score")),
        _label(EMOTION_LABELS, a.get("emotion")),
        _label(RISK_LABELS, risk.get("type")),
        _number(risk.get("rumor")),
        _number(risk.get("group_incident")),
        "；".join(str(r) for r in risk.get("reasons") or []) or None,
        a.get("event_id"),
        doc.reposts,
        doc.comments,
        doc.likes,
        doc.duplicate_of,
        doc.repost_of,
        "、".join(w for w, _ in doc.keywords[:8]) or None,
    ]


def _window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until <= since:
        raise UsageError("until must be later than since")


def search_export(
    store: Store,
    query: str,
    *,
    zone: ZoneInfo,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Sequence[str] = (),
    limit: int = 1000,
) -> Export:
    """The posts that ``store.search`` finds for ``query`` (newest first), in full."""
    if not query.strip():
        raise UsageError("a search export needs words to find (q)")
    _window(since, until)
    hits = store.search(query, since=since, until=until, sources=sources, limit=limit)
    rows: list[list[Cell]] = []
    for hit in hits:
        doc = store.get_document(hit.source, hit.id)
        if doc is not None:
            rows.append(post_row(doc))
    return Export(
        kind="search",
        title="搜索结果",
        filters=[
            ("关键词", query),
            ("开始时间", filter_value(since, zone)),
            ("结束时间", filter_value(until, zone)),
            ("来源", filter_value(list(sources))),
            ("最多条数", str(limit)),
        ],
        tables=[Table("搜索结果", POST_HEADERS, rows)],
        zone=zone,
        created_at=now,
    )


ALERT_HEADERS = [
    "预警时间",
    "级别",
    "类型",
    "标题",
    "规则",
    "所属事件",
    "状态",
    "确认人",
    "确认时间",
    "合并次数",
    "原因",
    "样例",
    "链接",
    "编号",
]


def alerts_export(
    store: Store,
    *,
    zone: ZoneInfo,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    rule_id: str | None = None,
    limit: int = 1000,
    scope: Scope = EVERYTHING,
) -> Export:
    """Stored alerts, newest first, as the alert inbox filters them; only those ``scope``
    sees (a department's data scope, :mod:`yuqing.privacy.alert_scope`)."""
    if status is not None and status not in ALERT_STATUSES:
        raise UsageError(f"alert status {status!r}: use one of {', '.join(ALERT_STATUSES)}")
    _window(since, until)
    checked = cast(AlertStatus | None, status)
    found = visible_alerts(
        store, scope, since=since, until=until, status=checked, rule_id=rule_id, limit=limit
    )
    rows: list[list[Cell]] = []
    for stored in found:
        alert = stored.alert
        rows.append(
            [
                alert.created_at,
                SEVERITY_LABELS.get(alert.severity, alert.severity),
                KIND_LABELS.get(alert.kind, alert.kind),
                alert.title,
                alert.rule_id,
                alert.event_id,
                ALERT_STATUS_LABELS.get(stored.status, stored.status),
                stored.acknowledged_by,
                stored.acknowledged_at,
                alert.suppressed,
                "；".join(alert.reasons) or None,
                " | ".join(s.text for s in alert.samples) or None,
                alert.link,
                alert.id,
            ]
        )
    return Export(
        kind="alerts",
        title="预警列表",
        filters=[
            ("开始时间", filter_value(since, zone)),
            ("结束时间", filter_value(until, zone)),
            ("状态", filter_value(status and ALERT_STATUS_LABELS.get(status, status))),
            ("规则", filter_value(rule_id)),
            ("最多条数", str(limit)),
        ],
        tables=[Table("预警", ALERT_HEADERS, rows)],
        zone=zone,
        created_at=now,
    )


CASE_HEADERS = [
    "编号",
    "标题",
    "级别",
    "状态",
    "牵头负责",
    "联动部门",
    "所属事件",
    "来源预警",
    "立案时间",
    "立案人",
    "定级理由",
    "首次通报时限",
    "时效",
    "时效说明",
    "通报（已发布/全部）",
    "清单（完成/全部）",
    "结案时间",
]


def cases_export(
    store: Store,
    *,
    zone: ZoneInfo,
    now: datetime,
    status: str | None = None,
    event_id: str | None = None,
    limit: int = 1000,
    policy: DeadlinePolicy | None = None,
    visible: Callable[[Case], bool] | None = None,
) -> Export:
    """Stored cases, newest opened first, with their first-statement deadline and
    timeliness at ``now`` (as the case list shows them); only those ``visible`` says
    (a department's data scope, :mod:`yuqing.privacy.scope`) when given."""
    if status is not None and status not in STATUSES:
        raise UsageError(f"case status {status!r}: use one of {', '.join(STATUSES)}")
    rule = policy or DeadlinePolicy()
    repository = StoreCaseRepository(store)
    checked: CaseStatus | None = status  # narrowed by the check above
    if visible is None:
        cases = repository.list_cases(checked, event_id=event_id, limit=limit)
    else:
        found = repository.list_cases(checked, event_id=event_id, limit=max(limit, 5000))
        cases = [case for case in found if visible(case)][:limit]
    rows: list[list[Cell]] = []
    for case in cases:
        on_time = timeliness(case, now, rule, tz=zone)
        published = sum(1 for s in case.statements if s.published_at is not None)
        done = sum(1 for i in case.checklist if i.done_at is not None)
        level = f"{case.level}级（{LEVEL_LABELS[case.level]}）"
        rows.append(
            [
                case.id,
                case.title,
                level,
                STATUS_LABELS[case.status],
                case.owner,
                "、".join(case.departments) or None,
                case.event_id,
                case.alert_id,
                case.opened_at,
                case.opened_by,
                case.level_reason or None,
                first_statement_due(case, rule),
                TIMELINESS_LABELS.get(on_time.status, on_time.status),
                on_time.summary,
                f"{published}/{len(case.statements)}",
                f"{done}/{len(case.checklist)}",
                case.closed_at,
            ]
        )
    return Export(
        kind="cases",
        title="案件列表",
        filters=[
            ("状态", filter_value(checked and STATUS_LABELS[checked])),
            ("所属事件", filter_value(event_id)),
            ("最多条数", str(limit)),
        ],
        tables=[Table("案件", CASE_HEADERS, rows)],
        zone=zone,
        created_at=now,
    )
