"""Streaming readers of trade-record files: CSV / TSV, JSON Lines and Parquet, chunk by chunk.

Lines end at ``\r\n``, ``\n`` or a lone ``\r``, as CSV readers read them
(:mod:`dualuse.files.lines`); a line longer than ``MAX_LINE_BYTES`` is a ``malformed_line``
row (or, as the header or first JSON object, a refused file) and is never held in memory.
The path ``-`` reads standard input.

* **CSV / TSV** (RFC 4180 quoting, UTF-8, optional BOM): read by a line-level reader, every
  field as a string (``''`` stays ``''``, ``NA`` stays the text ``NA``; nothing is inferred).
  Lines without a quote are split directly (the fast path); quoted lines go through the
  :mod:`csv` module, and a quoted field may span lines. A line with the wrong number of
  fields, or an unterminated quote that does not close into a well-formed record, is kept as
  a row with status ``malformed_line`` and its line number in ``error``. A quote that cannot
  be parsed but whose line splits into the right number of fields is kept literally (``17"
  monitor``). A record whose quoted field spans more than :data:`MAX_RECORD_LINES` lines is
  read to its end and becomes one ``malformed_line`` row: a record is never split into rows. Bytes that are not UTF-8 are replaced with U+FFFD, the row is still screened
  and gets status ``undecodable_text`` with the line number and byte offset in ``error``.
  Blank lines are not records: they are counted in the summary.
* **JSON Lines**: one object per line; the columns are the keys of the first object. Invalid
  JSON, JSON nested too deeply to read, or a non-object line is a ``malformed_line`` row; missing keys are null; keys absent
  from the first object are dropped and counted in the summary.
* **Parquet**: read with ``pyarrow.parquet.ParquetFile.iter_batches``; column types are kept.
"""

from __future__ import annotations

import collections
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputFileError, OptionError, describe
from .inputs import STDIO, Chunk, close_input, excerpt, open_binary, pyarrow_parquet, size_of
from .lines import LineItem, Lines
from .records import JsonLinesReader, ParquetReader

__all__ = ["Chunk", "FORMATS", "STDIO", "MAX_RECORD_LINES", "format_of", "open_reader", "pyarrow_parquet"]

FORMATS = ("csv", "tsv", "parquet", "jsonl")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
#: A quoted field may span at most this many physical lines; a longer record is read to its
#: end and becomes one ``malformed_line`` row (it is never split into several rows).
MAX_RECORD_LINES = 1000
_MIN_FIELD_SIZE_LIMIT = 1 << 28  # quoted fields up to 256 MiB (the csv default is 128 KiB)


class _DelimitedReader:
    """CSV / TSV records, streamed; malformed lines are kept as rows (see the module docstring)."""

    def __init__(self, path: Path, delimiter: str, chunk_size: int) -> None:
        if csv.field_size_limit() < _MIN_FIELD_SIZE_LIMIT:
            csv.field_size_limit(_MIN_FIELD_SIZE_LIMIT)
        self.path = path
        self.delimiter = delimiter
        self.chunk_size = chunk_size
        self.fh = open_binary(path)
        self.total = size_of(self.fh)
        self.total_unit = "bytes"
        self.lines = Lines(self.fh)
        self.blank_lines = 0
        self.dropped_keys = 0
        self._continuation_problem: str | None = None
        try:
            self.columns: list[str] = self._read_header()
        except BaseException:
            close_input(self.fh)
            raise
        self.arrow_schema = None

    def _read_header(self) -> list[str]:
        path = self.path
        header = None
        while header is None:
            item = self.lines.next()
            if item is None:
                raise InputFileError(f"input: {str(path)!r} is empty: expected a header line with the column names")
            lineno, text, problem = item[0], item[1], item[2]
            if text is None:
                raise InputFileError(f"input: the header is too long ({problem})")
            if problem is not None:
                raise InputFileError(f"input: the header is not valid UTF-8 ({problem})")
            if not text.strip():
                self.blank_lines += 1
                continue
            fields, err = self._parse(item, None)
            if fields is None or err:
                raise InputFileError(f"input: cannot parse the header line {lineno}: {err}")
            header = fields
        empty = [str(i + 1) for i, c in enumerate(header) if c == ""]
        if len(empty) > 1:
            raise InputFileError(
                f"input: empty column name(s) in the header at position(s) {', '.join(empty)} of {len(header)} "
                "(trailing delimiters?); name every column"
            )
        dupes = sorted(c for c, k in collections.Counter(header).items() if k > 1)  # linear: headers can have 10^6 names
        if dupes:
            raise InputFileError(f"input: duplicate column name(s) in the header: {', '.join(map(repr, dupes))}")
        return header

    def _parse(self, first: LineItem, n: int | None) -> tuple[list[str] | None, str]:
        """Parse the record starting at ``first``.

        Returns ``(fields, '')`` for a well-formed record, ``(fields, why)`` when bad quoting was
        recovered by splitting the line literally, ``(None, why)`` when the record is malformed.
        """
        text = first[1] or ""  # an overlong line (None) is a problem row before it gets here
        delim = self.delimiter
        if '"' not in text:
            fields = text.split(delim)
            if n is None or len(fields) == n:
                return fields, ""
            return None, f"expected {n} fields, got {len(fields)}"
        try:
            recs = list(csv.reader([text], delimiter=delim, strict=True))
            err = ""
        except csv.Error as exc:
            recs, err = [], str(exc)
        if len(recs) == 1 and (n is None or len(recs[0]) == n):
            return recs[0], ""
        if err == "unexpected end of data":  # a quoted field continues on the next line(s)
            result = self._continued(first, n)
            if result is not None:
                return result
            err = "unterminated quoted field"
        fields = text.split(delim)  # bad quoting: keep the quotes literally if the split fits
        if n is not None and len(fields) == n:
            return fields, f"bad quoting ({err or 'quote inside a field'}); the line was split on {delim!r} with its quotes kept"
        if n is None:
            return None, err or "cannot parse the quoting"
        got = f"got {len(recs[0])} fields" if len(recs) == 1 else (err or f"got {len(fields)} fields")
        return None, f"expected {n} fields, {got}"

    def _continued(self, first: LineItem, n: int | None) -> tuple[list[str] | None, str] | None:
        """A record whose quoted field spans lines, read as CSV readers read it.

        Returns ``(fields, '')`` for a well-formed record; ``(None, why)`` for a record that
        closed but is malformed, or spans more than :data:`MAX_RECORD_LINES` lines: its lines are
        consumed, so one record stays one row; ``None`` when the file ends inside the quotes
        (or the quoting is broken): the lines are pushed back for the literal fallback.
        """
        lines = self.lines
        extra: list[LineItem] = []
        over = [False]

        def physical() -> Iterator[str]:
            yield (first[1] or "") + first[3]
            while True:
                if len(extra) >= MAX_RECORD_LINES:
                    over[0] = True
                    return
                nxt = lines.next()
                if nxt is None:
                    return
                extra.append(nxt)
                if nxt[1] is None:  # a line too long to read: only whether it closed the quotes counts
                    lines.settle()
                    yield ('"' if lines.odd_quotes.get(nxt[0], False) else "") + nxt[3]
                else:
                    yield nxt[1] + nxt[3]

        broken = ""
        try:
            rec: list[str] | None = next(csv.reader(physical(), delimiter=self.delimiter, strict=True))
        except csv.Error as exc:
            rec = None
            if str(exc) != "unexpected end of data" and not over[0]:
                broken = str(exc)
                rec, extra = self._lenient(first, extra)
        last = extra[-1][0] if extra else first[0]
        if over[0]:
            # Read on, without keeping the text, to where the quotes close (an even number of
            # quote characters so far, as RFC 4180 quoting implies): the record stays one row.
            last = self._to_closing_quote((first[1] or "").count('"') + sum(_quotes(x, lines) for x in extra), last)
            return None, (
                f"a quoted field spans more than {MAX_RECORD_LINES} lines (lines {first[0]}-{last}); the record was not read"
            )
        if rec is not None:
            if any(x[1] is None for x in extra):
                return None, f"a line of this record is too long (lines {first[0]}-{last}); the record was not read"
            last = extra[-1][0] if extra else first[0]
            if n is None or len(rec) == n:
                problems = [x[2] for x in extra if x[2]]
                if problems:
                    self._continuation_problem = problems[0]
                if broken and n is not None:
                    return rec, f"bad quoting ({broken}); lines {first[0]}-{last} were read as one record, as csv readers do"
                return (rec, "") if not broken else (None, broken)
            return None, f"expected {n} fields, got {len(rec)} (a record on lines {first[0]}-{last})"
        lines.push_back(extra)
        return None

    def _to_closing_quote(self, quotes: int, last: int) -> int:
        """Skip lines, without keeping them, until ``quotes`` quote characters so far are even
        (where an RFC 4180 quoted field closes); returns the last line number read."""
        lines = self.lines
        while quotes % 2:
            nxt = lines.next()
            if nxt is None:
                break
            last = nxt[0]
            quotes += _quotes(nxt, lines)
        return last

    def _lenient(self, first: LineItem, extra: list[LineItem]) -> tuple[list[str], list[LineItem]]:
        """Re-read a record whose quoting broke across lines the way lenient CSV readers do.

        Returns the record and the continuation lines it used; the lines it did not need are
        pushed back. A record stays one row, never one row per physical line.
        """
        replay = [first, *extra]
        used = 0

        def physical() -> Iterator[str]:
            nonlocal used
            for item in replay:
                used += 1
                yield (item[1] or "") + item[3]

        rec = next(csv.reader(physical(), delimiter=self.delimiter, strict=False), [])
        self.lines.push_back(replay[used:])
        return rec, replay[1:used]

    def __iter__(self) -> Iterator[Chunk]:
        n = len(self.columns)
        size = self.chunk_size
        lines = self.lines
        delim = self.delimiter
        rows: list[list[Any]] = []
        linenos: list[int] = []
        problems: dict[int, tuple[str, str, bool]] = {}
        empty = [""] * n
        pending = lines.pending
        popleft = pending.popleft
        fill = lines.fill
        while True:
            if not pending and not fill():
                break
            item = popleft()
            text = item[1]
            if not text:
                if text is not None:
                    self.blank_lines += 1
                    continue
                linenos.append(item[0])  # a line too long to read; its record may go on
                last = self._to_closing_quote(_quotes(item, lines), item[0])
                span = f" (a record on lines {item[0]}-{last})" if last != item[0] else ""
                problems[len(rows)] = ("malformed_line", (item[2] or "") + span, False)
                rows.append(list(empty))
            elif '"' not in text and item[2] is None:  # fast path
                linenos.append(item[0])
                fields = text.split(delim)
                if len(fields) == n:
                    rows.append(fields)
                else:
                    problems[len(rows)] = (
                        "malformed_line",
                        f"line {item[0]}: expected {n} fields, got {len(fields)}: {excerpt(text)}",
                        False,
                    )
                    rows.append(list(empty))
            else:
                linenos.append(item[0])
                self._continuation_problem = None
                parsed, why = self._parse(item, n)
                if parsed is None:
                    problems[len(rows)] = ("malformed_line", f"line {item[0]}: {why}: {excerpt(text)}", False)
                    rows.append(list(empty))
                elif why:  # recovered: still screened, but reported
                    problems[len(rows)] = ("malformed_line", f"line {item[0]}: {why}: {excerpt(text)}", True)
                    rows.append(parsed)
                else:
                    decode_problem = item[2] or self._continuation_problem
                    if decode_problem:
                        problems[len(rows)] = ("undecodable_text", decode_problem, True)
                    rows.append(parsed)
            if len(rows) >= size:
                yield Chunk(rows, None, len(rows), problems, lines.bytes, True, linenos)
                rows, problems, linenos = [], {}, []
        if rows:
            yield Chunk(rows, None, len(rows), problems, lines.bytes, True, linenos)

    def close(self) -> None:
        close_input(self.fh)


def _quotes(item: LineItem, lines: Lines) -> int:
    """The number of '"' in a line (its parity only, for a line too long to read)."""
    if item[1] is not None:
        return item[1].count('"')
    lines.settle()
    return int(lines.odd_quotes.get(item[0], False))


def format_of(path: Path, given: str | None, param: str) -> str:
    """The format named by ``given``, else by ``path``'s extension (CSV for ``-``)."""
    if given is None and str(path) == STDIO:
        return "csv"
    if given is not None:
        if given not in FORMATS:
            raise OptionError(f"{param}: expected one of {', '.join(FORMATS)}, got {describe(given)}")
        return given
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise OptionError(
            f"{param}: cannot tell the format of {str(path)!r} from its extension; "
            f"use a .csv, .tsv, .parquet or .jsonl name or pass the format ({', '.join(FORMATS)})"
        )
    return fmt


def open_reader(path: Path, fmt: str, chunk_size: int):
    if fmt == "csv":
        return _DelimitedReader(path, ",", chunk_size)
    if fmt == "tsv":
        return _DelimitedReader(path, "\t", chunk_size)
    if fmt == "jsonl":
        return JsonLinesReader(path, chunk_size)
    return ParquetReader(path, chunk_size)
