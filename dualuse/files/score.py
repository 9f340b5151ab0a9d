"""Scoring trade-record files: :func:`score_file`.

Files are streamed in chunks of ``chunk_size`` rows, so memory stays bounded whatever the
file size; each chunk is one :meth:`Engine.score <dualuse.engine.Engine.score>` call, in this
process or in a worker pool (:mod:`dualuse.files.pool`), and chunks are written in input
order. Readers (:mod:`dualuse.files.readers`) turn file problems into per-row statuses;
writers (:mod:`dualuse.files.writers`) replace the output only when the run succeeds.
"""

from __future__ import annotations

import collections
import logging
import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..batch import NUMERIC_HS_WARNING, check_chunk_size, check_explain, hs_codes_as_text, output_columns, score_columns
from ..defaults import default_engine
from ..engine import Engine
from ..errors import ColumnNotFoundError, InputTypeError, OptionError, OutputWriteError, WorkerError, describe
from ..progress import PROGRESS_MODES, Progress
from .pool import auto_jobs, score_in_worker, start_pool, stop_pool
from .readers import STDIO, Chunk, format_of, open_reader, pyarrow_parquet
from .summary import ALL_STATUSES, FILE_STATUSES, MAX_LISTED_PROBLEMS, ScoreSummary
from .writers import Writer, open_writer

__all__ = ["score_file"]

log = logging.getLogger("dualuse.files")


def _apply_problems(chunk: Chunk, out: dict[str, Any]) -> None:
    """File-level problems take over the row's status; the engine's own error is appended.

    Rows whose fields could not be recovered were sent to the engine as missing texts, so they
    carry no category; recovered rows (bad quoting split literally, bytes replaced) do.
    """
    status, error = out["status"], out["error"]
    for i, (st, msg, recovered) in chunk.problems.items():
        if recovered and error[i]:
            msg = f"{msg}; {error[i]}"
        status[i], error[i] = st, msg


def _note_truncated(out: dict[str, Any], max_chars: int) -> None:
    """An ``ok`` row screened on its first ``max_chars`` characters only says so in ``error``.

    ``classify`` reports it as review reason ``input_truncated``; a file has no column for
    review reasons unless ``--explain`` adds them, so the note goes where a reader of the file
    looks for "why" either way (the lean output stays as it was).
    """
    error = out["error"]
    for i, (st, cut) in enumerate(zip(out["status"], out["input_truncated"])):
        if cut and st == "ok" and error[i] is None:
            error[i] = f"input_truncated: only the first {max_chars:,} characters were screened"


def _decoded(values: list[Any], chunk: Chunk, column: str) -> list[Any]:
    """Binary values (Parquet ``binary`` columns) as UTF-8 text; undecodable ones become rows
    with status ``undecodable_text`` (bytes replaced with U+FFFD, still screened)."""
    if not any(isinstance(v, bytes) for v in values):
        return values
    out = list(values)
    for i, v in enumerate(out):
        if isinstance(v, bytes):
            try:
                out[i] = v.decode("utf-8")
            except UnicodeDecodeError as exc:
                out[i] = v.decode("utf-8", "replace")
                chunk.problems.setdefault(
                    i,
                    (
                        "undecodable_text",
                        f"column {column!r}: bytes that are not UTF-8 at byte {exc.start} ({v[exc.start : exc.start + 4]!r}...)"
                        " were replaced with U+FFFD",
                        True,
                    ),
                )
    return out


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
    formula_guard: bool = True,
    explain: bool = False,
    destination_column: str | None = None,
) -> ScoreSummary:
    """Score a CSV / TSV / Parquet / JSON Lines file of trade records into another such file.

    The formats come from the extensions unless given. ``progress`` is ``"auto"`` (a progress
    line on stderr when it is a terminal), ``"always"`` or ``"never"``; ``jobs > 1`` scores
    chunks in that many worker processes (each builds or receives the engine once);
    ``jobs="auto"`` uses :func:`auto_jobs` (the CLI's default). ``-`` as ``input`` reads
    standard input, as ``output`` writes standard output (CSV unless a format is given); an
    output that is a symbolic link is written through to its target, a FIFO or a device is
    written as a stream (see :mod:`dualuse.files.output`). ``formula_guard`` (default True)
    prefixes CSV/TSV cells a spreadsheet would run as formulas with ``'`` (see
    :mod:`dualuse.files.writers`). ``explain=True`` adds the columns ``review_reasons``,
    ``references`` and ``evidence`` (see :mod:`dualuse.batch`; their encoding per format is in
    :mod:`dualuse.files.writers`); off by default so that a lean output stays lean.
    ``destination_column`` names the column of destination countries (ISO 3166-1 alpha-2) that
    the ``priority`` counts (see :func:`dualuse.score_frame`).

    Raises before any scoring: :class:`~dualuse.errors.OptionError` (bad option or format),
    :class:`InputFileError` (unreadable input or header), :class:`~dualuse.errors.ColumnNotFoundError`
    (listing the available columns), :class:`OutputWriteError` (output directory not
    writable, output read-only; also raised if writing fails later, after removing the
    temporary file); :class:`~dualuse.errors.WorkerError` when a worker process dies (e.g.
    killed by the out-of-memory killer).
    Bad rows never raise: see the statuses in the returned :class:`ScoreSummary`.
    """
    in_path, out_path = Path(input), Path(output)
    chunk_size = check_chunk_size(chunk_size)
    explain = check_explain(explain)
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
    if destination_column is not None and not isinstance(destination_column, str):
        raise InputTypeError(f"destination_column: expected a column name (str) or None, got {describe(destination_column)}")
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine: expected a dualuse.Engine or None, got {describe(engine)}")
    in_fmt = format_of(in_path, input_format, "input_format")
    out_fmt = format_of(out_path, output_format, "output_format")
    if out_fmt == "parquet":
        pyarrow_parquet("writing Parquet")
    if isinstance(formula_guard, bool) is False:
        raise OptionError(f"formula_guard: expected True or False, got {describe(formula_guard)}")
    try:
        same = (
            STDIO not in (str(in_path), str(out_path))
            and out_path.exists()
            and in_path.exists()
            and os.path.samefile(in_path, out_path)
        )
    except OSError:
        same = False
    if same:
        raise OptionError(f"output: {str(out_path)!r} is the input file; choose another output path")

    if out_path.is_dir():
        raise OutputWriteError(f"output: {str(out_path)!r} is a directory; give a file name")
    reader = open_reader(in_path, in_fmt, chunk_size)
    writer: Writer | None = None
    pool = None
    try:
        columns = reader.columns
        for param, col in (("text_column", text_column), ("hs_column", hs_column), ("destination_column", destination_column)):
            if col is not None and col not in columns:
                available = ", ".join(map(repr, columns[:50])) + (" ..." if len(columns) > 50 else "")
                raise ColumnNotFoundError(
                    f"{param}: column {col!r} not found in {str(in_path)!r}; available columns: {available}"
                )
        eng = engine if engine is not None else default_engine()
        decided = eng.decisions is not None  # reviewed decisions add their columns (dualuse.decisions)
        clash = [c for c in output_columns(explain, decided) if c in columns]
        if clash:
            raise OptionError(f"input: already has output column(s) {', '.join(map(repr, clash))}; rename them before scoring")
        ti = columns.index(text_column)
        hi = None if hs_column is None else columns.index(hs_column)
        di = None if destination_column is None else columns.index(destination_column)

        writer = open_writer(
            out_path, out_fmt, list(columns), reader.arrow_schema, formula_guard=formula_guard, explain=explain, decisions=decided
        )
        summary = ScoreSummary(str(in_path), str(out_path), in_fmt, out_fmt)
        statuses: collections.Counter[str] = collections.Counter()
        categories: collections.Counter[str] = collections.Counter()
        problems: list[str] = []
        review = 0
        truncated = 0
        numeric_hs = False
        bar = Progress(progress, total=reader.total, total_unit=reader.total_unit, label="dualuse score:")
        start = time.perf_counter()

        def inputs(chunk: Chunk) -> tuple[list[Any], list[Any] | None, list[Any] | None]:
            nonlocal numeric_hs
            texts = _decoded(chunk.column(ti), chunk, text_column)
            dests = None if di is None else chunk.column(di)
            if hi is None:
                return texts, None, dests
            assert hs_column is not None  # hi is its index
            codes, numeric = hs_codes_as_text(_decoded(chunk.column(hi), chunk, hs_column))
            if numeric and not numeric_hs:
                numeric_hs = True
                summary.warnings.append(NUMERIC_HS_WARNING.format(column=hs_column))
                log.warning(summary.warnings[-1])
            return texts, codes, dests

        def finish(chunk: Chunk, out: dict[str, Any]) -> None:
            nonlocal review, truncated
            _apply_problems(chunk, out)
            _note_truncated(out, eng.fusion.max_chars)
            writer.write(chunk, out)
            statuses.update(out["status"])
            categories.update(c for c in out["category"] if c is not None)
            review += sum(1 for v in out["needs_review"] if v)
            truncated += sum(1 for st, t in zip(out["status"], out["input_truncated"]) if t and st == "ok")
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
                texts, codes, dests = inputs(chunk)
                finish(chunk, score_columns(eng, texts, codes, explain, dests))
        else:
            pool = start_pool(jobs, eng)
            inflight: collections.deque = collections.deque()
            try:
                for chunk in reader:
                    texts, codes, dests = inputs(chunk)
                    inflight.append((chunk, pool.submit(score_in_worker, texts, codes, explain, dests)))
                    while len(inflight) > 2 * jobs:
                        c, fut = inflight.popleft()
                        finish(c, fut.result())
                while inflight:
                    c, fut = inflight.popleft()
                    finish(c, fut.result())
            except BrokenProcessPool:
                raise WorkerError(
                    f"a worker process died while scoring (killed, e.g. by the out-of-memory killer?); "
                    f"no output was written to {str(out_path)!r}; retry with fewer --jobs or a smaller --chunk-size"
                ) from None
        writer.commit()
        bar.close()
        summary.seconds = time.perf_counter() - start
        summary.statuses = {s: statuses[s] for s in ALL_STATUSES if statuses.get(s)}
        summary.categories = dict(sorted(categories.items()))
        summary.needs_review = review
        summary.truncated = truncated
        summary.blank_lines = reader.blank_lines
        summary.dropped_keys = reader.dropped_keys
        summary.problems = problems
        if summary.dropped_keys:
            log.warning("%d JSON rows had keys absent from the first object; those keys were dropped", summary.dropped_keys)
        return summary
    except BaseException:
        if pool is not None:  # interrupted or failed: do not wait for the workers' chunks
            stopping, pool = pool, None
            stop_pool(stopping, kill=True)
        if writer is not None:
            writer.abort()
        raise
    finally:
        if pool is not None:
            stop_pool(pool, kill=False)
        reader.close()
