"""Precision and recall of the coordinated-account signals on drill streams.

Generates drill streams with the generator, with and without the coordinated campaign
of ``astroturf-campaign`` (same organic posts: the campaign is generated last), and the
campaign-free built-in scenarios; runs each through the real pipeline
(``build_pipeline(settings, analysis=False)``: normalize, dedup, segment, keywords) and
:func:`yuqing.judgement.coordination.coordination` over the incident's posts (chatter
left out, as an event would). Reports per-post precision and recall of the flags
against the generator's ground truth (kind ``campaign``) and the flagged share on
campaign-free streams (false alarms), as a markdown table.

    .venv/bin/python benchmarks/coordination_quality.py [--seeds 1 2 3 4 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from datetime import timedelta

from yuqing.drill.generator import generate_posts
from yuqing.drill.scenario import Scenario, load_scenario
from yuqing.judgement.coordination import SIGNAL_LABELS, CoordinationReport, coordination
from yuqing.models import Document
from yuqing.runtime.factory import build_pipeline
from yuqing.settings import Settings
from yuqing.sources.record import to_document

FREE = ("school-food-safety", "px-project-protest", "cherry-blossom-festival")


def variant(scenario: Scenario, *, campaign: bool, profiles: bool = False) -> Scenario:
    """``scenario`` with its campaign on or off, and account profiles on or off."""
    if not campaign or scenario.campaign is None:
        return dataclasses.replace(scenario, campaign=None)
    camp = dataclasses.replace(scenario.campaign, profiles=profiles)
    return dataclasses.replace(scenario, campaign=camp)


def harder(scenario: Scenario) -> Scenario:
    """A subtler campaign: 20 accounts with ordinary follower counts (bought aged
    accounts), loose timing (20-minute jitter), 30 % copies, 20 reposts over 20 minutes."""
    assert scenario.campaign is not None
    camp = dataclasses.replace(
        scenario.campaign,
        accounts=20,
        followers=(20, 400),
        identical=0.3,
        jitter=timedelta(minutes=20),
        reposts=20,
        repost_over=timedelta(minutes=20),
    )
    return dataclasses.replace(scenario, campaign=camp)


def analysed(scenario: Scenario, seed: int) -> tuple[list[Document], set[tuple[str, str]]]:
    """The stream's incident posts through the real pipeline, and the campaign's keys."""
    settings = Settings.model_validate({})
    posts = [p for p in generate_posts(scenario, seed) if p.kind != "chatter"]
    prefix = f"{scenario.name}-{seed}"
    docs = [
        to_document(p.record(prefix), line=i, default_source="drill", zone=settings.zone)
        for i, p in enumerate(posts, 1)
    ]
    truth = {d.key for d, p in zip(docs, posts, strict=True) if p.kind == "campaign"}
    return build_pipeline(settings, analysis=False).process(docs), truth


def score(report: CoordinationReport, truth: set[tuple[str, str]]) -> tuple[float, float]:
    """(precision, recall) of the flagged posts; precision is 1 when nothing is flagged."""
    hits = len(report.flagged & truth)
    precision = hits / len(report.flagged) if report.flagged else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall


def rows(seeds: Sequence[int]) -> list[str]:
    astro = load_scenario("astroturf-campaign")
    out: list[str] = []
    cases: list[tuple[str, Scenario]] = [
        ("astroturf-campaign, campaign, followers only", variant(astro, campaign=True)),
        (
            "astroturf-campaign, campaign, with profiles",
            variant(astro, campaign=True, profiles=True),
        ),
        ("astroturf-campaign, harder campaign (see docs)", harder(astro)),
        ("astroturf-campaign, no campaign", variant(astro, campaign=False)),
        *((f"{name} (no campaign)", load_scenario(name)) for name in FREE),
    ]
    for label, scenario in cases:
        ps, rs, shares, totals = [], [], [], []
        per_signal = dict.fromkeys(SIGNAL_LABELS, 0)
        for seed in seeds:
            docs, truth = analysed(scenario, seed)
            report = coordination(docs)
            p, r = score(report, truth)
            ps.append(p)
            rs.append(r)
            shares.append(report.share if not truth else len(report.flagged - truth) / len(docs))
            totals.append(len(docs))
            for kind, n in report.counts.items():
                per_signal[kind] += n
        n = len(seeds)
        signals = " ".join(f"{k} {v / n:.0f}" for k, v in per_signal.items())
        has = scenario.campaign is not None
        out.append(
            f"| {label} | {sum(totals) / n:.0f} | "
            + (f"{min(ps):.2f} / {sum(ps) / n:.2f} | " if has else "– | ")
            + (f"{min(rs):.2f} / {sum(rs) / n:.2f} | " if has else "– | ")
            + f"{max(shares):.1%} | {signals} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        "| stream | posts | precision (min / mean) | recall (min / mean) "
        "| organic posts flagged (max) | flagged posts per signal (mean) |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows(args.seeds):
        print(row)
    print(f"\nseeds {' '.join(map(str, args.seeds))}; {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
