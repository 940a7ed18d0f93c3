"""Score a drill: how fast and how well the trainee noticed, opened a case, answered
and briefed, read from the drill's own store after the run.

All times are scenario time (the drill clock). :func:`score_drill` reads the alerts
(first raised, first acknowledged) and the cases (opened, action log, statements) from
the store, scores five components with the rubric in docs/drills.md (*Scoring*) and
merges the drill's timeline with the trainee's actions. :func:`score_command` is the
``yuqing drill score`` entry point (JSON and a Simplified-Chinese HTML report).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from yuqing.cases.case import Case
from yuqing.cases.deadlines import DeadlinePolicy, first_statement_due, format_minutes
from yuqing.cases.principles import check_statement
from yuqing.drill.replay import DrillReport, TimelineEntry, sorted_timeline
from yuqing.errors import UsageError
from yuqing.store.base import Store, StoredAlert
from yuqing.store.url import open_store

__all__ = ["Component", "DrillScore", "render_html", "score_command", "score_drill"]

_SHANGHAI = ZoneInfo("Asia/Shanghai")

# (limit in minutes, points): the first limit the measured time is within gives the points.
ACK_STEPS: tuple[tuple[float, int], ...] = ((15, 20), (60, 15), (240, 8), (float("inf"), 3))
CASE_STEPS: tuple[tuple[float, int], ...] = ((60, 20), (180, 15), (360, 8), (float("inf"), 4))
ACK_MAX, CASE_MAX, TIMELY_MAX, CHECK_MAX, BRIEFING_MAX = 20, 20, 25, 25, 10
LATE_SHORT = timedelta(hours=1)  # late by at most this: half marks
FAILURE_PENALTY = 2  # statement check: points off per common failure flagged


@dataclass(slots=True)
class Component:
    """One scored component: ``status`` is a short Chinese word (未确认, 按时, ...)."""

    key: str
    label: str
    points: int
    max_points: int
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "points": self.points,
            "max_points": self.max_points,
            "status": self.status,
            "detail": self.detail,
            "data": self.data,
        }


@dataclass(slots=True)
class DrillScore:
    """The score of one drill: components, total out of 100, grade, merged timeline."""

    scenario: str
    title: str
    started_at: datetime
    ended_at: datetime
    components: list[Component]
    timeline: list[TimelineEntry]

    @property
    def total(self) -> int:
        return sum(c.points for c in self.components)

    @property
    def grade(self) -> str:
        total = self.total
        if total >= 85:
            return "优秀"
        if total >= 70:
            return "良好"
        if total >= 60:
            return "合格"
        return "不合格"

    def component(self, key: str) -> Component:
        for comp in self.components:
            if comp.key == key:
                return comp
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "title": self.title,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "total": self.total,
            "max_total": sum(c.max_points for c in self.components),
            "grade": self.grade,
            "components": [c.as_dict() for c in self.components],
            "timeline": [e.as_dict() for e in self.timeline],
        }


# -- reading the report ----------------------------------------------------------------


def _aware(value: object, where: str) -> datetime:
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise UsageError(f"drill report: {where} is not an ISO 8601 time: {value!r}") from exc
    if when.tzinfo is None:
        raise UsageError(f"drill report: {where} {value!r} has no time zone")
    return when


def _report_parts(
    report: DrillReport | Mapping[str, Any],
) -> tuple[str, str, datetime, datetime, list[TimelineEntry]]:
    """Scenario name, title, start, end and timeline of a report or its ``as_dict()``."""
    if isinstance(report, DrillReport):
        return (
            report.scenario,
            report.title,
            report.started_at,
            report.ended_at,
            list(report.timeline),
        )
    try:
        entries = [
            TimelineEntry(
                _aware(e["at"], f"timeline[{i}].at"),
                str(e["kind"]),
                str(e.get("detail", "")),
                dict(e.get("data") or {}),
            )
            for i, e in enumerate(report.get("timeline") or [])
        ]
        return (
            str(report["scenario"]),
            str(report.get("title", report["scenario"])),
            _aware(report["started_at"], "started_at"),
            _aware(report["ended_at"], "ended_at"),
            entries,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise UsageError(
            f"drill report is missing or has a broken field ({exc!r}): give the JSON that "
            "`yuqing drill run` wrote (DrillReport.as_dict())"
        ) from exc


def _local(when: datetime) -> str:
    return when.astimezone(_SHANGHAI).strftime("%m-%d %H:%M")


def _minutes(delta: timedelta) -> float:
    return round(max(0.0, delta.total_seconds() / 60), 1)


def _step(minutes: float, steps: Sequence[tuple[float, int]]) -> int:
    return next(points for limit, points in steps if minutes <= limit)


# -- components --------------------------------------------------------------------------


def _acknowledge(alerts: Sequence[StoredAlert]) -> Component:
    label = "确认预警"
    if not alerts:
        return Component(
            "acknowledge", label, ACK_MAX, ACK_MAX, "无预警", "演练中没有产生预警，无需确认。"
        )
    first = min(a.alert.created_at for a in alerts)
    acked = [a.acknowledged_at for a in alerts if a.acknowledged_at is not None]
    if not acked:
        return Component(
            "acknowledge",
            label,
            0,
            ACK_MAX,
            "未确认",
            f"首条预警于 {_local(first)} 产生，未确认任何预警。",
            {"first_alert_at": first.isoformat()},
        )
    at = min(acked)
    minutes = _minutes(at - first)
    return Component(
        "acknowledge",
        label,
        _step(minutes, ACK_STEPS),
        ACK_MAX,
        "已确认",
        f"首条预警于 {_local(first)} 产生，{_local(at)} 首次确认，用时 {format_minutes(minutes)}。",
        {
            "first_alert_at": first.isoformat(),
            "acknowledged_at": at.isoformat(),
            "minutes": minutes,
        },
    )


def _case_opened(
    alerts: Sequence[StoredAlert], cases: Sequence[Case], start: datetime
) -> Component:
    label = "立案"
    first_alert = min((a.alert.created_at for a in alerts), default=None)
    if not cases:
        if first_alert is None:
            return Component("case", label, CASE_MAX, CASE_MAX, "无需立案", "没有预警，也未立案。")
        return Component(
            "case", label, 0, CASE_MAX, "未立案", f"首条预警于 {_local(first_alert)} 产生，未立案。"
        )
    reference = first_alert or start
    what = "首条预警" if first_alert else "事件开始"
    opened = min(c.opened_at for c in cases)
    minutes = _minutes(opened - reference)
    return Component(
        "case",
        label,
        _step(minutes, CASE_STEPS),
        CASE_MAX,
        "已立案",
        f"{what}于 {_local(reference)}，{_local(opened)} 立案，用时 {format_minutes(minutes)}。",
        {"from": reference.isoformat(), "opened_at": opened.isoformat(), "minutes": minutes},
    )


def _statement_case(cases: Sequence[Case]) -> Case | None:
    """The case whose statement went out first; else the first opened; None without cases."""
    published = [c for c in cases if c.first_published_at is not None]
    if published:
        return min(published, key=lambda c: c.first_published_at or c.opened_at)
    return min(cases, key=lambda c: c.opened_at) if cases else None


def _timely(case: Case | None, policy: DeadlinePolicy | None) -> Component:
    label = "首次通报时效"
    if case is None:
        return Component("timeliness", label, 0, TIMELY_MAX, "未发布", "未立案，也未发布通报。")
    due = first_statement_due(case, policy)
    published = case.first_published_at
    data: dict[str, Any] = {"case_id": case.id, "level": case.level, "due": due.isoformat()}
    if published is None:
        return Component(
            "timeliness",
            label,
            0,
            TIMELY_MAX,
            "未发布",
            f"案件 {case.id} 未发布首次通报（时限 {_local(due)}）。",
            data,
        )
    data["published_at"] = published.isoformat()
    margin = due - published
    data["margin_minutes"] = round(margin.total_seconds() / 60, 1)
    if margin >= timedelta(0):
        return Component(
            "timeliness",
            label,
            TIMELY_MAX,
            TIMELY_MAX,
            "按时",
            f"{_local(published)} 发布，较时限（{_local(due)}）提前 {format_minutes(_minutes(margin))}。",
            data,
        )
    points = TIMELY_MAX // 2 if -margin <= LATE_SHORT else 5
    return Component(
        "timeliness",
        label,
        points,
        TIMELY_MAX,
        "超时",
        f"{_local(published)} 发布，较时限（{_local(due)}）超时 {format_minutes(_minutes(-margin))}。",
        data,
    )


def _quality(case: Case | None, policy: DeadlinePolicy | None) -> Component:
    label = "通报质量（四项原则）"
    statement = None
    if case is not None:
        out = [s for s in case.statements if s.published_at is not None]
        statement = min(out, key=lambda s: s.published_at or s.drafted_at) if out else None
    if case is None or statement is None or statement.published_at is None:
        return Component("check", label, 0, CHECK_MAX, "未发布", "没有已发布的通报可供检查。")
    check = check_statement(statement.text, case=case, now=statement.published_at, policy=policy)
    passed = sum(r.passed for r in check.results)
    failed = [f"{r.label}：{r.explanation}" for r in check.results if not r.passed]
    flags = [f"{f.label}：{f.explanation}" for f in check.failures]
    points = max(0, round(CHECK_MAX * passed / len(check.results)) - FAILURE_PENALTY * len(flags))
    detail = f"通报 {statement.id} 通过 {passed}/{len(check.results)} 项原则"
    detail += f"，发现 {len(flags)} 项常见问题。" if flags else "。"
    return Component(
        "check",
        label,
        points,
        CHECK_MAX,
        f"{passed}/{len(check.results)}",
        detail,
        {"statement_id": statement.id, "passed": passed, "failed": failed, "failures": flags},
    )


def _briefing(path: Path | None) -> Component:
    label = "提交简报"
    if path is None:
        return Component("briefing", label, 0, BRIEFING_MAX, "未提交", "未提交简报。")
    if not path.is_file() or path.stat().st_size == 0:
        return Component(
            "briefing",
            label,
            0,
            BRIEFING_MAX,
            "未提交",
            f"简报文件 {path} 不存在或为空。",
            {"path": str(path)},
        )
    return Component(
        "briefing",
        label,
        BRIEFING_MAX,
        BRIEFING_MAX,
        "已提交",
        f"已提交简报 {path.name}。",
        {"path": str(path)},
    )


# -- timeline ----------------------------------------------------------------------------

_ACTION_KINDS = {"opened": "case", "status": "status", "level": "status"}


def _trainee_timeline(
    alerts: Sequence[StoredAlert], cases: Sequence[Case], briefing: Path | None, end: datetime
) -> list[TimelineEntry]:
    """The trainee's actions: acknowledgements, cases opened, status/level changes,
    statements published, the briefing (at the drill's end)."""
    out: list[TimelineEntry] = []
    for a in alerts:
        if a.acknowledged_at is not None:
            out.append(
                TimelineEntry(
                    a.acknowledged_at,
                    "acknowledge",
                    f"确认预警「{a.alert.title}」（{a.acknowledged_by or '—'}）",
                    {"alert_id": a.alert.id},
                )
            )
    for case in cases:
        for action in case.actions:
            kind = _ACTION_KINDS.get(action.kind)
            if kind is not None:
                out.append(
                    TimelineEntry(
                        action.at,
                        kind,
                        f"{case.id}：{action.what}",
                        {"case_id": case.id, "who": action.who},
                    )
                )
        for s in case.statements:
            if s.published_at is not None:
                out.append(
                    TimelineEntry(
                        s.published_at,
                        "response",
                        f"{case.id}：发布通报 {s.id}",
                        {"case_id": case.id, "statement_id": s.id, "channel": s.channel},
                    )
                )
    if briefing is not None and briefing.is_file():
        out.append(TimelineEntry(end, "briefing", f"提交简报 {briefing.name}", {}))
    return out


# -- public API --------------------------------------------------------------------------


def score_drill(
    store: Store,
    report: DrillReport | Mapping[str, Any],
    *,
    now: datetime | None = None,
    briefing: Path | None = None,
    policy: DeadlinePolicy | None = None,
) -> DrillScore:
    """Score the trainee's work in the drill store ``store`` against ``report``.

    ``now`` (scenario time, default the report's end) bounds what counts: actions after
    it are left out. ``briefing`` is the path of the submitted briefing, if any;
    ``policy`` the first-statement deadlines (default :class:`DeadlinePolicy`).
    """
    name, title, start, end, drill_timeline = _report_parts(report)
    cutoff = now or end
    if cutoff.tzinfo is None:
        raise UsageError("score_drill: now must be timezone-aware (scenario time)")
    alerts = [a for a in store.alerts(limit=100_000) if a.alert.created_at <= cutoff]
    cases = [Case.from_dict(c) for c in store.cases(limit=100_000)]
    cases = [c for c in cases if c.opened_at <= cutoff]
    for a in alerts:
        if a.acknowledged_at is not None and a.acknowledged_at > cutoff:
            a.acknowledged_at = None
    for c in cases:
        for s in c.statements:
            if s.published_at is not None and s.published_at > cutoff:
                s.published_at = None
    chosen = _statement_case(cases)
    components = [
        _acknowledge(alerts),
        _case_opened(alerts, cases, start),
        _timely(chosen, policy),
        _quality(chosen, policy),
        _briefing(briefing),
    ]
    trainee = [e for e in _trainee_timeline(alerts, cases, briefing, end) if e.at <= cutoff]
    timeline = sorted_timeline([*drill_timeline, *trainee])
    return DrillScore(name, title, start, end, components, timeline)


def render_html(score: DrillScore) -> str:
    """The score report as one self-contained HTML page (Simplified Chinese)."""
    env = Environment(
        loader=PackageLoader("yuqing.drill", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["local"] = lambda when: when.astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M")
    trainee = {"acknowledge", "case", "status", "response", "briefing"}
    return env.get_template("score.html").render(score=score, trainee=trainee)


def score_command(
    store_url: str,
    report_json: Path,
    out_html: Path | None,
    out_json: Path | None,
    *,
    briefing: Path | None = None,
    policy: DeadlinePolicy | None = None,
    out: TextIO | None = None,
) -> int:
    """``yuqing drill score``: score the drill in ``store_url`` described by the report
    at ``report_json``; write the HTML and/or JSON report; print the total. Returns 0.
    ``policy``: the first-statement deadlines (the CLI passes the ``[cases]
    first_statement`` settings through :func:`yuqing.cases.overdue_alerts.deadline_policy`;
    default :class:`DeadlinePolicy`)."""
    stream = out or sys.stdout
    try:
        data = json.loads(report_json.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(
            f"cannot read the drill report {report_json}: {exc.strerror or exc}; give the "
            "JSON file `yuqing drill run` wrote"
        ) from exc
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"drill report {report_json}, line {exc.lineno}, column {exc.colno}: not JSON "
            f"({exc.msg})"
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"drill report {report_json}: expected a JSON object")
    store = open_store(store_url)
    try:
        score = score_drill(store, data, briefing=briefing, policy=policy)
    finally:
        store.close()
    if out_json is not None:
        out_json.write_text(
            json.dumps(score.as_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    if out_html is not None:
        out_html.write_text(render_html(score), encoding="utf-8")
    stream.write(f"演练「{score.title}」得分 {score.total}/100（{score.grade}）\n")
    for c in score.components:
        stream.write(f"  {c.label}：{c.points}/{c.max_points} {c.status} — {c.detail}\n")
    return 0
