"""Index terms and FTS5 queries for Chinese substring search.

Why not the FTS5 ``trigram`` tokenizer: in the system SQLite (3.40) it finds nothing for
queries shorter than three characters, with MATCH and with LIKE, and two-character words
(酒店, 武汉) are the most common Chinese queries. So the text is turned into terms here and
indexed with the ``unicode61`` tokenizer, which then only splits on the spaces we put in:

* a run of CJK characters becomes its overlapping character bigrams, and the last character
  of the run is paired with :data:`END_MARK`, so *every* character of a run starts exactly one
  term: ``武汉大学`` -> ``武汉 汉大 大学 学<END>``; ``例`` -> ``例<END>``;
* any other run of letters or digits becomes one lower-cased word: ``iPhone15`` -> ``iphone15``.

A query term becomes an FTS5 phrase of the same terms. Because each character of a CJK run
starts one term, the phrase of a query's bigrams matches wherever the query is a substring
(武汉 matches 武汉大学), and the end marker keeps a phrase from running across two runs. A
term that ends in a single CJK character or in a Latin word marks its last term as a
prefix (``"学"*`` finds 学生 and 大学), so one-character queries work too.

The index may over-match (punctuation inside a query term is not indexed), so the store
verifies each candidate with ``in`` on the normalized text (:func:`split_query` gives the
terms to verify). Known limit: Latin words are indexed whole, so a query must start at the
start of a word (``phone`` does not find ``iphone``; ``iph`` does).
"""

from __future__ import annotations

import operator
import re
import unicodedata

from yuqing.errors import UsageError

END_MARK = "\ue000"
"""Pairs with the last character of a CJK run. A private-use character: never produced from
text (it is not a letter, digit or CJK character), and a token character for unicode61."""

_CJK = (
    "\u3040-\u30ff"  # kana: written without spaces, like Han
    "\u3400-\u4dbf"  # Han extension A
    "\u4e00-\u9fff"  # Han unified ideographs
    "\uf900-\ufaff"  # Han compatibility ideographs
    "\U00020000-\U0003134f"  # Han extensions B-G
)
# A CJK run, or a run of other letters/digits (word characters minus "_" and CJK).
_RUNS = re.compile(f"([{_CJK}]+)|[^\\W_{_CJK}]+")

FTS_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co Cn'"
"""The tokenizer of the search table: splits on spaces and punctuation only, so that each
term made here is one token (``Cn`` keeps characters newer than SQLite's Unicode tables)."""


def _run_terms(text: str) -> list[tuple[list[str], bool]]:
    """Terms of ``text`` run by run, with whether the run is CJK."""
    out: list[tuple[list[str], bool]] = []
    for match in _RUNS.finditer(text):
        run = match.group(0)
        if match.group(1) is not None:
            marked = run + END_MARK
            out.append((list(map(operator.add, marked, marked[1:])), True))
        else:
            out.append(([run.lower()], False))
    return out


def index_terms(text: str) -> str:
    """The space-separated terms that index ``text`` (see the module docstring)."""
    parts: list[str] = []
    for match in _RUNS.finditer(text):
        run = match.group(0)
        if match.group(1) is not None:
            marked = run + END_MARK
            parts.append(" ".join(map(operator.add, marked, marked[1:])))
        else:
            parts.append(run.lower())
    return " ".join(parts)


def normalize_query(query: str) -> str:
    """NFKC and lower case, as the indexed side sees text. Simplified-Chinese conversion is
    the caller's job (the pipeline's normalizer), so the store does not depend on OpenCC."""
    return unicodedata.normalize("NFKC", query).lower()


def split_query(query: str) -> list[str]:
    """The whitespace-separated terms of a query, normalized; every one must occur."""
    return [term for term in normalize_query(query).split() if term]


def _phrase(term: str) -> str | None:
    """One query term as an FTS5 phrase, or None when it has nothing indexable."""
    runs = _run_terms(term)
    if not runs:
        return None
    tokens: list[str] = []
    for index, (terms, is_cjk) in enumerate(runs):
        last = index == len(runs) - 1
        if is_cjk and last:
            # The document's run may go on after the query: drop the end-marked term; a lone
            # character becomes a prefix of whatever term it starts.
            terms = terms[:-1] or [terms[0][0]]
        tokens.extend(terms)
    last_terms, last_is_cjk = runs[-1]
    prefix = not last_is_cjk or len(last_terms) == 1
    body = " ".join(tokens).replace('"', '""')
    return f'"{body}"' + ("*" if prefix else "")


def query_terms(query: str) -> str:
    """An FTS5 MATCH expression for ``query``: each whitespace-separated term is a phrase of
    its index terms, and all terms must match. Everything is quoted, so FTS5 syntax in user
    input (``"``, ``AND``, ``*``, ``NEAR(``) is searched for as text, never interpreted.

    Raises UsageError when no term has a letter, digit or CJK character to search for.
    """
    phrases = [p for p in (_phrase(term) for term in split_query(query)) if p is not None]
    if not phrases:
        raise UsageError(
            f"search query {query!r} has no letters, digits or Chinese characters to search "
            "for; give at least one word"
        )
    return " AND ".join(phrases)
