"""Speed of rumour-verdict matching (yuqing.rumors): the ``claims`` stage over analysed
posts, beside the ``normalize`` stage alone in the same run, and re-scoring a store's
history after a verdict (``rescore_stored``: documents_after pages + update_analysis).

    .venv/bin/python benchmarks/claims_match.py [--posts 20000] [--claims 10 100 1000]

Posts: the demo scenario (yuqing.demo.scenario), through normalize ... analysis once.
Claims: debunked statements cut from other posts' texts (so candidates are found and
verified, the expensive path) plus unrelated ones; one in ten posts repeats a claim.
"""

from __future__ import annotations

import argparse
import copy
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from yuqing.clock import ManualClock
from yuqing.demo.scenario import generate
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer, normalize_text
from yuqing.rumors import Claim, ClaimChecker, new_claim
from yuqing.rumors.verdicts import rescore_stored
from yuqing.runtime.factory import build_pipeline
from yuqing.settings import Settings
from yuqing.sources.record import to_document
from yuqing.store.url import open_store

T0 = datetime(2026, 3, 5, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--claims", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    rng = random.Random(7)
    records = generate(args.posts, seed=7)
    zone = Settings.model_validate({}).zone
    docs = [
        to_document(r, line=n, default_source="bench", zone=zone) for n, r in enumerate(records, 1)
    ]
    texts = [d.text for d in docs]
    start = time.perf_counter()
    Normalizer().process([Document(id=d.id, source=d.source, text=d.text) for d in docs])
    norm_s = time.perf_counter() - start
    settings = Settings.model_validate({"store": "sqlite:///:memory:"})
    analysed = build_pipeline(settings, analysis=True).process(docs)
    print(f"posts {len(docs)}; normalize alone {len(docs) / norm_s:,.0f} posts/s")
    clock = ManualClock(T0)
    chars = [c for t in texts for c in t if "\u4e00" <= c <= "\u9fff"]
    last: tuple[list[Claim], list[Document]] = ([], [])
    for n in args.claims:
        claims = [
            new_claim(
                "".join(rng.choices(chars, k=rng.randint(10, 16))),
                who="bench",
                clock=clock,
                verdict="false",
                evidence_url="https://piyao.example.org/1",
                claim_id=f"c{i}",
            )
            for i in range(n)
        ]
        batch = [copy.deepcopy(d) for d in analysed]
        for doc in batch[::10]:  # one post in ten repeats a claim
            doc.norm_text += "网传" + normalize_text(rng.choice(claims).statement)
        stage = ClaimChecker(lambda claims=claims: claims, clock=clock)  # type: ignore[misc]
        stage.reload()
        start = time.perf_counter()
        stage.process(batch)
        took = time.perf_counter() - start
        print(
            f"claims {n}: {len(batch) / took:,.0f} posts/s, "
            f"{stage.matched} of {len(batch)} posts matched"
        )
        last = claims, batch
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        store = open_store(url)
        try:
            claims, batch = last
            for doc in batch:
                doc.analysis.pop("claim", None)  # stored as the models scored them
                doc.text = doc.norm_text  # with the repeats in it
            store.add_documents(batch)
            start = time.perf_counter()
            report = rescore_stored(store, T0 - timedelta(days=3650), claims=claims)
            took = time.perf_counter() - start
        finally:
            store.close()
    print(
        f"rescore_stored, {len(claims)} claims: {report.scanned / took:,.0f} stored posts/s "
        f"({report.scanned} read, {report.matched} matching, {report.changed} changed)"
    )


if __name__ == "__main__":
    main()
