"""The rule language: parsing, precedence, canonical form and error positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing.alerts.rule_syntax import (
    And,
    Compare,
    Field,
    Near,
    Node,
    Not,
    Or,
    RuleSyntaxError,
    Text,
    format,
    parse,
)
from yuqing.errors import UsageError
from yuqing.pipeline.normalize import normalize_text

T = Text


# -- concrete cases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("武汉", T("武汉")),
        ("武汉 大学", And((T("武汉"), T("大学")))),
        ("武汉 AND 大学", And((T("武汉"), T("大学")))),
        ("武汉 且 大学", And((T("武汉"), T("大学")))),
        ("武汉 OR 宁波", Or((T("武汉"), T("宁波")))),
        ("武汉 或 宁波", Or((T("武汉"), T("宁波")))),
        ("NOT 广告", Not(T("广告"))),
        ("非 广告", Not(T("广告"))),
        ("-广告", Not(T("广告"))),
        ('-"广告 推广"', Not(T("广告 推广"))),
        ("-(a OR b)", Not(Or((T("a"), T("b"))))),
        ("covid-19", T("covid-19")),  # a hyphen inside a word is not NOT
        ("非法", T("非法")),  # 非 is an operator only as a word of its own
        ("and or not", And((T("and"), T("or"), T("not")))),  # operators are upper case
        ("ａ ＡＮＤ ｂ", And((T("a"), T("b")))),  # full-width operators work (NFKC)
        ("(a)", T("a")),
        ("（武汉 或 宁波） 爆炸", And((Or((T("武汉"), T("宁波"))), T("爆炸")))),
    ],
)
def test_operators(rule: str, expected: Node) -> None:
    assert parse(rule) == expected


def test_precedence_not_near_and_or() -> None:
    # OR loosest, then AND, then NEAR, then NOT
    assert parse("a OR b c") == Or((T("a"), And((T("b"), T("c")))))
    assert parse("a b OR c") == Or((And((T("a"), T("b"))), T("c")))
    assert parse("a NEAR/3 b c") == And((Near((T("a"),), (T("b"),), 3), T("c")))
    assert parse("NOT a b") == And((Not(T("a")), T("b")))
    assert parse("NOT (a NEAR/3 b)") == Not(Near((T("a"),), (T("b"),), 3))
    assert parse("(a OR b) c") == And((Or((T("a"), T("b"))), T("c")))
    assert parse("a AND (b AND c)") == And((T("a"), T("b"), T("c")))  # flattened


def test_phrases_keep_operators_and_spaces() -> None:
    assert parse('"a AND b OR NOT c"') == T("a and b or not c")
    assert parse('"NEAR/3 (x) source:weibo"') == T("near/3 (x) source:weibo")
    assert parse("“食品 安全”") == T("食品 安全")  # Chinese quotes
    assert parse(r'"say \"hi\""') == T('say "hi"')
    assert parse('"  多  空格 "') == T("多 空格")


def test_terms_are_normalized() -> None:
    assert parse("武漢大學") == T("武汉大学")  # Traditional -> Simplified
    assert parse("ＣＯＶＩＤ") == T("covid")  # NFKC, lower case
    assert parse('"寧波 市"') == T("宁波 市")


def test_near() -> None:
    assert parse("武汉 NEAR/5 爆炸") == Near((T("武汉"),), (T("爆炸"),), 5)
    assert parse("(武汉 OR 宁波) NEAR/0 爆炸") == Near((T("武汉"), T("宁波")), (T("爆炸"),), 0)
    assert parse('"a b" NEAR/10 c') == Near((T("a b"),), (T("c"),), 10)


def test_fields() -> None:
    assert parse("source:Weibo") == Field("source", "weibo")
    assert parse("region:寧波") == Field("region", "宁波")
    assert parse("region:330200") == Field("region", "330200")
    assert parse("sentiment:negative") == Field("sentiment", "negative")
    assert parse("sentiment:负面") == Field("sentiment", "negative")
    assert parse("emotion:愤怒") == Field("emotion", "anger")
    assert parse('author:"张 三"') == Field("author", "张 三")
    assert parse("risk:rumor") == Field("risk", "rumor")
    assert parse("risk:群体性事件") == Field("risk", "group_incident")
    assert parse("risk.rumor>0.6") == Compare("risk.rumor", ">", 0.6)
    assert parse("risk.group_incident>=.5") == Compare("risk.group_incident", ">=", 0.5)
    assert parse("risk.rumor<1") == Compare("risk.rumor", "<", 1.0)
    assert parse("Source:weibo") == Field("source", "weibo")


def test_format_is_canonical() -> None:
    assert format(parse("(武汉 或 宁波) 爆炸 -演习")) == "(武汉 OR 宁波) AND 爆炸 AND NOT 演习"
    assert format(parse("NOT (a NEAR/3 b)")) == "NOT (a NEAR/3 b)"
    assert format(parse('"a b" NEAR/2 (c OR d)')) == '"a b" NEAR/2 (c OR d)'
    assert format(parse('"AND" "-x" "非" "source:x" "a\\"b"')) == (
        'and AND "-x" AND "非" AND "source:x" AND "a\\"b"'  # terms are lower case
    )
    assert format(parse("a OR b c")) == "a OR b AND c"
    assert format(parse("(a OR b) (c OR d)")) == "(a OR b) AND (c OR d)"


@pytest.mark.parametrize(
    ("rule", "column", "fragment"),
    [
        ("", 1, "the rule is empty"),
        ("   ", 1, "the rule is empty"),
        ("(武汉 OR 宁波", 10, "expected ')' to close '(' at column 1"),
        ("a AND (b OR (c d)", 18, "expected ')' to close '(' at column 7"),
        ("a b)", 4, "unexpected ')'"),
        ("a AND", 6, "after 'AND', found end of rule"),
        ("a OR OR b", 6, "after 'OR', found 'OR'"),
        ("AND a", 1, "found 'AND'"),
        ("a NOT", 6, "after 'NOT'"),
        ("()", 2, "after '('"),
        ('a "bc', 6, "expected '\"' to close the quote '\"' at column 3"),
        ('""', 1, "phrase"),
        ("sorce:weibo", 1, "unknown field 'sorce'"),
        ("a sentiment:bad", 13, "unknown sentiment 'bad'; expected one of positive"),
        ("emotion:", 9, "expected a value after 'emotion:'"),
        ("risk.rumor>1.5", 12, "expected a number from 0 to 1"),
        ("risk.rumor:0.5", 1, "compare it"),
        ("source>3", 1, "expected ':' after 'source'"),
        ("a NEAR b", 3, "NEAR/n"),
        ("a NEAR/x b", 3, "NEAR/n"),
        ("a NEAR/3 b NEAR/4 c", 12, "cannot follow another NEAR"),
        ("NOT a NEAR/3 b", 1, "NOT binds tighter than NEAR"),
        ("a NEAR/3 source:weibo", 10, "on its right"),
        ("a NEAR/3 (b c)", 10, "on its right"),
        ("a NEAR/99999999 b", 3, "at most"),
        ("(" * 70 + "a" + ")" * 70, 65, "nested deeper"),
    ],
)
def test_errors_give_the_column(rule: str, column: int, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse(rule)
    assert info.value.column == column
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"column {column}: ")
    assert isinstance(info.value, UsageError)


# -- hypothesis -------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["武汉", "大學", "a", "B", " ", "  ", "(", ")", "（", "）", '"', "“", "”", "\\", "-", ":",
     "AND", "OR", "NOT", "NEAR/", "NEAR/3", "且", "或", "非", "source:", "region:", "risk.rumor>",
     "sentiment:", "0.5", "1e9", "9" * 30, "\u200b", "<b>", "&amp;", "\t", "\n", "，", "。"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=40), st.lists(_PIECES, max_size=25).map("".join)))
def test_parse_raises_only_rule_syntax_errors(text: str) -> None:
    try:
        node = parse(text)
    except RuleSyntaxError as exc:
        assert 1 <= exc.column <= len(text) + 1
        return
    assert parse(format(node)) == node


def _normalized(raw: str) -> str:
    return normalize_text(raw)


texts = (
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)
    .map(_normalized)
    .filter(lambda v: bool(v) and normalize_text(v) == v)
    .map(Text)
)
words = st.sampled_from(["武汉", "大学", "爆炸", "a", "and", "-x", "非", "x:y", 'q"', "宁 波"]).map(
    Text
)
text_nodes = st.one_of(words, texts)
fields = st.one_of(
    st.builds(
        Field,
        st.sampled_from(["source", "region", "author"]),
        st.sampled_from(["weibo", "宁波", "330200", "张 三", 'a"b', "x:y", "(", "-"]),
    ),
    st.builds(Field, st.just("sentiment"), st.sampled_from(["positive", "negative", "neutral"])),
    st.builds(Field, st.just("emotion"), st.sampled_from(["joy", "anger", "fear"])),
    st.builds(Field, st.just("risk"), st.sampled_from(["rumor", "group_incident", "ordinary"])),
    st.builds(
        Compare,
        st.sampled_from(["risk.rumor", "risk.group_incident"]),
        st.sampled_from([">", ">=", "<", "<="]),
        st.floats(0, 1),
    ),
)
sides = st.lists(text_nodes, min_size=1, max_size=3).map(tuple)
leaves = st.one_of(text_nodes, fields, st.builds(Near, sides, sides, st.integers(0, 50)))


def _combine(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def flat(kind: type[And] | type[Or]) -> st.SearchStrategy[Node]:
        return (
            st.lists(children, min_size=2, max_size=4)
            .filter(lambda items: not any(isinstance(i, kind) for i in items))
            .map(lambda items: kind(tuple(items)))
        )

    return st.one_of(st.builds(Not, children), flat(And), flat(Or))


rules = st.recursive(leaves, _combine, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules)
def test_format_parse_round_trip(node: Node) -> None:
    text = format(node)
    assert parse(text) == node, text
    assert format(parse(text)) == text


@given(st.text(max_size=12))
def test_any_text_in_quotes_is_one_phrase(raw: str) -> None:
    quoted = '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'
    value = normalize_text(raw)
    if not value:
        with pytest.raises(RuleSyntaxError):
            parse(quoted)
    else:
        assert parse(quoted) == Text(value)


# -- the docs page stays true -----------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def _table(heading: str) -> list[list[str]]:
    """Rows (cells with their backquotes removed) of the first table after ``heading``."""
    section = DOCS.read_text(encoding="utf-8").split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            rows.append([cell.strip().strip("`") for cell in line.strip("|").split(" | ")])
        elif rows and not line.startswith("|"):
            break
    return rows


def test_docs_examples_parse() -> None:
    rows = _table("## Examples")
    assert len(rows) >= 8
    for rule, _ in rows:
        parse(rule)


def test_docs_error_messages_are_current() -> None:
    rows = _table("## Errors")
    assert len(rows) >= 8
    for rule, message in rows:
        with pytest.raises(RuleSyntaxError) as info:
            parse(rule)
        assert str(info.value) == message, rule
