"""B-cubed quality of the online event clusterer on the COVID-19 Weibo hashtag set.

    .venv/bin/python benchmarks/events_quality.py --data ../shared/data

Input: ``event_covid19_weibo_hashtags/clustering_by_hashtag.csv`` (300 hashtags x 40 posts
that carry exactly that one hashtag; the hashtag is the gold event). With a fixed seed,
half the posts keep their text with the hashtag (``text``) and half use
``text_no_hashtag``. The file gives a date only, and its ids are grouped by hashtag, so
each post gets a random time within its day (same seed, Asia/Shanghai); otherwise the
(published_at, id) order would hand the clusterer the labels. The posts then run in
(published_at, id) order, in batches of 1,000, through the real stages (Normalizer,
Deduplicator with the default DedupSettings, Segmenter, KeywordExtractor) and the
clusterer. A post left out of events (no words, no hashtag, no link) counts as a
singleton.

Reported: B-cubed precision, recall and F1 (over all posts, and over each half, with
the clusters of the whole run), the share of posts in singleton clusters, the number of
events, and the clusterer's own posts/s (the stages before it are timed apart).
Two reference rows use the labels and are no systems: the gold hashtag posts with every
other post alone, and a nearest-gold-centroid attachment of the no-hashtag posts (see
:func:`ceiling`; ``benchmarks/events_ceiling.py`` has the fuller label-using ceilings).
``--grid`` adds variations of the defaults.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from yuqing.events.cluster import EventClusterer
from yuqing.events.cluster_features import dot, norm
from yuqing.models import Document
from yuqing.pipeline.dedup import Deduplicator
from yuqing.pipeline.keywords import KeywordExtractor
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter
from yuqing.pipeline.stage import Stage
from yuqing.settings import DedupSettings

DATASET = "event_covid19_weibo_hashtags/clustering_by_hashtag.csv"
ZONE = ZoneInfo("Asia/Shanghai")
BATCH = 1000


@dataclass(slots=True, frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    n: int


def bcubed(
    clusters: dict[str, str], labels: dict[str, str], subset: Sequence[str] | None = None
) -> Scores:
    """B-cubed precision/recall/F1 of ``clusters`` (item -> cluster) against ``labels``
    (item -> class), averaged over ``subset`` (default: every item)."""
    pair: Counter[tuple[str, str]] = Counter()
    size: Counter[str] = Counter()
    klass: Counter[str] = Counter()
    for item, cluster in clusters.items():
        pair[(cluster, labels[item])] += 1
        size[cluster] += 1
        klass[labels[item]] += 1
    items = list(clusters) if subset is None else list(subset)
    p = r = 0.0
    for item in items:
        cluster, label = clusters[item], labels[item]
        both = pair[(cluster, label)]
        p += both / size[cluster]
        r += both / klass[label]
    p /= len(items)
    r /= len(items)
    return Scores(p, r, 2 * p * r / (p + r) if p + r else 0.0, len(items))


def load(data: Path, seed: int) -> tuple[list[Document], dict[str, str], dict[str, bool]]:
    """The documents in (published_at, id) order, gold labels, and which kept a hashtag."""
    path = data / DATASET
    if not path.is_file():
        sys.exit(f"error: {path} not found; pass --data pointing at ../shared/data")
    rng = random.Random(seed)
    docs: list[Document] = []
    labels: dict[str, str] = {}
    tagged: dict[str, bool] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            keep = rng.random() < 0.5
            day = datetime.fromisoformat(row["date"]).replace(tzinfo=ZONE)
            when = day + timedelta(seconds=rng.randrange(86_400))
            doc = Document(
                id=row["id"],
                source="weibo",
                text=row["text"] if keep else row["text_no_hashtag"],
                published_at=when.astimezone(ZoneInfo("UTC")),
                author=row["user_hash"],
            )
            docs.append(doc)
            labels[doc.id] = row["cluster_hashtag"]
            tagged[doc.id] = keep
    docs.sort(key=lambda d: (d.published_at, d.id))
    return docs, labels, tagged


def prepare(docs: list[Document]) -> float:
    """Run the stages before clustering over ``docs`` in batches; returns seconds."""
    stages: list[Stage] = [
        Normalizer(),
        Deduplicator(DedupSettings.model_validate({})),
        Segmenter(),
        KeywordExtractor(),
    ]
    start = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        batch = docs[i : i + BATCH]
        for stage in stages:
            batch = stage.process(batch)
    return time.perf_counter() - start


def cluster(
    docs: list[Document], clusterer: EventClusterer, *, links: bool = True
) -> tuple[dict[str, str], float]:
    """Run the clusterer; returns post -> cluster (a singleton id when left out) and the
    seconds it took. ``links=False`` hides duplicate_of/repost_of from it (ablation)."""
    saved = {doc.id: (doc.duplicate_of, doc.repost_of) for doc in docs}
    for doc in docs:
        doc.analysis.pop("event_id", None)
        if not links:
            doc.duplicate_of = doc.repost_of = None
    start = time.perf_counter()
    for i in range(0, len(docs), BATCH):
        clusterer.process(docs[i : i + BATCH])
    seconds = time.perf_counter() - start
    clusterer.close_all()
    for doc in docs:
        doc.duplicate_of, doc.repost_of = saved[doc.id]
    out: dict[str, str] = {}
    for doc in docs:
        event_id = doc.analysis.get("event_id")
        out[doc.id] = event_id if isinstance(event_id, str) else f"none:{doc.id}"
    return out, seconds


def report(
    name: str,
    clusters: dict[str, str],
    labels: dict[str, str],
    tagged: dict[str, bool],
    seconds: float,
) -> str:
    sizes = Counter(clusters.values())
    singles = sum(1 for c in clusters.values() if sizes[c] == 1) / len(clusters)
    every = bcubed(clusters, labels)
    with_tag = bcubed(clusters, labels, [i for i in clusters if tagged[i]])
    without = bcubed(clusters, labels, [i for i in clusters if not tagged[i]])
    rate = len(clusters) / seconds if seconds else float("inf")
    return (
        f"| {name} | {every.precision:.3f} | {every.recall:.3f} | **{every.f1:.3f}** | "
        f"{with_tag.f1:.3f} | {without.f1:.3f} | {singles:.1%} | {len(sizes):,} | {rate:,.0f} |"
    )


def ceiling(
    docs: list[Document], labels: dict[str, str], tagged: dict[str, bool]
) -> dict[str, str]:
    """A diagnostic that cheats: hashtag posts in their gold event; each no-hashtag post
    in the gold event (of its day +-1) whose centroid of hashtag-post vectors it is
    closest to, when that cosine is >= 0.05, else alone. It bounds what attaching
    no-hashtag posts by their words can reach with these features."""
    features = EventClusterer().features
    day = {
        doc.id: doc.published_at.astimezone(ZONE).date().toordinal()
        for doc in docs
        if doc.published_at
    }
    centroids: dict[str, dict[str, float]] = {}
    days: dict[str, set[int]] = {}
    for doc in docs:
        if tagged[doc.id]:
            label = labels[doc.id]
            centroid = centroids.setdefault(label, {})
            for feat, weight in features.vector(doc, []).items():
                centroid[feat] = centroid.get(feat, 0.0) + weight
            days.setdefault(label, set()).add(day[doc.id])
    lengths = {label: norm(c) or 1.0 for label, c in centroids.items()}
    out: dict[str, str] = {}
    for doc in docs:
        if tagged[doc.id]:
            out[doc.id] = f"gold:{labels[doc.id]}"
            continue
        vec = features.vector(doc, [])
        best, best_sim = f"single:{doc.id}", 0.05
        for label, centroid in centroids.items():
            if any(abs(day[doc.id] - d) <= 1 for d in days[label]):
                sim = dot(vec, centroid) / lengths[label]
                if sim >= best_sim:
                    best, best_sim = f"gold:{label}", sim
        out[doc.id] = best
    return out


HEADER = (
    "| run | B3 P | B3 R | B3 F1 | F1 hashtag half | F1 no-hashtag half | singletons | "
    "events | posts/s |\n|---|---|---|---|---|---|---|---|---|"
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--grid", action="store_true", help="also run variations of the defaults")
    args = parser.parse_args(argv)
    docs, labels, tagged = load(args.data, args.seed)
    prep = prepare(docs)
    print(
        f"{len(docs):,} posts, {sum(tagged.values()):,} with their hashtag; stages before "
        f"clustering: {len(docs) / prep:,.0f} posts/s\n"
    )
    print(HEADER)
    clusters, seconds = cluster(docs, EventClusterer())
    print(report("EventClusterer() defaults", clusters, labels, tagged, seconds))
    truth = {doc_id: f"gold:{label}" for doc_id, label in labels.items()}
    hashtag_only = {i: (truth[i] if tagged[i] else f"single:{i}") for i in labels}
    print(
        report("reference: gold hashtag posts, others singletons", hashtag_only, labels, tagged, 0)
    )
    print(
        report(
            "reference: nearest gold centroid (uses the labels)",
            ceiling(docs, labels, tagged),
            labels,
            tagged,
            0,
        )
    )
    if args.grid:
        variants: list[tuple[str, dict[str, float]]] = [
            (
                "before (threshold=0.04, pair_threshold=0.15, decay_hours=24)",
                {"threshold": 0.04, "pair_threshold": 0.15, "decay_hours": 24.0},
            ),
            (
                "older defaults (threshold=0.1, pair_threshold=0.2, decay 24, no penalty, no df)",
                {
                    "threshold": 0.1,
                    "pair_threshold": 0.2,
                    "decay_hours": 24.0,
                    "tagless_penalty": 0.0,
                    "df_window": 0,
                },
            ),
            ("decay_hours=24", {"decay_hours": 24.0}),
            ("decay_hours=8", {"decay_hours": 8.0}),
            ("close_after_hours=36", {"close_after_hours": 36.0}),
            ("threshold=0.02", {"threshold": 0.02}),
            ("threshold=0.04", {"threshold": 0.04}),
            ("pair_threshold=0.15", {"pair_threshold": 0.15}),
            ("threshold=0.02, tagless_penalty=0.15", {"threshold": 0.02, "tagless_penalty": 0.15}),
            ("tagless_penalty=0", {"tagless_penalty": 0.0}),
            ("df_window=0 (fixed idf only)", {"df_window": 0}),
            ("bigram_weight=0.3", {"bigram_weight": 0.3}),
            ("bigram_weight=0.5", {"bigram_weight": 0.5}),
            ("bigram_weight=0.5, threshold=0.02", {"bigram_weight": 0.5, "threshold": 0.02}),
            ("runner_up_margin=0.1", {"runner_up_margin": 0.1}),
            ("runner_up_margin=0.2, threshold=0.02", {"runner_up_margin": 0.2, "threshold": 0.02}),
            ("hashtag_weight=1 (hashtag in the vector)", {"hashtag_weight": 1.0}),
            ("soft_weight=0.3", {"soft_weight": 0.3}),
        ]
        for name, params in variants:
            clusters, seconds = cluster(docs, EventClusterer(**params))  # type: ignore[arg-type]
            print(report(name, clusters, labels, tagged, seconds))
        clusters, seconds = cluster(docs, EventClusterer(), links=False)
        print(report("duplicate/repost links ignored", clusters, labels, tagged, seconds))


if __name__ == "__main__":
    main()
