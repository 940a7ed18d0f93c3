"""Counters over analysed posts, printed at the end of `yuqing demo`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from yuqing.models import EMOTION_LABELS, RISK_LABELS, SENTIMENT_LABELS, Document

SENTIMENT_ZH, EMOTION_ZH, RISK_ZH = SENTIMENT_LABELS, EMOTION_LABELS, RISK_LABELS
BLOCKS = " ▁▂▃▄▅▆▇█"


@dataclass
class DemoSummary:
    title: str = "鄞州实验中学食堂事件"
    posts: int = 0
    sentiment: Counter[str] = field(default_factory=Counter)
    emotion: Counter[str] = field(default_factory=Counter)
    risk: Counter[str] = field(default_factory=Counter)
    keywords: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)
    duplicates: int = 0
    reposts: int = 0
    events: int = 0
    alerts: int = 0

    def add(self, docs: Sequence[Document]) -> None:
        for doc in docs:
            self.posts += 1
            a = doc.analysis
            if a.get("sentiment"):
                self.sentiment[a["sentiment"]] += 1
            if a.get("emotion"):
                self.emotion[a["emotion"]] += 1
            risk = a.get("risk") or {}
            if risk.get("type"):
                self.risk[risk["type"]] += 1
            for region in a.get("regions") or []:
                self.regions[region["name"]] += 1
            for word, _ in doc.keywords[:3]:
                self.keywords[word] += 1
            if doc.published_at is not None:
                self.hours[int(doc.published_at.timestamp() // 3600)] += 1
            self.duplicates += doc.duplicate_of is not None
            self.reposts += doc.repost_of is not None

    def sparkline(self) -> str:
        if not self.hours:
            return ""
        lo, hi = min(self.hours), max(self.hours)
        values = [self.hours.get(h, 0) for h in range(lo, hi + 1)]
        step = -(-len(values) // 48)  # at most 48 characters wide
        values = [sum(values[i : i + step]) for i in range(0, len(values), step)]
        top = max(values)
        return "".join(BLOCKS[round(v / top * (len(BLOCKS) - 1))] for v in values)

    def print(self, console: Console) -> None:
        table = Table(title=f"演示场景：{self.title}", show_header=False, title_style="bold")
        table.add_row("帖文", str(self.posts))
        table.add_row("近似重复 / 转发链", f"{self.duplicates} / {self.reposts}")
        if self.events:
            table.add_row("事件", str(self.events))
        if self.alerts:
            table.add_row("预警", str(self.alerts))
        table.add_row("每小时声量", self.sparkline())

        def dist(counter: Counter[str], names: dict[str, str]) -> str:
            total = sum(counter.values()) or 1
            return "  ".join(f"{names.get(k, k)} {v / total:.0%}" for k, v in counter.most_common())

        if self.sentiment:
            table.add_row("情感", dist(self.sentiment, SENTIMENT_ZH))
        if self.emotion:
            table.add_row("情绪", dist(self.emotion, EMOTION_ZH))
        if self.risk:
            table.add_row("风险类型", dist(self.risk, RISK_ZH))
        table.add_row("热词", "、".join(w for w, _ in self.keywords.most_common(12)))
        if self.regions:
            table.add_row("地域", "、".join(f"{w}({n})" for w, n in self.regions.most_common(6)))
        console.print(table)
