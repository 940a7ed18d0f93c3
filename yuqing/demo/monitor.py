"""Monitoring rules for the demo, so its 预警 inbox shows real alerts raised while the
scenario is ingested. Alerts are stamped on scenario time and saved in the demo store;
nothing is sent anywhere.

Scenario time is the ``clock`` given (``yuqing demo`` passes its
:class:`~yuqing.demo.live.DemoClock`, which the drill replay moves or runs); without
one, a :class:`~yuqing.clock.ManualClock` follows the newest post of each batch (the
test fixtures that ingest a file at once use that)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from yuqing.alerts.alert import Alert
from yuqing.alerts.delivery import Dispatcher
from yuqing.alerts.engine import AlertEngine
from yuqing.alerts.rules_config import load_rules
from yuqing.clock import Clock, ManualClock
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
    """An AlertEngine over the demo rules on scenario time (see the module docstring).

    Alerts go to ``store``; a thread that takes over the ingestion sets ``store`` to its
    own connection (an SQLite store is used from one thread)."""

    def __init__(
        self, store: Store, public_url: str, start: datetime, *, clock: Clock | None = None
    ) -> None:
        self.store = store
        self._follow: ManualClock | None = None  # set: the clock follows the posts
        if clock is None:
            clock = self._follow = ManualClock(start)
        self.clock = clock
        self.dispatcher = Dispatcher([], clock=self.clock)
        self.engine = AlertEngine(
            load_rules(DEMO_RULES), self.dispatcher, self.clock, public_url, sink=self._save
        )
        self.raised = 0

    def _save(self, alerts: Sequence[Alert]) -> None:
        self.store.add_alerts(alerts)

    def process(self, docs: Sequence[Document]) -> list[Alert]:
        times = [d.published_at for d in docs if d.published_at is not None]
        if times and self._follow is not None:
            newest = max(times)
            if newest > self._follow.now():
                self._follow.set(newest)
        alerts = self.engine.process(docs)
        self.raised += len(alerts)
        return alerts

    def close(self) -> None:
        self.dispatcher.close()
