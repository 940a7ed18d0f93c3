"""Heat index of an event, 0..100, in the spirit of 人民网舆情监测室's 舆情压力值.

Five components, each scaled to 0..1 (constants in :class:`HeatConfig`, formulas and
tables in docs/trends.md):

- volume ``V = log10(1 + posts) / log10(1 + volume_saturation)``
- engagement ``E = log10(1 + reposts + comments + like_weight * likes) /
  log10(1 + engagement_saturation)``
- source ``S = 1 - exp(-Σ_s w(s) * ln(1 + n_s) / source_scale)``: every post adds
  reach, official and news media (high ``w``) more than forums
- velocity ``R = ½ * log10(1 + recent_rate) / log10(1 + rate_saturation)
  + ½ * log2(max(1, recent_rate / max(prior_rate, rate_floor))) / log2(growth_saturation)``:
  posts per hour in the recent window, absolute and against the window before it
- negativity ``N = negative / posts with a sentiment``

``heat = 100 * (wV*V + wE*E + wS*S + wR*R) / (wV + wE + wS + wR) * (1 - wN + wN*N)``.
Negativity multiplies rather than adds: a wholly positive event tops out at
``100 * (1 - wN)``, and a single angry post does not get heat from its sentiment alone.
Every component is clipped to 0..1 and every term is non-decreasing in posts, engagement
and negative share, so adding posts (in the recent window) never lowers heat.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from yuqing.errors import UsageError
from yuqing.models import Document

# Reach weight of a kind of source: how much one post there presses on the event.
SOURCE_WEIGHTS: dict[str, float] = {
    "official": 1.0,  # government, party and police accounts and sites
    "news": 0.8,  # news media and their apps
    "weixin": 0.6,  # WeChat official accounts
    "weibo": 0.5,
    "video": 0.5,  # Douyin, Kuaishou, Bilibili
    "forum": 0.3,  # Tieba, Tianya, BBS
    "other": 0.3,
}

# Substrings of a document's ``source`` that name its kind (first match wins).
SOURCE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("gov.cn", "official"),
    ("gov", "official"),
    ("police", "official"),
    ("official", "official"),
    ("xinhua", "news"),
    ("people", "news"),
    ("cctv", "news"),
    ("chinanews", "news"),
    ("thepaper", "news"),
    ("news", "news"),
    ("rss", "news"),
    ("weixin", "weixin"),
    ("wechat", "weixin"),
    ("weibo", "weibo"),
    ("douyin", "video"),
    ("kuaishou", "video"),
    ("bilibili", "video"),
    ("video", "video"),
    ("tieba", "forum"),
    ("tianya", "forum"),
    ("bbs", "forum"),
    ("forum", "forum"),
)


@dataclass(frozen=True, slots=True)
class HeatConfig:
    """Every constant of the heat formula; the defaults are documented in docs/trends.md."""

    volume_saturation: float = 100_000  # posts at which V = 1
    engagement_saturation: float = 1_000_000  # interactions at which E = 1
    like_weight: float = 0.25  # a like is a lighter act than a repost or a comment
    source_scale: float = 3.0
    rate_saturation: float = 1_000  # posts per hour at which the absolute rate term = 1
    growth_saturation: float = 8.0  # recent/prior rate ratio at which the growth term = 1
    rate_floor: float = 1.0  # posts per hour: the prior rate never counts as lower
    recent_hours: int = 3
    prior_hours: int = 24
    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "volume": 0.35,
            "engagement": 0.25,
            "source": 0.15,
            "velocity": 0.25,
            "negativity": 0.3,
        }
    )
    source_weights: Mapping[str, float] = field(default_factory=lambda: dict(SOURCE_WEIGHTS))
    source_patterns: Sequence[tuple[str, str]] = SOURCE_PATTERNS

    def __post_init__(self) -> None:
        missing = {"volume", "engagement", "source", "velocity", "negativity"} - set(self.weights)
        if missing:
            raise UsageError(f"HeatConfig.weights: missing {sorted(missing)}")
        if any(w < 0 for w in self.weights.values()) or not 0 <= self.weights["negativity"] <= 1:
            raise UsageError("HeatConfig.weights: weights must be >= 0 and negativity <= 1")
        if self.recent_hours < 1 or self.prior_hours < 1:
            raise UsageError("HeatConfig: recent_hours and prior_hours must be >= 1")

    def source_kind(self, source: str) -> str:
        """The kind of a source name: an exact key of ``source_weights``, else the first
        pattern found in it, else ``other``."""
        name = source.lower()
        if name in self.source_weights:
            return name
        for pattern, kind in self.source_patterns:
            if pattern in name:
                return kind
        return "other"

    def source_weight(self, source: str) -> float:
        return self.source_weights.get(
            self.source_kind(source), self.source_weights.get("other", 0.3)
        )


@dataclass(slots=True)
class EventStats:
    """What the heat index reads about one event.

    ``hourly`` holds posts per hour, oldest first, its last element the hour of "now".
    """

    posts: int = 0
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    hourly: list[int] = field(default_factory=list)
    negative: int = 0
    with_sentiment: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def negative_share(self) -> float:
        return self.negative / self.with_sentiment if self.with_sentiment else 0.0

    @classmethod
    def from_documents(
        cls, docs: Iterable[Document], *, now: datetime | None = None, max_hours: int = 24 * 30
    ) -> EventStats:
        """Sum one event's documents. ``now`` ends the hourly series (default: the newest
        post); hours are UTC hours (velocity only compares rates, so the zone is moot).
        At most ``max_hours`` hours are kept."""
        if now is not None and now.tzinfo is None:
            raise UsageError("EventStats.from_documents: now must be timezone-aware")
        stats = cls()
        sources: Counter[str] = Counter()
        hours: Counter[int] = Counter()
        for doc in docs:
            stats.posts += 1
            stats.reposts += max(doc.reposts, 0)
            stats.comments += max(doc.comments, 0)
            stats.likes += max(doc.likes, 0)
            sources[doc.source] += 1
            sentiment = doc.analysis.get("sentiment")
            if sentiment:
                stats.with_sentiment += 1
                stats.negative += sentiment == "negative"
            when = doc.published_at or doc.ingested_at
            if when is None:
                continue
            hours[int(when.timestamp() // 3600)] += 1
            if stats.first_seen is None or when < stats.first_seen:
                stats.first_seen = when
            if stats.last_seen is None or when > stats.last_seen:
                stats.last_seen = when
        stats.sources = dict(sources)
        end = now or stats.last_seen
        if end is not None and hours:
            last = int(end.timestamp() // 3600)
            first = max(min(hours), last - max_hours + 1)
            stats.hourly = [hours.get(h, 0) for h in range(first, last + 1)]
        return stats


@dataclass(frozen=True, slots=True)
class HeatResult:
    score: float  # 0..100
    components: dict[str, float]  # each component 0..1, plus the rates behind velocity


def _log_scale(value: float, saturation: float) -> float:
    return min(1.0, math.log10(1.0 + max(value, 0.0)) / math.log10(1.0 + saturation))


def heat(stats: EventStats, config: HeatConfig | None = None) -> HeatResult:
    """The heat index of an event (see the module docstring and docs/trends.md)."""
    cfg = config or HeatConfig()
    volume = _log_scale(stats.posts, cfg.volume_saturation)
    interactions = stats.reposts + stats.comments + cfg.like_weight * stats.likes
    engagement = _log_scale(interactions, cfg.engagement_saturation)
    reach = sum(cfg.source_weight(s) * math.log1p(n) for s, n in stats.sources.items() if n > 0)
    source = 1.0 - math.exp(-reach / cfg.source_scale)
    recent = stats.hourly[-cfg.recent_hours :]
    prior = stats.hourly[-cfg.recent_hours - cfg.prior_hours : -cfg.recent_hours]
    recent_rate = sum(recent) / cfg.recent_hours
    prior_rate = sum(prior) / cfg.prior_hours
    growth = recent_rate / max(prior_rate, cfg.rate_floor)
    growth_term = min(1.0, math.log2(max(growth, 1.0)) / math.log2(cfg.growth_saturation))
    velocity = 0.5 * _log_scale(recent_rate, cfg.rate_saturation) + 0.5 * growth_term
    negativity = stats.negative_share
    w = cfg.weights
    base_weight = w["volume"] + w["engagement"] + w["source"] + w["velocity"]
    base = (
        w["volume"] * volume
        + w["engagement"] * engagement
        + w["source"] * source
        + w["velocity"] * velocity
    ) / (base_weight or 1.0)
    score = 100.0 * base * (1.0 - w["negativity"] + w["negativity"] * negativity)
    components = {
        "volume": volume,
        "engagement": engagement,
        "source": source,
        "velocity": velocity,
        "negativity": negativity,
        "recent_rate": recent_rate,
        "prior_rate": prior_rate,
    }
    return HeatResult(round(score, 2), {k: round(v, 4) for k, v in components.items()})
