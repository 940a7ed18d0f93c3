"""Find the text encoding of an input file: UTF-8 (with or without BOM) or GB18030.

Chinese exports come in UTF-8, UTF-8 with a BOM (Excel) or GBK; GB18030 is a superset
of GBK and GB2312, so it is the one legacy codec to try. Detection reads the first
256 KiB only; decoding then happens line by line in the readers, so that one line that
does not decode is rejected (code ``encoding``) and the rest are kept.

A file whose head is mostly valid UTF-8 is UTF-8 even if a few lines in it are broken:
GBK text with non-ASCII characters is almost never valid UTF-8, so counting the lines
that decode is a far stronger signal than "the whole head decodes".
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Final

from yuqing.errors import SourceError

HEAD_BYTES: Final = 256 * 1024
UTF8_SIG: Final = "utf-8-sig"
UTF8: Final = "utf-8"
GB18030: Final = "gb18030"

_UNSUPPORTED_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def detect_encoding(source: str | Path | bytes) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"gb18030"`` for a file path or its first bytes.

    Raises SourceError for a UTF-16/UTF-32 file (its lines cannot be split on bytes)
    or a file that cannot be opened.
    """
    if isinstance(source, bytes):
        head = source[:HEAD_BYTES]
        where = "input"
    else:
        where = str(source)
        try:
            with Path(source).open("rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError as exc:
            raise SourceError(f"{where}: cannot read: {exc.strerror or exc}") from exc
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_SIG
    for bom, name in _UNSUPPORTED_BOMS:
        if head.startswith(bom):
            raise SourceError(
                f"{where}: the file is {name}; convert it to UTF-8 (for example with iconv)"
            )
    if _is_utf8(head):
        return UTF8
    return GB18030


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode(UTF8)
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(head):
            return True  # the head cut a multibyte character in two
    else:
        return True
    good = bad = 0
    lines = head.split(b"\n")
    if len(head) == HEAD_BYTES and len(lines) > 1:
        lines.pop()  # possibly cut short
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode(UTF8)
        except UnicodeDecodeError:
            bad += 1
        else:
            good += 1
    return good > bad


def bom_length(encoding: str) -> int:
    """Bytes to skip at the start of a file read in ``encoding`` (the UTF-8 BOM)."""
    return len(codecs.BOM_UTF8) if encoding == UTF8_SIG else 0


def line_codec(encoding: str) -> str:
    """The codec that decodes one line (after the BOM was skipped)."""
    return UTF8 if encoding == UTF8_SIG else encoding
