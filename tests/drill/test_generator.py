"""The post generator: deterministic, within volume, valid DESIGN.md records, with the
variety the pipeline must cope with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from yuqing.drill.generator import count_kinds, generate, generate_posts
from yuqing.drill.scenario import list_scenarios, load_scenario
from yuqing.models import INPUT_FIELDS
from yuqing.settings import Settings
from yuqing.sources.record import to_document


def test_same_seed_same_records() -> None:
    sc = load_scenario("school-food-safety")
    assert generate(sc, 11) == generate(sc, 11)
    assert generate(sc, 11) != generate(sc, 12)


@pytest.mark.parametrize("name", [info.name for info in list_scenarios()])
def test_builtins_generate_expected_volumes_and_valid_records(name: str) -> None:
    sc = load_scenario(name)
    records = generate(sc, 3)
    expected = sc.expected_posts()
    assert 0.6 * expected <= len(records) <= 1.5 * expected
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    times = [datetime.fromisoformat(r["published_at"]) for r in records]
    assert times == sorted(times)
    assert sc.start <= times[0] and times[-1] < sc.end
    zone = Settings.model_validate({}).zone
    for line, record in enumerate(records, 1):
        assert set(record) <= set(INPUT_FIELDS)
        doc = to_document(record, line=line, default_source="drill", zone=zone, now=sc.start)
        assert doc.text.strip() and doc.published_at is not None
        assert doc.published_at.tzinfo is not None
    ids_set = set(ids)
    assert all(r["parent_id"] in ids_set for r in records if "parent_id" in r)


def test_variety_reposts_traditional_emoji_and_kinds() -> None:
    sc = load_scenario("school-food-safety")
    posts = generate_posts(sc, 5)
    kinds = count_kinds(posts)
    for kind in ("chatter", "original", "duplicate", "repost", "rumour", "cascade", "statement"):
        assert kinds.get(kind, 0) > 0, kind
    texts = [p.text for p in posts]
    assert any("//@宁波热点:" in t for t in texts)  # the cascade's chains
    assert max(t.count("//@") for t in texts) >= 3  # deep chains
    assert any("學" in t or "們" in t for t in texts)  # Traditional copies
    assert any("[怒]" in t for t in texts) and any("#" in t for t in texts)
    assert any("http://" in t for t in texts) and any(" @" in t for t in texts)
    assert kinds["chatter"] / len(posts) == pytest.approx(sc.chatter, abs=0.08)


def _negative_share(name: str, before: bool) -> float:
    sc = load_scenario(name)
    assert sc.statement is not None
    at = sc.start + sc.statement.at
    posts = [
        p
        for p in generate_posts(sc, 1)
        if p.kind in ("original", "reaction") and (p.at < at) == before
    ]
    return sum(p.sentiment == "negative" for p in posts) / len(posts)


def test_statement_quality_moves_negativity() -> None:
    # A good statement lowers the negative share of what follows; a poor one keeps it high.
    assert (
        _negative_share("school-food-safety", False)
        < _negative_share("school-food-safety", True) - 0.15
    )
    assert _negative_share("px-project-protest", False) > 0.8


def test_generated_at_is_aware() -> None:
    sc = load_scenario("cherry-blossom-festival")
    assert all(p.at.tzinfo is not None for p in generate_posts(sc, 2))
    assert sc.start < datetime(2030, 1, 1, tzinfo=UTC)
