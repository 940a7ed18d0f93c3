"""The typed briefing that renderers print and ``verify.py`` checks: figures, events,
risk posts and charts, each quoted post kept as a :class:`Citation`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

Kind = Literal["daily", "weekly", "special"]
KINDS: tuple[str, ...] = get_args(Kind)
QUOTE_CHARS = 120  # a quote is exactly the first 120 characters of the stored text

TITLES = {"daily": "舆情日报", "weekly": "舆情周报", "special": "舆情专报"}
SENTIMENT = {"negative": "负面", "neutral": "中性", "positive": "正面"}
SENTIMENT_COLORS = {"negative": "#d9534f", "neutral": "#9aa5b1", "positive": "#3a9d5d"}
RISK = {"ordinary": "一般舆论", "group_incident": "群体性事件风险", "rumor": "谣言嫌疑"}
NO_DATA = "暂无数据"
NO_ALERTS = "本期无预警"
NO_CASES = "本期无案件"
CitationKind = Literal["post", "alert", "case"]


@dataclass(frozen=True, slots=True)
class Citation:
    """One stored item that the briefing quotes. For a post (``kind="post"``) ``quote`` is
    exactly the first :data:`QUOTE_CHARS` characters of its stored ``text`` (``length`` is
    the full length); for an alert or a case (``kind`` "alert"/"case", ``source`` the same
    word) ``id`` is the stored id and ``quote`` its stored title, whole."""

    source: str
    id: str
    quote: str
    length: int
    link: str
    url: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    kind: CitationKind = "post"

    @property
    def truncated(self) -> bool:
        return self.length > len(self.quote)


@dataclass(frozen=True, slots=True)
class Figure:
    """A headline number: ``key`` names the store count behind it (see
    :func:`headline_values`), ``basis`` says in words how it was computed, ``link`` is the
    API query that returns the same count, ``evidence`` the posts shown beside it."""

    key: str
    label: str
    value: float
    display: str
    basis: str
    link: str
    evidence: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class ConcernItem:
    """A question or demand of the public (疑问与诉求, :mod:`yuqing.judgement.demands`), cited
    to its sample posts."""

    kind_label: str  # 疑问, 要求公开 ...
    label: str
    posts: int
    mentions: int
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class AdviceItem:
    """A response strategy (应对策略, :mod:`yuqing.judgement.strategy`), cited to the posts
    whose questions and demands it answers (else the event's key posts)."""

    priority: int
    name: str
    summary: str
    reason: str
    dos: tuple[str, ...]
    donts: tuple[str, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(slots=True)
class EventSummary:
    """One event in the period: counts, heat, lifecycle and quoted posts."""

    id: str
    title: str
    link: str
    posts: int
    heat: float
    stage: str
    stage_label: str
    stage_reasons: list[str]
    sentiment: dict[str, int]
    risk: dict[str, int]
    first_seen: datetime | None
    last_seen: datetime | None
    quotes: list[Citation] = field(default_factory=list)
    questions: list[ConcernItem] = field(default_factory=list)  # daily/weekly: the top ones

    @property
    def negative_share(self) -> float:
        labelled = sum(self.sentiment.values())
        return self.sentiment.get("negative", 0) / labelled if labelled else 0.0


@dataclass(frozen=True, slots=True)
class RiskPost:
    """A post with group-incident or rumour risk, with the analysis' own reasons."""

    citation: Citation
    risk_type: str
    score: float
    reasons: tuple[str, ...]

    @property
    def risk_label(self) -> str:
        return RISK.get(self.risk_type, self.risk_type)


@dataclass(frozen=True, slots=True)
class AlertItem:
    """A stored alert raised in the period, with its labels in Chinese."""

    citation: Citation
    created_at: datetime
    severity: str
    severity_label: str
    rule_id: str
    kind_label: str
    status: str
    status_label: str


@dataclass(frozen=True, slots=True)
class CaseItem:
    """A stored case opened or active in the period, with its first-statement timeliness
    (``timeliness``: on_time, late, pending or overdue, at the briefing's ``as_of``)."""

    citation: Citation
    level: str
    level_label: str
    status: str
    status_label: str
    owner: str | None
    opened_at: datetime
    due: datetime
    timeliness: str
    timeliness_label: str
    timeliness_summary: str


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    png: bytes
    caption: str


@dataclass(slots=True)
class Briefing:
    """Everything a renderer prints. ``since``/``until`` are None for a special report over
    the event's whole life; ``as_of`` is the time heat and lifecycle were computed at."""

    kind: Kind
    title: str
    period: str
    since: datetime | None
    until: datetime | None
    zone: str
    public_url: str
    generated_at: datetime
    as_of: datetime
    figures: list[Figure]
    charts: list[Chart] = field(default_factory=list)
    events: list[EventSummary] = field(default_factory=list)
    risks: list[RiskPost] = field(default_factory=list)
    event: EventSummary | None = None
    event_id: str | None = None
    first_post: Citation | None = None
    key_posts: list[Citation] = field(default_factory=list)
    timeline: list[tuple[str, int]] = field(default_factory=list)
    alerts: list[AlertItem] = field(default_factory=list)
    alert_counts: dict[str, int] = field(default_factory=dict)  # by severity label
    acknowledged: int = 0
    cases: list[CaseItem] = field(default_factory=list)
    alerts_note: str = NO_ALERTS
    cases_note: str = NO_CASES
    questions: list[ConcernItem] = field(default_factory=list)  # special: the digest
    demands: list[ConcernItem] = field(default_factory=list)
    advice: list[AdviceItem] = field(default_factory=list)
    judgement_note: str = ""  # why the digest is empty or thin

    @property
    def acknowledged_share(self) -> float:
        return self.acknowledged / len(self.alerts) if self.alerts else 0.0

    @property
    def empty(self) -> bool:
        return not any(f.key == "posts" and f.value > 0 for f in self.figures)

    def citations(self) -> list[Citation]:
        """Every quoted post, once, in reading order."""
        found: dict[tuple[str, str, str], Citation] = {}
        groups: list[list[Citation]] = [[c for f in self.figures for c in f.evidence]]
        groups += [e.quotes for e in ([self.event] if self.event else []) + self.events]
        groups += [[self.first_post] if self.first_post else [], self.key_posts]
        groups += [[r.citation for r in self.risks]]
        groups += [[a.citation for a in self.alerts], [c.citation for c in self.cases]]
        concerns: list[ConcernItem | AdviceItem] = [*self.questions, *self.demands, *self.advice]
        concerns += [q for e in self.events for q in e.questions]
        groups += [list(item.citations) for item in concerns]
        for group in groups:
            for c in group:
                found.setdefault((c.kind + ":" + c.source, c.id, c.quote), c)
        return list(found.values())

    def event_ids(self) -> list[str]:
        ids = [e.id for e in self.events] + ([self.event.id] if self.event else [])
        return list(dict.fromkeys(ids))
