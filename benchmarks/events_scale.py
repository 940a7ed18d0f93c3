"""Throughput and memory of the event clusterer alone over a long synthetic stream.

    .venv/bin/python benchmarks/events_scale.py --n 1000000

Posts are generated on the fly, in batches of 1,000, so the input never sits in memory:
stories start at a steady rate (``--stories-per-day``), each lives about a day with
posts spread over it; a post has 2-4 of its story's 8 topic words, 4-10 background words
drawn from a Zipf-like vocabulary, and a hashtag of its story one time in four. Tokens are
set directly (the stages before clustering are measured by their own benchmarks), and
the document frequencies are the synthetic vocabulary's. Scenario time advances
``--posts-per-day`` posts per day. Closed events are drained after every batch (an
archive would store them). Printed every ``--every`` posts: posts/s so far, open events,
index entries, tracked posts and the process's peak RSS; then a markdown summary.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import time
from datetime import UTC, datetime, timedelta

from yuqing.events.cluster import EventClusterer
from yuqing.models import Document
from yuqing.pipeline.keywords import IdfTable

VOCAB = 50_000  # background words
TOPIC_WORDS = 8


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Stream:
    """A deterministic synthetic stream of posts about overlapping stories."""

    def __init__(self, seed: int, posts_per_day: int, stories_per_day: int) -> None:
        self.rng = random.Random(seed)
        self.posts_per_day = posts_per_day
        self.stories_per_day = stories_per_day
        self.start = datetime(2024, 1, 1, tzinfo=UTC)
        self.n = 0
        self.stories: list[tuple[int, float, list[str]]] = []  # (id, born day, words)
        self.next_story = 0
        # cumulative Zipf weights of the background vocabulary
        weights = [1.0 / (rank + 1) for rank in range(VOCAB)]
        total = sum(weights)
        self.cum: list[float] = []
        acc = 0.0
        for weight in weights:
            acc += weight / total
            self.cum.append(acc)

    def idf(self) -> IdfTable:
        """Document frequencies matching the generator: background words by their Zipf
        share, topic words rare."""
        n_docs = 1_000_000
        df = {f"b{rank}": max(1, int(n_docs * 8 / (rank + 1) / 11)) for rank in range(VOCAB)}
        return IdfTable(df, n_docs)

    def _background(self) -> str:
        x = self.rng.random()
        lo, hi = 0, VOCAB - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return f"b{lo}"

    def batch(self, size: int) -> list[Document]:
        docs: list[Document] = []
        rng = self.rng
        for _ in range(size):
            day = self.n / self.posts_per_day
            while self.next_story < day * self.stories_per_day + 50:
                sid = self.next_story
                words = [f"s{sid}w{k}" for k in range(TOPIC_WORDS)]
                self.stories.append((sid, self.next_story / self.stories_per_day, words))
                self.next_story += 1
            self.stories = [s for s in self.stories if s[1] > day - 1.0]
            sid, _, words = rng.choice(self.stories)
            tokens = rng.sample(words, rng.randint(2, 4))
            tokens += [self._background() for _ in range(rng.randint(4, 10))]
            rng.shuffle(tokens)
            doc = Document(
                id=str(self.n),
                source="synthetic",
                text=" ".join(tokens),
                published_at=self.start + timedelta(days=day),
                tokens=tokens,
                hashtags=[f"story{sid}"] if rng.random() < 0.25 else [],
            )
            doc.norm_text = doc.text
            docs.append(doc)
            self.n += 1
        return docs


def main() -> None:
    parser = argparse.ArgumentParser(description="event clusterer throughput and memory")
    parser.add_argument("--n", type=int, default=300_000, help="posts to stream")
    parser.add_argument("--posts-per-day", type=int, default=20_000)
    parser.add_argument("--stories-per-day", type=int, default=400)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    stream = Stream(args.seed, args.posts_per_day, args.stories_per_day)
    clusterer = EventClusterer(idf=stream.idf())
    rss0 = peak_rss_mib()
    archived = 0
    spent = 0.0
    done = 0
    print(f"start: peak RSS {rss0:,.0f} MiB\n")
    print(
        "| posts | posts/s (clusterer) | open events | index features | tracked posts | "
        "archived events | peak RSS MiB |\n|---|---|---|---|---|---|---|"
    )
    while done < args.n:
        docs = stream.batch(min(1000, args.n - done))
        start = time.perf_counter()
        clusterer.process(docs)
        archived += len(clusterer.drain_closed())
        spent += time.perf_counter() - start
        done += len(docs)
        if done % args.every == 0 or done == args.n:
            print(
                f"| {done:,} | {done / spent:,.0f} | {clusterer.open_count:,} | "
                f"{len(clusterer._index):,} | {len(clusterer._posts):,} | {archived:,} | "
                f"{peak_rss_mib():,.0f} |",
                flush=True,
            )
    days = math.ceil(args.n / args.posts_per_day)
    print(
        f"\n{args.n:,} posts over {days} scenario days, {stream.next_story:,} stories; "
        f"clusterer {args.n / spent:,.0f} posts/s; peak RSS {peak_rss_mib():,.0f} MiB "
        f"(start {rss0:,.0f} MiB)"
    )


if __name__ == "__main__":
    main()
