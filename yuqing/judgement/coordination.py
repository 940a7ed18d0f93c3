"""Coordinated-account signals (甄别网络民意): posting that looks organised, not organic.

"提高对网络民意的甄别能力 ... 防止被网络民意所挟持": before a spokesperson treats a wave of
posts as the public's voice, they should see which part of it looks coordinated. This
module looks at one event's analysed posts (after the ``dedup`` stage, which fills
``content_hash`` and ``repost_of``) and raises four signals, each with a documented rule
and threshold (:class:`Thresholds`, docs/coordination.md):

``copy`` (同文刷屏)
    at least ``copy_accounts`` distinct accounts post near-identical own text (same
    ``content_hash``, or character-bigram Jaccard >= ``near``) within ``window``.
``low_activity`` (低活跃账号集中发帖)
    within ``window``, at least ``burst_posts`` posts come from low-activity accounts
    (fewer than ``low_followers`` followers, or, when the record carries them in
    ``extra``, an account younger than ``new_days`` or with fewer than ``low_posts``
    posts), and they are at least ``burst_share`` of the window's posts and at least
    ``burst_lift`` times the event's own share of such posts.
``cascade`` (同步转发)
    at least ``cascade_reposts`` reposts of one post by distinct accounts within
    ``cascade_window``, at least ``cascade_low_share`` of them from low-activity accounts
    (a 大V's post is reposted in a burst organically; by its ordinary readers).
``rhythm`` (发帖节奏一致)
    at least ``rhythm_accounts`` accounts with ``rhythm_posts`` or more own posts (not
    reposts) whose intervals between posts all match within ``rhythm_tolerance``.

The result (:class:`CoordinationReport`) is the share of posts flagged, posts per
signal, the reasons in Chinese and the accounts involved with their evidence. It is a
*signal, not a verdict* (信号，不是结论): ordinary people also copy a slogan, repost a
大V together and open new accounts. Fewer than ``min_posts`` posts give an honest
"not enough data" result instead of signals.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from yuqing.models import Document
from yuqing.pipeline.minhash import jaccard, shingle_set

__all__ = [
    "FRAMING",
    "SIGNAL_LABELS",
    "AccountEvidence",
    "CoordinationReport",
    "Key",
    "Signal",
    "Thresholds",
    "coordination",
]

FRAMING = (
    "信号，不是结论：以下迹象提示部分帖子可能是有组织的协同发布（水军、刷屏、集中转发），"
    "需人工核实；普通网民也会复制同一段话、集中转发大V、注册新账号。"
)
SIGNAL_LABELS: dict[str, str] = {
    "copy": "同文刷屏",
    "low_activity": "低活跃账号集中发帖",
    "cascade": "同步转发",
    "rhythm": "发帖节奏一致",
}
Key = tuple[str, str]
_COMPARE_CAP = 300  # most earlier posts in the window a post is compared with


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules' thresholds (docs/coordination.md gives the measured effect of each)."""

    min_posts: int = 30
    near: float = 0.7
    min_chars: int = 8
    copy_accounts: int = 5
    low_followers: int = 50
    new_days: float = 30.0
    low_posts: int = 20
    burst_posts: int = 8
    burst_share: float = 0.5
    burst_lift: float = 2.0
    cascade_window: timedelta = timedelta(minutes=5)
    cascade_reposts: int = 10
    cascade_low_share: float = 0.5
    rhythm_posts: int = 3
    rhythm_tolerance: timedelta = timedelta(seconds=60)
    rhythm_accounts: int = 3


@dataclass(frozen=True, slots=True)
class Signal:
    """One fired rule: which posts, which accounts, when, and why (in Chinese)."""

    kind: str  # copy | low_activity | cascade | rhythm
    reason: str
    posts: tuple[Key, ...]
    accounts: tuple[str, ...]
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": SIGNAL_LABELS[self.kind],
            "reason": self.reason,
            "posts": [list(k) for k in self.posts],
            "accounts": list(self.accounts),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(slots=True)
class AccountEvidence:
    """One account involved: its flagged posts, the signals and what is known of it."""

    account: str
    posts: int
    signals: list[str]
    reasons: list[str]
    followers: int | None = None
    account_age_days: float | None = None
    author_posts: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "posts": self.posts,
            "signals": self.signals,
            "reasons": self.reasons,
            "followers": self.followers,
            "account_age_days": self.account_age_days,
            "author_posts": self.author_posts,
        }


@dataclass(slots=True)
class CoordinationReport:
    """What :func:`coordination` found in one event's posts; never a verdict."""

    enough_data: bool
    total: int
    flagged: frozenset[Key] = frozenset()
    counts: dict[str, int] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)
    accounts: list[AccountEvidence] = field(default_factory=list)
    message: str = ""
    framing: str = FRAMING

    @property
    def share(self) -> float:
        """Share of the event's posts that at least one signal flags."""
        return len(self.flagged) / self.total if self.total else 0.0

    @property
    def reasons(self) -> list[str]:
        return [s.reason for s in self.signals]

    def as_dict(self) -> dict[str, Any]:
        return {
            "enough_data": self.enough_data,
            "framing": self.framing,
            "message": self.message,
            "total": self.total,
            "flagged": len(self.flagged),
            "share": round(self.share, 4),
            "counts": dict(self.counts),
            "signals": [s.as_dict() for s in self.signals],
            "accounts": [a.as_dict() for a in self.accounts],
        }


@dataclass(slots=True)
class _Post:
    key: Key
    author: str
    at: datetime
    doc: Document
    low: bool
    reasons: tuple[str, ...]  # why the account counts as low-activity


def coordination(
    docs: Sequence[Document],
    *,
    window: timedelta = timedelta(minutes=10),
    thresholds: Thresholds | None = None,
    top: int = 20,
    now: datetime | None = None,
) -> CoordinationReport:
    """Coordinated-account signals over one event's analysed posts.

    Posts without ``published_at`` or ``author`` are counted in the total but cannot be
    flagged. ``now`` is only used to age accounts whose posts carry no time (never
    needed for stored posts). The report lists at most ``top`` accounts.
    """
    th = thresholds or Thresholds()
    total = len(docs)
    if total < th.min_posts:
        return CoordinationReport(
            enough_data=False,
            total=total,
            message=(
                f"数据不足：本事件只有{total}条帖子（至少需要{th.min_posts}条），"
                "无法判断是否存在协同发帖迹象。"
            ),
        )
    posts = sorted(
        (
            _post(d, th, now)
            for d in docs
            if d.published_at is not None and d.author and d.author.strip()
        ),
        key=lambda p: (p.at, p.key),
    )
    signals = [
        *_copies(posts, window, th),
        *_low_bursts(posts, window, th),
        *_cascades(posts, th),
        *_rhythms(posts, th),
    ]
    flagged = frozenset(k for s in signals for k in s.posts)
    counts = {kind: 0 for kind in SIGNAL_LABELS}
    for kind in SIGNAL_LABELS:
        counts[kind] = len({k for s in signals if s.kind == kind for k in s.posts})
    accounts = _accounts(posts, signals, top)
    if signals:
        message = f"{len(flagged)}条帖子（{len(flagged) / total:.0%}）带有协同发帖迹象。"
    else:
        message = "未发现协同发帖迹象。"
    return CoordinationReport(True, total, flagged, counts, signals, accounts, message)


# -- accounts ---------------------------------------------------------------------------


def _post(doc: Document, th: Thresholds, now: datetime | None) -> _Post:
    at = doc.published_at
    assert at is not None and doc.author is not None
    reasons: list[str] = []
    if doc.author_followers is not None and doc.author_followers < th.low_followers:
        reasons.append(f"粉丝{doc.author_followers}")
    age = _age_days(doc.extra, at or now)
    if age is not None and age < th.new_days:
        reasons.append(f"注册{max(age, 0):.0f}天")
    count = _int(doc.extra.get("author_posts"))
    if count is not None and count < th.low_posts:
        reasons.append(f"发帖{count}条")
    return _Post(doc.key, doc.author.strip(), at, doc, bool(reasons), tuple(reasons))


def _age_days(extra: Mapping[str, Any], at: datetime | None) -> float | None:
    """Account age at ``at`` from ``extra['account_created_at']`` (ISO date or time)."""
    raw = extra.get("account_created_at")
    if not isinstance(raw, str) or at is None:
        return None
    created = _created(raw)
    if created is None:
        return None  # an unreadable profile field is no evidence either way
    if created.tzinfo is None:
        created = created.replace(tzinfo=at.tzinfo or UTC)
    return (at - created).total_seconds() / 86400


@functools.lru_cache(maxsize=4096)
def _created(raw: str) -> datetime | None:
    """``raw`` read as an ISO date or time (None when it is not one); one author's posts
    repeat the same text, parsed once."""
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError:
        return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _is_repost(doc: Document) -> bool:
    return bool(doc.quoted_text or doc.repost_of or doc.parent_id)


def _minutes(delta: timedelta) -> str:
    return (
        f"{max(delta.total_seconds() / 60, 0.1):.0f}分钟"
        if delta >= timedelta(minutes=1)
        else f"{delta.total_seconds():.0f}秒"
    )


def _snippet(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _signal(kind: str, reason: str, members: Sequence[_Post]) -> Signal:
    return Signal(
        kind,
        reason,
        tuple(p.key for p in members),
        tuple(dict.fromkeys(p.author for p in members)),
        members[0].at,
        members[-1].at,
    )


def _windows(items: Sequence[_Post], span: timedelta) -> Iterable[tuple[int, int]]:
    """Maximal runs [i, j) of time-sorted ``items`` that fit within ``span``."""
    j = 0
    for i in range(len(items)):
        j = max(j, i)
        while j < len(items) and items[j].at - items[i].at <= span:
            j += 1
        yield i, j


def _merge_hits(items: Sequence[_Post], span: timedelta, ok: Any) -> list[list[_Post]]:
    """Union of the windows of ``items`` that satisfy ``ok(window_items)``, as
    disjoint time-ordered groups (overlapping hits merge into one)."""
    groups: list[list[_Post]] = []
    last_end = -1
    for i, j in _windows(items, span):
        run = items[i:j]
        if not ok(run):
            continue
        if groups and i < last_end:
            seen = {p.key for p in groups[-1]}
            groups[-1].extend(p for p in run if p.key not in seen)
        else:
            groups.append(list(run))
        last_end = max(last_end, j)
    return groups


# -- the four signals -------------------------------------------------------------------


def _copies(posts: Sequence[_Post], window: timedelta, th: Thresholds) -> list[Signal]:
    own = [p for p in posts if not _is_repost(p.doc) and len(p.doc.norm_text) >= th.min_chars]
    parent = list(range(len(own)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_text: dict[str, set[str]] = {}  # copies share one set (it is only read)
    shingles = [
        by_text.get(p.doc.norm_text)
        or by_text.setdefault(p.doc.norm_text, shingle_set(p.doc.norm_text, 2))
        for p in own
    ]
    times = [p.at for p in own]
    for i, p in enumerate(own):
        lo = max(bisect.bisect_left(times, p.at - window), i - _COMPARE_CAP)
        root = find(i)
        for j in range(lo, i):
            other = find(j)
            if other == root:  # already one cluster: comparing cannot change it
                continue
            q = own[j]
            same = p.doc.content_hash and p.doc.content_hash == q.doc.content_hash
            if same or jaccard(shingles[i], shingles[j]) >= th.near:
                parent[root] = other
                root = other
    clusters: dict[int, list[_Post]] = defaultdict(list)
    for i, p in enumerate(own):
        clusters[find(i)].append(p)
    out: list[Signal] = []
    for members in clusters.values():
        if len({p.author for p in members}) < th.copy_accounts:
            continue
        hits = _merge_hits(
            members, window, lambda run: len({p.author for p in run}) >= th.copy_accounts
        )
        for group in hits:
            n = len({p.author for p in group})
            reason = (
                f"{n}个账号在{_minutes(group[-1].at - group[0].at)}内发布近乎相同的内容："
                f"「{_snippet(group[0].doc.norm_text)}」"
            )
            out.append(_signal("copy", reason, group))
    return out


def _low_bursts(posts: Sequence[_Post], window: timedelta, th: Thresholds) -> list[Signal]:
    if not posts:
        return []
    base = sum(p.low for p in posts) / len(posts)
    need = max(th.burst_share, th.burst_lift * base)

    def ok(run: Sequence[_Post]) -> bool:
        low = sum(p.low for p in run)
        return low >= th.burst_posts and low / len(run) >= need

    out: list[Signal] = []
    for group in _merge_hits(posts, window, ok):
        low = [p for p in group if p.low]
        accounts = len({p.author for p in low})
        reason = (
            f"{_minutes(group[-1].at - group[0].at)}内{len(low)}条帖子来自{accounts}个"
            f"新注册或低活跃账号（占该时段{len(low) / len(group):.0%}，"
            f"全事件平均{base:.0%}）"
        )
        out.append(_signal("low_activity", reason, low))
    return out


def _cascades(posts: Sequence[_Post], th: Thresholds) -> list[Signal]:
    by_root: dict[str, list[_Post]] = defaultdict(list)
    for p in posts:
        root = p.doc.repost_of or p.doc.parent_id
        if root:
            by_root[root].append(p)

    def ok(run: Sequence[_Post]) -> bool:
        accounts = {p.author for p in run}
        low = {p.author for p in run if p.low}
        return len(accounts) >= th.cascade_reposts and len(low) / len(accounts) >= (
            th.cascade_low_share
        )

    out: list[Signal] = []
    for root, reposts in by_root.items():
        if len(reposts) < th.cascade_reposts:
            continue
        for group in _merge_hits(reposts, th.cascade_window, ok):
            low = sum(p.low for p in group)
            reason = (
                f"同一帖子（{root}）在{_minutes(group[-1].at - group[0].at)}内被"
                f"{len({p.author for p in group})}个账号集中转发{len(group)}次，其中{low}次来自新注册或"
                "低活跃账号"
            )
            out.append(_signal("cascade", reason, group))
    return out


def _rhythms(posts: Sequence[_Post], th: Thresholds) -> list[Signal]:
    own: dict[str, list[_Post]] = defaultdict(list)
    for p in posts:
        if not _is_repost(p.doc):
            own[p.author].append(p)
    tol = th.rhythm_tolerance.total_seconds()
    rhythm: dict[str, list[float]] = {
        a: [(y.at - x.at).total_seconds() for x, y in itertools.pairwise(ps)]
        for a, ps in own.items()
        if len(ps) >= th.rhythm_posts
    }
    by_len: dict[int, list[str]] = defaultdict(list)
    for account, gaps in rhythm.items():
        by_len[len(gaps)].append(account)
    parent = {a: a for a in rhythm}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for accounts in by_len.values():
        accounts.sort(key=lambda a: rhythm[a][0])
        firsts = [rhythm[a][0] for a in accounts]
        for i, a in enumerate(accounts):
            hi = bisect.bisect_right(firsts, firsts[i] + tol)
            for b in accounts[i + 1 : hi]:
                if all(abs(x - y) <= tol for x, y in zip(rhythm[a], rhythm[b], strict=True)):
                    parent[find(a)] = find(b)
    groups: dict[str, list[str]] = defaultdict(list)
    for account in rhythm:
        groups[find(account)].append(account)
    out: list[Signal] = []
    for accounts in groups.values():
        if len(accounts) < th.rhythm_accounts:
            continue
        members = sorted((p for a in accounts for p in own[a]), key=lambda p: (p.at, p.key))
        gaps = rhythm[accounts[0]]
        pattern = "、".join(_minutes(timedelta(seconds=g)) for g in gaps[:4])
        reason = (
            f"{len(accounts)}个账号各发{len(gaps) + 1}条帖子，发帖间隔几乎一致"
            f"（约{pattern}，误差不超过{tol:.0f}秒）"
        )
        out.append(_signal("rhythm", reason, members))
    return out


def _accounts(posts: Sequence[_Post], signals: Sequence[Signal], top: int) -> list[AccountEvidence]:
    by_key = {p.key: p for p in posts}
    found: dict[str, AccountEvidence] = {}
    keys: dict[str, set[Key]] = defaultdict(set)
    for signal in signals:
        for key in signal.posts:
            p = by_key[key]
            ev = found.get(p.author)
            if ev is None:
                age = _age_days(p.doc.extra, p.at)
                ev = AccountEvidence(
                    p.author,
                    0,
                    [],
                    [],
                    p.doc.author_followers,
                    round(age, 1) if age is not None else None,
                    _int(p.doc.extra.get("author_posts")),
                )
                if p.reasons:
                    ev.reasons.append("账号：" + "，".join(p.reasons))
                found[p.author] = ev
            keys[p.author].add(key)
            label = SIGNAL_LABELS[signal.kind]
            if label not in ev.signals:
                ev.signals.append(label)
                ev.reasons.append(f"{label}：{signal.reason}")
    for account, ev in found.items():
        ev.posts = len(keys[account])
    ranked = sorted(found.values(), key=lambda e: (-len(e.signals), -e.posts, e.account))
    return ranked[:top]
