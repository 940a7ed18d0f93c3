"""The normalize stage: normalize_text, split_post and the Normalizer."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing.errors import ConfigError
from yuqing.models import Document, RepostHop
from yuqing.pipeline.normalize import Normalizer, normalize_text, split_post
from yuqing.pipeline.stage import Stage

# Text that exercises the interesting parts: Chinese (both scripts), full-width forms,
# markup, entities, mentions, topics, emoji and repost markers, mixed with anything.
_PIECES = st.sampled_from(
    [
        "臺灣",
        "网络",
        "輿情",
        "ＡＢＣ",
        "１２３",
        "，",
        "！",
        "　",
        "<p>",
        "</p>",
        "<br/>",
        "&amp;",
        "&lt;",
        "&NBSP;",
        "&#65;",
        "@",
        "#",
        "//@",
        ":",
        "：",
        "[",
        "]",
        "[泪]",
        "http://t.cn/",
        "www.",
        "😂",
        "\u200d",
        "\ufe0f",
        "\u200b",
        " ",
        "\n",
        "İ",
        "薴",
    ]
)
TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=20).map("".join),
)


def doc(text: str) -> Document:
    return Document(id="1", source="test", text=text)


def normalized(text: str, **options: int | bool | None) -> Document:
    item = doc(text)
    Normalizer(**options).process([item])  # type: ignore[arg-type]
    return item


# -- properties ----------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_normalize_text_is_idempotent_and_total(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert "  " not in once


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_split_post_never_fails_and_keeps_the_pieces_in_order(text: str) -> None:
    parsed = split_post(text)
    squeezed = "".join(text.split())
    position = 0
    for piece in [parsed.own_text, *(f"@{hop.user}" for hop in parsed.chain)]:
        found = squeezed.find("".join(piece.split()), position)
        assert found >= 0, piece
        position = found
    if not parsed.chain:
        assert parsed.quoted_text == ""
        assert parsed.own_text in ("", text.strip())
    else:
        assert parsed.quoted_text == parsed.chain[-1].text
        assert all(hop.text in text for hop in parsed.chain)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=5))
def test_normalizer_fields_are_normalized_and_text_untouched(texts: list[str]) -> None:
    docs = [doc(text) for text in texts]
    out = Normalizer(max_chars=50).process(docs)
    assert out == docs
    for item, text in zip(docs, texts, strict=True):
        assert item.text == text
        assert normalize_text(item.norm_text) == item.norm_text
        assert normalize_text(item.quoted_text) == item.quoted_text
        assert len(item.norm_text) <= 50
        assert all(normalize_text(hop.text) == hop.text for hop in item.repost_chain)


# -- normalize_text ------------------------------------------------------------------


def test_full_width_ascii_becomes_half_width_lower_case() -> None:
    assert normalize_text("ＡＢＣ１２３") == "abc123"


def test_ideographic_space_and_full_width_punctuation() -> None:
    assert normalize_text("你好，世界！　再见。") == "你好,世界! 再见。"


def test_html_tags_and_entities() -> None:
    assert normalize_text("<p>武汉&amp;大学</p>") == "武汉&大学"
    assert normalize_text("<荐书> a < b") == "<荐书> a < b"
    assert normalize_text("&amp;lt;b&amp;gt;粗体") == "粗体"
    assert normalize_text("<script>var x = 1;</script>正文") == "正文"


def test_traditional_becomes_simplified() -> None:
    assert normalize_text("臺灣網絡輿情") == normalize_text("台湾网络舆情") == "台湾网络舆情"


def test_traditional_kept_when_asked() -> None:
    assert normalize_text("臺灣", to_simplified=False) == "臺灣"
    assert normalized("臺灣", to_simplified=False).norm_text == "臺灣"


def test_invisible_characters_removed_and_whitespace_collapsed() -> None:
    assert normalize_text("\ufeff武汉\u200b大学 \n\t 加油 ") == "武汉大学 加油"


# -- split_post ----------------------------------------------------------------------


def test_repost_chain_with_two_hops() -> None:
    parsed = split_post("own words//@userA: textA//@userB: textB")
    assert parsed.own_text == "own words"
    assert parsed.chain == [RepostHop("userA", "textA"), RepostHop("userB", "textB")]
    assert parsed.quoted_text == "textB"


def test_bare_repost_has_no_own_words() -> None:
    parsed = split_post("转发微博//@a: 原文")
    assert parsed.own_text == ""
    assert parsed.chain == [RepostHop("a", "原文")]
    assert split_post("Repost").own_text == ""


def test_entities_extracted() -> None:
    parsed = split_post(
        "食堂出事了[怒] 详见http://t.cn/h1R0Rj 和 www.example.com/a. @张三: #校园安全# #food 😂"
    )
    assert parsed.urls == ["http://t.cn/h1R0Rj", "www.example.com/a"]
    assert parsed.mentions == ["张三"]
    assert parsed.hashtags == ["校园安全", "food"]
    assert parsed.emojis == ["[怒]", "😂"]


def test_mentions_end_at_punctuation_and_skip_emails() -> None:
    parsed = split_post("回复@李四,你好 联系 a@b.com 或 @王五 谢谢")
    assert parsed.mentions == ["李四", "王五"]


def test_emoji_sequences_stay_whole() -> None:
    assert split_post("好👍🏻 中国🇨🇳 家庭👨‍👩‍👧").emojis == ["👍🏻", "🇨🇳", "👨‍👩‍👧"]


# -- the Normalizer stage ------------------------------------------------------------


def test_normalizer_is_a_stage() -> None:
    stage = Normalizer()
    assert isinstance(stage, Stage)
    assert stage.name == "normalize"


def test_norm_text_has_own_words_without_entities() -> None:
    item = normalized(
        "食堂饭菜有问题[怒][淚] http://t.cn/h1R0Rj 回复@张三:說得對 #校園安全# 😂"
        "//@李四: 原帖 #食品安全#//@学校官微: 我們會調查[悲伤]"
    )
    assert item.norm_text == "食堂饭菜有问题 回复 说得对 校园安全"
    assert item.quoted_text == "我们会调查"
    assert item.repost_chain == [
        RepostHop("李四", "原帖 食品安全"),
        RepostHop("学校官微", "我们会调查"),
    ]
    assert item.urls == ["http://t.cn/h1R0Rj"]
    assert item.mentions == ["张三"]
    assert item.hashtags == ["校园安全", "食品安全"]
    assert item.emojis == ["[怒]", "[泪]", "😂"]


def test_bare_repost_gives_empty_norm_text() -> None:
    item = normalized("转发微博//@a: 原文")
    assert item.norm_text == ""
    assert item.quoted_text == "原文"
    assert normalized("轉發微博").norm_text == ""


@pytest.mark.parametrize("text", ["[哈哈][哈哈]", "😂😂", "http://t.cn/abc", " @某人 ", "<p></p>"])
def test_only_emoji_or_link_gives_empty_norm_text(text: str) -> None:
    assert normalized(text).norm_text == ""


def test_max_chars_cuts_norm_and_quoted_text() -> None:
    item = normalized("一二三四五六七八九十" * 10 + "//@a: " + "甲乙丙丁" * 10, max_chars=12)
    assert item.norm_text == "一二三四五六七八九十一二"
    assert item.quoted_text == "甲乙丙丁甲乙丙丁甲乙丙丁"
    with pytest.raises(ConfigError, match="max_chars"):
        Normalizer(max_chars=0)


def test_reprocessing_clears_old_fields() -> None:
    item = normalized("看 http://t.cn/x #话题# [泪]")
    item.text = "普通文本"
    Normalizer().process([item])
    assert (item.urls, item.hashtags, item.emojis, item.norm_text) == ([], [], [], "普通文本")


def test_batch_matches_one_by_one() -> None:
    texts = ["臺灣網絡//@a: 輿情", "簡體 #話題#", "", "  ", "普通"]
    batch = [doc(text) for text in texts]
    Normalizer().process(batch)
    for item, text in zip(batch, texts, strict=True):
        alone = normalized(text)
        assert (item.norm_text, item.quoted_text, item.hashtags) == (
            alone.norm_text,
            alone.quoted_text,
            alone.hashtags,
        )
