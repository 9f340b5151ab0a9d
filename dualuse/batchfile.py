"""Scoring trade-record files: :func:`score_file` and the ``dualuse score`` command.

Files are streamed in chunks of ``chunk_size`` rows, so memory stays bounded whatever the
file size; each chunk is one :meth:`Engine.score <dualuse.engine.Engine.score>` call.

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

The output (same formats) has every input row, in input order, with the input columns and
:data:`dualuse.batch.OUTPUT_COLUMNS`. It is written to a temporary file in the output's
directory and renamed over the output on success only; on any failure the temporary file is
removed, so a crash never leaves a complete-looking partial file.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import itertools
import json
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .batch import OUTPUT_COLUMNS, check_chunk_size, score_columns
from .engine import STATUSES, Engine
from .errors import ColumnNotFoundError, InputFileError, InputTypeError, OptionError, OutputWriteError, describe
from .progress import PROGRESS_MODES, Progress

__all__ = [
    "score_file",
    "auto_jobs",
    "MAX_AUTO_JOBS",
    "run_score_command",
    "ScoreSummary",
    "FILE_STATUSES",
    "ALL_STATUSES",
    "FORMATS",
    "InputFileError",
    "OutputWriteError",
]

log = logging.getLogger(__name__)

#: Statuses only files can produce (on top of :data:`dualuse.engine.STATUSES`).
FILE_STATUSES = ("malformed_line", "undecodable_text")
ALL_STATUSES = STATUSES + FILE_STATUSES
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
#: At most this many row problems are kept (with line numbers) in the summary.
MAX_LISTED_PROBLEMS = 20
_MIN_FIELD_SIZE_LIMIT = 1 << 28  # quoted fields up to 256 MiB (the csv default is 128 KiB)


# ---------------------------------------------------------------------------- summary


@dataclass
class ScoreSummary:
    """What a :func:`score_file` run did."""

    input: str
    output: str
    input_format: str
    output_format: str
    rows: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    needs_review: int = 0
    blank_lines: int = 0
    dropped_keys: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    @property
    def problem_rows(self) -> int:
        """Rows whose status is not ``ok``."""
        return sum(n for s, n in self.statuses.items() if s != "ok")

    @property
    def flagged(self) -> int:
        """Rows in one of the three families."""
        return sum(n for c, n in self.categories.items() if c != "none")

    def format(self) -> str:
        lines = [
            f"scored {self.rows:,} rows from {self.input} ({self.input_format}) into {self.output} ({self.output_format})"
            f" in {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)",
            f"flagged: {self.flagged:,} rows"
            + (" (" + ", ".join(f"{c} {n:,}" for c, n in sorted(self.categories.items()) if c != "none") + ")" if self.flagged else "")
            + f"; not flagged (none): {self.categories.get('none', 0):,}; needs review: {self.needs_review:,}",
            "status: " + ", ".join(f"{s} {self.statuses[s]:,}" for s in ALL_STATUSES if self.statuses.get(s)),
        ]
        if self.blank_lines:
            lines.append(f"blank lines (not records): {self.blank_lines:,}")
        if self.dropped_keys:
            lines.append(f"rows with keys absent from the first JSON object (those keys dropped): {self.dropped_keys:,}")
        if self.problems:
            more = self.problem_rows - len(self.problems)
            lines.append("problems:" + ("" if more <= 0 else f" (first {len(self.problems)} of {self.problem_rows:,})"))
            lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input, "output": self.output, "input_format": self.input_format,
            "output_format": self.output_format, "rows": self.rows, "seconds": self.seconds,
            "statuses": dict(self.statuses), "categories": dict(self.categories),
            "needs_review": self.needs_review, "blank_lines": self.blank_lines,
            "dropped_keys": self.dropped_keys, "problems": list(self.problems),
        }


# ---------------------------------------------------------------------------- chunks


@dataclass
class _Chunk:
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

    def __iter__(self) -> Iterator[_Chunk]:
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
                yield _Chunk(rows, None, len(rows), problems, lines.bytes, True, linenos)
                rows, problems, linenos = [], {}, []
        if rows:
            yield _Chunk(rows, None, len(rows), problems, lines.bytes, True, linenos)

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

    def __iter__(self) -> Iterator[_Chunk]:
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
                yield _Chunk(rows, None, len(rows), problems, lines.bytes, False, linenos)
                rows, problems, linenos = [], {}, []
        if rows:
            yield _Chunk(rows, None, len(rows), problems, lines.bytes, False, linenos)

    def close(self) -> None:
        self.fh.close()


class _ParquetReader:
    def __init__(self, path: Path, chunk_size: int) -> None:
        pq = _pyarrow_parquet("reading Parquet")
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

    def __iter__(self) -> Iterator[_Chunk]:
        done = 0
        for batch in self.file.iter_batches(batch_size=self.chunk_size, use_pandas_metadata=False):
            done += batch.num_rows
            if batch.num_rows:
                yield _Chunk(None, batch, batch.num_rows, {}, done)

    def close(self) -> None:
        self.file.close()


def _pyarrow_parquet(what: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a test dependency
        raise OptionError(f"{what} needs pyarrow: pip install 'dualuse[parquet]'") from None
    return pq


# ---------------------------------------------------------------------------- writers


def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


class _Writer:
    """Writes to a temporary file next to the output; :meth:`commit` renames it into place."""

    def __init__(self, output: Path, columns: list[str]) -> None:
        self.output = output
        self.columns = columns
        directory = output.parent
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".part")
        except OSError as exc:
            raise OutputWriteError(
                f"output: cannot write in {str(directory) or '.'!r}: {exc.strerror or exc}"
            ) from None
        self.tmp = Path(tmp)
        self.fd = fd
        self.rows = 0

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except OSError as exc:
            raise OutputWriteError(f"output: cannot write {str(self.output)!r}: {exc.strerror or exc}") from None

    def write(self, chunk: _Chunk, out: dict[str, list[Any]]) -> None:
        self._guard(self._write, chunk, out)
        self.rows += chunk.n

    def commit(self) -> None:
        self._guard(self._close)
        self._guard(os.chmod, self.tmp, 0o666 & ~_umask())
        self._guard(os.replace, self.tmp, self.output)

    def abort(self) -> None:
        try:
            self._close()
        except Exception:  # noqa: BLE001 - best effort: the temp file goes away below anyway
            pass
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass

    def _write(self, chunk: _Chunk, out: dict[str, list[Any]]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _text_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


class _DelimitedWriter(_Writer):
    def __init__(self, output: Path, columns: list[str], delimiter: str) -> None:
        super().__init__(output, columns)
        self.fh = self._guard(open, self.fd, "w", -1, "utf-8", None, "")
        self.writer = csv.writer(self.fh, delimiter=delimiter, lineterminator="\n")
        self._guard(self.writer.writerow, columns + list(OUTPUT_COLUMNS))

    def _write(self, chunk: _Chunk, out: dict[str, list[Any]]) -> None:
        if chunk.all_text:
            rows = chunk.rows
        else:  # JSON values (numbers, nulls, objects) and Parquet values as text
            rows = [[_text_value(v) for v in r] for r in chunk.row_lists()]
        cols = [
            ["" if v is None else v for v in out[name]] if name not in ("confidence", "needs_review") else None
            for name in OUTPUT_COLUMNS
        ]
        cols[OUTPUT_COLUMNS.index("confidence")] = ["" if c != c else repr(c) for c in out["confidence"].tolist()]
        cols[OUTPUT_COLUMNS.index("needs_review")] = [
            "" if v is None else ("true" if v else "false") for v in out["needs_review"]
        ]
        self.writer.writerows(r + list(o) for r, o in zip(rows, zip(*cols)))

    def _close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


class _JsonLinesWriter(_Writer):
    def __init__(self, output: Path, columns: list[str]) -> None:
        super().__init__(output, columns)
        self.fh = self._guard(open, self.fd, "w", -1, "utf-8", None, "\n")
        self.keys = columns + list(OUTPUT_COLUMNS)

    def _write(self, chunk: _Chunk, out: dict[str, list[Any]]) -> None:
        dumps = json.dumps
        keys = self.keys
        conf = [None if c != c else c for c in out["confidence"].tolist()]
        outs = zip(*(conf if name == "confidence" else out[name] for name in OUTPUT_COLUMNS))
        lines = []
        for r, o in zip(chunk.row_lists(), outs):
            r = [None if (isinstance(v, float) and v != v) else v for v in r]
            lines.append(dumps(dict(zip(keys, r + list(o))), ensure_ascii=False, default=str))
        self.fh.write("\n".join(lines) + "\n")

    def _close(self) -> None:
        if not self.fh.closed:
            self.fh.close()


class _ParquetWriter(_Writer):
    def __init__(self, output: Path, columns: list[str], input_schema: Any) -> None:
        pq = _pyarrow_parquet("writing Parquet")
        import pyarrow as pa

        super().__init__(output, columns)
        self.pa = pa
        os.close(self.fd)
        fields = list(input_schema) if input_schema is not None else [pa.field(c, pa.string()) for c in columns]
        for name in OUTPUT_COLUMNS:
            typ = pa.float64() if name == "confidence" else pa.bool_() if name == "needs_review" else pa.string()
            fields.append(pa.field(name, typ))
        self.schema = pa.schema(fields)
        self.typed_input = input_schema is not None
        self.writer = self._guard(pq.ParquetWriter, str(self.tmp), self.schema)

    def _write(self, chunk: _Chunk, out: dict[str, list[Any]]) -> None:
        pa = self.pa
        arrays = []
        if chunk.batch is not None:
            arrays.extend(chunk.batch.columns)
        else:
            for i in range(len(self.columns)):
                col = [v if v is None or isinstance(v, str) else _text_value(v) for v in chunk.column(i)]
                arrays.append(pa.array(col, type=pa.string()))
        for name in OUTPUT_COLUMNS:
            if name == "confidence":
                arrays.append(pa.array(out[name], type=pa.float64(), from_pandas=True))
            elif name == "needs_review":
                arrays.append(pa.array(out[name], type=pa.bool_()))
            else:
                arrays.append(pa.array(out[name], type=pa.string()))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def _close(self) -> None:
        if self.writer is not None:
            w, self.writer = self.writer, None
            w.close()


# ---------------------------------------------------------------------------- scoring


def _format_of(path: Path, given: str | None, param: str) -> str:
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


def _open_reader(path: Path, fmt: str, chunk_size: int):
    if fmt == "csv":
        return _DelimitedReader(path, ",", chunk_size)
    if fmt == "tsv":
        return _DelimitedReader(path, "\t", chunk_size)
    if fmt == "jsonl":
        return _JsonLinesReader(path, chunk_size)
    return _ParquetReader(path, chunk_size)


def _open_writer(path: Path, fmt: str, columns: list[str], schema: Any) -> _Writer:
    if fmt == "csv":
        return _DelimitedWriter(path, columns, ",")
    if fmt == "tsv":
        return _DelimitedWriter(path, columns, "\t")
    if fmt == "jsonl":
        return _JsonLinesWriter(path, columns)
    return _ParquetWriter(path, columns, schema)


_WORKER_ENGINE: Engine | None = None


def _init_worker(engine: Engine | None) -> None:
    """Process-pool initializer: the engine is built (or received) once per worker."""
    global _WORKER_ENGINE
    if engine is None:
        from .api import default_engine

        engine = default_engine()
    _WORKER_ENGINE = engine


def _score_in_worker(texts: list[Any], codes: list[Any] | None) -> dict[str, Any]:
    assert _WORKER_ENGINE is not None
    return score_columns(_WORKER_ENGINE, texts, codes)


def _apply_problems(chunk: _Chunk, out: dict[str, Any]) -> None:
    """File-level problems take over the row's status; the engine's own error is appended.

    Rows whose fields could not be recovered were sent to the engine as missing texts, so they
    carry no category; recovered rows (bad quoting split literally, bytes replaced) do.
    """
    status, error = out["status"], out["error"]
    for i, (st, msg, recovered) in chunk.problems.items():
        if recovered and error[i]:
            msg = f"{msg}; {error[i]}"
        status[i], error[i] = st, msg


#: ``jobs="auto"`` never starts more workers than this: each holds its own copy of the
#: model's scoring caches (~300 MiB resident per worker with the embedded model)
MAX_AUTO_JOBS = 8


def auto_jobs() -> int:
    """Worker processes for ``jobs="auto"``: the CPUs this process may run on, at most :data:`MAX_AUTO_JOBS`."""
    try:
        usable = len(os.sched_getaffinity(0))  # honours taskset / container CPU sets
    except AttributeError:  # pragma: no cover - macOS, Windows
        usable = os.cpu_count() or 1
    return max(1, min(MAX_AUTO_JOBS, usable))


def score_file(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    text_column: str,
    hs_column: str | None = None,
    chunk_size: int = 20_000,
    input_format: str | None = None,
    output_format: str | None = None,
    progress: str = "auto",
    jobs: int | str = 1,
    engine: Engine | None = None,
) -> ScoreSummary:
    """Score a CSV / TSV / Parquet / JSON Lines file of trade records into another such file.

    The formats come from the extensions unless given. ``progress`` is ``"auto"`` (a progress
    line on stderr when it is a terminal), ``"always"`` or ``"never"``; ``jobs > 1`` scores
    chunks in that many worker processes (each builds or receives the engine once);
    ``jobs="auto"`` uses :func:`auto_jobs` (the CLI's default).

    Raises before any scoring: :class:`~dualuse.errors.OptionError` (bad option or format),
    :class:`InputFileError` (unreadable input or header), :class:`~dualuse.errors.ColumnNotFoundError`
    (listing the available columns), :class:`OutputWriteError` (output directory not
    writable; also raised if writing fails later, after removing the temporary file).
    Bad rows never raise: see the statuses in the returned :class:`ScoreSummary`.
    """
    in_path, out_path = Path(input), Path(output)
    chunk_size = check_chunk_size(chunk_size)
    if jobs == "auto":
        jobs = auto_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise OptionError(f"jobs: expected an int >= 1 (worker processes) or 'auto', got {describe(jobs)}")
    if progress not in PROGRESS_MODES:
        raise OptionError(f"progress: expected one of {', '.join(PROGRESS_MODES)}, got {describe(progress)}")
    if not isinstance(text_column, str):
        raise InputTypeError(f"text_column: expected a column name (str), got {describe(text_column)}")
    if hs_column is not None and not isinstance(hs_column, str):
        raise InputTypeError(f"hs_column: expected a column name (str) or None, got {describe(hs_column)}")
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine: expected a dualuse.Engine or None, got {describe(engine)}")
    in_fmt = _format_of(in_path, input_format, "input_format")
    out_fmt = _format_of(out_path, output_format, "output_format")
    if out_fmt == "parquet":
        _pyarrow_parquet("writing Parquet")
    try:
        same = out_path.exists() and in_path.exists() and os.path.samefile(in_path, out_path)
    except OSError:
        same = False
    if same:
        raise OptionError(f"output: {str(out_path)!r} is the input file; choose another output path")

    if out_path.is_dir():
        raise OutputWriteError(f"output: {str(out_path)!r} is a directory; give a file name")
    reader = _open_reader(in_path, in_fmt, chunk_size)
    writer: _Writer | None = None
    pool = None
    try:
        columns = reader.columns
        for param, col in (("text_column", text_column), ("hs_column", hs_column)):
            if col is not None and col not in columns:
                available = ", ".join(map(repr, columns[:50])) + (" ..." if len(columns) > 50 else "")
                raise ColumnNotFoundError(f"{param}: column {col!r} not found in {str(in_path)!r}; available columns: {available}")
        clash = [c for c in OUTPUT_COLUMNS if c in columns]
        if clash:
            raise OptionError(
                f"input: already has output column(s) {', '.join(map(repr, clash))}; rename them before scoring"
            )
        ti = columns.index(text_column)
        hi = None if hs_column is None else columns.index(hs_column)

        from .api import _DEFAULT_ENGINE, default_engine

        eng = engine if engine is not None else default_engine()
        writer = _open_writer(out_path, out_fmt, list(columns), reader.arrow_schema)
        summary = ScoreSummary(str(in_path), str(out_path), in_fmt, out_fmt)
        statuses: collections.Counter[str] = collections.Counter()
        categories: collections.Counter[str] = collections.Counter()
        problems: list[str] = []
        review = 0
        bar = Progress(progress, total=reader.total, total_unit=reader.total_unit, label="dualuse score:")
        start = time.perf_counter()

        def finish(chunk: _Chunk, out: dict[str, Any]) -> None:
            nonlocal review
            _apply_problems(chunk, out)
            writer.write(chunk, out)
            statuses.update(out["status"])
            categories.update(c for c in out["category"] if c is not None)
            review += sum(1 for v in out["needs_review"] if v)
            if len(problems) < MAX_LISTED_PROBLEMS:
                for i, (st, err) in enumerate(zip(out["status"], out["error"])):
                    if st != "ok":  # file problems carry their line number; others get the record number
                        if st in FILE_STATUSES:
                            where = ""  # the message names the line
                        elif chunk.linenos is not None:
                            where = f"line {chunk.linenos[i]}: "
                        else:
                            where = f"row {summary.rows + i + 1}: "
                        problems.append(f"{where}{st}: {err}")
                        if len(problems) >= MAX_LISTED_PROBLEMS:
                            break
            summary.rows += chunk.n
            bar.update(chunk.n, chunk.position)

        if jobs == 1:
            for chunk in reader:
                texts = chunk.column(ti)
                codes = None if hi is None else chunk.column(hi)
                finish(chunk, score_columns(eng, texts, codes))
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            methods = multiprocessing.get_all_start_methods()
            # fork shares the loaded engine with the workers for free; from Python 3.12 on,
            # forking a threaded process is deprecated, so use forkserver there.
            if "fork" in methods and sys.version_info < (3, 12):
                method = "fork"
            else:
                method = "forkserver" if "forkserver" in methods else "spawn"
            ctx = multiprocessing.get_context(method)
            # Each worker gets the engine once (inherited after fork; otherwise the default
            # engine is rebuilt in the worker and a custom one is pickled once), never per chunk.
            init_engine = None if (method != "fork" and eng is _DEFAULT_ENGINE) else eng
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(init_engine,))
            inflight: collections.deque = collections.deque()
            for chunk in reader:
                texts = chunk.column(ti)
                codes = None if hi is None else chunk.column(hi)
                inflight.append((chunk, pool.submit(_score_in_worker, texts, codes)))
                while len(inflight) > 2 * jobs:
                    c, fut = inflight.popleft()
                    finish(c, fut.result())
            while inflight:
                c, fut = inflight.popleft()
                finish(c, fut.result())
        writer.commit()
        bar.close()
        summary.seconds = time.perf_counter() - start
        summary.statuses = {s: statuses[s] for s in ALL_STATUSES if statuses.get(s)}
        summary.categories = dict(sorted(categories.items()))
        summary.needs_review = review
        summary.blank_lines = reader.blank_lines
        summary.dropped_keys = reader.dropped_keys
        summary.problems = problems
        if summary.dropped_keys:
            log.warning("%d JSON rows had keys absent from the first object; those keys were dropped", summary.dropped_keys)
        return summary
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        reader.close()


def run_score_command(args: argparse.Namespace, engine: Engine) -> int:
    """The ``dualuse score`` subcommand: score a file, print the summary, return an exit code."""
    from .cli import EXIT_OK, EXIT_OUTPUT, EXIT_ROW_PROBLEMS, EXIT_USAGE

    try:
        summary = score_file(
            args.input,
            args.output,
            text_column=args.text_column,
            hs_column=args.hs_column,
            chunk_size=args.chunk_size,
            input_format=args.format,
            output_format=args.output_format,
            progress=args.progress,
            jobs=args.jobs,
            engine=engine,
        )
    except OutputWriteError as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except (InputFileError, ColumnNotFoundError, OptionError, InputTypeError) as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.format())
    return EXIT_ROW_PROBLEMS if summary.problem_rows else EXIT_OK
