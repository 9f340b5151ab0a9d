"""Readers of JSON Lines (one object per line, read line by line) and Parquet (by record batch)."""

from __future__ import annotations

import collections
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputFileError
from .inputs import STDIO, Chunk, close_input, excerpt, open_binary, pyarrow_parquet, size_of
from .lines import LineItem, Lines

__all__ = ["JsonLinesReader", "ParquetReader"]


class JsonLinesReader:
    """JSON Lines records; the columns are the keys of the first object."""

    #: The first object must be among this many lines (they are held until it is found).
    FIRST_OBJECT_WITHIN = 1000

    def __init__(self, path: Path, chunk_size: int) -> None:
        self.path = path
        self.chunk_size = chunk_size
        self.fh = open_binary(path)
        self.total = size_of(self.fh)
        self.total_unit = "bytes"
        self.lines = Lines(self.fh)
        self.blank_lines = 0
        self.dropped_keys = 0
        self.arrow_schema = None
        try:
            self.columns: list[str] = self._first_columns()
        except BaseException:
            close_input(self.fh)
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
                problems[len(rows)] = ("malformed_line", f"line {lineno}: {why}: {excerpt(text)}", False)
                rows.append([None] * n)
            elif not isinstance(obj, dict):
                problems[len(rows)] = (
                    "malformed_line",
                    f"line {lineno}: expected a JSON object, got {type(obj).__name__}: {excerpt(text)}",
                    False,
                )
                rows.append([None] * n)
            else:
                if (len(obj) != n or obj.keys() != colset) and not obj.keys() <= colset:
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
        close_input(self.fh)


def _load_json(text: str) -> tuple[Any, str]:
    """``(value, '')``, or ``(None, why)`` for invalid or too deeply nested JSON."""
    try:
        return json.loads(text), ""
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"
    except RecursionError:
        return None, "invalid JSON (nested too deeply to read)"


class ParquetReader:
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
        dupes = sorted(c for c, k in collections.Counter(self.columns).items() if k > 1)  # linear: headers can have 10^6 names
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
