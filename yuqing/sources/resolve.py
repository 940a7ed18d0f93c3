"""From the command line's INPUT arguments to source objects.

Each spec is a file path, a glob (``data/*.jsonl``, expanded in sorted order) or an
``http(s)://`` URL. The kind comes from ``--kind``, else the file extension, else (for
URLs) the shape of the address: a path that looks like a feed is RSS/Atom, anything
else a web page.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from yuqing.errors import SourceError, UsageError
from yuqing.sources.base import Source
from yuqing.sources.files import CsvSource, JsonlSource
from yuqing.sources.record import ColumnMapping
from yuqing.sources.rss import FeedSource
from yuqing.sources.web import PageSource, is_url

KINDS: Final = ("jsonl", "csv", "rss", "page")
_BY_EXTENSION: Final = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".xml": "rss",
    ".rss": "rss",
    ".atom": "rss",
    ".html": "page",
    ".htm": "page",
}
_FEED_SUFFIXES: Final = (".xml", ".rss", ".atom")


def kind_of(spec: str) -> str | None:
    """The source kind a path or URL implies, or None when it cannot be told."""
    if is_url(spec):
        path = urlsplit(spec).path.lower()
        if path.endswith(_FEED_SUFFIXES) or "feed" in path or "rss" in path:
            return "rss"
        return "page"
    return _BY_EXTENSION.get(Path(spec).suffix.lower())


def expand(spec: str) -> list[str]:
    """A URL or path as is; a glob as its sorted matching files (none -> SourceError)."""
    if is_url(spec) or not any(char in spec for char in "*?["):
        return [spec]
    # glob.glob, not Path.glob: patterns may be absolute and use "**".
    found = glob.glob(spec, recursive=True)  # noqa: PTH207
    matches = sorted(p for p in found if Path(p).is_file())
    if not matches:
        raise SourceError(f"{spec}: no file matches this pattern")
    return matches


def open_sources(
    specs: Sequence[str],
    *,
    kind: str | None = None,
    mapping: ColumnMapping | None = None,
    zone: ZoneInfo,
    max_record_bytes: int = 1 << 20,
    source_name: str | None = None,
) -> list[Source]:
    """One Source per input, in the order given (globs expanded in sorted order).

    ``source_name`` names the source of every record that has none. Without it, a file's
    records default to the file's stem; feeds and pages use the feed title / site name,
    then the host.
    """
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind {kind}: unknown kind; use one of {', '.join(KINDS)}")
    mapping = mapping if mapping is not None else ColumnMapping()
    sources: list[Source] = []
    for spec in specs:
        for item in expand(spec):
            chosen = kind or kind_of(item)
            if chosen is None:
                raise UsageError(
                    f"{item}: cannot tell the input kind from the name; "
                    f"pass --kind {'|'.join(KINDS)}"
                )
            sources.append(_open(item, chosen, mapping, zone, max_record_bytes, source_name))
    return sources


def _open(
    item: str,
    kind: str,
    mapping: ColumnMapping,
    zone: ZoneInfo,
    max_record_bytes: int,
    source_name: str | None,
) -> Source:
    url = is_url(item)
    if kind in ("rss", "page"):
        if not url and not Path(item).is_file():
            raise SourceError(f"{item}: no such file")
        if kind == "rss":
            return FeedSource(item, zone=zone, default_source=source_name)
        return PageSource(item, zone=zone, default_source=source_name)
    if url:
        raise UsageError(
            f"{item}: {kind} input must be a local file; download it first "
            "(a URL is read as --kind rss or --kind page)"
        )
    path = Path(item)
    if not path.is_file():
        what = "is a folder; use a pattern such as DIR/*.jsonl" if path.is_dir() else "no such file"
        raise SourceError(f"{item}: {what}")
    default_source = source_name or path.stem
    if kind == "jsonl":
        return JsonlSource(
            path,
            mapping=mapping,
            default_source=default_source,
            zone=zone,
            max_record_bytes=max_record_bytes,
        )
    return CsvSource(
        path,
        mapping=mapping,
        default_source=default_source,
        zone=zone,
        max_record_bytes=max_record_bytes,
        delimiter="\t" if path.suffix.lower() == ".tsv" else None,
    )
