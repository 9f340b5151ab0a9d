"""Writers of scored files (CSV / TSV, JSON Lines, Parquet), atomic on success.

The output has every input row, in input order, with the input columns and
:data:`dualuse.batch.OUTPUT_COLUMNS`. It is written to a temporary file in the output's
directory and renamed over the output on success only; on any failure the temporary file is
removed, so a crash never leaves a complete-looking partial file.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from ..batch import OUTPUT_COLUMNS
from ..errors import OutputWriteError
from .readers import Chunk, pyarrow_parquet

__all__ = ["Writer", "open_writer"]

def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


class Writer:
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

    def write(self, chunk: Chunk, out: dict[str, list[Any]]) -> None:
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

    def _write(self, chunk: Chunk, out: dict[str, list[Any]]) -> None:  # pragma: no cover - abstract
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


class _DelimitedWriter(Writer):
    def __init__(self, output: Path, columns: list[str], delimiter: str) -> None:
        super().__init__(output, columns)
        self.fh = self._guard(open, self.fd, "w", -1, "utf-8", None, "")
        self.writer = csv.writer(self.fh, delimiter=delimiter, lineterminator="\n")
        self._guard(self.writer.writerow, columns + list(OUTPUT_COLUMNS))

    def _write(self, chunk: Chunk, out: dict[str, list[Any]]) -> None:
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


class _JsonLinesWriter(Writer):
    def __init__(self, output: Path, columns: list[str]) -> None:
        super().__init__(output, columns)
        self.fh = self._guard(open, self.fd, "w", -1, "utf-8", None, "\n")
        self.keys = columns + list(OUTPUT_COLUMNS)

    def _write(self, chunk: Chunk, out: dict[str, list[Any]]) -> None:
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


class _ParquetWriter(Writer):
    def __init__(self, output: Path, columns: list[str], input_schema: Any) -> None:
        pq = pyarrow_parquet("writing Parquet")
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

    def _write(self, chunk: Chunk, out: dict[str, list[Any]]) -> None:
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


def open_writer(path: Path, fmt: str, columns: list[str], schema: Any) -> Writer:
    if fmt == "csv":
        return _DelimitedWriter(path, columns, ",")
    if fmt == "tsv":
        return _DelimitedWriter(path, columns, "\t")
    if fmt == "jsonl":
        return _JsonLinesWriter(path, columns)
    return _ParquetWriter(path, columns, schema)
