"""Drafting a 情况通报 (situation statement) from the facts of an event.

:func:`draft_statement` fills a :class:`StatementTemplate` with :class:`StatementFacts`:
time, place, what is known, what is being done, what comes next and when the next
update comes, in Simplified Chinese. A part the facts leave empty becomes a visible
``【待补充：…】`` placeholder rather than a vague phrase, so the editor sees what is
missing and :func:`yuqing.cases.principles.check_statement` flags it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from yuqing.errors import UsageError

__all__ = [
    "StatementFacts",
    "StatementTemplate",
    "draft_statement",
    "format_date",
    "format_time",
]

_SHANGHAI = ZoneInfo("Asia/Shanghai")
_NUMERALS = "一二三四五六七八九十"


def format_time(when: datetime, tz: ZoneInfo = _SHANGHAI) -> str:
    """``3月5日12时30分`` (``12时`` on the hour) in ``tz``."""
    if when.tzinfo is None:
        raise UsageError(f"statement times must be timezone-aware, got {when.isoformat()}")
    local = when.astimezone(tz)
    minute = f"{local.minute}分" if local.minute else ""
    return f"{local.month}月{local.day}日{local.hour}时{minute}"


def format_date(when: datetime, tz: ZoneInfo = _SHANGHAI) -> str:
    """``2026年3月5日`` in ``tz``."""
    if when.tzinfo is None:
        raise UsageError(f"statement times must be timezone-aware, got {when.isoformat()}")
    local = when.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日"


@dataclass(frozen=True, slots=True)
class StatementFacts:
    """What the issuer knows and does. ``summary`` is one clause of what happened
    ("多名学生午餐后出现腹痛、呕吐等症状"); ``known`` the facts established so far
    (figures welcome); ``measures`` what has been done, in concrete verbs ("已成立联合
    调查组", "已封存留样食品并送检"); ``next_steps`` what will be done."""

    event: str  # short name for the title: "某某中学食堂学生身体不适事件"
    issuer: str  # who speaks: "某某市教育局"
    occurred_at: datetime
    place: str
    summary: str
    known: Sequence[str] = ()
    measures: Sequence[str] = ()
    next_steps: Sequence[str] = ()
    next_update_at: datetime | None = None
    hotline: str | None = None
    issued_at: datetime | None = None
    concern: str = "感谢社会各界和广大网民的关注与监督。"
    apology: str | None = None  # "对此给学生和家长带来的担忧，我们深表歉意。"


@dataclass(frozen=True, slots=True)
class StatementTemplate:
    """The wording around the facts. Placeholders: ``{event}``, ``{time}``, ``{place}``,
    ``{summary}``, ``{concern}``, ``{apology}``, ``{issuer}``, ``{next_update}``,
    ``{hotline}``, ``{date}``; section bodies are numbered lists."""

    title: str = "关于{event}的情况通报"
    opening: str = "{time}，{place}{summary}。{concern}{apology}现将有关情况通报如下："
    known_header: str = "一、基本情况"
    measures_header: str = "二、已采取的措施"
    next_header: str = "三、下一步工作"
    next_update: str = "{issuer}将于{next_update}前通报调查处置进展，请以官方发布的信息为准。"
    hotline: str = "如有相关情况或线索，请拨打{hotline}反映。"
    missing: str = "【待补充：{what}】"
    placeholders: dict[str, str] = field(
        default_factory=lambda: {
            "known": "已核实的情况（涉及人数、伤亡和就医情况、起因）",
            "measures": "已采取的具体措施（如成立调查组、封存、送检、约谈）",
            "next_update": "下次通报时间",
            "date": "发布日期",
        }
    )


def _sentence(text: str) -> str:
    text = text.strip().rstrip("。；;，,")
    return text + "。" if text else text


def _numbered(lines: Sequence[str], missing: str) -> list[str]:
    items = [_sentence(line) for line in lines if line.strip()]
    if not items:
        return [missing]
    out = []
    for index, item in enumerate(items):
        mark = _NUMERALS[index] if index < len(_NUMERALS) else str(index + 1)
        out.append(f"（{mark}）{item}")
    return out


def draft_statement(
    facts: StatementFacts, template: StatementTemplate | None = None, *, tz: ZoneInfo = _SHANGHAI
) -> str:
    """A 情况通报 for ``facts``: title, opening (time, place, what happened, thanks for
    the public's attention), what is known, what has been done, next steps with the time
    of the next update, and the issuer with the date."""
    tpl = template or StatementTemplate()
    for name in ("event", "issuer", "place", "summary"):
        if not str(getattr(facts, name)).strip():
            raise UsageError(f"draft_statement: the facts need a non-empty {name!r}")
    missing = {k: tpl.missing.format(what=v) for k, v in tpl.placeholders.items()}
    values = {
        "event": facts.event.strip(),
        "time": format_time(facts.occurred_at, tz),
        "place": facts.place.strip(),
        "summary": facts.summary.strip().rstrip("。"),
        "concern": facts.concern.strip(),
        "apology": (facts.apology or "").strip(),
        "issuer": facts.issuer.strip(),
        "next_update": (
            format_time(facts.next_update_at, tz)
            if facts.next_update_at
            else missing["next_update"]
        ),
        "hotline": (facts.hotline or "").strip(),
        "date": format_date(facts.issued_at, tz) if facts.issued_at else missing["date"],
    }
    next_lines = [_sentence(s) for s in facts.next_steps if s.strip()]
    next_text = "".join(next_lines) + tpl.next_update.format(**values)
    if values["hotline"]:
        next_text += tpl.hotline.format(**values)
    parts = [
        tpl.title.format(**values),
        "",
        tpl.opening.format(**values),
        "",
        tpl.known_header,
        *_numbered(facts.known, missing["known"]),
        "",
        tpl.measures_header,
        *_numbered(facts.measures, missing["measures"]),
        "",
        tpl.next_header,
        next_text,
        "",
        values["issuer"],
        values["date"],
    ]
    return "\n".join(parts) + "\n"
