"""Monitoring rules for the demo, so its 预警 inbox shows real alerts raised while the
scenario is ingested. Alerts are stamped on the posts' time (the clock follows the newest
post), as in a drill, and saved in the demo store; nothing is sent anywhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from yuqing.alerts.alert import Alert
from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.engine import AlertEngine
from yuqing.alerts.rules_config import load_rules
from yuqing.clock import ManualClock
from yuqing.models import Document
from yuqing.store.base import Store

DEMO_RULES: list[dict[str, object]] = [
    {
        "id": "demo-canteen",
        "name": "食堂食品安全",
        "query": "食堂 NEAR/12 (过期 OR 变质 OR 腹痛 OR 呕吐 OR 就医)",
        "severity": "high",
        "cooldown": "2h",
        "triggers": [
            {"kind": "count", "threshold": 10, "window": "1h"},
            {"kind": "negative_share", "threshold": 0.6, "window": "2h", "min_count": 8},
        ],
    },
    {
        "id": "demo-gathering",
        "name": "聚集风险",
        "query": "聚集 OR 集合 OR 拉横幅 OR 讨说法",
        "severity": "critical",
        "cooldown": "6h",
        "triggers": [{"kind": "risk", "score": "group_incident", "threshold": 0.5}],
    },
    {
        "id": "demo-rumour",
        "name": "谣言线索",
        "query": "网传 OR 据说 OR 紧急扩散 OR 转发扩散",
        "severity": "medium",
        "cooldown": "6h",
        "triggers": [{"kind": "risk", "score": "rumor", "threshold": 0.6}],
    },
]


class DemoMonitor:
    """An AlertEngine over the demo rules whose clock follows the ingested posts."""

    def __init__(self, store: Store, public_url: str, start: datetime) -> None:
        self.clock = ManualClock(start)
        self.dispatcher = Dispatcher([], clock=self.clock)
        self.engine = AlertEngine(
            load_rules(DEMO_RULES), self.dispatcher, self.clock, public_url, sink=store.add_alerts
        )
        self.raised = 0

    def process(self, docs: Sequence[Document]) -> list[Alert]:
        times = [d.published_at for d in docs if d.published_at is not None]
        if times:
            newest = max(times)
            if newest > self.clock.now():
                self.clock.set(newest)
        alerts = self.engine.process(docs)
        self.raised += len(alerts)
        return alerts

    def close(self) -> None:
        self.dispatcher.close()
