"""The ``keywords`` stage: the words that characterise a post, by TF-IDF.

Document frequencies come from a table shipped with the package
(``yuqing/pipeline/data/idf.tsv.gz``, built by :mod:`yuqing.pipeline.idf_build` from the
public datasets listed in docs/text-processing.md), so a post's keywords do not depend
on what else is in the store and are the same in every mode.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from operator import itemgetter
from pathlib import Path

from yuqing.errors import ConfigError, ModelError
from yuqing.models import Document
from yuqing.pipeline.segment import load_stopwords
from yuqing.pipeline.token_cache import TokenCache

__all__ = ["IdfTable", "KeywordExtractor"]

HEADER = "#documents"
"""First line of the table file: ``#documents<TAB>N``; then ``token<TAB>df`` lines."""

_NUMBER = re.compile(r"[\d.,:%+\-/]+")
_CACHE_SIZE = 200_000  # token weights kept by a KeywordExtractor


class IdfTable:
    """Smooth inverse document frequencies: ``idf = ln((1 + N) / (1 + df)) + 1``.

    A token not in the table has ``df = 0`` and so the largest idf, ``ln(1 + N) + 1``:
    a word never seen in the reference corpus is taken as specific.
    """

    def __init__(self, df: Mapping[str, int], n_docs: int) -> None:
        if n_docs < 1:
            raise ModelError(f"an idf table needs at least one document, got N={n_docs}")
        self.n_docs = n_docs
        self.max_idf = math.log(1 + n_docs) + 1
        base = math.log(1 + n_docs)
        self._df = dict(df)
        self._idf = {token: base - math.log(1 + count) + 1 for token, count in df.items()}

    def __len__(self) -> int:
        return len(self._idf)

    def __contains__(self, token: object) -> bool:
        return token in self._idf

    def df(self, token: str) -> int:
        """Number of reference documents containing ``token`` (0 when unseen)."""
        return self._df.get(token, 0)

    def idf(self, token: str) -> float:
        return self._idf.get(token, self.max_idf)

    @classmethod
    def load(cls, path: str | Path) -> IdfTable:
        """Read a gzipped ``#documents N`` + ``token<TAB>df`` table."""
        path = Path(path)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                return cls._parse(handle, str(path))
        except FileNotFoundError as exc:
            raise ModelError(
                f"idf table {path} is missing: reinstall yuqing or rebuild it with "
                "`python -m yuqing.pipeline.idf_build`"
            ) from exc
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise ModelError(
                f"idf table {path} is unreadable ({exc}): rebuild it with "
                "`python -m yuqing.pipeline.idf_build`"
            ) from exc

    @classmethod
    def _parse(cls, lines: Iterable[str], where: str) -> IdfTable:
        n_docs = 0
        df: dict[str, int] = {}
        for number, line in enumerate(lines, start=1):
            token, sep, count = line.rstrip("\n").partition("\t")
            try:
                value = int(count)
            except ValueError:
                value = -1
            if not sep or value < 0 or (number == 1) != (token == HEADER):
                raise ModelError(
                    f"idf table {where}, line {number}: expected "
                    f"{'`#documents<TAB>N`' if number == 1 else '`token<TAB>df`'}, "
                    f"got {line.strip()[:60]!r}; rebuild it with "
                    "`python -m yuqing.pipeline.idf_build`"
                )
            if number == 1:
                n_docs = value
            else:
                df[token] = value
        if n_docs == 0:
            raise ModelError(f"idf table {where} is empty: rebuild it")
        return cls(df, n_docs)

    def save(self, path: str | Path) -> None:
        """Write the table (tokens by descending df, then by token: a stable file)."""
        with gzip.GzipFile(Path(path), "wb", compresslevel=9, mtime=0) as raw:
            raw.write(f"{HEADER}\t{self.n_docs}\n".encode())
            for token, count in sorted(self._df.items(), key=lambda item: (-item[1], item[0])):
                raw.write(f"{token}\t{count}\n".encode())

    @staticmethod
    @cache
    def default() -> IdfTable:
        """The table shipped with yuqing, loaded once per process."""
        path = resources.files("yuqing.pipeline").joinpath("data/idf.tsv.gz")
        return IdfTable.load(Path(str(path)))


def is_keyword_candidate(token: str) -> bool:
    """Two characters or more, and not a number (``2020``, ``3.5``, ``10%``)."""
    return len(token) > 1 and not _NUMBER.fullmatch(token)


class KeywordExtractor:
    """Fills ``doc.keywords`` from ``doc.tokens`` (run the :class:`Segmenter` first).

    Each distinct candidate token scores ``tf * idf``; the ``top_k`` best are kept, their
    weights normalized to sum to 1 and rounded to 4 decimals, best first (ties: first
    occurrence first). Single characters, numbers and stopwords are never keywords.
    """

    name = "keywords"

    def __init__(self, *, idf: IdfTable | None = None, top_k: int = 8) -> None:
        if top_k < 1:
            raise ConfigError(f"KeywordExtractor top_k must be at least 1, got {top_k}")
        self.idf = idf if idf is not None else IdfTable.default()
        self.top_k = top_k
        self._stop = load_stopwords()
        self._weights = TokenCache(
            self._weight, _CACHE_SIZE
        )  # token -> idf, 0.0 when never a keyword

    def _weight(self, token: str) -> float:
        """idf of a keyword candidate, 0.0 for tokens that are never keywords."""
        if token in self._stop or not is_keyword_candidate(token):
            return 0.0
        return self.idf.idf(token)

    def extract(self, tokens: Sequence[str]) -> list[tuple[str, float]]:
        """The keywords of one token list, as ``[(token, weight)]``."""
        weights = self._weights
        scored = [(t, n * w) for t, n in Counter(tokens).items() if (w := weights[t])]
        if not scored:
            return []
        scored.sort(key=itemgetter(1), reverse=True)  # stable: ties keep first occurrence
        del scored[self.top_k :]
        total = sum(score for _, score in scored)
        return [(token, round(score / total, 4)) for token, score in scored]

    def process(self, batch: Sequence[Document]) -> list[Document]:
        for doc in batch:
            doc.keywords = self.extract(doc.tokens)
        return list(batch)
