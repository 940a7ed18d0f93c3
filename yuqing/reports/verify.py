"""Check a briefing against the store: nothing in it may be invented.

* every cited post exists (same source and id) and its quote is exactly the first
  :data:`~yuqing.reports.briefing.QUOTE_CHARS` characters of the stored text;
* every cited alert and case exists (``get_alert`` / ``get_case``) with the cited title;
* every event the briefing names exists in the store;
* every headline number equals the store count recomputed for the same period.

:func:`verify` returns the problems (an empty list: the briefing checks out);
:func:`check` raises :class:`CitationError` naming each one. ``report_command`` checks
every briefing before it writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yuqing.errors import YuqingError
from yuqing.reports.briefing import headline_values
from yuqing.reports.model import QUOTE_CHARS, Briefing, Citation
from yuqing.store.base import Store

_TOLERANCE = 1e-9


class CitationError(YuqingError):
    """A briefing cites something the store does not hold, or misquotes it."""


@dataclass(slots=True)
class Verification:
    """What :func:`verify` checked and what it found wrong."""

    citations: int = 0
    events: int = 0
    figures: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, briefing: Briefing) -> Verification:
    """Check every citation, event and headline number of ``briefing`` against ``store``."""
    out = Verification()
    for c in briefing.citations():
        out.citations += 1
        if c.kind != "post":
            _check_record(store, c, out.problems)
            continue
        doc = store.get_document(c.source, c.id)
        where = f"post {c.source}/{c.id}"
        if doc is None:
            out.problems.append(f"{where} is cited but not in the store")
            continue
        expected = doc.text[:QUOTE_CHARS]
        if c.quote != expected:
            out.problems.append(
                f"{where}: quote {c.quote[:40]!r} does not match the stored text "
                f"{expected[:40]!r} (a quote must be the first {QUOTE_CHARS} characters)"
            )
        elif c.length != len(doc.text):
            out.problems.append(
                f"{where}: length {c.length} but the stored text has {len(doc.text)}"
            )
    for event_id in briefing.event_ids():
        out.events += 1
        if not store.event_rollups(ids=[event_id], limit=1):
            out.problems.append(f"event {event_id} is named but has no posts in the store")
    values = headline_values(
        store, since=briefing.since, until=briefing.until, event_id=briefing.event_id
    )
    for figure in briefing.figures:
        out.figures += 1
        stored = values.get(figure.key)
        if stored is None:
            out.problems.append(f"figure {figure.label} ({figure.key}) is not a store count")
        elif abs(stored - figure.value) > _TOLERANCE:
            out.problems.append(
                f"figure {figure.label} ({figure.key}) says {figure.value} but the store "
                f"counts {stored} for {briefing.period}"
            )
    return out


def _check_record(store: Store, c: Citation, problems: list[str]) -> None:
    """An alert or a case: it must be stored under this id with this title."""
    title: str | None = None
    if c.kind == "alert":
        stored = store.get_alert(c.id)
        title = stored.alert.title if stored is not None else None
    else:
        record = store.get_case(c.id)
        title = str(record.get("title")) if record is not None else None
    if title is None:
        problems.append(f"{c.kind} {c.id} is cited but not in the store")
    elif title != c.quote:
        problems.append(
            f"{c.kind} {c.id}: title {c.quote[:40]!r} does not match the stored title "
            f"{title[:40]!r}"
        )


def check(store: Store, briefing: Briefing) -> Verification:
    """Like :func:`verify`, but raise :class:`CitationError` listing every problem."""
    result = verify(store, briefing)
    if not result.ok:
        listed = "; ".join(result.problems[:10])
        more = f" (and {len(result.problems) - 10} more)" if len(result.problems) > 10 else ""
        raise CitationError(
            f"briefing {briefing.title} does not match the store: {listed}{more}; "
            "rebuild it from the store instead of editing it"
        )
    return result
