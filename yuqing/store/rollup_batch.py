"""A batch of new posts counted for the rollups (:mod:`yuqing.store.rollups`) in Python,
exactly as the SQL upkeep of :mod:`yuqing.store.sqlite_rollups` counts them.

The batch is counted column by column: one list per label (sentiment, emotion, ...) and
``collections.Counter`` over the zipped columns, so the per-post work is a few list
comprehensions and the counting runs in C (counting post by post in Python cost
~7-10 µs a post). Only plain posts can be counted here: every label a string or absent,
``risk`` an object, ``regions`` a list of objects, a time from 1970 on. :func:`count`
answers None when some post is not plain, :func:`is_plain` tells which, and the caller
counts those with SQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

from yuqing.models import Document
from yuqing.store.rollups import SLOT_US

_ODD = object()  # a label that is not plain: the batch goes back to the caller
_NO_ANALYSIS: dict[str, Any] = {}


@dataclass(slots=True)
class Counts:
    """The upserts' rows, one per key: ``posts`` (dim, slot, value, posts), ``labels``
    (event id, dim, slot, value, posts), ``events`` (slot, event id, posts, reposts,
    comments, likes)."""

    posts: list[tuple[str, int, str, int]] = field(default_factory=list)
    labels: list[tuple[str, str, int, str, int]] = field(default_factory=list)
    events: list[tuple[int, str, int, int, int, int]] = field(default_factory=list)


def is_plain(doc: Document, micros: int) -> bool:
    """Can :func:`count` count ``doc`` (published at ``micros``)?"""
    a = doc.analysis or _NO_ANALYSIS
    risk = a.get("risk")
    if micros < 0 or not isinstance(risk, dict | None):
        return False
    kind = None if risk is None else risk.get("type")
    for v in (a.get("sentiment"), a.get("emotion"), kind, a.get("event_id"), doc.region):
        if v is not None and type(v) is not str:
            return False
    regions = a.get("regions")
    if not isinstance(regions, list | None):
        return False
    for region in regions or ():
        if type(region) is not dict:
            return False
        name = region.get("name")
        if name is not None and type(name) is not str:
            return False
    return True


def count(docs: Sequence[Document], micros: Sequence[int]) -> Counts | None:
    """The counts of ``docs`` published at ``micros`` (same order); None when one of them
    is not plain (:func:`is_plain`)."""
    try:
        return _count(docs, micros)
    except (TypeError, _NotPlainError):  # TypeError: a label that cannot be a dict key
        return None


class _NotPlainError(Exception):
    pass


def _count(docs: Sequence[Document], micros: Sequence[int]) -> Counts:
    out = Counts()
    if not docs:
        return out
    if min(micros) < 0:
        raise _NotPlainError
    slots = [m // SLOT_US for m in micros]
    analyses = [d.analysis or _NO_ANALYSIS for d in docs]
    events = [a.get("event_id") for a in analyses]
    region_lists = [a.get("regions") for a in analyses]
    if any(r is not None and not isinstance(r, list) for r in region_lists):
        raise _NotPlainError
    risks = [a.get("risk") for a in analyses]
    regions = [
        (event, slot, r.get("name") if type(r) is dict else _ODD)
        for slot, event, found in zip(slots, events, region_lists, strict=True)
        if found
        for r in found
    ]
    regions += [
        (event, slot, d.region)
        for slot, event, d, found in zip(slots, events, docs, region_lists, strict=True)
        if not found and d.region is not None
    ]
    if not _plain(d.region for d in docs) or not _plain(events):
        raise _NotPlainError
    columns: dict[str, Iterable[Any]] = {
        "source": [d.source for d in docs],
        "sentiment": [a.get("sentiment") for a in analyses],
        "emotion": [a.get("emotion") for a in analyses],
        "risk": [
            None if r is None else r.get("type") if isinstance(r, dict) else _ODD for r in risks
        ],
    }
    posts = out.posts
    posts += [("total", slot, "", n) for slot, n in Counter(slots).items()]
    for dim, flags in (
        ("duplicate", [d.duplicate_of is not None for d in docs]),
        ("repost", [d.repost_of is not None for d in docs]),
    ):
        posts += [(dim, slot, "", n) for slot, n in Counter(compress(slots, flags)).items()]
    counted = [
        (dim, Counter(zip(events, slots, column, strict=True))) for dim, column in columns.items()
    ]
    counted.append(("region", Counter(regions)))
    labels = out.labels
    for dim, counter in counted:
        totals: dict[tuple[int, str], int] = {}
        for (event, slot, value), n in counter.items():
            if value is None:
                continue
            if type(value) is not str:
                raise _NotPlainError
            totals[(slot, value)] = totals.get((slot, value), 0) + n
            if event is not None:
                labels.append((event, dim, slot, value, n))
        posts += [(dim, slot, value, n) for (slot, value), n in totals.items()]
    sums: dict[tuple[int, str], list[int]] = {}
    for slot, event, d in zip(slots, events, docs, strict=True):
        if event is None:
            continue
        total = sums.get((slot, event))
        if total is None:
            sums[(slot, event)] = [1, d.reposts, d.comments, d.likes]
        else:
            total[0] += 1
            total[1] += d.reposts
            total[2] += d.comments
            total[3] += d.likes
    out.events += [(slot, event, s[0], s[1], s[2], s[3]) for (slot, event), s in sums.items()]
    return out


def _plain(values: Iterable[Any]) -> bool:
    """Are all of ``values`` strings or None (looked at once each)?"""
    return all(v is None or type(v) is str for v in set(values))
