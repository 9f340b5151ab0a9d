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

import csv
import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputFileError, OptionError, describe
from .lines import LineItem, Lines

__all__ = ["Chunk", "FORMATS", "format_of", "open_reader", "pyarrow_parquet"]

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
#: The path that means standard input (for reading) or standard output (for writing).
STDIO = "-"
_MIN_FIELD_SIZE_LIMIT = 1 << 28  # quoted fields up to 256 MiB (the csv default is 128 KiB)

@dataclass
class Chunk:
    """Rows of one input chunk: row-major lists (CSV/JSONL) or an Arrow record batch (Parquet)."""

    rows: list[list[Any]] | None
    batch: Any  # pyarrow.RecordBatch | None
    n: int
    problems: dict[int, tuple[str, str, bool]]  # row offset -> (status, message, fields recovered)
    position: int  # bytes (or rows for Parquet) consumed so far, for progress
    all_text: bool = False  # every value is a str (CSV / TSV rows)
    linenos: list[int] | None = None  # first physical line of each row (text formats)

    def column(self, i: int) -> list[Any]:
        if self.rows is not None:
            return [r[i] for r in self.rows]
        return self.batch.column(i).to_pylist()

    def row_lists(self) -> list[list[Any]]:
        if self.rows is not None:
            return self.rows
        cols = [c.to_pylist() for c in self.batch.columns]
        return [list(r) for r in zip(*cols)] if cols else [[] for _ in range(self.n)]


def _open_binary(path: Path) -> io.BufferedReader:
    if str(path) == STDIO:
        return sys.stdin.buffer  # type: ignore[return-value]
    try:
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputFileError(f"input: file not found: {str(path)!r}") from None
    except IsADirectoryError:
        raise InputFileError(f"input: expected a file, got a directory: {str(path)!r}") from None
    except OSError as exc:
        raise InputFileError(f"input: cannot open {str(path)!r}: {exc.strerror or exc}") from None


def _size(fh: io.BufferedReader) -> int:
    """The size of a regular file (0, i.e. unknown, for pipes and terminals)."""
    try:
        st = os.fstat(fh.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def _close(fh: io.BufferedReader) -> None:
    if fh is not sys.stdin.buffer:
        fh.close()


class _DelimitedReader:
    """CSV / TSV records, streamed; malformed lines are kept as rows (see the module docstring)."""

    def __init__(self, path: Path, delimiter: str, chunk_size: int) -> None:
        if csv.field_size_limit() < _MIN_FIELD_SIZE_LIMIT:
            csv.field_size_limit(_MIN_FIELD_SIZE_LIMIT)
        self.path = path
        self.delimiter = delimiter
        self.chunk_size = chunk_size
        self.fh = _open_binary(path)
        self.total = _size(self.fh)
        self.total_unit = "bytes"
        self.lines = Lines(self.fh)
        self.blank_lines = 0
        self.dropped_keys = 0
        self._continuation_problem: str | None = None
        try:
            self.columns: list[str] = self._read_header()
        except BaseException:
            _close(self.fh)
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
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes:
            raise InputFileError(f"input: duplicate column name(s) in the header: {', '.join(map(repr, dupes))}")
        return header

    def _parse(self, first: LineItem, n: int | None) -> tuple[list[str] | None, str]:
        """Parse the record starting at ``first``.

        Returns ``(fields, '')`` for a well-formed record, ``(fields, why)`` when bad quoting was
        recovered by splitting the line literally, ``(None, why)`` when the record is malformed.
        """
        text = first[1]
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
            yield first[1] + first[3]
            while True:
                if len(extra) >= MAX_RECORD_LINES:
                    over[0] = True
                    return
                nxt = lines.next()
                if nxt is None:
                    return
                extra.append(nxt)
                yield (nxt[1] or "") + nxt[3]

        try:
            rec: list[str] | None = next(csv.reader(physical(), delimiter=self.delimiter, strict=True))
        except csv.Error:  # the file ended inside the quotes, or the quoting is broken
            rec = None
        last = extra[-1][0] if extra else first[0]
        if over[0]:
            # Read on, without keeping the text, to where the quotes close (an even number of
            # quote characters so far, as RFC 4180 quoting implies): the record stays one row.
            quotes = first[1].count('"') + sum((x[1] or "").count('"') for x in extra)
            while quotes % 2:
                nxt = lines.next()
                if nxt is None:
                    break
                last = nxt[0]
                quotes += (nxt[1] or "").count('"')
            return None, (
                f"a quoted field spans more than {MAX_RECORD_LINES} lines (lines {first[0]}-{last}); the record was not read"
            )
        if rec is not None:
            if any(x[1] is None for x in extra):
                return None, f"a line of this record is too long (lines {first[0]}-{last}); the record was not read"
            if n is None or len(rec) == n:
                problems = [x[2] for x in extra if x[2]]
                if problems:
                    self._continuation_problem = problems[0]
                return rec, ""
            return None, f"expected {n} fields, got {len(rec)} (a record on lines {first[0]}-{last})"
        lines.push_back(extra)
        return None

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
                linenos.append(item[0])  # a line too long to read
                problems[len(rows)] = ("malformed_line", item[2], False)
                rows.append(list(empty))
            elif '"' not in text and item[2] is None:  # fast path
                linenos.append(item[0])
                fields = text.split(delim)
                if len(fields) == n:
                    rows.append(fields)
                else:
                    problems[len(rows)] = (
                        "malformed_line", f"line {item[0]}: expected {n} fields, got {len(fields)}: {_excerpt(text)}", False
                    )
                    rows.append(list(empty))
            else:
                linenos.append(item[0])
                self._continuation_problem = None
                fields, why = self._parse(item, n)
                if fields is None:
                    problems[len(rows)] = ("malformed_line", f"line {item[0]}: {why}: {_excerpt(text)}", False)
                    rows.append(list(empty))
                elif why:  # recovered: still screened, but reported
                    problems[len(rows)] = ("malformed_line", f"line {item[0]}: {why}: {_excerpt(text)}", True)
                    rows.append(fields)
                else:
                    decode_problem = item[2] or self._continuation_problem
                    if decode_problem:
                        problems[len(rows)] = ("undecodable_text", decode_problem, True)
                    rows.append(fields)
            if len(rows) >= size:
                yield Chunk(rows, None, len(rows), problems, lines.bytes, True, linenos)
                rows, problems, linenos = [], {}, []
        if rows:
            yield Chunk(rows, None, len(rows), problems, lines.bytes, True, linenos)

    def close(self) -> None:
        _close(self.fh)


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class _JsonLinesReader:
    """JSON Lines records; the columns are the keys of the first object."""

    #: The first object must be among this many lines (they are held until it is found).
    FIRST_OBJECT_WITHIN = 1000

    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self.fh = _open_binary(path)
        self.total = _size(self.fh)
        self.total_unit = "bytes"
        self.lines = Lines(self.fh)
        self.blank_lines = 0
        self.dropped_keys = 0
        self.arrow_schema = None
        try:
            self.columns: list[str] = self._first_columns()
        except BaseException:
            _close(self.fh)
            raise

    def _first_columns(self) -> list[str]:
        seen: list[LineItem] = []
        columns = None
        while columns is None and len(seen) < self.FIRST_OBJECT_WITHIN:
            item = self.lines.next()
            if item is None:
                break
            if item[1] is None and not any(x[1] for x in seen):
                raise InputFileError(
                        f"input: {str(self.path)!r}: {item[2]}: JSON Lines holds one object per line "
                        "(is this one JSON document, such as an array?)"
                    )
            seen.append(item)
            obj, _ = _load_json(item[1] or "")
            if isinstance(obj, dict):
                columns = list(obj)
        self.lines.push_back(seen)
        if columns is None:
            raise InputFileError(
                f"input: {str(self.path)!r} has no JSON object line in its first {len(seen):,} lines: "
                "expected one object per line"
            )
        return columns

    def __iter__(self) -> Iterator[Chunk]:
        cols = self.columns
        colset = set(cols)
        n = len(cols)
        size = self.chunk_size
        lines = self.lines
        rows: list[list[Any]] = []
        linenos: list[int] = []
        problems: dict[int, tuple[str, str, bool]] = {}
        while True:
            item = lines.next()
            if item is None:
                break
            lineno, text, decode_problem = item[0], item[1], item[2]
            if text is None:
                linenos.append(lineno)
                problems[len(rows)] = ("malformed_line", decode_problem or f"line {lineno}: too long", False)
                rows.append([None] * n)
                continue
            if not text.strip():
                self.blank_lines += 1
                continue
            linenos.append(lineno)
            obj, why = _load_json(text)
            if why:
                problems[len(rows)] = ("malformed_line", f"line {lineno}: {why}: {_excerpt(text)}", False)
                rows.append([None] * n)
            elif not isinstance(obj, dict):
                problems[len(rows)] = (
                    "malformed_line",
                    f"line {lineno}: expected a JSON object, got {type(obj).__name__}: {_excerpt(text)}",
                    False,
                )
                rows.append([None] * n)
            else:
                if len(obj) != n or obj.keys() != colset:
                    if not obj.keys() <= colset:
                        self.dropped_keys += 1
                rows.append([obj.get(c) for c in cols])
                if decode_problem:
                    problems[len(rows) - 1] = ("undecodable_text", decode_problem, True)
            if len(rows) >= size:
                yield Chunk(rows, None, len(rows), problems, lines.bytes, False, linenos)
                rows, problems, linenos = [], {}, []
        if rows:
            yield Chunk(rows, None, len(rows), problems, lines.bytes, False, linenos)

    def close(self) -> None:
        _close(self.fh)


def _load_json(text: str) -> tuple[Any, str]:
    """``(value, '')``, or ``(None, why)`` for invalid or too deeply nested JSON."""
    try:
        return json.loads(text), ""
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply to read)"


class _ParquetReader:
    def __init__(self, path: Path, chunk_size: int) -> None:
        pq = pyarrow_parquet("reading Parquet")
        source: Any = path
        if str(path) == STDIO:
            source = sys.stdin.buffer
            if not source.seekable():
                raise InputFileError("input: Parquet cannot be read from a pipe (its index is at the end); give a file")
        elif not path.exists():
            raise InputFileError(f"input: file not found: {str(path)!r}")
        try:
            self.file = pq.ParquetFile(source)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for non-Parquet files
            raise InputFileError(f"input: cannot read {str(path)!r} as Parquet: {exc}") from None
        self.chunk_size = chunk_size
        self.arrow_schema = self.file.schema_arrow.remove_metadata()
        self.columns = list(self.arrow_schema.names)
        dupes = sorted({c for c in self.columns if self.columns.count(c) > 1})
        if dupes:
            raise InputFileError(f"input: duplicate column name(s): {', '.join(map(repr, dupes))}")
        self.total = self.file.metadata.num_rows
        self.total_unit = "rows"
        self.blank_lines = 0
        self.dropped_keys = 0

    def __iter__(self) -> Iterator[Chunk]:
        done = 0
        for batch in self.file.iter_batches(batch_size=self.chunk_size, use_pandas_metadata=False):
            done += batch.num_rows
            if batch.num_rows:
                yield Chunk(None, batch, batch.num_rows, {}, done)

    def close(self) -> None:
        self.file.close()


def pyarrow_parquet(what: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a test dependency
        raise OptionError(f"{what} needs pyarrow: pip install 'dualuse[parquet]'") from None
    return pq


# ---------------------------------------------------------------------------- writers


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
        return _JsonLinesReader(path, chunk_size)
    return _ParquetReader(path, chunk_size)

