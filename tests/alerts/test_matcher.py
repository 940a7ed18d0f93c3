"""Rule evaluation on documents, and the many-rule matcher against brute force."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing.alerts.matcher import RuleMatcher
from yuqing.alerts.rule_match import (
    explain,
    gazetteer_region_lookup,
    matches,
    required_literals,
)
from yuqing.alerts.rule_syntax import parse
from yuqing.errors import UsageError
from yuqing.models import Document
from yuqing.pipeline.normalize import Normalizer


def doc(text: str, **fields: Any) -> Document:
    analysis = fields.pop("analysis", {})
    document = Document(id=fields.pop("id", "1"), source=fields.pop("source", "weibo"), text=text)
    for name, value in fields.items():
        setattr(document, name, value)
    document.analysis = analysis
    Normalizer().process([document])
    return document


def hit(rule: str, document: Document) -> bool:
    return matches(parse(rule), document)


def test_substring_and_traditional() -> None:
    d = doc("我在武汉大学读书")
    assert hit("武汉", d)  # 武汉 matches 武汉大学
    assert hit("武漢大學", d)  # a Traditional rule matches Simplified text
    assert hit("武汉", doc("我在武漢大學讀書"))  # and the other way round
    assert not hit("北京", d)
    assert hit("ＷＵ", doc("wuhan"))  # NFKC and case


def test_boolean_operators() -> None:
    d = doc("宁波发生火灾，消防赶到")
    assert hit("宁波 火灾", d)
    assert hit("宁波 AND 火灾", d)
    assert not hit("宁波 AND 爆炸", d)
    assert hit("爆炸 OR 火灾", d)
    assert not hit("爆炸 OR 地震", d)
    assert hit("宁波 NOT 演习", d)
    assert not hit("宁波 -消防", d)
    assert hit("NOT 演习", d)
    assert not hit("NOT 宁波", d)
    assert hit("(武汉 OR 宁波) (爆炸 OR 火灾) -演习", d)
    assert hit("北京 OR 宁波 火灾", d)  # OR(北京, AND(宁波, 火灾))
    assert not hit("(北京 OR 宁波) 爆炸", d)


def test_phrase_with_operators_and_spaces() -> None:
    d = doc("They said: rock AND roll (live)")
    assert hit('"rock and roll"', d)
    assert hit('"(live)"', d)
    assert not hit('"roll and rock"', d)
    assert hit('"said: rock"', d)


def test_near_both_orders_and_boundary() -> None:
    d = doc("武汉今天发生爆炸")  # 4 characters (今天发生) between 武汉 and 爆炸
    assert hit("武汉 NEAR/4 爆炸", d)
    assert not hit("武汉 NEAR/3 爆炸", d)
    assert hit("爆炸 NEAR/4 武汉", d)  # either order
    assert not hit("爆炸 NEAR/3 武汉", d)
    assert hit("武汉今 NEAR/0 天发", d)  # adjacent: 0 characters between
    assert hit("武汉今 NEAR/0 汉今天", d)  # overlapping counts as near
    assert hit("(北京 OR 武汉) NEAR/5 (火灾 OR 爆炸)", d)
    assert not hit("武汉 NEAR/10 地震", d)


def test_near_stays_within_one_part() -> None:
    d = doc("爆炸", title="武汉")
    assert hit("武汉 爆炸", d)  # title and text are both searched
    assert not hit("武汉 NEAR/5 爆炸", d)  # but NEAR pairs within one part
    quoted = doc("太可怕了//@张三: 武汉发生爆炸")
    assert quoted.quoted_text
    assert hit("武汉 NEAR/2 爆炸", quoted)  # the quoted words are searched too


def test_unnormalized_document_is_normalized_here() -> None:
    d = Document(id="1", source="weibo", text="武漢大學")
    assert hit("武汉大学", d)


def test_field_filters() -> None:
    analysis = {
        "sentiment": "negative",
        "emotion": "anger",
        "regions": [{"name": "宁波市", "code": "330200", "level": "city"}],
        "risk": {"rumor": 0.7, "group_incident": 0.5, "type": "rumor"},
    }
    d = doc("有人说", source="Weibo", author="張三", analysis=analysis, region="浙江")
    for rule in [
        "source:weibo",
        "sentiment:negative",
        "sentiment:负面",
        "emotion:anger",
        "author:张三",
        "risk:rumor",
        "risk.rumor>0.6",
        "risk.group_incident>=0.5",
        "risk.group_incident<=0.5",
        "region:宁波",
        "region:寧波",
        "region:宁波市",
        "region:3302",
        "region:330200",
        "region:33",
        "region:浙江",  # the record's region hint, by substring
    ]:
        assert hit(rule, d), rule
    for rule in [
        "source:news",
        "sentiment:positive",
        "emotion:joy",
        "author:张",  # author is exact, not a substring
        "risk:ordinary",
        "risk.rumor>0.7",
        "risk.group_incident>0.5",
        "region:杭州",
        "region:3301",
        "region:330201",
    ]:
        assert not hit(rule, d), rule
    bare = doc("有人说")  # not analysed: filters on analysis fields are false
    assert not hit("sentiment:negative", bare)
    assert not hit("risk.rumor>0", bare)
    assert hit("NOT sentiment:negative", bare)


def test_region_lookup_widens_names_to_places_inside() -> None:
    county = {"regions": [{"name": "鄞州区", "code": "330212", "level": "county"}]}
    d = doc("路面塌陷", analysis=county)
    assert not matches(parse("region:宁波"), d)
    assert matches(parse("region:宁波"), d, region_lookup=gazetteer_region_lookup)
    assert matches(parse("region:330200"), d)  # a code needs no lookup
    matcher = RuleMatcher(region_lookup=gazetteer_region_lookup)
    matcher.add("ningbo", "region:宁波 塌陷")
    matcher.add("hangzhou", "region:杭州")
    assert matcher.match(d) == ["ningbo"]


def test_explain() -> None:
    d = doc("武汉发生爆炸", analysis={"sentiment": "negative"})
    rule = parse("(武汉 OR 北京) 爆炸 NOT 演习 sentiment:negative 武汉 NEAR/2 爆炸")
    assert explain(rule, d) == ["武汉", "爆炸", "sentiment:negative", "武汉 NEAR/2 爆炸"]
    assert explain(parse("北京"), d) == []


def test_required_literals() -> None:
    assert required_literals(parse("武汉")) == [{"武汉"}]
    assert required_literals(parse("武汉 (爆炸 OR 火灾)")) == [{"武汉"}, {"爆炸", "火灾"}]
    assert required_literals(parse("a NEAR/3 (b OR c)")) == [{"a"}, {"b", "c"}]
    assert required_literals(parse("武汉 -演习")) == [{"武汉"}]
    assert required_literals(parse("(a b) OR c")) == [{"a", "c"}] or required_literals(
        parse("(a b) OR c")
    ) == [{"b", "c"}]
    for rule in ["NOT a", "a OR NOT b", "source:weibo", "risk.rumor>0.5", "sentiment:negative"]:
        assert required_literals(parse(rule)) is None, rule
    assert required_literals(parse("source:weibo"), fields=True) == [{"\x02source=weibo\x03"}]
    assert required_literals(parse("risk.rumor>0.5"), fields=True) is None


def test_matcher_add_remove_order() -> None:
    m = RuleMatcher()
    m.add("fire", "宁波 火灾")
    m.add("not-ad", "NOT 广告")
    m.add("negative", "sentiment:negative")
    m.add("score", "risk.rumor>0.5")
    d = doc("宁波火灾", analysis={"sentiment": "negative", "risk": {"rumor": 0.9}})
    assert m.match(d) == ["fire", "not-ad", "negative", "score"]
    assert m.unindexed == 2  # NOT 广告 and the score threshold
    stats = m.stats()
    assert (stats.rules, stats.indexed, stats.unindexed) == (4, 2, 2)
    m.remove("fire")
    assert m.match(d) == ["not-ad", "negative", "score"]
    m.add("fire", "火灾")  # re-added: now last
    assert m.match(d) == ["not-ad", "negative", "score", "fire"]
    m.add("fire", "地震")  # replaced
    assert m.match_batch([d, doc("广告")]) == [["not-ad", "negative", "score"], []]
    with pytest.raises(UsageError, match="no monitoring rule"):
        m.remove("nothing")
    assert "fire" in m and len(m) == 4


def test_prefilter_skips_rules_without_their_literals() -> None:
    m = RuleMatcher()
    for i in range(1000):
        m.add(f"r{i}", f"地名{i} 火灾")
    m.add("hit", "宁波 火灾")
    before = m.stats().evaluated
    assert m.match(doc("宁波火灾")) == ["hit"]
    assert m.stats().evaluated - before == 1  # only the one candidate was evaluated


# -- matcher == brute force on generated rules and documents ---------------------------

VOCAB = ["武汉", "大学", "宁波", "火灾", "爆炸", "学校", "a", "ab", "b"]
term = st.sampled_from([*VOCAB, "武漢", '"武汉 大学"', '"a b"'])
field = st.sampled_from(
    [
        "source:weibo",
        "source:news",
        "sentiment:negative",
        "emotion:anger",
        "author:张三",
        "risk:rumor",
        "risk.rumor>0.5",
        "region:宁波",
        "region:3302",
        "region:33",
    ]
)
atom = st.one_of(
    term,
    term,
    field,
    st.builds(lambda a, n, b: f"{a} NEAR/{n} {b}", term, st.integers(0, 6), term),
)
rule_text = st.recursive(
    atom,
    lambda inner: st.one_of(
        st.builds(lambda x: f"NOT ({x})", inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: " ".join(f"({x})" for x in xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: " OR ".join(f"({x})" for x in xs)),
    ),
    max_leaves=6,
)
post_text = st.lists(st.sampled_from([*VOCAB, " ", "的", "了"]), max_size=12).map("".join)
analysis = st.fixed_dictionaries(
    {
        "sentiment": st.sampled_from(["negative", "positive"]),
        "emotion": st.sampled_from(["anger", "joy"]),
        "risk": st.fixed_dictionaries(
            {"rumor": st.floats(0, 1), "type": st.sampled_from(["rumor", "ordinary"])}
        ),
        "regions": st.sampled_from(
            [[], [{"name": "宁波市", "code": "330200"}], [{"name": "鄞州区", "code": "330212"}]]
        ),
    }
)
document = st.builds(
    lambda text, title, source, author, a: doc(
        text, title=title or None, source=source, author=author, analysis=a
    ),
    post_text,
    post_text,
    st.sampled_from(["weibo", "news"]),
    st.sampled_from(["张三", "李四"]),
    analysis,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rule_text, min_size=1, max_size=15), st.lists(document, min_size=1, max_size=4))
def test_matcher_equals_brute_force(rules: list[str], docs: list[Document]) -> None:
    matcher = RuleMatcher()
    for index, text in enumerate(rules):
        matcher.add(str(index), text)
    for d in docs:
        expected = [str(i) for i, text in enumerate(rules) if matches(parse(text), d)]
        assert matcher.match(d) == expected
