"""Judgement aids in briefings, over the demo scenario filled by the real pipeline: the
special report's questions and demands and its response-strategy advice, each cited to
stored posts (verify passes, a tampered citation fails), in HTML and Word; the daily
report's top questions per event."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import docx
import pytest

from tests.reports.test_briefing import DAY, biggest_event
from tests.reports.test_briefing import settings as settings
from yuqing.reports import build_briefing, verify
from yuqing.reports.render_docx import render_docx
from yuqing.reports.render_html import render_html
from yuqing.settings import Settings
from yuqing.store.base import Store
from yuqing.store.url import open_store


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.store)
    yield s
    s.close()


def test_special_report_has_cited_concerns_and_advice(
    store: Store,
    settings: Settings,
    tmp_path: Path,
) -> None:
    event = biggest_event(store)
    b = build_briefing(store, settings, kind="special", since=None, until=None, event_id=event)
    assert b.questions and b.demands and b.advice
    assert all(q.citations for q in [*b.questions, *b.demands])
    assert all(a.citations for a in b.advice)
    cited = {(c.source, c.id) for c in b.citations()}
    assert {(c.source, c.id) for q in b.questions for c in q.citations} <= cited
    result = verify(store, b)
    assert result.ok, result.problems
    sample = b.questions[0].citations[0]
    doc = store.get_document(sample.source, sample.id)
    assert doc is not None and doc.text.startswith(sample.quote)

    html = render_html(b)
    assert 'id="concerns"' in html and 'id="advice"' in html
    assert b.questions[0].label in html and b.advice[0].name in html
    out = render_docx(b, tmp_path / "special.docx")
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "群众关切（疑问与诉求）" in text and "应对策略建议" in text
    assert b.demands[0].label in text


def test_tampered_concern_citation_fails_verification(
    store: Store,
    settings: Settings,
) -> None:
    event = biggest_event(store)
    b = build_briefing(store, settings, kind="special", since=None, until=None, event_id=event)
    first = b.demands[0]
    bad = dataclasses.replace(first.citations[0], quote="编造的引文")
    b.demands[0] = dataclasses.replace(first, citations=(bad, *first.citations[1:]))
    problems = verify(store, b).problems
    assert any(bad.id in p and "does not match" in p for p in problems), problems


def test_weekly_report_lists_top_questions_of_its_events(
    store: Store,
    settings: Settings,
) -> None:
    b = build_briefing(
        store,
        settings,
        kind="weekly",
        since=DAY - timedelta(days=1),
        until=DAY + timedelta(days=6),
        event_id=None,
    )
    asked = [q for e in b.events for q in e.questions]
    assert asked and all(q.citations for q in asked)
    assert all(len(e.questions) <= 3 for e in b.events)
    assert verify(store, b).ok
    assert asked[0].label in render_html(b)
