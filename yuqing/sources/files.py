"""JSONL and CSV files as sources: streamed line by line, with byte-offset cursors.

Both readers open the file in binary and read one physical line at a time with a byte
bound, so a huge line (a 10 MB dump pasted on one line) is rejected as ``too_large``
while holding at most ``max_record_bytes`` of it, and a file is never read whole into
memory. Each line is decoded on its own (see :mod:`yuqing.sources.encoding`), so one
line in a broken encoding is rejected as ``encoding`` and its neighbours are kept.

Cursors are ``(byte offset, physical lines, fingerprint)``: the fingerprint is
``"<n>:<sha1 of the first n bytes>"`` with n = min(4096, size when the file was
opened). Resuming checks that the file still starts with those bytes and is at least
as long as the offset; otherwise the file was replaced and is read from the start.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeAlias
from zoneinfo import ZoneInfo

import orjson

from yuqing.errors import RecordError, SourceError
from yuqing.models import Cursor, Document, Rejection
from yuqing.sources.base import SourceBatch, rejection
from yuqing.sources.encoding import bom_length, detect_encoding, line_codec
from yuqing.sources.record import ColumnMapping, to_document

FINGERPRINT_BYTES: Final = 4096
RAW_PREFIX: Final = 200  # characters of a too-large record kept in its rejection
_SKIP_CHUNK: Final = 1 << 16
_DELIMITERS: Final = (",", "\t", ";")

# (document or rejection, byte offset after it, physical lines after it)
_Item: TypeAlias = tuple[Document | Rejection, int, int]


def _read_lines(handle: BinaryIO, limit: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(line, bytes consumed, oversize)`` for each physical line.

    ``oversize`` is 0 for a normal line. A line longer than ``limit`` bytes (newline
    excluded) comes back as its first bytes with ``oversize`` = its length; the rest of
    it is skipped in 64 KiB steps, so at most ``limit`` bytes of it are ever held.
    """
    readline = handle.readline
    cap = limit + 2  # room for "\r\n"
    while True:
        chunk = readline(cap)
        if not chunk:
            return
        size = len(chunk)
        if size <= limit or (chunk.endswith(b"\n") and len(chunk.rstrip(b"\r\n")) <= limit):
            yield chunk, size, 0
            continue
        prefix = chunk[: RAW_PREFIX * 4]
        while not chunk.endswith(b"\n"):
            chunk = readline(_SKIP_CHUNK)
            if not chunk:
                break
            size += len(chunk)
        newline = 2 if chunk.endswith(b"\r\n") else 1 if chunk.endswith(b"\n") else 0
        yield prefix, size, size - newline


def _too_large(prefix: bytes, codec: str, size: int, limit: int, line: int) -> Rejection:
    text = prefix.decode(codec, "replace")[:RAW_PREFIX] + "…"
    reason = f"record of {size:,} bytes is over the limit of {limit:,} bytes (max_record_bytes)"
    return Rejection(line=line, code="too_large", reason=reason, raw=text)


def _fingerprint(handle: BinaryIO, size: int) -> str:
    handle.seek(0)
    head = handle.read(size)
    return f"{len(head)}:{hashlib.sha1(head, usedforsecurity=False).hexdigest()}"


class _FileSource:
    """What JSONL and CSV share: opening, encoding, cursors and batching."""

    kind = "file"

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: ColumnMapping | None = None,
        default_source: str | None = None,
        zone: ZoneInfo,
        max_record_bytes: int = 1 << 20,
        now: datetime | None = None,
    ) -> None:
        self.path = Path(path).resolve()
        self.key = str(self.path)
        self.mapping = mapping if mapping is not None else ColumnMapping()
        self.default_source = default_source or self.path.stem
        self.zone = zone
        self.max_record_bytes = max_record_bytes
        self.now = now
        self.encoding = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"

    def batches(self, size: int, start: Cursor | None = None) -> Iterator[SourceBatch]:
        """Yield batches of at most ``size`` records, resuming after ``start`` if it fits."""
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self.encoding = detect_encoding(self.path)
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"{self.key}: cannot open: {exc.strerror or exc}") from exc
        with handle:
            file_size = self.path.stat().st_size
            fingerprint = _fingerprint(handle, min(FINGERPRINT_BYTES, file_size))
            items = self._items(handle, self._resume_point(handle, start, file_size))
            batch = SourceBatch()
            offset = line = 0
            for item, offset, line in items:
                if isinstance(item, Document):
                    batch.documents.append(item)
                else:
                    batch.rejections.append(item)
                batch.read += 1
                if batch.read >= size:
                    batch.cursor = Cursor(self.key, offset, line, fingerprint)
                    yield batch
                    batch = SourceBatch()
            if batch.read:
                batch.cursor = Cursor(self.key, offset, line, fingerprint)
                yield batch

    def _resume_point(self, handle: BinaryIO, start: Cursor | None, size: int) -> tuple[int, int]:
        """(byte offset, physical lines) to start at: after ``start`` if it still fits."""
        origin = (bom_length(self.encoding), 0)
        if start is None or start.source_key != self.key or start.position > size:
            return origin
        count, _, _ = start.fingerprint.partition(":")
        if not count.isdigit() or _fingerprint(handle, int(count)) != start.fingerprint:
            return origin
        return (start.position, start.line)

    def _items(self, handle: BinaryIO, point: tuple[int, int]) -> Iterator[_Item]:
        raise NotImplementedError

    def _now(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


class JsonlSource(_FileSource):
    """A JSON Lines file: one JSON object a line; blank lines are skipped."""

    kind = "jsonl"

    def _items(self, handle: BinaryIO, point: tuple[int, int]) -> Iterator[_Item]:
        offset, line = point
        handle.seek(offset)
        codec = line_codec(self.encoding)
        utf8 = codec == "utf-8"
        limit = self.max_record_bytes
        loads = orjson.loads
        common: dict[str, Any] = {
            "default_source": self.default_source,
            "zone": self.zone,
            "mapping": self.mapping,
            "now": self._now(),
        }
        for chunk, size, oversize in _read_lines(handle, limit):
            offset += size
            line += 1
            if oversize:
                yield _too_large(chunk, codec, oversize, limit, line), offset, line
                continue
            if chunk.isspace():
                continue
            try:
                value = loads(chunk) if utf8 else loads(chunk.decode(codec))
            except UnicodeDecodeError as exc:
                yield self._undecodable(chunk, codec, exc, line), offset, line
                continue
            except orjson.JSONDecodeError as exc:
                try:
                    chunk.decode(codec)
                except UnicodeDecodeError as dexc:
                    yield self._undecodable(chunk, codec, dexc, line), offset, line
                    continue
                reason = f"not valid JSON: {exc}"
                yield Rejection(line, "json", reason, _text(chunk, codec)), offset, line
                continue
            if not isinstance(value, dict):
                reason = f"expected a JSON object, got {type(value).__name__}"
                yield Rejection(line, "bad_type", reason, _text(chunk, codec)), offset, line
                continue
            try:
                doc = to_document(value, line=line, **common)
            except RecordError as exc:
                yield rejection(exc, _text(chunk, codec), line), offset, line
                continue
            yield doc, offset, line

    def _undecodable(
        self, chunk: bytes, codec: str, exc: UnicodeDecodeError, line: int
    ) -> Rejection:
        reason = f"cannot decode as {codec} ({exc.reason} at byte {exc.start}); re-save the file in UTF-8"
        return Rejection(line, "encoding", reason, _text(chunk, codec, "replace"))


def _text(chunk: bytes, codec: str, errors: str = "strict") -> str:
    return chunk.decode(codec, errors).rstrip("\r\n")


class _RowTooLargeError(Exception):
    """Raised inside the CSV line feed when one record grows past max_record_bytes."""


class _CsvLines:
    """The decoded lines fed to ``csv.reader``, with offsets and per-record problems.

    ``csv.reader`` pulls exactly the lines a record needs, so after each row the
    counters here tell where the record started and ended.
    """

    def __init__(self, handle: BinaryIO, codec: str, limit: int, offset: int, line: int) -> None:
        self._lines = _read_lines(handle, limit)
        self._codec = codec
        self._limit = limit
        self.offset = offset
        self.line = line
        self.parts: list[str] = []
        self.row_bytes = 0
        self.problem: Rejection | None = None

    def start_row(self) -> None:
        self.parts = []
        self.row_bytes = 0
        self.problem = None

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        chunk, size, oversize = next(self._lines)
        self.offset += size
        self.line += 1
        self.row_bytes += size
        if oversize:
            self.problem = _too_large(chunk, self._codec, oversize, self._limit, self.line)
            raise _RowTooLargeError
        try:
            text = chunk.decode(self._codec)
        except UnicodeDecodeError as exc:
            text = chunk.decode(self._codec, "replace")
            if self.problem is None:
                reason = f"line {self.line}: cannot decode as {self._codec} ({exc.reason}); re-save the file in UTF-8"
                self.problem = Rejection(self.line, "encoding", reason, "")
        self.parts.append(text)
        if self.row_bytes > self._limit:
            reason = f"record is over the limit of {self._limit:,} bytes (max_record_bytes)"
            raw = "".join(self.parts)[:RAW_PREFIX] + "…"
            self.problem = Rejection(self.line, "too_large", reason, raw)
            raise _RowTooLargeError
        return text

    def raw(self) -> str:
        return "".join(self.parts).rstrip("\r\n")


class CsvSource(_FileSource):
    """A CSV (or TSV) file with a header line; quoted fields may span lines.

    ``delimiter`` None sniffs ``,`` ``;`` or tab from the header line. Empty cells are
    missing values. A row with more cells than the header is accepted only when the
    extra cells are empty (a trailing delimiter); otherwise a wrong count is ``csv``.
    """

    kind = "csv"

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: ColumnMapping | None = None,
        default_source: str | None = None,
        zone: ZoneInfo,
        max_record_bytes: int = 1 << 20,
        delimiter: str | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__(
            path,
            mapping=mapping,
            default_source=default_source,
            zone=zone,
            max_record_bytes=max_record_bytes,
            now=now,
        )
        self.delimiter = delimiter
        # The csv module's own cap (128 KiB a field) would reject long posts first;
        # raise it (process-wide, only ever upwards) to our own record limit.
        if csv.field_size_limit() < max_record_bytes:
            csv.field_size_limit(max_record_bytes)

    def _header(self, handle: BinaryIO) -> tuple[list[str], str, int, int]:
        """(column names, delimiter, offset after header, lines in header)."""
        start = bom_length(self.encoding)
        handle.seek(start)
        codec = line_codec(self.encoding)
        lines = _CsvLines(handle, codec, self.max_record_bytes, start, 0)
        first = handle.readline(self.max_record_bytes + 2)
        handle.seek(start)
        delimiter = self.delimiter or _sniff(first.decode(codec, "replace"))
        try:
            header = next(csv.reader(lines, delimiter=delimiter))
        except StopIteration:
            return [], delimiter, lines.offset, lines.line  # an empty file
        except (_RowTooLargeError, csv.Error) as exc:
            raise SourceError(f"{self.key}: cannot read the CSV header line: {exc}") from exc
        if lines.problem is not None:
            raise SourceError(f"{self.key}: header: {lines.problem.reason}")
        if not header:
            raise SourceError(f"{self.key}: line 1 is blank; the first line must be the header")
        names = [name.strip() for name in header]
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                raise SourceError(
                    f"{self.key}: the header names column {name!r} twice; rename one of them"
                )
            seen.add(name)
        return names, delimiter, lines.offset, lines.line

    def _items(self, handle: BinaryIO, point: tuple[int, int]) -> Iterator[_Item]:
        header, delimiter, offset, line = self._header(handle)
        if not header:
            return
        if point[0] > offset:
            offset, line = point
        handle.seek(offset)
        lines = _CsvLines(handle, line_codec(self.encoding), self.max_record_bytes, offset, line)
        reader = csv.reader(lines, delimiter=delimiter)
        width = len(header)
        now = self._now()
        while True:
            lines.start_row()
            first_line = lines.line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except _RowTooLargeError:
                assert lines.problem is not None
                problem = lines.problem
                yield (
                    Rejection(first_line, problem.code, problem.reason, problem.raw),
                    lines.offset,
                    lines.line,
                )
                reader = csv.reader(lines, delimiter=delimiter)
                continue
            except csv.Error as exc:
                reason = f"cannot parse the CSV row: {exc}"
                yield Rejection(first_line, "csv", reason, lines.raw()), lines.offset, lines.line
                reader = csv.reader(lines, delimiter=delimiter)
                continue
            if lines.problem is not None:
                bad = lines.problem
                raw = lines.raw()
                yield Rejection(first_line, bad.code, bad.reason, raw), lines.offset, lines.line
                continue
            if not row:
                continue  # a blank line
            if len(row) != width and not (len(row) > width and not any(row[width:])):
                reason = f"expected {width} columns as in the header, found {len(row)}"
                yield Rejection(first_line, "csv", reason, lines.raw()), lines.offset, lines.line
                continue
            record = {name: cell for name, cell in zip(header, row, strict=False) if cell and name}
            try:
                doc = to_document(
                    record,
                    line=first_line,
                    default_source=self.default_source,
                    zone=self.zone,
                    mapping=self.mapping,
                    now=now,
                )
            except RecordError as exc:
                yield rejection(exc, lines.raw(), first_line), lines.offset, lines.line
                continue
            yield doc, lines.offset, lines.line


def _sniff(header_line: str) -> str:
    """The most frequent of ``,`` tab ``;`` in the header line (``,`` when none)."""
    best, count = ",", 0
    for candidate in _DELIMITERS:
        found = header_line.count(candidate)
        if found > count:
            best, count = candidate, found
    return best
