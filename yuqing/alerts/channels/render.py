"""Alerts written for people, in Chinese: a subject line, plain text, HTML and markdown.

E-mail uses text + HTML; the DingTalk and WeCom robots use markdown (each accepts a small
subset: headings, bold, links, quotes). Times are shown in the configured zone.
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from yuqing.alerts.alert import Alert

DEFAULT_ZONE = "Asia/Shanghai"
# Robot markdown has no reliable escape (DingTalk shows a backslash as is), so characters
# that would start a link, emphasis or code become their full-width forms. ``#`` and ``>``
# stay: every line we write starts with our own prefix, and #话题# is common on Weibo.
_MD_SPECIAL = str.maketrans({"[": "［", "]": "］", "*": "＊", "`": "｀"})


def local_time(when: datetime | None, zone: ZoneInfo) -> str:
    return "" if when is None else when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def subject(alert: Alert, prefix: str = "[舆情预警]") -> str:
    """One line: prefix, severity, title."""
    return f"{prefix}【{alert.severity_label}】{alert.title}".strip()


def _facts(alert: Alert, zone: ZoneInfo) -> list[tuple[str, str]]:
    facts = [
        ("级别", alert.severity_label),
        ("类型", alert.kind_label),
        ("规则", alert.rule_id),
        ("时间", local_time(alert.created_at, zone)),
    ]
    if alert.event_id:
        facts.append(("事件", alert.event_id))
    if alert.suppressed:
        facts.append(("已合并", f"{alert.suppressed} 次"))
    return facts


def plain_text(alert: Alert, zone: ZoneInfo) -> str:
    """The plain-text body of an e-mail."""
    lines = [alert.title, ""]
    lines += [f"{k}：{v}" for k, v in _facts(alert, zone)]
    if alert.reasons:
        lines += ["", "触发原因："] + [f"  - {r}" for r in alert.reasons]
    if alert.samples:
        lines += ["", "样例信息："]
        for i, s in enumerate(alert.samples, 1):
            when = local_time(s.published_at, zone)
            lines.append(f"  {i}. [{s.source}] {when} {s.text}".rstrip())
            if s.url:
                lines.append(f"     {s.url}")
    lines += ["", f"查看详情：{alert.link}", "", "—— yuqing 舆情监测系统自动发送"]
    return "\n".join(lines) + "\n"


def html_body(alert: Alert, zone: ZoneInfo) -> str:
    """The HTML alternative of an e-mail (inline styles only: mail clients drop CSS)."""
    e = html.escape
    rows = "".join(
        f"<tr><th align='left' style='padding-right:1em'>{e(k)}</th><td>{e(v)}</td></tr>"
        for k, v in _facts(alert, zone)
    )
    parts = [f"<h2>{e(alert.title)}</h2>", f"<table>{rows}</table>"]
    if alert.reasons:
        items = "".join(f"<li>{e(r)}</li>" for r in alert.reasons)
        parts.append(f"<h3>触发原因</h3><ul>{items}</ul>")
    if alert.samples:
        samples: list[str] = []
        for s in alert.samples:
            text = e(s.text)
            if s.url:
                text = f"<a href='{e(s.url, quote=True)}'>{text}</a>"
            samples.append(f"<li>[{e(s.source)}] {e(local_time(s.published_at, zone))} {text}</li>")
        parts.append(f"<h3>样例信息</h3><ol>{''.join(samples)}</ol>")
    parts.append(f"<p><a href='{e(alert.link, quote=True)}'>查看详情</a></p>")
    parts.append("<p style='color:#888'>yuqing 舆情监测系统自动发送</p>")
    body = "\n".join(parts)
    return f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"


def md_escape(text: str) -> str:
    return text.translate(_MD_SPECIAL)


def markdown(alert: Alert, zone: ZoneInfo, max_bytes: int | None = None) -> str:
    """A robot message in markdown; cut to ``max_bytes`` of UTF-8 if given (WeCom: 4096)."""
    head = [f"### {md_escape(alert.title)}", ""]
    head += [f"**{k}**：{md_escape(v)}  " for k, v in _facts(alert, zone)]
    tail = ["", f"[查看详情]({alert.link})"]
    body: list[str] = []
    if alert.reasons:
        body += ["", "**触发原因**", ""] + [f"- {md_escape(r)}" for r in alert.reasons]
    if alert.samples:
        body += ["", "**样例信息**", ""]
        for i, s in enumerate(alert.samples, 1):
            text = md_escape(s.text)
            line = f"> {i}. [{md_escape(s.source)}] {text}"
            if s.url:
                line += f" [原文]({s.url})"
            body.append(line)
    text = "\n".join(head + body + tail)
    if max_bytes is None or len(text.encode("utf-8")) <= max_bytes:
        return text
    # Too long: drop sample lines from the end, keeping the header, reasons and link.
    while body and len("\n".join([*head, *body, "…", *tail]).encode("utf-8")) > max_bytes:
        body.pop()
    text = "\n".join([*head, *body, "…", *tail])
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
