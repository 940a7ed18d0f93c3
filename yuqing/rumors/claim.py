"""A claim (说法) and its verdict (辟谣): what an analyst decided about a rumour.

A :class:`Claim` is a short statement of what is being said online ("喝自来水会致癌"),
optional key phrases that every repeat of it contains, and a verdict:

* ``false``: debunked (已辟谣); posts repeating it get a higher rumour score and a link to
  the ``evidence_url`` (the debunking or the official statement);
* ``true``: verified (经核实属实); posts repeating it are not raised, their reasons say so;
* ``unverified``: not decided yet (待核实); nothing changes.

Every change (the first verdict included) appends a :class:`VerdictEntry` to ``history``
with who and when, from the injected :class:`~yuqing.clock.Clock`. A ``true`` or ``false``
verdict needs an evidence link (http or https). Claims are plain data:
:meth:`Claim.as_dict` / :meth:`Claim.from_dict` give the JSON shape the store keeps.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from yuqing.clock import Clock
from yuqing.errors import UsageError

__all__ = [
    "VERDICTS",
    "VERDICT_LABELS",
    "Claim",
    "ClaimError",
    "ClaimNotFoundError",
    "Verdict",
    "VerdictEntry",
    "check_evidence",
    "new_claim",
]

Verdict = Literal["true", "false", "unverified"]
VERDICTS: tuple[Verdict, ...] = ("true", "false", "unverified")
VERDICT_LABELS: dict[str, str] = {"true": "属实", "false": "不实（已辟谣）", "unverified": "待核实"}
MAX_STATEMENT = 500
MAX_PHRASES = 10
MAX_PHRASE = 40
MAX_URL = 2000


class ClaimError(UsageError):
    """A claim that cannot be made or changed as asked."""


class ClaimNotFoundError(ClaimError):
    """No claim with the given id."""


def _aware(when: datetime, what: str) -> datetime:
    if when.tzinfo is None:
        raise ClaimError(f"{what} must be timezone-aware, got {when.isoformat()}")
    return when.astimezone(UTC)


def check_verdict(verdict: str) -> Verdict:
    if verdict not in VERDICTS:
        raise ClaimError(f"verdict {verdict!r}: use one of {', '.join(VERDICTS)}")
    return verdict


def check_evidence(url: str | None, verdict: str) -> str | None:
    """The evidence link, checked: required (http/https with a host) for ``true`` and
    ``false``; optional for ``unverified``."""
    text = (url or "").strip()
    if not text:
        if verdict in ("true", "false"):
            raise ClaimError(
                f"a {verdict} verdict needs the evidence link: the URL of the debunking or "
                "official statement (http:// or https://)"
            )
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(text) > MAX_URL:
        raise ClaimError(
            f"evidence link {text[:80]!r} is not an http(s) URL of at most {MAX_URL} characters"
        )
    return text


def _phrases(values: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
    if len(out) > MAX_PHRASES:
        raise ClaimError(f"at most {MAX_PHRASES} key phrases, got {len(out)}")
    for phrase in out:
        if len(phrase) > MAX_PHRASE:
            raise ClaimError(f"key phrase {phrase[:20]!r}… is longer than {MAX_PHRASE} characters")
    return out


def _statement(text: str) -> str:
    statement = " ".join(text.split())
    if not statement:
        raise ClaimError("a claim needs its statement: what is being said, in a sentence")
    if len(statement) > MAX_STATEMENT:
        raise ClaimError(f"a claim's statement is at most {MAX_STATEMENT} characters")
    return statement


@dataclass(slots=True)
class VerdictEntry:
    """One line of a claim's history: the verdict (and edits) as of ``at``."""

    at: datetime
    by: str
    verdict: Verdict
    evidence_url: str | None = None
    note: str = ""
    change: str = "verdict"  # verdict | edit


@dataclass(slots=True)
class Claim:
    """A claim and its current verdict; change it through :meth:`mark` and :meth:`edit`."""

    id: str
    statement: str
    verdict: Verdict
    created_at: datetime
    created_by: str
    updated_at: datetime
    marked_by: str
    marked_at: datetime
    key_phrases: list[str] = field(default_factory=list)
    evidence_url: str | None = None
    note: str = ""
    event_id: str | None = None
    history: list[VerdictEntry] = field(default_factory=list)

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def mark(
        self,
        verdict: str,
        *,
        evidence_url: str | None,
        who: str,
        clock: Clock,
        note: str | None = None,
    ) -> VerdictEntry:
        """Give the claim a verdict with its evidence link; logged with who and when."""
        checked = check_verdict(verdict)
        link = check_evidence(evidence_url, checked)
        if not who.strip():
            raise ClaimError(f"claim {self.id}: a verdict needs who gave it")
        now = _aware(clock.now(), "clock time")
        self.verdict = checked
        self.evidence_url = link
        if note is not None:
            self.note = note.strip()
        self.marked_by, self.marked_at, self.updated_at = who.strip(), now, now
        entry = VerdictEntry(now, who.strip(), checked, link, self.note)
        self.history.append(entry)
        return entry

    def edit(
        self,
        *,
        who: str,
        clock: Clock,
        statement: str | None = None,
        key_phrases: Iterable[str] | None = None,
        note: str | None = None,
        event_id: str | None = None,
    ) -> VerdictEntry:
        """Change the statement, key phrases, note or event (the verdict stays); logged."""
        if not who.strip():
            raise ClaimError(f"claim {self.id}: an edit needs who made it")
        if statement is not None:
            self.statement = _statement(statement)
        if key_phrases is not None:
            self.key_phrases = _phrases(key_phrases)
        if note is not None:
            self.note = note.strip()
        if event_id is not None:
            self.event_id = event_id.strip() or None
        now = _aware(clock.now(), "clock time")
        self.updated_at = now
        entry = VerdictEntry(now, who.strip(), self.verdict, self.evidence_url, self.note, "edit")
        self.history.append(entry)
        return entry

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times ISO 8601 UTC); :meth:`from_dict` reads it back."""
        out = _dump(self)
        out["history"] = [_dump(e) for e in self.history]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Claim:
        """Read :meth:`as_dict`'s shape back; a broken record raises ClaimError."""
        try:
            values = _load(cls, data)
            values["verdict"] = check_verdict(str(values["verdict"]))
            values["key_phrases"] = [str(p) for p in values.get("key_phrases", [])]
            values["history"] = [
                VerdictEntry(**_load(VerdictEntry, e)) for e in values.get("history", [])
            ]
            return cls(**values)
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise ClaimError(f"claim record {data.get('id', '?')!r} is broken: {exc!r}") from exc


_TIMES = {"at", "created_at", "updated_at", "marked_at"}


def _dump(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        elif isinstance(value, list):
            value = list(value)
        out[f.name] = value
    return out


def _load(cls: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for key in _TIMES & values.keys():
        values[key] = _aware(datetime.fromisoformat(str(values[key])), key)
    return values


def new_claim_id(clock: Clock) -> str:
    """``claim-YYYYMMDD-xxxxxx``: the creation date (UTC) and 6 random hex digits."""
    return f"claim-{clock.now().astimezone(UTC):%Y%m%d}-{uuid.uuid4().hex[:6]}"


def new_claim(
    statement: str,
    *,
    who: str,
    clock: Clock,
    verdict: str = "unverified",
    evidence_url: str | None = None,
    note: str = "",
    key_phrases: Iterable[str] = (),
    event_id: str | None = None,
    claim_id: str | None = None,
) -> Claim:
    """A new claim with its first verdict (the first history entry)."""
    if not who.strip():
        raise ClaimError("a claim needs who recorded it")
    checked = check_verdict(verdict)
    link = check_evidence(evidence_url, checked)
    now = _aware(clock.now(), "clock time")
    claim = Claim(
        id=(claim_id or "").strip() or new_claim_id(clock),
        statement=_statement(statement),
        verdict=checked,
        created_at=now,
        created_by=who.strip(),
        updated_at=now,
        marked_by=who.strip(),
        marked_at=now,
        key_phrases=_phrases(key_phrases),
        evidence_url=link,
        note=note.strip(),
        event_id=(event_id or "").strip() or None,
    )
    claim.history.append(VerdictEntry(now, who.strip(), checked, link, claim.note))
    return claim
