"""The ``segment`` stage: words of the normalized text, with rjieba (jieba-rs).

Each :class:`Segmenter` owns its own ``rjieba.Jieba`` instance, so a user dictionary
changes only the segmenter it was given to. Tokens that hold no letter or digit
(whitespace, punctuation, symbols) are dropped, and so are stopwords unless asked not to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Protocol, cast

import rjieba

from yuqing.errors import ConfigError
from yuqing.models import Document
from yuqing.pipeline.normalize import normalize_text
from yuqing.pipeline.token_cache import TokenCache

__all__ = ["Segmenter", "load_stopwords", "read_user_dict"]

_HAS_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or a digit, in any script
_TAG = re.compile(r"[A-Za-z]{1,8}")


class _Jieba(Protocol):
    """What we use of ``rjieba.Jieba`` (its bundled stub lacks ``add_word``)."""

    def cut(self, text: str, hmm: bool = True) -> list[str]: ...

    def add_word(self, word: str, freq: int | None, tag: str | None) -> None: ...


@cache
def load_stopwords() -> frozenset[str]:
    """The shipped stopword list (``yuqing/pipeline/data/stopwords.txt``)."""
    text = resources.files("yuqing.pipeline").joinpath("data/stopwords.txt").read_text("utf-8")
    return frozenset(
        word for line in text.splitlines() if (word := line.strip()) and not word.startswith("#")
    )


def read_user_dict(path: str | Path) -> list[tuple[str, int | None, str | None]]:
    """Entries ``(word, freq, tag)`` of a jieba user dictionary.

    One entry a line: ``word [freq] [tag]`` (``freq`` a whole number, ``tag`` a part of
    speech such as ``ns``); blank lines and lines starting with ``#`` are skipped. Words
    are normalized like post text (Simplified, lower case) so that they match it.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"user dictionary {path} does not exist: fix the user_dict setting or create "
            "the file (one `word [freq] [tag]` a line)"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"user dictionary {path} cannot be read as UTF-8 text: {exc}") from exc
    entries: list[tuple[str, int | None, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        word = normalize_text(fields[0])
        freq: int | None = None
        tag: str | None = None
        rest = fields[1:]
        if rest and rest[0].isdigit() and len(rest[0]) <= 12:
            freq = int(rest.pop(0))
        if rest and _TAG.fullmatch(rest[0]):
            tag = rest.pop(0)
        if rest or not word or " " in word:
            raise ConfigError(
                f"{path}, line {number}: malformed user dictionary entry {line.strip()!r}; "
                "expected `word [freq] [tag]`, e.g. `鄞州区 1000 ns`"
            )
        entries.append((word, freq, tag))
    return entries


class Segmenter:
    """Fills ``doc.tokens`` with the words of ``doc.norm_text``.

    ``user_dict``: a jieba user dictionary (``word [freq] [tag]`` lines) whose words are
    kept whole; ``stopwords``: drop the shipped stopwords (:func:`load_stopwords`).
    """

    name = "segment"

    def __init__(self, *, user_dict: str | Path | None = None, stopwords: bool = True) -> None:
        self.user_dict = Path(user_dict) if user_dict is not None else None
        self.stopwords = stopwords
        self._stop = load_stopwords() if stopwords else frozenset()
        self._jieba = cast(_Jieba, rjieba.Jieba())
        self._keep = TokenCache(self._decide)
        if self.user_dict is not None:
            for word, freq, tag in read_user_dict(self.user_dict):
                self._jieba.add_word(word, freq, tag)

    def cut(self, text: str) -> list[str]:
        """The words of ``text`` (expected normalized), without punctuation, whitespace
        and (by default) stopwords, in order; repeats are kept."""
        return list(filter(self._keep.__getitem__, self._jieba.cut(text)))

    def _decide(self, token: str) -> bool:
        """Whether ``token`` is a word worth keeping (cached per distinct token)."""
        return token not in self._stop and bool(token.isalnum() or _HAS_WORD_CHAR.search(token))

    def process(self, batch: Sequence[Document]) -> list[Document]:
        keep = self._keep.__getitem__
        cut = self._jieba.cut
        for doc in batch:
            doc.tokens = list(filter(keep, cut(doc.norm_text))) if doc.norm_text else []
        return list(batch)
