"""Highlighted search snippets as safe HTML.

The store marks the first match of a snippet with 【】 (the CLI prints it as is). Posts use
【】 themselves (【情况通报】), so the page does not trust the brackets: it takes the
store's snippet apart at the marked match of the first term, escapes every piece, and wraps
each occurrence of every query term in ``<mark>``.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

from yuqing.store.searchtext import split_query


def query_terms(query: str) -> list[str]:
    """The normalized, lower-cased terms the store matches (possibly none)."""
    return split_query(query)


def plain_snippet(snippet: str, terms: list[str]) -> str:
    """The snippet without the store's 【】 around the first term's match."""
    if terms:
        marked = f"【{terms[0]}】"
        pos = snippet.lower().find(marked)
        if pos >= 0:
            return (
                snippet[:pos]
                + snippet[pos + 1 : pos + len(marked) - 1]
                + snippet[pos + len(marked) :]
            )
    return snippet


def mark(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, each case-insensitive occurrence of a term in ``<mark>``."""
    words = sorted({unicodedata.normalize("NFKC", t) for t in terms if t}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        out.append(str(escape(text[last : found.start()])))
        out.append(f"<mark>{escape(found.group(0))}</mark>")
        last = found.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def snippet_html(snippet: str, query: str) -> Markup:
    terms = query_terms(query)
    return mark(plain_snippet(snippet, terms), terms)
