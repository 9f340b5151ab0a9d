"""Streaming readers of trade-record files: CSV / TSV, JSON Lines and Parquet, chunk by chunk.

* **CSV / TSV** (RFC 4180 quoting, UTF-8, optional BOM): read by a line-level reader, every
  field as a string (``''`` stays ``''``, ``NA`` stays the text ``NA``; nothing is inferred).
  Lines without a quote are split directly (the fast path); quoted lines go through the
  :mod:`csv` module, and a quoted field may span lines. A line with the wrong number of
  fields, or an unterminated quote that does not close into a well-formed record, is kept as
  a row with status ``malformed_line`` and its line number in ``error``. A quote that cannot
  be parsed but whose line splits into the right number of fields is kept literally (``17"
  monitor``). Bytes that are not UTF-8 are replaced with U+FFFD, the row is still screened
  and gets status ``undecodable_text`` with the line number and byte offset in ``error``.
  Blank lines are not records: they are counted in the summary.
* **JSON Lines**: one object per line; the columns are the keys of the first object. Invalid
  JSON or a non-object line is a ``malformed_line`` row; missing keys are null; keys absent
  from the first object are dropped and counted in the summary.
* **Parquet**: read with ``pyarrow.parquet.ParquetFile.iter_batches``; column types are kept.
"""

from __future__ import annotations

import collections
import csv
import io
import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputFileError, OptionError, describe

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
#: A quoted field may span at most this many physical lines.
MAX_RECORD_LINES = 100
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


def _decode(raw: bytes, lineno: int) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 4]
        return raw.decode("utf-8", "replace"), (
            f"line {lineno}: bytes that are not UTF-8 at byte {exc.start} ({bad!r}...) were replaced with U+FFFD"
        )


class _Lines:
    """Physical lines of a binary file: (line number, text, decoding problem), with push-back.

    The file is read in blocks of whole lines, each block decoded at once (per line only when
    it holds bytes that are not UTF-8), so the per-line cost is a list item, not a call.
    """

    BLOCK = 1 << 20

    def __init__(self, fh: io.BufferedReader) -> None:
        self.fh = fh
        self.lineno = 0
        self.bytes = 0  # bytes of the file consumed into lines so far (for progress)
        self.pending: collections.deque[tuple[int, str, str | None]] = collections.deque()
        self._rest = b""
        self._eof = False

    def fill(self) -> bool:
        """Append the next block of lines to ``pending``; False at the end of the file."""
        while True:
            if self._eof:
                return False
            data = self.fh.read(self.BLOCK)
            if data:
                data = self._rest + data if self._rest else data
                cut = data.rfind(b"\n")
                if cut < 0:
                    self._rest = data
                    continue
                block, self._rest = data[: cut + 1], data[cut + 1 :]
                body = block[:-1]
            else:
                self._eof = True
                if not self._rest:
                    return False
                block = body = self._rest
                self._rest = b""
            if self.lineno == 0 and body.startswith(b"\xef\xbb\xbf"):
                body = body[3:]
            self.bytes += len(block)
            start = self.lineno + 1
            try:
                texts = body.decode("utf-8").split("\n")
                problems = None
            except UnicodeDecodeError:
                texts, problems = [], {}
                for k, raw in enumerate(body.split(b"\n")):
                    try:
                        texts.append(raw.decode("utf-8"))
                    except UnicodeDecodeError:
                        text, problems[k] = _decode(raw.rstrip(b"\r"), start + k)
                        texts.append(text)
            texts = [t[:-1] if t.endswith("\r") else t for t in texts]
            self.lineno += len(texts)
            if problems:
                self.pending.extend((start + k, t, problems.get(k)) for k, t in enumerate(texts))
            else:
                self.pending.extend(zip(range(start, start + len(texts)), texts, itertools.repeat(None)))
            return True

    def next(self) -> tuple[int, str, str | None] | None:
        if not self.pending and not self.fill():
            return None
        return self.pending.popleft()

    def push_back(self, items: list[tuple[int, str, str | None]]) -> None:
        self.pending.extendleft(reversed(items))


def _open_binary(path: Path) -> io.BufferedReader:
    try:
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputFileError(f"input: file not found: {str(path)!r}") from None
    except IsADirectoryError:
        raise InputFileError(f"input: expected a file, got a directory: {str(path)!r}") from None
    except OSError as exc:
        raise InputFileError(f"input: cannot open {str(path)!r}: {exc.strerror or exc}") from None


class _DelimitedReader:
    """CSV / TSV records, streamed; malformed lines are kept as rows (see the module docstring)."""

    def __init__(self, path: Path, delimiter: str, chunk_size: int) -> None:
        if csv.field_size_limit() < _MIN_FIELD_SIZE_LIMIT:
            csv.field_size_limit(_MIN_FIELD_SIZE_LIMIT)
        self.path = path
        self.delimiter = delimiter
        self.chunk_size = chunk_size
        self.fh = _open_binary(path)
        self.total = os.fstat(self.fh.fileno()).st_size
        self.total_unit = "bytes"
        self.lines = _Lines(self.fh)
        self.blank_lines = 0
        self.dropped_keys = 0
        self._continuation_problem: str | None = None
        try:
            self.columns: list[str] = self._read_header()
        except BaseException:
            self.fh.close()
            raise
        self.arrow_schema = None

    def _read_header(self) -> list[str]:
        path = self.path
        header = None
        while header is None:
            item = self.lines.next()
            if item is None:
                raise InputFileError(f"input: {str(path)!r} is empty: expected a header line with the column names")
            lineno, text, problem = item
            if problem is not None:
                raise InputFileError(f"input: the header is not valid UTF-8 ({problem})")
            if not text.strip():
                self.blank_lines += 1
                continue
            fields, err = self._parse(item, None)
            if fields is None or err:
                raise InputFileError(f"input: cannot parse the header line {lineno}: {err}")
            header = fields
        dupes = sorted({c for c in header if header.count(c) > 1})
        if dupes:
            raise InputFileError(f"input: duplicate column name(s) in the header: {', '.join(map(repr, dupes))}")
        return header

    def _parse(self, first: tuple[int, str, str | None], n: int | None) -> tuple[list[str] | None, str]:
        """Parse the record starting at ``first``.

        Returns ``(fields, '')`` for a well-formed record, ``(fields, why)`` when bad quoting was
        recovered by splitting the line literally, ``(None, why)`` when the line is malformed.
        """
        lineno, text, _ = first
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
            extra: list[tuple[int, str, str | None]] = []
            parts = [text + "\n"]
            while len(extra) < MAX_RECORD_LINES:
                nxt = self.lines.next()
                if nxt is None:
                    break
                extra.append(nxt)
                parts.append(nxt[1] + "\n")
                try:
                    recs = list(csv.reader(parts, delimiter=delim, strict=True))
                except csv.Error as exc:
                    if str(exc) == "unexpected end of data":
                        continue
                    break
                if len(recs) == 1 and (n is None or len(recs[0]) == n):
                    problems = [p for (_, _, p) in extra if p]
                    if problems:
                        self._continuation_problem = problems[0]
                    return recs[0], ""
                break
            self.lines.push_back(extra)
            err = "unterminated quoted field"
        fields = text.split(delim)  # bad quoting: keep the quotes literally if the split fits
        if n is not None and len(fields) == n:
            return fields, f"bad quoting ({err or 'quote inside a field'}); the line was split on {delim!r} with its quotes kept"
        if n is None:
            return None, err or "cannot parse the quoting"
        got = f"got {len(recs[0])} fields" if len(recs) == 1 else (err or f"got {len(fields)} fields")
        return None, f"expected {n} fields, {got}"

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
                self.blank_lines += 1
                continue
            linenos.append(item[0])
            if '"' not in text and item[2] is None:  # fast path
                fields = text.split(delim)
                if len(fields) == n:
                    rows.append(fields)
                else:
                    problems[len(rows)] = (
                        "malformed_line", f"line {item[0]}: expected {n} fields, got {len(fields)}: {_excerpt(text)}", False
                    )
                    rows.append(list(empty))
            else:
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
        self.fh.close()


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class _JsonLinesReader:
    """JSON Lines records; the columns are the keys of the first object."""

    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self.fh = _open_binary(path)
        self.total = os.fstat(self.fh.fileno()).st_size
        self.total_unit = "bytes"
        self.lines = _Lines(self.fh)
        self.blank_lines = 0
        self.dropped_keys = 0
        self.arrow_schema = None
        try:
            self.columns: list[str] = self._first_columns()
        except BaseException:
            self.fh.close()
            raise

    def _first_columns(self) -> list[str]:
        seen: list[tuple[int, str, str | None]] = []
        columns = None
        while columns is None:
            item = self.lines.next()
            if item is None:
                break
            seen.append(item)
            try:
                obj = json.loads(item[1])
            except ValueError:
                continue
            if isinstance(obj, dict):
                columns = list(obj)
        self.lines.push_back(seen)
        if columns is None:
            raise InputFileError(f"input: {str(self.path)!r} has no JSON object line: expected one object per line")
        return columns

    def __iter__(self) -> Iterator[Chunk]:
        cols = self.columns
        colset = set(cols)
        n = len(cols)
        size = self.chunk_size
        lines = self.lines
        loads = json.loads
        rows: list[list[Any]] = []
        linenos: list[int] = []
        problems: dict[int, tuple[str, str, bool]] = {}
        while True:
            item = lines.next()
            if item is None:
                break
            lineno, text, decode_problem = item
            if not text.strip():
                self.blank_lines += 1
                continue
            linenos.append(lineno)
            try:
                obj = loads(text)
            except ValueError as exc:
                problems[len(rows)] = ("malformed_line", f"line {lineno}: invalid JSON ({exc}): {_excerpt(text)}", False)
                rows.append([None] * n)
            else:
                if not isinstance(obj, dict):
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
        self.fh.close()


class _ParquetReader:
    def __init__(self, path: Path, chunk_size: int) -> None:
        pq = pyarrow_parquet("reading Parquet")
        if not path.exists():
            raise InputFileError(f"input: file not found: {str(path)!r}")
        try:
            self.file = pq.ParquetFile(path)
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

