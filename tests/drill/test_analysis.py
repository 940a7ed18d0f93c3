"""The built-in scenarios through the real analysis pipeline: the incidents read as
negative, the protest carries group-incident risk, the benign festival does not."""

from __future__ import annotations

from collections import Counter
from functools import cache

from yuqing.drill.generator import generate_posts
from yuqing.drill.scenario import load_scenario
from yuqing.runtime.factory import build_pipeline
from yuqing.settings import Settings
from yuqing.sources.record import to_document


@cache
def analysed(name: str) -> tuple[Counter[str], Counter[str], int]:
    """(sentiments, risk types) of the scenario's incident posts (chatter left out)."""
    settings = Settings.model_validate({})
    sc = load_scenario(name)
    posts = generate_posts(sc, 7)
    prefix = f"{sc.name}-7"
    docs = [
        to_document(p.record(prefix), line=i, default_source="drill", zone=settings.zone)
        for i, p in enumerate(posts, 1)
    ]
    chatter = {f"{prefix}-{p.serial:06d}" for p in posts if p.kind == "chatter"}
    out = build_pipeline(settings, analysis=True, events=True).process(docs)
    sentiments: Counter[str] = Counter()
    risks: Counter[str] = Counter()
    for doc in out:
        if doc.id not in chatter:
            sentiments[doc.analysis["sentiment"]] += 1
            risks[doc.analysis["risk"]["type"]] += 1
    return sentiments, risks, sum(sentiments.values())


def test_food_safety_is_negative() -> None:
    sentiments, _, total = analysed("school-food-safety")
    assert sentiments["negative"] / total > 0.55


def test_protest_is_negative_with_group_incident_risk() -> None:
    sentiments, risks, total = analysed("px-project-protest")
    assert sentiments["negative"] / total > 0.6
    assert risks["group_incident"] / total > 0.08


def test_benign_festival_raises_no_group_incident_and_few_rumours() -> None:
    sentiments, risks, total = analysed("cherry-blossom-festival")
    assert risks["group_incident"] == 0
    assert risks["rumor"] / total < 0.08
    assert sentiments["positive"] > sentiments["negative"]
    _, food_risks, food_total = analysed("school-food-safety")
    assert risks["rumor"] / total < food_risks["rumor"] / food_total / 3
