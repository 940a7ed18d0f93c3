"""Online event clustering: the ``events`` stage.

Each post, in batch order (callers sort by ``(published_at, id)``), joins one open event
or starts a new one, and ``doc.analysis["event_id"]`` says which. Nothing is ever refit:

1. **Links.** A near-duplicate or repost (``duplicate_of`` / ``repost_of``) whose
   original sits in an open event joins that event, unless the post carries a hashtag
   of another open event (its own hashtag says where it was posted).
2. **Hashtags.** A post with a hashtag that an open event already holds joins that event
   (the one holding most of its hashtags; ties by similarity, then age).
3. **Similarity.** Otherwise the open events that share a word or hashtag with the post
   are found through an inverted index (feature -> most recently active events holding
   it, capped), each scored by the cosine between the post's vector and the event's
   centroid (:mod:`yuqing.events.cluster_features`), decayed by the time since the
   event's last post; the one with the largest margin over its threshold wins. The
   threshold is ``threshold`` for a large event, higher for a small one (up to
   ``pair_threshold`` for a one-post event), and ``new_hashtag_threshold`` when the post
   brings a hashtag no open event holds yet (a new hashtag joins only an event it
   clearly belongs to); an event that holds no hashtag asks ``tagless_penalty`` more.
   Vectors are first reweighted by the document frequencies of the last ``df_window``
   posts, so words that every current story shares count less. Options, off by
   default (they measured no gain on the COVID hashtag set): character bigrams beside
   the words (``bigram_weight``) and a required margin over the runner-up event
   (``runner_up_margin``).
4. Else the post starts a new event (a post with neither words nor hashtags nor a link
   stays out of events: ``event_id`` None).

Time is the posts' ``published_at`` (scenario time, never the wall clock). An event with
no post for ``close_after_hours`` is closed; so is the least recently active one when
more than ``max_open_events`` are open. Closed events leave every index and wait in
:meth:`EventClusterer.drain_closed` for the caller to archive them, so memory stays
bounded however long the stream. See docs/events.md.

Two additions serve stream workers (docs/server.md), with results identical to
:meth:`EventClusterer.process`:

- :meth:`EventClusterer.features_of` computes a post's hashtags and unit vector, which
  depend on the post alone, so a worker computes them before its ordered turn and passes
  them to :meth:`~EventClusterer.process` / :meth:`~EventClusterer.assign`;
- :meth:`EventClusterer.apply` replays a stored assignment (another worker's post and
  the event id it stored) without the similarity search, the costly step: the state
  ends as if the post had been assigned here.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from yuqing.errors import ConfigError
from yuqing.events.cluster_features import (
    BIGRAM_PREFIX,
    HASHTAG_PREFIX,
    FeatureExtractor,
    StreamDf,
    dot,
    norm,
)
from yuqing.events.event import Event, event_id_for
from yuqing.models import Document
from yuqing.pipeline.keywords import IdfTable

__all__ = ["DEFAULT_IGNORED_HASHTAGS", "EventClusterer", "Features"]

Features = tuple[list[str], dict[str, float]]
"""A post's event-signal hashtags and its unit vector (before the stream reweighting)."""

DEFAULT_IGNORED_HASHTAGS: frozenset[str] = frozenset(
    {"阳光信用", "每日一善", "微博辟谣", "超话", "微博抽奖平台", "抽奖"}
)
"""Weibo hashtags that are campaigns or platform features, not stories (normalized)."""

_TITLE_CHARS = 80


@dataclass(slots=True)
class _State:
    """The working state of one open event (the Event is its public summary)."""

    event: Event
    seq: int  # creation order: the deterministic tie-break
    last_ts: float
    centroid: dict[str, float] = field(default_factory=dict)  # sum of member vectors
    length: float = 0.0  # Euclidean length of the centroid
    reps: list[tuple[float, str, dict[str, float]]] = field(default_factory=list)
    dirty: bool = True  # title/keywords need refreshing


class EventClusterer:
    """Pipeline stage ``events``: assigns every post to an event, incrementally.

    Parameters (defaults tuned on the COVID-19 Weibo hashtag set, see docs/events.md):

    - ``threshold`` (0.03): least (decayed) cosine between a post and the centroid of a
      large event to join it.
    - ``new_hashtag_threshold`` (0.35): the same, for a post bringing a hashtag that no open
      event holds yet.
    - ``pair_threshold`` (0.1): what joining a one-post event asks; an event of ``n``
      posts asks ``threshold + (pair_threshold - threshold) / n``, so a generic post does
      not pair off with another generic post before it finds its established event.
    - ``tagless_penalty`` (0.1): added to the threshold of an event that holds no
      hashtag: a story anchored by a hashtag is a surer home than a few loose comments.
    - ``df_window`` (5,000): posts whose document frequencies reweight the vectors (see
      :class:`~yuqing.events.cluster_features.StreamDf`; 0: off).
    - ``close_after_hours`` (72): an event with no post for this long (scenario time,
      on ``published_at``) is closed.
    - ``decay_hours`` (12): the similarity to an event is multiplied by
      ``exp(-hours since its last post / decay_hours)``: active stories win (0: off).
    - ``soft_weight`` (1.0): weight in the centroid of a post that joined by similarity
      only (hashtag and link joins weigh 1).
    - ``max_open_events`` (20,000): above it the least recently active event is closed.
    - ``centroid_features`` (64): an event keeps its heaviest features only (pruned when
      it has twice as many), which bounds both its memory and the index.
    - ``max_postings`` (64): an index entry lists at most this many events (the most
      recently active), so the candidates of a post do not grow with the open events.
    - ``query_features`` (24): only the post's heaviest features look up candidates.
    - ``hashtag_weight`` (0.0), ``bigram_weight`` (0.0: off), ``max_bigrams`` (32),
      ``min_idf`` (2.0), ``max_words`` (24): the post vector, see
      :class:`~yuqing.events.cluster_features.FeatureExtractor`.
    - ``runner_up_margin`` (0.0: off): a post joins by similarity only when its decayed
      similarity to the best event exceeds the runner-up's by this share of it.
    - ``ignore_hashtags``: campaign hashtags that are no event signal.
    - ``max_tracked_posts`` (200,000): most recent posts remembered for duplicate and
      repost links (oldest forgotten first).
    - ``idf``: document frequencies (default: the table shipped with the keyword stage).
    """

    name = "events"

    def __init__(
        self,
        *,
        threshold: float = 0.03,
        new_hashtag_threshold: float = 0.35,
        pair_threshold: float = 0.1,
        tagless_penalty: float = 0.1,
        df_window: int = 5_000,
        close_after_hours: float = 72.0,
        decay_hours: float = 12.0,
        soft_weight: float = 1.0,
        max_open_events: int = 20_000,
        centroid_features: int = 64,
        max_postings: int = 64,
        query_features: int = 24,
        hashtag_weight: float = 0.0,
        bigram_weight: float = 0.0,
        max_bigrams: int = 32,
        min_idf: float = 2.0,
        max_words: int = 24,
        ignore_hashtags: Iterable[str] = DEFAULT_IGNORED_HASHTAGS,
        max_tracked_posts: int = 200_000,
        idf: IdfTable | None = None,
        runner_up_margin: float = 0.0,
    ) -> None:
        checks = {
            "threshold": 0.0 < threshold <= 1.0,
            "new_hashtag_threshold": 0.0 < new_hashtag_threshold <= 1.0,
            "pair_threshold": 0.0 < pair_threshold <= 1.0,
            "tagless_penalty": 0.0 <= tagless_penalty <= 1.0,
            "df_window": df_window >= 0,
            "close_after_hours": close_after_hours > 0,
            "max_open_events": max_open_events >= 1,
            "centroid_features": centroid_features >= 1,
            "max_postings": max_postings >= 1,
            "query_features": query_features >= 1,
            "hashtag_weight": hashtag_weight >= 0,
            "bigram_weight": bigram_weight >= 0,
            "max_bigrams": max_bigrams >= 1,
            "runner_up_margin": 0 <= runner_up_margin < 1,
            "decay_hours": decay_hours >= 0,
            "soft_weight": 0 <= soft_weight <= 1,
            "max_words": max_words >= 1,
            "max_tracked_posts": max_tracked_posts >= 0,
        }
        for key, ok in checks.items():
            if not ok:
                raise ConfigError(
                    f"EventClusterer {key}={locals()[key]!r} is out of range; thresholds are "
                    "in (0, 1], tagless_penalty in [0, 1], runner_up_margin in [0, 1), counts "
                    "at least 1 (df_window and "
                    "max_tracked_posts: 0 turns them off), hours and weights positive"
                )
        self.threshold = threshold
        self.new_hashtag_threshold = new_hashtag_threshold
        self.pair_threshold = pair_threshold
        self.tagless_penalty = tagless_penalty
        self.runner_up_margin = runner_up_margin
        self.stream_df = StreamDf(df_window) if df_window else None
        self.close_after = close_after_hours * 3600.0
        self.decay_hours = decay_hours
        self.decay = decay_hours * 3600.0
        self.soft_weight = soft_weight
        self.max_open_events = max_open_events
        self.centroid_features = centroid_features
        self.max_postings = max_postings
        self.query_features = query_features
        self.max_tracked_posts = max_tracked_posts
        self.features = FeatureExtractor(
            idf=idf,
            hashtag_weight=hashtag_weight,
            min_idf=min_idf,
            max_words=max_words,
            ignore_hashtags=ignore_hashtags,
            bigram_weight=bigram_weight,
            max_bigrams=max_bigrams,
        )
        self._open: OrderedDict[str, _State] = OrderedDict()  # least recently active first
        self._index: dict[str, OrderedDict[str, float]] = {}  # feature -> event -> weight
        self._tags: dict[str, str] = {}  # hashtag -> open event id
        self._posts: OrderedDict[tuple[str, str], str] = OrderedDict()  # post -> event id
        self._closed: list[Event] = []
        self._seq = 0
        self._now = -math.inf

    # -- public API -----------------------------------------------------------------

    def process(
        self,
        batch: Sequence[Document],
        features: Mapping[tuple[str, str], Features] | None = None,
    ) -> list[Document]:
        """Assign each document of ``batch``, in order; fills ``analysis["event_id"]``.
        ``features``: those of :meth:`features_of` computed beforehand, by document key
        (missing ones are computed here)."""
        docs = list(batch)
        known = features or {}
        for doc in docs:
            doc.analysis["event_id"] = self.assign(doc, known.get(doc.key))
        return docs

    def features_of(self, doc: Document) -> Features:
        """The post's hashtags and unit vector: they depend on the post alone (not on the
        posts before it), so they may be computed ahead, in any order, in parallel."""
        tags = self.features.hashtags(doc)
        return tags, self.features.vector(doc, tags)

    def assign(self, doc: Document, features: Features | None = None) -> str | None:
        """Assign one document and return its event id (None: nothing to cluster on).
        ``features``: :meth:`features_of` of ``doc`` if already computed."""
        ts, tags, vec = self._advance(doc, features)
        state = self._linked(doc, tags) or self._by_hashtag(tags, vec)
        weight = 1.0
        if state is None and vec:
            state = self._by_similarity(vec, tags)
            if state is not None:
                weight = self.soft_weight
        if state is None:
            if not vec:
                return None
            state = self._start(doc, ts)
        self._add(state, doc, ts, tags, vec, weight)
        return state.event.id

    def apply(
        self, doc: Document, event_id: str | None, features: Features | None = None
    ) -> str | None:
        """Replay ``doc``'s stored assignment to ``event_id`` (what :meth:`assign` returned
        for it in another replica with the same state); returns the event id it applied.

        The state ends exactly as :meth:`assign` would leave it, without the similarity
        search: links and hashtags are still resolved (cheap); a post that joined an open
        event by similarity joins ``event_id`` directly; a post that started an event
        starts it again. Only when ``event_id`` is neither open nor the post's own new
        event (the replicas diverged) does it search, as :meth:`assign` does, so the
        returned id differs from ``event_id`` exactly when the replicas disagree."""
        ts, tags, vec = self._advance(doc, features)
        state = self._linked(doc, tags) or self._by_hashtag(tags, vec)
        weight = 1.0
        if state is None and vec:
            hinted = self._open.get(event_id) if event_id is not None else None
            if hinted is not None:
                state, weight = hinted, self.soft_weight
            elif event_id is None or event_id != event_id_for(doc.source, doc.id):
                state = self._by_similarity(vec, tags)  # diverged: search as assign does
                if state is not None:
                    weight = self.soft_weight
        if state is None:
            if not vec:
                return None
            state = self._start(doc, ts)
        self._add(state, doc, ts, tags, vec, weight)
        return state.event.id

    def open_events(self) -> list[Event]:
        """Summaries of the open events, oldest first (title and keywords refreshed)."""
        states = sorted(self._open.values(), key=lambda s: s.seq)
        return [self._refresh(state) for state in states]

    def drain_closed(self) -> list[Event]:
        """The events closed since the last call, in closing order; the caller archives
        them (the clusterer keeps nothing of them)."""
        closed, self._closed = self._closed, []
        return closed

    def close_all(self) -> list[Event]:
        """Close every open event (end of a batch run) and drain: all closed events."""
        for event_id in list(self._open):
            self._close(event_id)
        return self.drain_closed()

    @property
    def open_count(self) -> int:
        return len(self._open)

    def _advance(
        self, doc: Document, features: Features | None
    ) -> tuple[float, list[str], dict[str, float]]:
        """The ordered first steps of an assignment: move the clock (closing expired
        events), then the post's features, reweighted by the stream's frequencies."""
        ts = self._timestamp(doc)
        if ts > self._now:
            self._now = ts
            self._expire()
        tags, vec = features if features is not None else self.features_of(doc)
        if self.stream_df is not None:
            vec = self.stream_df.reweight(vec)
        return ts, tags, vec

    # -- choosing an event ----------------------------------------------------------

    def _linked(self, doc: Document, tags: list[str]) -> _State | None:
        """The open event of the post this one duplicates or reposts, if any."""
        for target, source in (
            (doc.duplicate_of, doc.duplicate_of_source),
            (doc.repost_of, doc.repost_of_source),
        ):
            if target is None:
                continue
            event_id = self._posts.get((source or doc.source, target))
            state = self._open.get(event_id) if event_id is not None else None
            if state is None:
                continue
            if any(self._tags.get(tag, state.event.id) != state.event.id for tag in tags):
                return None  # its own hashtag points elsewhere: the hashtag decides
            return state
        return None

    def _by_hashtag(self, tags: list[str], vec: dict[str, float]) -> _State | None:
        """The open event holding most of the post's hashtags (ties: closest, oldest)."""
        if not tags:
            return None
        votes: Counter[str] = Counter()
        for tag in tags:
            event_id = self._tags.get(tag)
            if event_id is not None and event_id in self._open:
                votes[event_id] += 1
        if not votes:
            return None
        best = max(
            votes,
            key=lambda eid: (
                votes[eid],
                self._similarity(self._open[eid], vec),
                -self._open[eid].seq,
            ),
        )
        return self._open[best]

    def _by_similarity(self, vec: dict[str, float], tags: list[str]) -> _State | None:
        """The open event with the best margin among those sharing an indexed feature.

        The dot products are accumulated over the postings (which carry each event's
        centroid weight), so the cost is the length of the post's postings, capped by
        ``query_features * max_postings``, whatever the number of open events.
        """
        query: Iterable[tuple[str, float]] = vec.items()
        if len(vec) > self.query_features:
            query = sorted(query, key=lambda item: (-item[1], item[0]))[: self.query_features]
        scores: dict[str, float] = {}
        get = scores.get
        for feat, weight in query:
            postings = self._index.get(feat)
            if postings:
                for event_id, centroid_weight in postings.items():
                    scores[event_id] = get(event_id, 0.0) + weight * centroid_weight
        new_tag = any(tag not in self._tags for tag in tags)
        base = self.new_hashtag_threshold if new_tag else self.threshold
        extra = max(0.0, self.pair_threshold - base)
        best: _State | None = None
        best_key: tuple[float, int] = (0.0, -(1 << 62))
        best_sim = 0.0
        sims: list[float] = []
        margin = self.runner_up_margin
        for event_id, score in scores.items():
            state = self._open[event_id]
            sim = score / state.length if state.length else 0.0
            if sim < base and not margin:
                continue  # decay (at most 1) and its need (at least base) keep it below 0
            if self.decay_hours:
                sim *= math.exp((state.last_ts - self._now) / self.decay)
            if margin:
                sims.append(sim)
            # margin over the event's own threshold: a small or tagless event asks more
            need = base + extra / state.event.size
            if not state.event.hashtags:
                need += self.tagless_penalty
            key = (sim - need, -state.seq)
            if key >= best_key:
                best, best_key, best_sim = state, key, sim
        if best is not None and margin and len(sims) > 1:
            sims.sort(reverse=True)
            runner = sims[1] if sims[0] == best_sim else sims[0]
            if best_sim - runner < margin * best_sim:
                return None
        return best

    @staticmethod
    def _similarity(state: _State, vec: dict[str, float]) -> float:
        if not state.length:
            return 0.0
        return dot(vec, state.centroid) / state.length

    # -- updating -------------------------------------------------------------------

    def _start(self, doc: Document, ts: float) -> _State:
        event = Event(
            id=event_id_for(doc.source, doc.id),
            first_post=(doc.source, doc.id),
            first_seen=_as_datetime(ts),
            last_seen=_as_datetime(ts),
        )
        while event.id in self._open:  # the same post id given twice: keep ids unique
            event.id = event_id_for(doc.source, f"{doc.id}\x00{self._seq}")
        self._seq += 1
        state = _State(event=event, seq=self._seq, last_ts=ts)
        self._open[event.id] = state
        if len(self._open) > self.max_open_events:
            self._close(next(iter(self._open)))
        return state

    def _add(
        self,
        state: _State,
        doc: Document,
        ts: float,
        tags: list[str],
        vec: dict[str, float],
        weight: float,
    ) -> None:
        event = state.event
        event.size += 1
        if ts > state.last_ts:
            state.last_ts = ts
            event.last_seen = _as_datetime(ts)
        self._open.move_to_end(event.id)
        event.sources[doc.source] += 1
        for tag in tags:
            event.hashtags[tag] += 1
            self._tags[tag] = event.id
        _count_analysis(event, doc.analysis)
        if self.max_tracked_posts:
            self._posts[doc.key] = event.id
            self._posts.move_to_end(doc.key)
            if len(self._posts) > self.max_tracked_posts:
                self._posts.popitem(last=False)
        if vec:
            self._merge(state, vec, weight)
            self._keep_representative(state, doc, vec)
        state.dirty = True

    def _merge(self, state: _State, vec: dict[str, float], scale: float) -> None:
        """Add ``vec`` to the centroid, prune it, and keep the index in step (each
        posting carries the event's current weight of the feature; the most recently
        active events come last, the least recent drop out past ``max_postings``)."""
        centroid = state.centroid
        event_id = state.event.id
        index = self._index
        for feat, weight in vec.items():
            value = centroid.get(feat, 0.0) + scale * weight
            centroid[feat] = value
            postings = index.get(feat)
            if postings is None:
                postings = index[feat] = OrderedDict()
            postings[event_id] = value
            postings.move_to_end(event_id)
            if len(postings) > self.max_postings:
                postings.popitem(last=False)
        if len(centroid) > 2 * self.centroid_features:
            ranked = sorted(centroid.items(), key=lambda item: (-item[1], item[0]))
            for feat, _ in ranked[self.centroid_features :]:
                del centroid[feat]
                self._unpost(feat, event_id)
        state.length = norm(centroid)

    def _unpost(self, feat: str, event_id: str) -> None:
        postings = self._index.get(feat)
        if postings is not None:
            postings.pop(event_id, None)
            if not postings:
                del self._index[feat]

    def _keep_representative(self, state: _State, doc: Document, vec: dict[str, float]) -> None:
        """Keep up to 8 candidate titles: the members most similar to the centroid when
        they joined (the title is the one closest to the centroid at refresh time)."""
        text = (doc.title or doc.norm_text or doc.text).strip()[:_TITLE_CHARS]
        sim = dot(vec, state.centroid) / state.length if state.length else 0.0
        reps = state.reps
        if len(reps) < 8:
            reps.append((sim, text, vec))
            return
        low = min(range(len(reps)), key=lambda i: reps[i][0])
        if sim > reps[low][0]:
            reps[low] = (sim, text, vec)

    # -- closing --------------------------------------------------------------------

    def _expire(self) -> None:
        """Close the events inactive for ``close_after_hours`` before the newest post."""
        horizon = self._now - self.close_after
        while self._open:
            event_id, state = next(iter(self._open.items()))
            if state.last_ts >= horizon:
                break
            self._close(event_id)

    def _close(self, event_id: str) -> None:
        state = self._open.pop(event_id)
        for feat in state.centroid:
            self._unpost(feat, event_id)
        for tag in state.event.hashtags:
            if self._tags.get(tag) == event_id:
                del self._tags[tag]
        event = self._refresh(state)
        event.status = "closed"
        self._closed.append(event)

    def _refresh(self, state: _State) -> Event:
        """Bring the event's title and keywords up to date with its centroid."""
        event = state.event
        if not state.dirty:
            return event
        words = [
            (feat, weight)
            for feat, weight in state.centroid.items()
            if not feat.startswith((HASHTAG_PREFIX, BIGRAM_PREFIX))
        ]
        words.sort(key=lambda item: (-item[1], item[0]))
        top = words[:8]
        total = sum(weight for _, weight in top)
        event.keywords = [(word, round(weight / total, 4)) for word, weight in top] if total else []
        event.title = _title(state)
        state.dirty = False
        return event

    def _timestamp(self, doc: Document) -> float:
        when = doc.published_at or doc.ingested_at
        if when is None:
            return self._now if self._now > -math.inf else 0.0
        return when.timestamp()


def _title(state: _State) -> str:
    """A hashtag held by at least a third of the posts, else the tracked member closest
    to the centroid (ties: the earliest kept)."""
    event = state.event
    if event.hashtags:
        tag, count = event.hashtags.most_common(1)[0]
        if 3 * count >= event.size:
            return tag
    best = ""
    best_sim = -1.0
    for _, text, vec in state.reps:
        sim = dot(vec, state.centroid)
        if sim > best_sim:
            best, best_sim = text, sim
    return best


def _count_analysis(event: Event, analysis: dict[str, Any]) -> None:
    """Add a post's sentiment, emotion and region names to the event's mix."""
    sentiment = analysis.get("sentiment")
    if isinstance(sentiment, str):
        event.sentiment[sentiment] += 1
    emotion = analysis.get("emotion")
    if isinstance(emotion, str):
        event.emotion[emotion] += 1
    regions = analysis.get("regions")
    if isinstance(regions, list):
        for region in regions:
            name = region.get("name") if isinstance(region, dict) else region
            if isinstance(name, str):
                event.regions[name] += 1


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _as_datetime(ts: float) -> datetime:
    return _EPOCH + timedelta(seconds=ts)
