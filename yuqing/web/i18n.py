"""UI text in Simplified Chinese, with a Traditional rendering through OpenCC (s2t).

Only UI strings go through :meth:`Translator.t` (labels, headings, chart titles); post text
is shown as posted. The language comes from ``?lang=`` (which also sets a cookie) or the
``lang`` cookie; Simplified is the default.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

from yuqing.models import EMOTION_LABELS, RISK_LABELS, SENTIMENT_LABELS

SIMPLIFIED = "zh-Hans"
TRADITIONAL = "zh-Hant"
LANGS = (SIMPLIFIED, TRADITIONAL)
COOKIE = "lang"

SENTIMENT, EMOTION, RISK = SENTIMENT_LABELS, EMOTION_LABELS, RISK_LABELS  # one table
DIMENSION = {
    "total": "全部",
    "sentiment": "情感",
    "emotion": "情绪",
    "risk": "风险类型",
    "source": "来源",
    "region": "地域",
    "event": "事件",
}
HEAT_PARTS = {
    "volume": "声量",
    "engagement": "互动",
    "source": "来源覆盖",
    "velocity": "增速",
    "negativity": "负面占比",
}
SENTIMENT_COLORS = {"negative": "#d9534f", "neutral": "#9aa5b1", "positive": "#3a9d5d"}
EMOTION_COLORS = {
    "anger": "#d9534f",
    "sadness": "#5b7db1",
    "fear": "#8e6bb8",
    "surprise": "#e6a23c",
    "joy": "#3a9d5d",
    "neutral": "#9aa5b1",
}

_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    return str(_S2T.convert(text))


def to_simplified(text: str) -> str:
    """A search query in Simplified, as the store indexes it (the pipeline's job for posts)."""
    return str(_T2S.convert(text))


def pick_lang(query: str | None, cookie: str | None) -> str:
    for value in (query, cookie):
        if value in LANGS:
            return str(value)
    return SIMPLIFIED


class Translator:
    """``t(text)``: the UI string in the page's script."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else SIMPLIFIED

    @property
    def traditional(self) -> bool:
        return self.lang == TRADITIONAL

    def t(self, text: str) -> str:
        return to_traditional(text) if self.traditional else text

    def label(self, names: dict[str, str], key: str) -> str:
        """The Chinese name of an enum value (the value itself when unknown)."""
        return self.t(names.get(key, key))
