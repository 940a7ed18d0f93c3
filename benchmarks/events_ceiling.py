"""How far can attaching the no-hashtag posts by their text go? Label-using ceilings.

    .venv/bin/python benchmarks/events_ceiling.py --data ../shared/data [--seed 42]

Same data, halves and times as ``benchmarks/events_quality.py`` (the same ``load`` and
``prepare``). These are diagnostics that cheat, no systems: every post that kept its
hashtag sits in its gold event, and the profile of a gold event is built from all its
hashtag posts (later ones included; ``online``: only those published before the post)
plus, where said, the hashtag text itself (a headline). Each no-hashtag post is compared with the gold events that have a post on its
day or the day before or after (the benchmark's times are random within a day), and:

- ``top-1``: the share of all no-hashtag posts whose own event scores highest (and > 0);
  ``top-3``: within the three highest;
- ``best F1``: the best B-cubed F1 when a post joins its top event only if the score, or
  its margin over the runner-up, is at least a threshold (the threshold picked on the
  labels, among 40 quantiles), and stays alone otherwise;
- ``perfect-precision F1``: each top-1 hit joins its event and every miss stays alone
  (an oracle that knows when it is right): no attachment of these posts by this
  representation can do better.

Representations: ``word`` is the clusterer's post vector (its words, shipped idf);
``bigram`` is the character bigrams of the post's own text (hashtag text removed),
weighted ``(1 + ln tf) * idf`` with document frequencies over this file (unlabelled);
``+title w`` adds the hashtag text's vector to the event profile with weight ``w`` per
hashtag post; ``bm25`` scores the concatenated profile (hashtag text repeated 5 times)
with BM25 (k1 1.2, b 0.75). Last, the F1 that attaching a given share of the no-hashtag
posts correctly (the rest alone) would give, to read the required attach rate off.
"""

from __future__ import annotations

import argparse
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from events_quality import ZONE, bcubed, load, prepare

from yuqing.events.cluster import EventClusterer
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer
from yuqing.pipeline.segment import Segmenter

Vector = dict[str, float]
_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")


def unit(vec: Vector) -> Vector:
    length = math.sqrt(sum(x * x for x in vec.values()))
    return {k: x / length for k, x in vec.items()} if length else {}


def own_text(doc: Document) -> str:
    text = doc.norm_text
    for tag in doc.hashtags:
        text = text.replace(tag, " ")
    return text


def bigrams(text: str) -> list[str]:
    out: list[str] = []
    for run in _RUN.findall(text.lower()):
        out.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    return out


class Oracle:
    """Gold event profiles and the no-hashtag posts' candidates (gold events active on
    the post's day +- 1)."""

    def __init__(
        self, docs: list[Document], labels: dict[str, str], tagged: dict[str, bool]
    ) -> None:
        self.docs, self.labels, self.tagged = docs, labels, tagged
        self.features = EventClusterer().features
        self.events = sorted(set(labels.values()))
        heads = [Document(id=str(i), source="title", text=t) for i, t in enumerate(self.events)]
        Segmenter().process(Normalizer().process(heads))
        self.head_tokens = {e: d.tokens for e, d in zip(self.events, heads, strict=True)}
        day = {
            d.id: d.published_at.astimezone(ZONE).date().toordinal() for d in docs if d.published_at
        }
        days: dict[str, set[int]] = defaultdict(set)
        self.members: dict[str, list[Document]] = defaultdict(list)
        for doc in docs:
            days[labels[doc.id]].add(day[doc.id])
            if tagged[doc.id]:
                self.members[labels[doc.id]].append(doc)
        self.tagless = [d for d in docs if not tagged[d.id]]
        self.candidates = {
            d.id: [e for e in self.events if any(abs(day[d.id] - x) <= 1 for x in days[e])]
            for d in self.tagless
        }
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(bigrams(own_text(doc))))
        n = len(docs)
        self.bigram_idf = {g: math.log((n + 1) / (c + 1)) + 1 for g, c in df.items()}
        self.max_idf = math.log(n + 1) + 1

    def word(self, doc: Document) -> Vector:
        return self.features.vector(doc, [])

    def word_head(self, event: str) -> Vector:
        counts = Counter(self.head_tokens[event])
        weights = {t: (1 + math.log(c)) * self.features._weight(t) for t, c in counts.items()}
        return unit({t: w for t, w in weights.items() if w})

    def _bigram_vec(self, grams: list[str]) -> Vector:
        counts = Counter(grams)
        return unit(
            {g: (1 + math.log(c)) * self.bigram_idf.get(g, self.max_idf) for g, c in counts.items()}
        )

    def bigram(self, doc: Document) -> Vector:
        return self._bigram_vec(bigrams(own_text(doc)))

    def bigram_head(self, event: str) -> Vector:
        return self._bigram_vec(bigrams(event))

    def centroid_scorer(
        self,
        vector: Callable[[Document], Vector],
        head: Callable[[str], Vector],
        title_weight: float,
    ) -> Callable[[Document], list[tuple[float, str]]]:
        profiles: dict[str, Vector] = {}
        for event in self.events:
            acc: Vector = {}
            parts = [(vector(d), 1.0) for d in self.members[event]]
            if title_weight:
                parts.append((head(event), title_weight * max(1, len(self.members[event]))))
            for vec, weight in parts:
                for k, x in vec.items():
                    acc[k] = acc.get(k, 0.0) + weight * x
            profiles[event] = unit(acc)

        def score(doc: Document) -> list[tuple[float, str]]:
            vec = vector(doc)
            out = []
            for event in self.candidates[doc.id]:
                profile = profiles[event]
                out.append((sum(x * profile.get(k, 0.0) for k, x in vec.items()), event))
            return out

        return score

    def bm25_scorer(
        self, terms: Callable[[Document], list[str]], head: Callable[[str], list[str]]
    ) -> Callable[[Document], list[tuple[float, str]]]:
        k1, b = 1.2, 0.75
        profiles: dict[str, Counter[str]] = {}
        for event in self.events:
            counts: Counter[str] = Counter()
            for doc in self.members[event]:
                counts.update(terms(doc))
            for _ in range(5):
                counts.update(head(event))
            profiles[event] = counts
        lengths = {e: sum(c.values()) for e, c in profiles.items()}
        avg = sum(lengths.values()) / len(lengths)
        df: Counter[str] = Counter()
        for counts in profiles.values():
            df.update(counts.keys())
        n = len(profiles)
        idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

        def score(doc: Document) -> list[tuple[float, str]]:
            query = set(terms(doc))
            out = []
            for event in self.candidates[doc.id]:
                counts, norm = profiles[event], k1 * (1 - b + b * lengths[event] / avg)
                total = 0.0
                for t in query:
                    f = counts.get(t, 0)
                    if f:
                        total += idf[t] * f * (k1 + 1) / (f + norm)
                out.append((total, event))
            return out

        return score

    def online_scorer(
        self,
        vector: Callable[[Document], Vector],
        head: Callable[[str], Vector],
        title_weight: float,
    ) -> Callable[[Document], list[tuple[float, str]]]:
        """As :meth:`centroid_scorer`, but a profile holds only the hashtag posts
        published before the post (what an online clusterer can know); each hashtag post
        adds its vector plus ``title_weight`` times the hashtag text's."""
        scores: dict[str, list[tuple[float, str]]] = {}
        sums: dict[str, Vector] = defaultdict(dict)
        squares: dict[str, float] = defaultdict(float)  # squared length of each sum
        for doc in self.docs:
            if self.tagged[doc.id]:
                event = self.labels[doc.id]
                part = dict(vector(doc))
                for k, x in head(event).items():
                    part[k] = part.get(k, 0.0) + title_weight * x
                acc = sums[event]
                squares[event] += 2 * sum(x * acc.get(k, 0.0) for k, x in part.items())
                squares[event] += sum(x * x for x in part.values())
                for k, x in part.items():
                    acc[k] = acc.get(k, 0.0) + x
                continue
            vec = vector(doc)
            out = []
            for event in self.candidates[doc.id]:
                if squares.get(event, 0.0) > 0:
                    acc = sums[event]
                    dot = sum(x * acc.get(k, 0.0) for k, x in vec.items())
                    out.append((dot / math.sqrt(squares[event]), event))
            scores[doc.id] = out
        return lambda doc: scores[doc.id]

    def evaluate(self, scorer: Callable[[Document], list[tuple[float, str]]]) -> dict[str, float]:
        """top-1, top-3, best thresholded F1 (and its P, R) and perfect-precision F1."""
        rows: list[tuple[str, str | None, float, float]] = []  # id, top event, score, margin
        top1 = top3 = 0
        for doc in self.tagless:
            ranked = sorted((s for s in scorer(doc) if s[0] > 0), reverse=True)
            gold = self.labels[doc.id]
            if not ranked:
                rows.append((doc.id, None, 0.0, 0.0))
                continue
            runner = ranked[1][0] if len(ranked) > 1 else 0.0
            rows.append((doc.id, ranked[0][1], ranked[0][0], ranked[0][0] - runner))
            top1 += ranked[0][1] == gold
            top3 += gold in [e for _, e in ranked[:3]]
        base = {i: f"g:{self.labels[i]}" for i in self.labels if self.tagged[i]}
        best = (0.0, 0.0, 0.0)
        for use_margin in (False, True):
            values = sorted(r[3] if use_margin else r[2] for r in rows if r[1] is not None)
            for step in range(40):
                cut = values[step * len(values) // 40]
                clusters = dict(base)
                for doc_id, top, score, margin in rows:
                    ok = top is not None and (margin if use_margin else score) >= cut
                    clusters[doc_id] = f"g:{top}" if ok else f"s:{doc_id}"
                s = bcubed(clusters, self.labels)
                best = max(best, (s.f1, s.precision, s.recall))
        perfect = dict(base)
        for r in rows:
            hit = r[1] == self.labels[r[0]]
            perfect[r[0]] = f"g:{r[1]}" if hit else f"s:{r[0]}"
        n = len(self.tagless)
        return {
            "top1": top1 / n,
            "top3": top3 / n,
            "f1": best[0],
            "p": best[1],
            "r": best[2],
            "perfect": bcubed(perfect, self.labels).f1,
        }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    docs, labels, tagged = load(args.data, args.seed)
    prepare(docs)
    oracle = Oracle(docs, labels, tagged)
    counts = [len(c) for c in oracle.candidates.values()]
    empty = sum(1 for d in oracle.tagless if not oracle.word(d) and not oracle.bigram(d))
    print(
        f"{len(oracle.tagless):,} no-hashtag posts; {empty / len(oracle.tagless):.1%} have no "
        f"word or bigram; gold events active on their day +-1: {sum(counts) / len(counts):.1f} "
        f"on average (chance top-1 {sum(1 / c for c in counts if c) / len(counts):.3f})\n"
    )
    print(
        "| representation (gold profiles, day +-1) | top-1 | top-3 | best F1 (P / R) | "
        "perfect-precision F1 |\n|---|---|---|---|---|"
    )
    runs: list[tuple[str, Callable[[Document], list[tuple[float, str]]]]] = [
        ("word tf-idf", oracle.centroid_scorer(oracle.word, oracle.word_head, 0.0)),
        ("word tf-idf +title 0.2", oracle.centroid_scorer(oracle.word, oracle.word_head, 0.2)),
        ("bigram tf-idf", oracle.centroid_scorer(oracle.bigram, oracle.bigram_head, 0.0)),
        (
            "bigram tf-idf +title 0.2",
            oracle.centroid_scorer(oracle.bigram, oracle.bigram_head, 0.2),
        ),
        (
            "word tf-idf, online (earlier hashtag posts only)",
            oracle.online_scorer(oracle.word, oracle.word_head, 0.0),
        ),
        (
            "bigram tf-idf +title 0.2, online",
            oracle.online_scorer(oracle.bigram, oracle.bigram_head, 0.2),
        ),
        (
            "bm25 words +title",
            oracle.bm25_scorer(lambda d: d.tokens, oracle.head_tokens.__getitem__),
        ),
        ("bm25 bigrams +title", oracle.bm25_scorer(lambda d: bigrams(own_text(d)), bigrams)),
    ]
    for name, scorer in runs:
        m = oracle.evaluate(scorer)
        print(
            f"| {name} | {m['top1']:.3f} | {m['top3']:.3f} | {m['f1']:.3f} ({m['p']:.3f} / "
            f"{m['r']:.3f}) | {m['perfect']:.3f} |",
            flush=True,
        )
    print("\n| no-hashtag posts attached correctly (rest alone) | B3 F1 |\n|---|---|")
    rng = random.Random(0)
    for share in (0.3, 0.4, 0.5, 0.55, 0.6, 0.7):
        clusters = {i: f"g:{labels[i]}" for i in labels if tagged[i]}
        for doc in oracle.tagless:
            hit = rng.random() < share
            clusters[doc.id] = f"g:{labels[doc.id]}" if hit else f"s:{doc.id}"
        print(f"| {share:.0%} | {bcubed(clusters, labels).f1:.3f} |")


if __name__ == "__main__":
    main()
