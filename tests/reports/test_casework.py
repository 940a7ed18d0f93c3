"""The 预警 and 处置案件 sections: stored alerts and cases of the period, cited, rendered
and verified against a real demo store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.text.paragraph import Paragraph

from tests.web.conftest import fill_demo_store
from yuqing.alerts.alert import Alert
from yuqing.cases import new_case
from yuqing.clock import ManualClock
from yuqing.reports import build_briefing, render, verify
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.url import open_store

ZONE = ZoneInfo("Asia/Shanghai")
PUBLIC = "https://yq.example.org"
DAY = datetime(2026, 11, 21, tzinfo=ZONE)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = fill_demo_store(tmp_path_factory.mktemp("reports-cases"))
    s = open_store(url)
    try:
        alert = Alert.create(
            rule_id="rule-demo",
            kind="burst",
            title="某地事件声量突增",
            severity="high",
            created_at=DAY + timedelta(hours=9),
            public_url=PUBLIC,
        )
        s.add_alerts([alert])
        case = new_case(
            "某地事件处置",
            level="II",
            level_reason="演练",
            who="值班员",
            clock=ManualClock(DAY + timedelta(hours=10)),
            case_id="case-demo-1",
            alert_id=alert.id,
            owner="宣传部",
        )
        s.save_case(case.as_dict())
    finally:
        s.close()
    return Settings.model_validate({"store": url, "public_url": PUBLIC})


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.store)
    yield s
    s.close()


def test_sections_list_stored_alerts_and_cases(store: Store, settings: Settings) -> None:
    b = build_briefing(store, settings, kind="daily", since=DAY, until=None)
    assert [a.citation.quote for a in b.alerts] == ["某地事件声量突增"]
    alert = b.alerts[0]
    assert alert.citation.link == f"{PUBLIC}/alerts/{alert.citation.id}"
    assert (alert.severity_label, alert.status_label, alert.rule_id) == (
        "高",
        "未确认",
        "rule-demo",
    )
    assert b.alert_counts == {"高": 1} and b.acknowledged == 0
    assert [c.citation.id for c in b.cases] == ["case-demo-1"]
    case = b.cases[0]
    assert case.citation.link == f"{PUBLIC}/cases/case-demo-1"
    assert (case.level, case.owner, case.status) == ("II", "宣传部", "new")
    assert case.timeliness in ("overdue", "pending") and case.timeliness_label
    kinds = {c.kind for c in b.citations()}
    assert {"post", "alert", "case"} <= kinds
    result = verify(store, b)
    assert result.ok, result.problems


def test_other_days_say_no_alerts_or_cases(store: Store, settings: Settings) -> None:
    b = build_briefing(store, settings, kind="daily", since=DAY - timedelta(days=1), until=None)
    assert not b.alerts and b.alerts_note == "本期无预警"
    assert not b.cases and b.cases_note == "本期无案件"


def test_tampered_alert_or_case_id_fails(store: Store, settings: Settings) -> None:
    b = build_briefing(store, settings, kind="daily", since=DAY, until=None)
    a = b.alerts[0]
    b.alerts[0] = dataclasses.replace(a, citation=dataclasses.replace(a.citation, id="alert-x"))
    c = b.cases[0]
    b.cases[0] = dataclasses.replace(c, citation=dataclasses.replace(c.citation, quote="改"))
    problems = verify(store, b).problems
    assert any("alert alert-x is cited but not in the store" in p for p in problems)
    assert any(p.startswith("case case-demo-1: title") for p in problems)


def test_docx_and_html_show_the_sections(store: Store, settings: Settings, tmp_path: Path) -> None:
    b = build_briefing(store, settings, kind="daily", since=DAY, until=None)
    html = render(b, "html", tmp_path / "d.html").read_text(encoding="utf-8")
    for item in (b.alerts[0].citation, b.cases[0].citation):
        assert f'href="{item.link}"' in html and item.quote in html
    assert "共 1 条预警（高 1），已确认 0 条（0.0%）" in html
    document = docx.Document(str(render(b, "docx", tmp_path / "d.docx")))
    links = {h.url for p in _paragraphs(document) for h in p.hyperlinks}
    assert b.alerts[0].citation.link in links and b.cases[0].citation.link in links
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert "II级（重大）" in cells and "宣传部" in cells


def _paragraphs(document: DocxDocument) -> list[Paragraph]:
    out = list(document.paragraphs)
    for t in document.tables:
        for r in t.rows:
            for c in r.cells:
                out.extend(c.paragraphs)
    return out
