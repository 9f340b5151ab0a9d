""":func:`report`: a scored file in, one self-contained HTML review page out."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..errors import InputTypeError, OptionError, OutputWriteError, describe
from ..files.output import Destination
from ..files.readers import STDIO, format_of
from .collect import collect
from .page import esc, page_html, row_html

__all__ = ["report", "ReportSummary", "DEFAULT_MAX_ROWS", "DEFAULT_PAGE_SIZE"]

#: Rows needing review held in the page's table; past this the page says how many it left out.
DEFAULT_MAX_ROWS = 10_000
#: Rows per page of the table when the page opens (the reader can choose another size).
DEFAULT_PAGE_SIZE = 200


@dataclass(frozen=True)
class ReportSummary:
    """What :func:`report` wrote."""

    output: str
    rows: int  #: rows of the scored file
    review_rows: int  #: rows needing review (needs_review true, or status not ok)
    table_rows: int  #: rows in the page's table (at most ``max_rows``)
    explained: bool  #: whether the scored file had the ``--explain`` columns
    text_column: str

    def format(self) -> str:
        capped = "" if self.table_rows == self.review_rows else f" (table capped at the first {self.table_rows:,})"
        note = "" if self.explained else "; scored without --explain: no spans, reasons or references"
        return f"wrote {self.output}: {self.rows:,} rows, {self.review_rows:,} need review{capped}{note}"


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(f"{name}: expected an int >= 1, got {describe(value)}")
    return value


def report(
    scored: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    id_column: str | None = None,
    input_format: str | None = None,
    title: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    page_size: int = DEFAULT_PAGE_SIZE,
    chunk_size: int = 20_000,
) -> ReportSummary:
    """Write a review report of a ``dualuse score`` output as one self-contained HTML file.

    ``scored`` is a CSV, TSV, JSON Lines or Parquet file written by ``dualuse score`` (best
    with ``--explain``: then matched spans are highlighted and the reasons and references
    shown), read once, chunk by chunk. The page holds a summary (rows, flagged rows per family
    and risk level, statuses, CHPL tiers), inline SVG charts of the same, and a sortable,
    filterable, paged table of the rows needing review (``needs_review`` true or ``status``
    not ``ok``): the first ``max_rows`` of them in file order, and the page says when there
    are more. It loads nothing from the network and runs only its own inline script; every
    text from the file is escaped.

    ``text_column`` is the column of descriptions (default: the column the evidence spans
    point into, else ``description``); ``id_column`` adds a column such as a record id.
    ``output`` is written atomically (a temporary file renamed into place on success), ``-``
    writes standard output.

    Raises :class:`~dualuse.errors.OptionError` (bad option or format),
    :class:`~dualuse.errors.InputFileError` (unreadable file, or not a scored file),
    :class:`~dualuse.errors.ColumnNotFoundError` (listing the columns),
    :class:`~dualuse.errors.OutputWriteError` (the output cannot be written).
    """
    for name, value in (("scored", scored), ("output", output)):
        if not isinstance(value, (str, os.PathLike)):
            raise InputTypeError(f"{name}: expected a file path (str or os.PathLike), got {describe(value)}")
    for name, option in (("text_column", text_column), ("id_column", id_column), ("title", title)):
        if option is not None and not isinstance(option, str):
            raise InputTypeError(f"{name}: expected a str or None, got {describe(option)}")
    max_rows = _positive("max_rows", max_rows)
    page_size = _positive("page_size", page_size)
    chunk_size = _positive("chunk_size", chunk_size)
    in_path, out_path = Path(scored), Path(output)
    fmt = format_of(in_path, input_format, "input_format")
    if str(out_path) != STDIO and out_path.exists() and in_path.exists() and os.path.samefile(in_path, out_path):
        raise OptionError(f"output: {str(out_path)!r} is the scored file; choose another output path")

    tally = collect(in_path, fmt, text_column=text_column, id_column=id_column, max_rows=max_rows, chunk_size=chunk_size)
    with_id = id_column is not None
    rows_html = [row_html(r, with_id) for r in tally.kept]
    tally.kept.clear()
    name = "standard input" if str(in_path) == STDIO else in_path.name
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = (
        f"{esc(name)} ({esc(fmt)}) \u00b7 {tally.rows:,} rows \u00b7 descriptions from column "
        f"{esc(repr(tally.text_column))} \u00b7 generated {stamp} by dualuse {esc(__version__)}"
    )
    html = page_html(
        tally,
        title=title if title is not None else f"dualuse review report: {name}",
        meta=meta,
        rows_html=rows_html,
        with_id=with_id,
        page_size=page_size,
    )
    dest = Destination(out_path)
    try:
        dest.fh.write(html.encode("utf-8"))
        dest.commit()
    except OSError as exc:
        dest.abort()
        raise OutputWriteError(f"output: cannot write {str(out_path)!r}: {exc.strerror or exc}") from None
    except BaseException:
        dest.abort()
        raise
    return ReportSummary(str(out_path), tally.rows, tally.review_rows, len(rows_html), tally.explained, tally.text_column)
