"""Writers of scored files (CSV / TSV, JSON Lines, Parquet), atomic on success.

The output has every input row, in input order, with the input columns and
:data:`dualuse.batch.OUTPUT_COLUMNS`. Where the bytes go (a temporary file renamed over the
output on success only, or a stream) is :mod:`dualuse.files.output`'s business.

Every writer produces files that other readers read back with the same number of rows:

* CSV / TSV: a field holding ``\\r`` or ``\\n`` is always quoted (Python's :mod:`csv` leaves a
  bare ``\\r`` unquoted when the line terminator is ``\\n``); cells that a spreadsheet would run
  as a formula (first character ``=``, ``+``, ``-``, ``@``, tab or carriage return, unless
  the cell is a plain number) get a leading ``'`` unless ``formula_guard=False``; characters
  that cannot be encoded as UTF-8 (lone surrogates) are written as U+FFFD.
* JSON Lines: valid JSON on every line: non-finite numbers become ``null``, lone surrogates
  and the separators U+2028, U+2029 and NEL are written as ``\\u`` escapes (so that readers
  that split lines on them see one line per record), binary values as UTF-8 text.
* Parquet: the input schema is kept; lone surrogates in text become U+FFFD.

With ``explain`` the columns ``review_reasons``, ``references`` and ``evidence`` follow
(:data:`dualuse.explain.EXPLAIN_COLUMNS`). CSV / TSV: the lists ``|``-separated like
``matched_terms`` (reasons and control-list entries never contain ``|``), the evidence as
compact JSON text. JSON Lines: JSON arrays, the evidence as nested JSON. Parquet:
``list<string>`` for the two lists and a ``string`` column holding the evidence as JSON (its
items have different fields per ``kind``, which a Parquet struct cannot hold without a union
of every field). A row that was not screened has empty cells / ``null``.

With ``decisions`` (the engine applies reviewed decisions) ``decided`` (written like
``needs_review``) and ``screened_category`` follow last (:data:`dualuse.decisions.DECISION_COLUMNS`).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

from ..batch import OUTPUT_COLUMNS, output_columns
from ..errors import OutputWriteError
from ..explain import evidence_json
from .output import Destination
from .readers import Chunk, pyarrow_parquet

__all__ = ["Writer", "open_writer", "FORMULA_TRIGGERS"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_JSON_ESCAPE = re.compile("[\ud800-\udfff\u2028\u2029\x85]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _replace_surrogates(exc: UnicodeError) -> tuple[bytes, int]:
    """Encoding error handler: U+FFFD for each character UTF-8 cannot hold (lone surrogates).

    The UTF-8 encoder takes only ASCII text from a handler, so the replacement is given as bytes.
    """
    if isinstance(exc, UnicodeEncodeError):
        return "\ufffd".encode("utf-8") * (exc.end - exc.start), exc.end
    raise exc


codecs.register_error("dualuse.replace_surrogates", _replace_surrogates)


class Writer:
    """Writes one format into a :class:`~dualuse.files.output.Destination`."""

    def __init__(self, output: Path, columns: list[str], explain: bool = False, decisions: bool = False) -> None:
        self.output = output
        self.columns = columns
        self.explain = explain
        self.decisions = decisions
        self.out_columns = output_columns(explain, decisions)
        self.dest = Destination(output)
        self.rows = 0

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except BrokenPipeError:
            raise  # the reader of a pipe went away: the command line ends quietly
        except OSError as exc:
            raise OutputWriteError(f"output: cannot write {str(self.output)!r}: {exc.strerror or exc}") from None

    def write(self, chunk: Chunk, out: dict[str, Any]) -> None:
        self._guard(self._write, chunk, out)
        self.rows += chunk.n

    def commit(self) -> None:
        self._guard(self._close)
        self._guard(self.dest.commit)

    def abort(self) -> None:
        try:
            self._close()
        except Exception:
            pass
        self.dest.abort()

    def _write(self, chunk: Chunk, out: dict[str, Any]) -> None:  # pragma: no cover - abstract
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
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, (dict, list)):
        try:
            return json.dumps(_finite(v), ensure_ascii=False, default=_json_default)
        except RecursionError:
            return "[nested too deeply to write]"
    return str(v)


def guard_formula(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would run it as a formula (plain numbers pass)."""
    if cell[:1] in FORMULA_TRIGGERS and not _NUMBER.match(cell):
        return "'" + cell
    return cell


def _joined(values: list[Any]) -> list[str]:
    """A list column as CSV cells: ``|``-separated, '' for a row that was not screened."""
    return ["" if v is None else "|".join(v) for v in values]


class _TextWriter(Writer):
    """A writer of UTF-8 text over the destination's binary file."""

    def __init__(self, output: Path, columns: list[str], explain: bool = False, decisions: bool = False) -> None:
        super().__init__(output, columns, explain, decisions)
        self.fh = io.TextIOWrapper(
            self.dest.fh, encoding="utf-8", errors="dualuse.replace_surrogates", newline="", write_through=False
        )
        self._detached = False

    def _close(self) -> None:
        if not self._detached:
            self._detached = True
            self.fh.flush()
            self.fh.detach()  # the destination closes (or, for stdout, keeps) the binary file


class _DelimitedWriter(_TextWriter):
    def __init__(
        self, output: Path, columns: list[str], delimiter: str, formula_guard: bool, explain: bool, decisions: bool = False
    ) -> None:
        super().__init__(output, columns, explain, decisions)
        self.formula_guard = formula_guard
        self.writer = csv.writer(self.fh, delimiter=delimiter, lineterminator="\n")
        # rows with a bare \r go through a writer that quotes every field (see the module docstring)
        self.quoting_writer = csv.writer(self.fh, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self._guard(self.writer.writerow, self._cells(columns + list(self.out_columns)))

    def _cells(self, row: list[str]) -> list[str]:
        return [guard_formula(c) for c in row] if self.formula_guard else row

    def _write(self, chunk: Chunk, out: dict[str, Any]) -> None:
        if chunk.all_text and chunk.rows is not None:
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
        if self.explain:
            cols.append(_joined(out["review_reasons"]))
            cols.append(_joined(out["references"]))
            cols.append(["" if v is None else evidence_json(v) for v in out["evidence"]])
        if self.decisions:
            cols.append(["" if v is None else ("true" if v else "false") for v in out["decided"]])
            cols.append(["" if v is None else v for v in out["screened_category"]])
        lines = [r + list(o) for r, o in zip(rows, zip(*cols))]
        # One scan of the whole chunk decides whether any cell needs a closer look.
        blob = "\x00" + "\x00".join(itertools.chain.from_iterable(lines))
        has_cr = "\r" in blob
        has_trigger = self.formula_guard and any("\x00" + t in blob for t in FORMULA_TRIGGERS)
        if not has_cr and not has_trigger:
            self.writer.writerows(lines)
            return
        for line in lines:
            if has_trigger:
                line = self._cells(line)
            if has_cr and any("\r" in c for c in line):
                self.quoting_writer.writerow(line)
            else:
                self.writer.writerow(line)


def _json_default(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def _finite(v: Any) -> Any:
    """``v`` with every non-finite float (NaN, ±Infinity) replaced by None, at any depth."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _json_line(obj: dict[str, Any]) -> str:
    """One JSON Lines record: valid JSON whatever the values hold."""
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_json_default)
    except ValueError:  # NaN / Infinity somewhere inside
        pass
    except RecursionError:
        obj = {k: (None if isinstance(v, (dict, list)) else v) for k, v in obj.items()}
    try:
        return json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, default=_json_default)
    except RecursionError:
        obj = {k: (None if isinstance(v, (dict, list)) else v) for k, v in obj.items()}
        return json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, default=_json_default)


class _JsonLinesWriter(_TextWriter):
    def __init__(self, output: Path, columns: list[str], explain: bool = False, decisions: bool = False) -> None:
        super().__init__(output, columns, explain, decisions)
        self.keys = columns + list(self.out_columns)

    def _write(self, chunk: Chunk, out: dict[str, Any]) -> None:
        keys = self.keys
        conf = [None if c != c else c for c in out["confidence"].tolist()]
        outs = zip(*(conf if name == "confidence" else out[name] for name in self.out_columns))
        lines = []
        for r, o in zip(chunk.row_lists(), outs):
            r = [None if (isinstance(v, float) and v != v) else v for v in r]
            lines.append(_json_line(dict(zip(keys, r + list(o)))))
        text = "\n".join(lines) + "\n"
        if _JSON_ESCAPE.search(text):  # such characters only occur inside JSON strings: escape them there
            text = _JSON_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        self.fh.write(text)


def _clean_text(values: list[Any]) -> list[Any]:
    return [_SURROGATES.sub("\ufffd", v) if isinstance(v, str) else v for v in values]


class _ParquetWriter(Writer):
    def __init__(
        self, output: Path, columns: list[str], input_schema: Any, explain: bool = False, decisions: bool = False
    ) -> None:
        pq = pyarrow_parquet("writing Parquet")
        import pyarrow as pa

        super().__init__(output, columns, explain, decisions)
        self.pa = pa
        fields = list(input_schema) if input_schema is not None else [pa.field(c, pa.string()) for c in columns]
        for name in self.out_columns:
            if name in ("review_reasons", "references"):
                typ = pa.list_(pa.string())
            else:
                typ = pa.float64() if name == "confidence" else pa.bool_() if name in ("needs_review", "decided") else pa.string()
            fields.append(pa.field(name, typ))
        self.schema = pa.schema(fields)
        self.typed_input = input_schema is not None
        self.writer = self._guard(pq.ParquetWriter, self.dest.fh, self.schema)

    def _strings(self, values: list[Any]) -> Any:
        pa = self.pa
        try:
            return pa.array(values, type=pa.string())
        except (UnicodeError, pa.ArrowException):  # lone surrogates cannot be stored as UTF-8
            return pa.array(_clean_text(values), type=pa.string())

    def _write(self, chunk: Chunk, out: dict[str, Any]) -> None:
        pa = self.pa
        arrays = []
        if chunk.batch is not None:
            arrays.extend(chunk.batch.columns)
        else:
            for i in range(len(self.columns)):
                arrays.append(self._strings([v if v is None or isinstance(v, str) else _text_value(v) for v in chunk.column(i)]))
        for name in OUTPUT_COLUMNS:
            if name == "confidence":
                arrays.append(pa.array(out[name], type=pa.float64(), from_pandas=True))
            elif name == "needs_review":
                arrays.append(pa.array(out[name], type=pa.bool_()))
            else:
                arrays.append(self._strings(out[name]))
        if self.explain:
            for name in ("review_reasons", "references"):
                arrays.append(pa.array(out[name], type=pa.list_(pa.string())))
            arrays.append(self._strings([evidence_json(v) for v in out["evidence"]]))
        if self.decisions:
            arrays.append(pa.array(out["decided"], type=pa.bool_()))
            arrays.append(self._strings(out["screened_category"]))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def _close(self) -> None:
        if self.writer is not None:
            w, self.writer = self.writer, None
            w.close()


def open_writer(
    path: Path,
    fmt: str,
    columns: list[str],
    schema: Any,
    *,
    formula_guard: bool = True,
    explain: bool = False,
    decisions: bool = False,
) -> Writer:
    """A writer of ``fmt`` into ``path`` (``-`` for standard output); ``explain`` adds the explain
    columns, ``decisions`` the columns of reviewed decisions."""
    if fmt == "csv":
        return _DelimitedWriter(path, columns, ",", formula_guard, explain, decisions)
    if fmt == "tsv":
        return _DelimitedWriter(path, columns, "\t", formula_guard, explain, decisions)
    if fmt == "jsonl":
        return _JsonLinesWriter(path, columns, explain, decisions)
    if fmt == "parquet":
        return _ParquetWriter(path, columns, schema, explain, decisions)
    raise OutputWriteError(f"output: unknown format {fmt!r}")  # pragma: no cover - checked by format_of
