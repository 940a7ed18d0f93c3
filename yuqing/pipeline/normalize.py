"""The ``normalize`` stage: one canonical analysis text per post.

Order of the steps (docs/text-processing.md explains each):

1. control and invisible characters removed (zero-width space, BOM, bidi marks,
   variation selectors, lone surrogates), then Unicode NFKC: full-width ASCII becomes
   half-width, the ideographic space becomes a space;
2. HTML: ``<script>``/``<style>`` blocks, comments and tags stripped and entities
   unescaped, repeated until nothing changes (only when ``<`` or ``&`` is present);
3. the Weibo repost chain (``own words//@a: text//@b: text``) split off, and URLs,
   @mentions, hashtags and emoji taken out of each part (case still as written);
4. Traditional -> Simplified with OpenCC ``t2s`` (repeated until stable), lower case,
   whitespace collapsed to single spaces.

:func:`normalize_text` is steps 1, 2 and 4 on a whole text: the idempotent core shared
with search queries and monitoring rules. :func:`split_post` is step 3 on its own.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from yuqing.errors import ConfigError
from yuqing.models import Document, RepostHop

__all__ = ["Normalizer", "ParsedPost", "normalize_text", "split_post"]

# Own words that mean "no own words": Weibo's default text of a bare repost.
REPOST_PLACEHOLDERS = frozenset({"转发微博", "轉發微博", "转发", "轉發", "repost"})

# -- step 1: canonical characters ------------------------------------------------------

_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufe0e\ufe0f\ufeff\ud800-\udfff]+"
)


# NFKC is slow (about 8 us for a 90-character post). Most posts only need the common
# full-width punctuation and the ideographic space, so those are replaced first (a few
# C-speed str.replace calls), then the rest of the full-width block, and full NFKC runs
# only when the text is still not normalized; the result is always NFKC's.
_COMMON_FULLWIDTH = tuple(
    (ch, unicodedata.normalize("NFKC", ch)) for ch in "，！？：；（）～＂\u3000"
)
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e]+")
_FULLWIDTH_TABLE = str.maketrans(
    {c: unicodedata.normalize("NFKC", chr(c)) for c in range(0xFF01, 0xFF5F)}
)


def _fullwidth_repl(match: re.Match[str]) -> str:
    return match.group().translate(_FULLWIDTH_TABLE)


def _canon(text: str) -> str:
    """Invisible characters removed, then NFKC (with quick checks first: they are cheap)."""
    if not text.isprintable():
        text = _INVISIBLE_RE.sub("", text)
    if not text.isascii() and not unicodedata.is_normalized("NFKC", text):
        for full, half in _COMMON_FULLWIDTH:
            if full in text:
                text = text.replace(full, half)
        if not unicodedata.is_normalized("NFKC", text):
            text = _FULLWIDTH_RE.sub(_fullwidth_repl, text)
            if not unicodedata.is_normalized("NFKC", text):
                text = unicodedata.normalize("NFKC", text)
    return text


def _collapse(text: str) -> str:
    """Runs of whitespace (Unicode's, as ``str.split`` sees it) to one space, trimmed."""
    if "  " in text or not text.isprintable():
        return " ".join(text.split())
    return text.strip()


# -- step 2: HTML ----------------------------------------------------------------------

_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
# A tag starts with an ASCII letter so that "<荐书>" or "a < b" stay text. U+0130 is the
# one character whose lower case starts with an ASCII letter: without it, lower-casing
# could turn text into a tag and normalization would not be idempotent.
_TAG_RE = re.compile(r"<(/?)([A-Za-z\u0130][A-Za-z0-9\u0130\u0307]*)[^<>]*>")
_BLOCK_TAG = re.compile(  # these become a space, other tags nothing: <b>武</b>汉 -> 武汉
    r"p|br|div|li|t[rdh]|table|h[1-6]|[ou]l|section|article|header|footer|blockquote|pre"
    r"|hr|d[dtl]|nav|aside|main|title",
    re.IGNORECASE,
)
_ENTITY_RE = re.compile(
    r"&(?:#[0-9]{1,8};?|#[xX][0-9a-fA-F]{1,8};?|[A-Za-z\u0130][A-Za-z0-9]{0,31};?)"
)


def _tag_repl(match: re.Match[str]) -> str:
    return " " if _BLOCK_TAG.fullmatch(match.group(2)) else ""


def _entity_repl(match: re.Match[str]) -> str:
    entity = match.group(0)
    decoded = html.unescape(entity)
    if decoded == entity:  # "&NBSP;": decode as the lower-cased text would be decoded
        decoded = html.unescape(entity.lower())
        if decoded == entity.lower():
            return entity
    return decoded


def _strip_html(text: str) -> str:
    """Tags removed and entities decoded until a fixed point ("&amp;lt;p&gt;" -> "")."""
    for _ in range(16):
        out = text
        if "<" in out:
            out = _SCRIPT_RE.sub(" ", out)
            out = _COMMENT_RE.sub(" ", out)
            out = _TAG_RE.sub(_tag_repl, out)
        if "&" in out:
            out = _ENTITY_RE.sub(_entity_repl, out)
        out = _canon(out)
        if out == text:
            break
        text = out
    return text


def _prepare(text: str) -> str:
    """Steps 1 and 2 plus whitespace collapsing; case and script are kept."""
    text = _canon(text)
    if "<" in text or "&" in text:
        text = _strip_html(text)
    return _collapse(text)


# -- step 4: script, case, whitespace --------------------------------------------------

_CONVERTER_LOCK = threading.Lock()
_SHARED_CONVERTER: Any = None


def _new_converter() -> Any:
    """An OpenCC ``t2s`` converter; a broken install is reported as a ConfigError."""
    try:
        import opencc

        return opencc.OpenCC("t2s")
    except Exception as exc:  # ImportError, or the C++ library failing to load its config
        raise ConfigError(
            f"cannot create the OpenCC t2s converter ({exc}): "
            "install the `opencc` wheel (pip install opencc) in this environment"
        ) from exc


def _shared_converter() -> Any:
    global _SHARED_CONVERTER
    if _SHARED_CONVERTER is None:
        with _CONVERTER_LOCK:
            if _SHARED_CONVERTER is None:
                _SHARED_CONVERTER = _new_converter()
    return _SHARED_CONVERTER


def _to_simplified(text: str, converter: Any) -> str:
    """OpenCC t2s until stable: it is not idempotent on a few characters (薴 -> 苧 -> 苎)."""
    for _ in range(4):
        converted: str = converter.convert(text)
        if converted == text:
            break
        text = converted
    return text


def _case_and_space(text: str) -> str:
    """Lower case (keeping NFKC: lower() can leave a few characters outside it), then
    whitespace collapsed."""
    text = text.lower()
    if not text.isascii():
        for _ in range(4):
            if unicodedata.is_normalized("NFKC", text):
                break
            text = unicodedata.normalize("NFKC", text).lower()
    return _collapse(text)


def _finish(text: str, converter: Any) -> str:
    """Traditional -> Simplified, lower case, whitespace collapsed."""
    if converter is not None and not text.isascii():
        text = _to_simplified(text, converter)
    return _case_and_space(text)


def _finish_many(texts: list[str], converter: Any) -> list[str]:
    """:func:`_finish` over many texts with one OpenCC call for all of them.

    The texts hold no newline (whitespace was collapsed), so they are joined by one and
    converted together; dictionary entries never span a newline, so the result is the
    same as converting each text alone. Texts that t2s changed are converted again until
    stable, as in :func:`_to_simplified`.
    """
    if converter is not None and texts:
        joined = "\n".join(texts)
        if not joined.isascii():
            converted: list[str] = converter.convert(joined).split("\n")
            if len(converted) != len(texts):  # cannot happen; stay correct if it does
                converted = [_to_simplified(text, converter) for text in texts]
            else:
                again = [
                    i
                    for i, (old, new) in enumerate(zip(texts, converted, strict=True))
                    if new != old and not new.isascii()
                ]
                _convert_again(converted, again, converter)
            texts = converted
    return [_case_and_space(text) for text in texts]


def _convert_again(texts: list[str], changed: list[int], converter: Any) -> None:
    """:func:`_to_simplified` of ``texts[i]`` for each ``i`` in ``changed``, in place, with
    one OpenCC call per round for all of them (joined by newlines, as above)."""
    for _ in range(4):
        if not changed:
            return
        converted: list[str] = converter.convert("\n".join(texts[i] for i in changed)).split("\n")
        if len(converted) != len(changed):  # cannot happen; stay correct if it does
            for i in changed:
                texts[i] = _to_simplified(texts[i], converter)
            return
        still = []
        for i, new in zip(changed, converted, strict=True):
            if new != texts[i]:
                texts[i] = new
                still.append(i)
        changed = still


def normalize_text(text: str, *, to_simplified: bool = True) -> str:
    """The canonical analysis form of ``text``: what rules and searches match against.

    HTML stripped, NFKC (half-width ASCII, ``，！？：；（）`` become ``,!?:;()``),
    Simplified Chinese, lower case, single spaces. Idempotent:
    ``normalize_text(normalize_text(x)) == normalize_text(x)``. URLs, mentions and emoji
    are kept; :class:`Normalizer` is what takes them out of a post.
    """
    converter = _shared_converter() if to_simplified else None
    return _finish(_prepare(text), converter)


# -- step 3: repost chains and entities ------------------------------------------------

_HOP_RE = re.compile(r"//\s?@([\w\-]{1,30})\s*[:：]?")
# One alternation; the order of the branches is the priority where two could match at the
# same place. `re` scans fast for a single character class but slowly (about 35 ns a
# character) for an alternation, so _scan jumps between candidate first characters with
# _FIRST_RE and tries the alternation anchored there only (4x faster on plain text).
# No re.IGNORECASE: with it, "i" would match the excluded U+0130 and end URLs early.
_EMOJI_CHAR = (
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b05-\u2b07\u2b1b\u2b1c"
    "\u2b50\u2b55\u3030\u303d]"
)
_EMOJI_MOD = "[\U0001f3fb-\U0001f3ff]"
_FIRST_CHARS = f"[HhWwTt@#\\[{_EMOJI_CHAR[1:-1]}]"
_ENTITY_PATTERNS = (
    # URLs: scheme or www., or a bare t.cn link; they end at whitespace or non-ASCII
    r"(?P<url>(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)[^\s<>\"'\[\]@\x80-\U0010ffff]+"
    r"|[Tt](?<![A-Za-z0-9.][Tt])\.[Cc][Nn]/[A-Za-z0-9_\-]+)",
    # Weibo topics #话题#: no sentence punctuation inside; spaces only in Chinese ones
    r"(?P<wtag>#(?P<wtext>[^\s#,!?;。，！？；、]{1,48}"
    r"|(?=[^#\n]{0,48}?[\u3400-\u9fff])[^\s#@/][^#\n,!?;。，！？；、@/]{0,47})#)",
    # @mentions: letters (CJK included), digits, _ and -; a following ':' goes with them
    r"(?P<mention>@(?<![A-Za-z0-9_.+\-]@)(?P<mname>[\w\-]{1,30})(?:\s?:)?)",
    # Twitter-style #tag, ended by a space or punctuation; not all digits
    r"(?P<ttag>#(?<![A-Za-z0-9_&]#)(?P<ttext>(?=[\w\-]*[^\W\d_])[\w\-]{1,48}))",
    # Weibo emoji codes [泪] [doge]
    r"(?P<code>\[[\u3400-\u9fffA-Za-z]{1,6}\])",
    # Unicode emoji: a flag pair, or an emoji with skin tone and ZWJ continuations
    f"(?P<emoji>[\U0001f1e6-\U0001f1ff]{{2}}"
    f"|{_EMOJI_CHAR}{_EMOJI_MOD}?(?:\u200d{_EMOJI_CHAR}{_EMOJI_MOD}?)*)",
)
_FIRST_RE = re.compile(_FIRST_CHARS)
_ENTITIES_RE = re.compile("|".join(_ENTITY_PATTERNS))
_URL_TRAIL = ".,;:!?)'\""
_CACHE_SIZE = 50_000  # finished hashtags and emoji codes kept by a Normalizer


_NONE: tuple[str, ...] = ()


@dataclass(slots=True)
class _Scan:
    """One part of a post with its entities taken out (``clean``) and listed.

    The lists are created only for kinds that occur (else the shared empty tuple):
    allocation, through the garbage collector, was a third of the stage's time.
    """

    clean: str
    urls: list[str] | tuple[str, ...] = _NONE
    mentions: list[str] | tuple[str, ...] = _NONE
    hashtags: list[str] | tuple[str, ...] = _NONE
    emojis: list[str] | tuple[str, ...] = _NONE


def _scan(part: str) -> _Scan | None:
    """Take URLs, mentions and emoji out of ``part`` (replaced by a space) and keep the
    text of hashtags without their ``#`` marks; None when there is nothing to take."""
    first = _FIRST_RE.search(part)
    if first is None:
        return None
    scan: _Scan | None = None
    pieces: list[str] = []
    pos = 0
    while first is not None:
        match = _ENTITIES_RE.match(part, first.start())
        if match is None:
            first = _FIRST_RE.search(part, first.start() + 1)
            continue
        if scan is None:
            scan = _Scan(part)
        kind = match.lastgroup
        start, end = match.span()
        pieces.append(part[pos:start])
        if kind == "url":
            url = match.group()
            bare = url.rstrip(_URL_TRAIL)
            if bare.lower() in ("http://", "https://", "www."):
                pieces.append(url)
            else:
                if not scan.urls:
                    scan.urls = []
                scan.urls.append(bare)  # type: ignore[union-attr]
                pieces.append(" " + url[len(bare) :])
        elif kind == "mention":
            if not scan.mentions:
                scan.mentions = []
            scan.mentions.append(match.group("mname"))  # type: ignore[union-attr]
            pieces.append(" ")
        elif kind == "wtag" or kind == "ttag":
            tag = match.group("wtext" if kind == "wtag" else "ttext").strip()
            if not scan.hashtags:
                scan.hashtags = []
            scan.hashtags.append(tag)  # type: ignore[union-attr]
            pieces.append(f" {tag} ")
        else:  # an emoji code or a Unicode emoji
            if not scan.emojis:
                scan.emojis = []
            scan.emojis.append(match.group())  # type: ignore[union-attr]
            pieces.append(" ")
        pos = end
        first = _FIRST_RE.search(part, end)
    if scan is not None:
        pieces.append(part[pos:])
        scan.clean = "".join(pieces)
    return scan


@dataclass(slots=True)
class ParsedPost:
    """The parts of a post as written (no case or script conversion).

    ``own_text`` is the author's own words, before any ``//@`` (empty for a bare
    ``转发微博``/``Repost``); ``chain`` the repost hops in order, the nearest first;
    ``quoted_text`` the text of the deepest hop (the oldest post quoted), "" without a
    chain. ``urls``, ``mentions`` and ``hashtags`` come from the whole text (the chain's
    own authors are in ``chain``, not in ``mentions``), in order of appearance without
    repeats; ``emojis`` are those of the own words, every occurrence in order.
    """

    own_text: str
    quoted_text: str = ""
    chain: list[RepostHop] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    emojis: list[str] = field(default_factory=list)


def _split_chain(text: str) -> tuple[str, list[RepostHop]]:
    if "//" not in text:
        return text.strip(), []
    matches = list(_HOP_RE.finditer(text))
    if not matches:
        return text.strip(), []
    hops = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        hops.append(RepostHop(user=match.group(1), text=text[match.end() : end].strip()))
    return text[: matches[0].start()].strip(), hops


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items)) if len(items) > 1 else items


def _is_placeholder(own: str) -> bool:
    return len(own) <= 8 and own.strip().lower() in REPOST_PLACEHOLDERS


def split_post(text: str) -> ParsedPost:
    """Split a post into own words, repost chain and entities; never raises.

    Works on any text; full-width markers (``＠``, ``＃``, ``：``) are recognised after
    NFKC, so the :class:`Normalizer` calls it on the NFKC/HTML-cleaned text.
    """
    own, hops = _split_chain(text)
    if _is_placeholder(own):
        own = ""
    urls: list[str] = []
    mentions: list[str] = []
    hashtags: list[str] = []
    emojis: list[str] = []
    for i, part in enumerate([own] + [hop.text for hop in hops]):
        scan = _scan(part)
        if scan is not None:
            urls += scan.urls
            mentions += scan.mentions
            hashtags += scan.hashtags
            if i == 0:
                emojis += scan.emojis
    return ParsedPost(
        own_text=own,
        quoted_text=hops[-1].text if hops else "",
        chain=hops,
        urls=_unique(urls),
        mentions=_unique(mentions),
        hashtags=_unique(hashtags),
        emojis=emojis,
    )


# -- the stage -------------------------------------------------------------------------


class Normalizer:
    """Fills ``norm_text``, ``quoted_text``, ``repost_chain``, ``urls``, ``mentions``,
    ``hashtags`` and ``emojis``; ``text`` is never modified.

    ``norm_text`` is the own words normalized, with URLs, mentions and emoji removed and
    hashtag text kept without ``#``; ``quoted_text`` is the deepest hop treated the same
    way. ``max_chars`` cuts both (very long texts are analysed on their first N
    characters; the raw text is read up to ``max(8 * N, 4096)`` characters).
    """

    name = "normalize"

    def __init__(self, *, to_simplified: bool = True, max_chars: int | None = None) -> None:
        if max_chars is not None and max_chars < 1:
            raise ConfigError(f"Normalizer max_chars must be at least 1, got {max_chars}")
        self.to_simplified = to_simplified
        self.max_chars = max_chars
        self._converter: Any = _new_converter() if to_simplified else None
        self._cache: dict[str, str] = {}

    def normalize(self, text: str) -> str:
        """:func:`normalize_text` with this stage's settings (no entity removal)."""
        return _finish(_prepare(text), self._converter)

    def _short(self, text: str) -> str:
        """A hashtag or emoji code, finished through a cache (their vocabulary is small)."""
        done = self._cache.get(text)
        if done is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            done = self._cache[text] = _finish(text, self._converter)
        return done

    def process(self, batch: Sequence[Document]) -> list[Document]:
        """Normalize every document in place; one OpenCC call for the whole batch.

        Written to allocate little: most posts have no chain and no entities, and for
        them nothing but the finished string is created.
        """
        chains: list[list[RepostHop] | None] = []
        scans: list[_Scan | None] = []  # own words, then each hop, for every document
        pieces: list[str] = []  # the same parts, cleaned, to finish together
        limit = None if self.max_chars is None else max(8 * self.max_chars, 4096)
        for doc in batch:
            text = doc.text or ""
            if limit is not None and len(text) > limit:
                text = text[:limit]
            text = _prepare(text)
            hops = None
            if "//" in text:
                text, hops = _split_chain(text)
                if not hops:
                    hops = None
            chains.append(hops)
            scan = _scan(text)
            scans.append(scan)
            pieces.append(text if scan is None else scan.clean)
            if hops is not None:
                for hop in hops:
                    scan = _scan(hop.text)
                    scans.append(scan)
                    pieces.append(hop.text if scan is None else scan.clean)
        finished = _finish_many(pieces, self._converter)
        cut = self.max_chars
        at = 0
        for doc, hops in zip(batch, chains, strict=True):
            norm = finished[at]
            if cut is not None and len(norm) > cut:
                norm = norm[:cut].rstrip()
            doc.norm_text = "" if len(norm) <= 8 and norm in REPOST_PLACEHOLDERS else norm
            own = scans[at]
            at += 1
            if hops is None:
                doc.repost_chain = []
                doc.quoted_text = ""
                if own is None:  # the common case: reuse the empty lists a Document has
                    if doc.urls or doc.mentions or doc.hashtags or doc.emojis:
                        doc.urls, doc.mentions, doc.hashtags, doc.emojis = [], [], [], []
                else:
                    self._entities(doc, [own])
                continue
            parts = [own]
            chain = []
            for hop in hops:
                quoted = finished[at]
                if cut is not None and len(quoted) > cut:
                    quoted = quoted[:cut].rstrip()
                chain.append(RepostHop(user=hop.user, text=quoted))
                parts.append(scans[at])
                at += 1
            doc.repost_chain = chain
            doc.quoted_text = chain[-1].text
            self._entities(doc, parts)
        return list(batch)

    def _entities(self, doc: Document, parts: list[_Scan | None]) -> None:
        """URLs, mentions and hashtags of all parts, emoji of the own words (parts[0])."""
        urls: list[str] = []
        mentions: list[str] = []
        hashtags: list[str] = []
        for scan in parts:
            if scan is not None:
                urls += scan.urls
                mentions += scan.mentions
                hashtags += [self._short(tag) for tag in scan.hashtags]
        own = parts[0]
        doc.urls = _unique(urls)
        doc.mentions = _unique(mentions)
        doc.hashtags = _unique([tag for tag in hashtags if tag])
        doc.emojis = (
            [] if own is None else [self._short(e) if e[0] == "[" else e for e in own.emojis]
        )
