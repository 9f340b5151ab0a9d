"""What every reader shares: the rows of a chunk, opening the input, short excerpts of lines."""

from __future__ import annotations

import io
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import InputFileError, OptionError

__all__ = ["STDIO", "Chunk", "open_binary", "size_of", "close_input", "excerpt", "pyarrow_parquet"]

#: The path that means standard input (for reading) or standard output (for writing).
STDIO = "-"


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


def open_binary(path: Path) -> BinaryIO:
    if str(path) == STDIO:
        return sys.stdin.buffer
    try:
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputFileError(f"input: file not found: {str(path)!r}") from None
    except IsADirectoryError:
        raise InputFileError(f"input: expected a file, got a directory: {str(path)!r}") from None
    except OSError as exc:
        raise InputFileError(f"input: cannot open {str(path)!r}: {exc.strerror or exc}") from None


def size_of(fh: BinaryIO) -> int:
    """The size of a regular file (0, i.e. unknown, for pipes and terminals)."""
    try:
        st = os.fstat(fh.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) else 0


def close_input(fh: BinaryIO) -> None:
    if fh is not sys.stdin.buffer:
        fh.close()


def excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def pyarrow_parquet(what: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a test dependency
        raise OptionError(f"{what} needs pyarrow: pip install 'dualuse[parquet]'") from None
    return pq


# ---------------------------------------------------------------------------- writers
