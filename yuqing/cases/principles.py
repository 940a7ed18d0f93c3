"""Checking a statement against the four principles of responding:
及时发声、注重有效、解决问题、态度诚恳.

Each principle gets a pass/fail and a Chinese explanation that names what was found and
what is missing. The rules read the text after :func:`yuqing.pipeline.normalize.normalize_text`
(Simplified, half-width punctuation), with the phrase lists below; a phrase written
``A…B`` matches A and B within one sentence (at most 20 characters apart). The lists are
documented in docs/response.md (a test keeps the page and the lists in step).

- 及时 (timely): the first statement is published before its deadline (or, for a draft,
  ``now`` is still before it).
- 有效 (effective): the text has a time, a place, a figure and a next-update time.
- 解决问题 (solving): at least ``min_measures`` distinct concrete measures
  (:data:`CONCRETE_MEASURES`).
- 态度诚恳 (sincere): no blame-shifting (:data:`BLAME_SHIFTING`); empty officialese
  (:data:`EMPTY_OFFICIALESE`) not standing in for measures; no vague agency
  (:data:`VAGUE_AGENCIES`) unless a department is actually named; and the public's
  concern acknowledged (:data:`ACKNOWLEDGEMENTS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from yuqing.cases.case import Case
from yuqing.cases.deadlines import DeadlinePolicy, first_statement_due, format_minutes
from yuqing.errors import UsageError
from yuqing.pipeline.normalize import normalize_text

if TYPE_CHECKING:
    from yuqing.cases.failures import FailureFlag, FailureRules

__all__ = [
    "ACKNOWLEDGEMENTS",
    "BLAME_SHIFTING",
    "CONCRETE_MEASURES",
    "EMPTY_OFFICIALESE",
    "NEXT_UPDATE",
    "PRINCIPLE_LABELS",
    "VAGUE_AGENCIES",
    "Check",
    "PrincipleResult",
    "check_statement",
]

Principle = Literal["timely", "effective", "solving", "sincere"]
PRINCIPLE_LABELS: dict[Principle, str] = {
    "timely": "及时",
    "effective": "有效",
    "solving": "解决问题",
    "sincere": "态度诚恳",
}

# 推卸责任: blame put on a scapegoat, the victims or the public.
BLAME_SHIFTING: tuple[str, ...] = (
    "纯属个人行为",
    "系个人行为",
    "临时工",
    "编外人员",
    "不明真相",
    "别有用心",
    "极少数人",
    "恶意炒作",
    "与本单位无关",
    "与我单位无关",
    "不代表本单位",
    "自身原因",
)
# 空话套话: fine beside measures, empty in their place.
EMPTY_OFFICIALESE: tuple[str, ...] = (
    "高度重视",
    "积极应对",
    "妥善处置",
    "妥善处理",
    "认真调查",
    "严肃处理",
    "正在调查",
    "正在处理",
    "依法依规处理",
    "加强管理",
    "引以为戒",
)
# 含糊主体: "the relevant departments" instead of saying which.
VAGUE_AGENCIES: tuple[str, ...] = ("相关部门", "有关部门", "相关单位", "有关单位")
# 回应关切: the public's concern acknowledged.
ACKNOWLEDGEMENTS: tuple[str, ...] = (
    "感谢…关注",
    "感谢…监督",
    "欢迎…监督",
    "理解…心情",
    "理解…关切",
    "理解…担忧",
    "回应…关切",
    "致歉",
    "道歉",
    "歉意",
    "深感痛心",
    "深表痛心",
    "诚恳接受",
    "虚心接受",
    "慰问",
    "哀悼",
)
# 具体措施: done or scheduled, with a verb that commits.
CONCRETE_MEASURES: tuple[str, ...] = (
    "已成立",
    "成立…调查组",
    "成立…工作组",
    "成立…专班",
    "封存",
    "约谈",
    "停业整顿",
    "责令…停业",
    "责令…整改",
    "依法控制",
    "刑事拘留",
    "行政拘留",
    "立案调查",
    "已立案",
    "送医",
    "全力救治",
    "停职",
    "免职",
    "召回",
    "下架",
    "抽检",
    "送检",
    "检测",
    "疏散",
    "启动…预案",
    "已暂停",
    "全面排查",
    "开通…热线",
    "已派出",
    "赶赴现场",
    "将于…公布",
    "将于…通报",
    "将于…发布",
)
# 下次通报: a promise of when the next information comes.
NEXT_UPDATE: tuple[str, ...] = (
    "将于…公布",
    "将于…通报",
    "将于…发布",
    "将于…告知",
    "及时公布…进展",
    "及时通报…进展",
    "及时发布…进展",
    "持续发布",
    "持续通报",
)
_GAP = r"[^。!?;\n]{0,20}?"
_TIME_RE = re.compile(
    r"\d{1,2}月\d{1,2}日|\d{1,2}[时点]|\d{1,2}:\d{2}|[今昨前](?:天|日)|[上下中]午|凌晨|傍晚|晚间|当晚"
)
_PLACE_RE = re.compile(
    r"[\u4e00-\u9fff]{1,12}?(?<![我本该此其])(?:省|市|区|县|镇|乡|村|街道|路|街|小区|学校|小学|中学|大学|幼儿园"
    r"|医院|食堂|广场|公园|车站|商场|工厂|酒店|餐厅|超市|工地)"
)
_FIGURE_RE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:名|人|例|家|起|户|辆|吨|元|万|批次|份|处|所|个|只|头|公斤|千克|米|%)"
    r"|[一二两三四五六七八九十百千万几]+(?:名|人|例|家|起|户|辆|批次|份|处|所)"
    r"|无人员伤亡|未造成人员伤亡"
)
_ORGAN_RE = re.compile(
    r"[\u4e00-\u9fff]{2,16}?(?<![我本该此其某])(?:局|委员会|卫健委|教委|厅|办公室|派出所|政府"
    r"|管委会|中心|公司|小学|中学|大学|医院|支队|大队|法院|检察院)"
)
_TRAILER_MAX = 25  # short final lines without a full stop: the signature and the date


def _compile(phrase: str) -> re.Pattern[str]:
    return re.compile(_GAP.join(re.escape(part) for part in phrase.split("…")))


_COMPILED: dict[str, re.Pattern[str]] = {}


def _pattern(phrase: str) -> re.Pattern[str]:
    pattern = _COMPILED.get(phrase)
    if pattern is None:
        pattern = _COMPILED[phrase] = _compile(phrase)
    return pattern


def _find(text: str, phrases: Iterable[str]) -> list[tuple[int, int, str]]:
    """Every match of every phrase: (start, end, matched text)."""
    found = []
    for phrase in phrases:
        for match in _pattern(phrase).finditer(text):
            found.append((match.start(), match.end(), match.group()))
    return sorted(found)


def _distinct(spans: list[tuple[int, int, str]]) -> list[str]:
    """Matched texts with overlapping spans merged (已成立调查组 counts once)."""
    out: list[str] = []
    end = -1
    for start, stop, text in spans:
        if start < end:
            if stop > end and out:
                out[-1] = out[-1] + text[end - start :]
                end = stop
            continue
        out.append(text)
        end = stop
    return out


def _quote(items: Sequence[str], limit: int = 4) -> str:
    shown = "、".join(f"「{i}」" for i in list(dict.fromkeys(items))[:limit])
    return shown + ("等" if len(set(items)) > limit else "")


def _is_short(line: str) -> bool:
    return len(line.strip()) <= _TRAILER_MAX and "。" not in line


def _body(text: str) -> str:
    """The text without its title line and its trailing signature and date lines: the
    date a statement is signed is not the time of the event."""
    lines = text.strip().split("\n")
    if len(lines) > 1 and _is_short(lines[0]) and lines[0].strip().endswith("通报"):
        lines.pop(0)
    while lines and _is_short(lines[-1]):
        lines.pop()
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class PrincipleResult:
    """One principle: passed or not, why (Chinese), and the phrases that decided it."""

    name: Principle
    label: str
    passed: bool
    explanation: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """The four results, in the order 及时, 有效, 解决问题, 态度诚恳, and the common
    failures found (:mod:`yuqing.cases.failures`; ``passed`` reads the principles only)."""

    results: tuple[PrincipleResult, ...]
    failures: tuple[FailureFlag, ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __getitem__(self, name: str) -> PrincipleResult:
        for result in self.results:
            if name in (result.name, result.label):
                return result
        raise KeyError(name)

    def summary(self) -> str:
        """One line per principle: ``✓ 及时：…`` / ``✗ 态度诚恳：…``, then one per failure
        found: ``⚠ 推诿：…``."""
        lines = [f"{'✓' if r.passed else '✗'} {r.label}：{r.explanation}" for r in self.results]
        lines += [f"⚠ {f.label}：{f.explanation}" for f in self.failures]
        return "\n".join(lines)


def _timely(case: Case, now: datetime, policy: DeadlinePolicy | None) -> PrincipleResult:
    due = first_statement_due(case, policy)
    first = case.first_published_at
    label = PRINCIPLE_LABELS["timely"]
    if first is not None:
        margin = (due - first).total_seconds() / 60
        if margin >= 0:
            text = f"首次通报已在时限内发布（提前 {format_minutes(margin)}），本稿为续报。"
        else:
            text = f"首次通报晚于时限 {format_minutes(margin)} 发布；续报应尽快发出并说明进展。"
        return PrincipleResult("timely", label, margin >= 0, text)
    margin = (due - now).total_seconds() / 60
    if margin >= 0:
        text = f"距首次通报时限还有 {format_minutes(margin)}，现在发布符合及时要求。"
    else:
        text = f"已超过首次通报时限 {format_minutes(margin)}，应立即发布并说明迟报原因。"
    return PrincipleResult("timely", label, margin >= 0, text)


def _effective(text: str) -> PrincipleResult:
    checks = {
        "时间": [m.group() for m in _TIME_RE.finditer(text)],
        "地点": [m.group() for m in _PLACE_RE.finditer(text)],
        "数字": [m.group() for m in _FIGURE_RE.finditer(text)],
        "下次通报时间": [t for _, _, t in _find(text, NEXT_UPDATE)],
    }
    have = [f"{k}（{v[0]}）" for k, v in checks.items() if v]
    missing = [k for k, v in checks.items() if not v]
    evidence = tuple(v[0] for v in checks.values() if v)
    label = PRINCIPLE_LABELS["effective"]
    if not missing:
        return PrincipleResult(
            "effective", label, True, "包含" + "、".join(have) + "，信息具体。", evidence
        )
    found = ("已有" + "、".join(have) + "；") if have else ""
    advice = {
        "时间": "写明事件发生的具体时间",
        "地点": "写明具体地点",
        "数字": "给出已核实的数字（人数、伤亡、送检批次等），没有伤亡也写明",
        "下次通报时间": "承诺下次通报的时间（如“将于X日X时前公布”）",
    }
    text_out = (
        found + "缺少" + "、".join(missing) + "：" + "；".join(advice[k] for k in missing) + "。"
    )
    return PrincipleResult("effective", label, False, text_out, evidence)


def _solving(text: str, min_measures: int) -> PrincipleResult:
    measures = _distinct(_find(text, CONCRETE_MEASURES))
    empty = [t for _, _, t in _find(text, EMPTY_OFFICIALESE)]
    label = PRINCIPLE_LABELS["solving"]
    if len(measures) >= min_measures:
        return PrincipleResult(
            "solving",
            label,
            True,
            f"有 {len(measures)} 项具体措施：{_quote(measures)}。",
            tuple(measures),
        )
    got = f"只有 {len(measures)} 项具体措施{('：' + _quote(measures)) if measures else ''}"
    vague = f"；{_quote(empty)}是表态，不是措施" if empty else ""
    return PrincipleResult(
        "solving",
        label,
        False,
        f"{got}{vague}。请写明已经做了什么、谁在做（如“已成立联合调查组”“已封存留样并送检”"
        f"“已约谈涉事单位负责人”“将于X日前公布调查结果”），至少 {min_measures} 项。",
        tuple(measures),
    )


def _sincere(text: str, case: Case) -> PrincipleResult:
    problems: list[str] = []
    evidence: list[str] = []
    blame = _distinct(_find(text, BLAME_SHIFTING))
    if blame:
        problems.append(f"使用了推卸责任的说法{_quote(blame)}，容易激化情绪")
        evidence += blame
    empty = _distinct(_find(text, EMPTY_OFFICIALESE))
    if empty and not _find(text, CONCRETE_MEASURES):
        problems.append(f"只有{_quote(empty)}等表态而没有具体行动，显得空洞")
        evidence += empty
    vague = _distinct(_find(text, VAGUE_AGENCIES))
    if vague:
        body = _body(text)
        named = [m.group() for m in _ORGAN_RE.finditer(body)]
        named += [d for d in [*case.departments, case.owner or ""] if d and d in body]
        if not named:
            problems.append(f"以{_quote(vague)}代替具体单位，未说明由谁负责")
            evidence += vague
    acknowledged = _distinct(_find(text, ACKNOWLEDGEMENTS))
    if not acknowledged:
        problems.append("没有回应公众关切（如“感谢关注”“理解家长的心情”“深表歉意”）")
    label = PRINCIPLE_LABELS["sincere"]
    if problems:
        return PrincipleResult("sincere", label, False, "；".join(problems) + "。", tuple(evidence))
    return PrincipleResult(
        "sincere",
        label,
        True,
        f"回应了公众关切（{_quote(acknowledged)}），没有推卸责任或空话套话。",
        tuple(acknowledged),
    )


def check_statement(
    text: str,
    *,
    case: Case,
    now: datetime,
    policy: DeadlinePolicy | None = None,
    min_measures: int = 2,
    questions: Sequence[str] = (),
    previous_statements: Sequence[str] = (),
    failure_rules: FailureRules | None = None,
) -> Check:
    """Check ``text`` (a draft to be published at ``now``, or a published statement of
    ``case``) against the four principles; see the module docstring for the rules.
    ``Check.failures`` adds the common failures (:func:`~yuqing.cases.failures.check_failures`
    with ``questions``, ``previous_statements`` and ``failure_rules``)."""
    from yuqing.cases.failures import check_failures  # failures imports this module

    if now.tzinfo is None:
        raise UsageError("check_statement: now must be timezone-aware (take it from the Clock)")
    if not text.strip():
        raise UsageError("check_statement: the statement is empty")
    norm = "\n".join(normalize_text(line) for line in text.split("\n"))
    return Check(
        (
            _timely(case, now, policy),
            _effective(_body(norm)),
            _solving(norm, min_measures),
            _sincere(norm, case),
        ),
        tuple(
            check_failures(
                text,
                case=case,
                now=now,
                previous_statements=previous_statements,
                questions=questions,
                policy=policy,
                rules=failure_rules,
            )
        ),
    )
