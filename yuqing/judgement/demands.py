"""What the public asks and demands (群众共同关心的问题, 诉求): a ranked digest of an event.

:func:`digest` reads an event's analysed posts (``norm_text``: Simplified, lower case,
half-width punctuation) and returns the questions people ask (疑问) and the demands they
make (诉求), each grouped so that one question asked a thousand ways is one line, with the
number of distinct posts, a trend per hour or day and a few sample posts.

Method (docs/judgement.md has the details and the measured quality):

1. Sentences are cut at ``。!?;…`` and newlines, clauses at commas, colons and spaces.
2. A clause is a question when it holds a question word (为什么, 是不是, 谁来负责 ...) or
   ends in 吗/么/呢, or is the last clause of a sentence ending in ``?``. A clause is a
   demand of a kind (要求公开, 要求道歉 ...) when it holds one of the kind's cues and the
   sentence holds a marker before it (要求, 希望, 必须 ...) or the cue is strong (严惩,
   彻查), and no "reported" word (已经, 被, 将 ...) stands just before the cue.
3. Each clause becomes a key: synonyms mapped (为何 -> 为什么), cue words, fillers,
   particles, punctuation and emoji codes removed. Questions whose cue is a standalone
   class (谁来负责, 怎么回事) take the class as key.
4. Keys are grouped by greedy leader clustering on the Jaccard similarity of characters plus
   character bigrams
   (with prefix filtering, so that 10,000 posts take well under a second); demands are
   grouped within their kind, and by object only for kinds marked ``by_object``.
5. Groups rank by distinct posts: a post and its near-duplicates (``duplicate_of``)
   count once. The label is the phrasing of the group's medoid key.

The cue lists live in ``yuqing/judgement/data/demands.yaml`` (editable; see
:mod:`yuqing.judgement.demand_lexicon`).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from yuqing.errors import UsageError
from yuqing.judgement.demand_lexicon import DemandKind, Lexicon, default_lexicon
from yuqing.models import Document

__all__ = [
    "Digest",
    "DigestItem",
    "Mention",
    "Sample",
    "cluster_keys",
    "digest",
    "extract",
    "group_mentions",
]

Bucket = Literal["hour", "day"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
QUESTION = "question"
THRESHOLD = 0.35  # Jaccard of characters and bigrams to join a group (measured: docs/judgement.md)
_INDEXED_MEMBERS = 8  # members of a group that new keys are compared against
_MEDOID_MEMBERS = 40  # keys considered when choosing a group's label

_SENTENCE_RE = re.compile(r"[^。!?;…\n]+[。!?;…\n]*")
_CLAUSE_SPLIT_RE = re.compile(r"[,、:\s\"'“”‘’()《》【】]+")
_NONWORD_RE = re.compile(r"\[[^\[\]]{1,8}\]|[\W_]+")  # emoji codes, punctuation, spaces
_TRIM = " \t,、:;。!?…~-—\"'“”‘’()《》【】[]"


@dataclass(frozen=True, slots=True)
class Sample:
    """A post that says it: where it comes from and the sentence itself."""

    source: str
    id: str
    sentence: str


@dataclass(slots=True)
class DigestItem:
    """One line of the digest: a question or a demand, as many people phrase it."""

    kind: str  # "question", or a demand kind id (disclose, apologize ...)
    kind_label: str  # 疑问, 要求公开 ...
    label: str  # the most representative phrasing
    posts: int  # distinct posts (near-duplicates count once)
    mentions: int  # sentences, repeats included
    phrasings: int  # distinct normalized phrasings grouped here
    trend: list[tuple[datetime, int]]  # (bucket start in the zone, distinct posts)
    samples: list[Sample]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_label": self.kind_label,
            "label": self.label,
            "posts": self.posts,
            "mentions": self.mentions,
            "phrasings": self.phrasings,
            "trend": [[start.isoformat(), n] for start, n in self.trend],
            "samples": [
                {"source": s.source, "id": s.id, "sentence": s.sentence} for s in self.samples
            ],
        }


@dataclass(slots=True)
class Digest:
    """The ranked questions and demands of an event, or an honest "not enough data"."""

    questions: list[DigestItem]
    demands: list[DigestItem]
    posts_used: int
    enough_data: bool
    note: str
    bucket: str = "hour"

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": [item.as_dict() for item in self.questions],
            "demands": [item.as_dict() for item in self.demands],
            "posts_used": self.posts_used,
            "enough_data": self.enough_data,
            "note": self.note,
            "bucket": self.bucket,
        }


@dataclass(slots=True)
class Mention:
    """One question or demand found in one sentence of one post."""

    group: str  # "question" or a demand kind id
    key: str  # normalized phrasing, what grouping compares
    phrase: str  # the clause as written (normalized text), for labels
    sentence: str
    doc: Document
    root: tuple[str, str] = field(default=("", ""))  # the post it counts as


# -- extraction ------------------------------------------------------------------------


def _clauses(sentence: str) -> list[str]:
    return [c for c in (p.strip(_TRIM) for p in _CLAUSE_SPLIT_RE.split(sentence)) if c]


def _key(text: str, strip: re.Pattern[str], lex: Lexicon) -> str:
    text = lex.synonym_re.sub(lambda m: lex.synonyms[m.group()], text)
    text = _NONWORD_RE.sub("", text)
    return strip.sub("", text)


def _question_key(clause: str, lex: Lexicon) -> tuple[str, bool]:
    """The key of a question clause and whether it is a standalone cue class."""
    for match in lex.question_re.finditer(clause):
        cue = lex.question_of[match.group()]
        if cue.standalone:
            return cue.canonical, True
    return _key(clause, lex.question_strip_re, lex), False


def _is_question(clause: str, lex: Lexicon) -> bool:
    if lex.question_re.search(clause):
        return True
    bare = _NONWORD_RE.sub("", clause)
    return bool(bare) and bare.endswith(lex.end_particles)


def _questions(sentence: str, clauses: list[str], lex: Lexicon) -> list[tuple[str, str]]:
    """``(key, phrase)`` of each question in a sentence."""
    marked = [i for i, c in enumerate(clauses) if _is_question(c, lex)]
    if sentence.rstrip().endswith("?") and clauses and len(clauses) - 1 not in marked:
        marked.append(len(clauses) - 1)
    found: list[tuple[str, str]] = []
    for i in marked:
        phrase = clauses[i]
        key, standalone = _question_key(phrase, lex)
        if not standalone and len(key) < 2 and len(clauses) > 1:
            # "……，为什么?": the question is about the clause next to it
            phrase = clauses[i - 1] + "," + phrase if i > 0 else phrase + "," + clauses[i + 1]
            key, standalone = _question_key(phrase, lex)
        if key:
            found.append((key, phrase.strip(_TRIM) + "?"))
    return found


def _demands(sentence: str, clauses: list[str], lex: Lexicon) -> list[tuple[DemandKind, str, str]]:
    """``(kind, key, phrase)`` of each demand in a sentence."""
    found: list[tuple[DemandKind, str, str]] = []
    seen: set[str] = set()
    marker_before = False
    for clause in clauses:
        for match in lex.demand_re.finditer(clause):
            kind = lex.kind_of[match.group()]
            before = clause[: match.start()]
            window = before[-6:]
            reported = lex.reported_re.search(window)
            if reported and not lex.marker_re.search(window[reported.end() :]):
                continue
            imperative = not before.strip() and not _is_question(clause, lex)  # "彻查!"
            if not (
                imperative
                or marker_before
                or lex.marker_re.search(before)
                or match.group() in kind.strong
            ):
                continue
            if kind.id in seen:
                continue
            seen.add(kind.id)
            key = _key(clause, lex.demand_strip_re, lex) if kind.by_object else ""
            found.append((kind, key, clause))
        if lex.marker_re.search(clause):
            marker_before = True
    return found


def _root(doc: Document) -> tuple[str, str]:
    """The post a document counts as: itself, or the original it near-duplicates."""
    if doc.duplicate_of:
        return (doc.duplicate_of_source or doc.source, doc.duplicate_of)
    return doc.key


_Found = tuple[tuple[str, str, str, str], ...]  # (group, key, phrase, sentence) of a text


def _find(text: str, lex: Lexicon) -> _Found:
    """The questions and demands of one text, sentence by sentence."""
    found: list[tuple[str, str, str, str]] = []
    for sentence in _SENTENCE_RE.findall(text):
        clauses = _clauses(sentence)
        if not clauses:
            continue
        stripped = sentence.strip()
        for key, phrase in _questions(sentence, clauses, lex):
            found.append((QUESTION, key, phrase, stripped))
        for kind, key, phrase in _demands(sentence, clauses, lex):
            found.append((kind.id, key, phrase, stripped))
    return tuple(found)


def extract(
    doc: Document, lexicon: Lexicon | None = None, *, memo: dict[str, _Found] | None = None
) -> list[Mention]:
    """Every question and demand in one post's ``norm_text``, sentence by sentence
    (``memo``: texts already read, for a batch whose copies repeat the same text)."""
    lex = lexicon or default_lexicon()
    root = _root(doc)
    text = doc.norm_text
    if memo is None:
        found = _find(text, lex)
    else:
        cached = memo.get(text)
        found = cached if cached is not None else memo.setdefault(text, _find(text, lex))
    return [
        Mention(group, key, phrase, sentence, doc, root) for group, key, phrase, sentence in found
    ]


# -- grouping --------------------------------------------------------------------------


def _features(key: str) -> frozenset[str]:
    """Characters and character bigrams: bigrams keep word order, characters let short
    rephrasings (食堂肉过期 / 吃的是过期肉) still overlap."""
    return frozenset(key) | frozenset(key[i : i + 2] for i in range(len(key) - 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def cluster_keys(weights: dict[str, int], threshold: float = THRESHOLD) -> list[list[str]]:
    """Keys grouped by greedy leader clustering on Jaccard similarity, heaviest key first.

    A key joins the group holding its most similar indexed member when that similarity
    reaches ``threshold``. Prefix filtering (features in ascending frequency; a pair with
    Jaccard >= t must share one of the first ``n - ceil(t n) + 1`` features of each)
    keeps the candidate lists short, so the cost grows about linearly with the keys.
    """
    order = sorted(weights, key=lambda k: (-weights[k], k))
    feats = {k: _features(k) for k in order}
    df: Counter[str] = Counter(f for fs in feats.values() for f in fs)

    def prefix(fs: frozenset[str]) -> list[str]:
        ranked = sorted(fs, key=lambda f: (df[f], f))
        return ranked[: len(ranked) - math.ceil(threshold * len(ranked)) + 1]

    groups: list[list[str]] = []
    indexed: list[int] = []
    index: dict[str, list[tuple[int, frozenset[str]]]] = defaultdict(list)
    for key in order:
        fs = feats[key]
        head = prefix(fs)
        best, best_score = -1, threshold
        seen: set[int] = set()
        for f in head:
            for gi, member in index.get(f, ()):
                if id(member) in seen:
                    continue
                seen.add(id(member))
                score = _jaccard(fs, member)
                if score > best_score or (score == best_score and best == -1):
                    best, best_score = gi, score
        if best < 0:
            best = len(groups)
            groups.append([])
            indexed.append(0)
        groups[best].append(key)
        if indexed[best] < _INDEXED_MEMBERS and fs:
            indexed[best] += 1
            for f in head:
                index[f].append((best, fs))
    return groups


def _medoid(keys: list[str], weights: dict[str, int]) -> str:
    """The key most similar to the rest, weighted by posts: the group's typical phrasing."""
    top = sorted(keys, key=lambda k: (-weights[k], k))[:_MEDOID_MEMBERS]
    feats = {k: _features(k) for k in top}

    def score(k: str) -> tuple[float, int, str]:
        total = weights[k] + sum(weights[m] * _jaccard(feats[k], feats[m]) for m in top if m != k)
        return (-total, len(k), k)

    return min(top, key=score)


# -- the digest ------------------------------------------------------------------------


def _bucket_start(moment: datetime, bucket: Bucket, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    if bucket == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


def _next_bucket(start: datetime, bucket: Bucket, zone: ZoneInfo) -> datetime:
    if bucket == "hour":
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    day = (start + timedelta(days=1, hours=3)).date()  # past any DST jump
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _span(starts: list[datetime], bucket: Bucket, zone: ZoneInfo) -> list[datetime]:
    """Every bucket from the first to the last, gaps included."""
    if not starts:
        return []
    first, last = min(starts), max(starts)
    out = [first]
    while out[-1] < last:
        out.append(_next_bucket(out[-1], bucket, zone))
    return out


def _engagement(doc: Document) -> int:
    return doc.likes + doc.reposts + doc.comments


def _item(
    group: str,
    kind_label: str,
    mentions: list[Mention],
    weights: dict[str, int],
    span: list[datetime],
    bucket: Bucket,
    zone: ZoneInfo,
) -> DigestItem:
    first_of: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        held = first_of.get(m.root)
        when = m.doc.published_at
        if held is None or (
            when is not None and (held.doc.published_at is None or when < held.doc.published_at)
        ):
            first_of[m.root] = m
    counts: Counter[datetime] = Counter(
        _bucket_start(m.doc.published_at, bucket, zone)
        for m in first_of.values()
        if m.doc.published_at is not None
    )
    keys = sorted({m.key for m in mentions})
    medoid = _medoid(keys, weights)
    phrases = Counter(m.phrase for m in mentions if m.key == medoid)
    label = min(phrases, key=lambda p: (-phrases[p], len(p), p))
    ranked = sorted(
        first_of.values(),
        key=lambda m: (
            -_engagement(m.doc),
            m.doc.published_at or datetime.max.replace(tzinfo=UTC),
            m.doc.id,
        ),
    )
    samples: list[Sample] = []
    used_keys: set[str] = set()
    for pass_distinct in (True, False):  # distinct phrasings first, then any
        for m in ranked:
            if len(samples) == 3:
                break
            if (pass_distinct and m.key in used_keys) or any(
                s.id == m.doc.id and s.source == m.doc.source for s in samples
            ):
                continue
            used_keys.add(m.key)
            samples.append(Sample(m.doc.source, m.doc.id, m.sentence))
    return DigestItem(
        kind=group,
        kind_label=kind_label,
        label=label,
        posts=len(first_of),
        mentions=len(mentions),
        phrasings=len(keys),
        trend=[(start, counts.get(start, 0)) for start in span],
        samples=samples,
    )


def _weights(mentions: Sequence[Mention]) -> dict[str, dict[str, int]]:
    """Distinct posts per key, per group."""
    roots: dict[str, dict[str, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    for m in mentions:
        roots[m.group][m.key].add(m.root)
    return {g: {k: len(r) for k, r in keys.items()} for g, keys in roots.items()}


def group_mentions(
    mentions: Sequence[Mention], lexicon: Lexicon | None = None, threshold: float = THRESHOLD
) -> list[tuple[str, list[Mention]]]:
    """Mentions grouped into digest lines: ``(group, members)`` in a stable order.

    Questions and ``by_object`` demand kinds are clustered by key; other demand kinds
    are one line each. A ``by_object`` demand without an object joins the biggest line
    of its kind.
    """
    lex = lexicon or default_lexicon()
    by_object = {k.id: k.by_object for k in lex.kinds}
    weights = _weights(mentions)
    by_key: dict[tuple[str, str], list[Mention]] = defaultdict(list)
    for m in mentions:
        by_key[(m.group, m.key)].append(m)
    out: list[tuple[str, list[Mention]]] = []
    for group in sorted(weights):
        w = weights[group]
        if by_object.get(group, group == QUESTION):
            clusters = cluster_keys({k: n for k, n in w.items() if k}, threshold)
            if "" in w:
                if clusters:
                    max(clusters, key=lambda ks: sum(w[k] for k in ks)).append("")
                else:
                    clusters.append([""])
        else:
            clusters = [sorted(w)]
        for keys in clusters:
            out.append((group, [m for k in keys for m in by_key[(group, k)]]))
    return out


def digest(
    docs: Sequence[Document],
    *,
    min_posts: int = 20,
    top: int = 10,
    bucket: Bucket = "hour",
    zone: ZoneInfo = SHANGHAI,
    lexicon: Lexicon | None = None,
    threshold: float = THRESHOLD,
) -> Digest:
    """The ranked questions and demands of one event's analysed posts.

    ``docs`` must have ``norm_text`` filled (the normalize stage). Fewer than
    ``min_posts`` distinct posts with text give ``enough_data=False`` and no items.
    """
    if bucket not in ("hour", "day"):
        raise UsageError(f"digest bucket must be 'hour' or 'day', got {bucket!r}")
    if top < 1 or min_posts < 0:
        raise UsageError(
            f"digest needs top >= 1 and min_posts >= 0, got top={top}, min_posts={min_posts}"
        )
    if not 0.0 < threshold <= 1.0:
        raise UsageError(f"digest threshold must be in (0, 1], got {threshold}")
    lex = lexicon or default_lexicon()
    with_text = [d for d in docs if d.norm_text]
    posts_used = len({_root(d) for d in with_text})
    if posts_used < min_posts:
        return Digest([], [], posts_used, False, f"帖文不足（{posts_used} 条），不生成摘要", bucket)
    span = _span(
        [_bucket_start(d.published_at, bucket, zone) for d in with_text if d.published_at],
        bucket,
        zone,
    )
    memo: dict[str, _Found] = {}
    mentions = [m for doc in with_text for m in extract(doc, lex, memo=memo)]
    labels = {k.id: k.label for k in lex.kinds}
    weights = _weights(mentions)
    items: dict[str, list[DigestItem]] = {QUESTION: [], "demand": []}
    for group, members in group_mentions(mentions, lex, threshold):
        label = "疑问" if group == QUESTION else labels.get(group, group)
        item = _item(group, label, members, weights[group], span, bucket, zone)
        items[QUESTION if group == QUESTION else "demand"].append(item)
    for found in items.values():
        found.sort(key=lambda it: (-it.posts, -it.mentions, it.kind, it.label))
    questions, demands = items[QUESTION][:top], items["demand"][:top]
    if questions or demands:
        note = f"基于 {posts_used} 条帖文（重复帖文只计一次）：疑问 {len(items[QUESTION])} 类，诉求 {len(items['demand'])} 类"
    else:
        note = f"基于 {posts_used} 条帖文：未发现明确的疑问或诉求"
    return Digest(questions, demands, posts_used, True, note, bucket)
