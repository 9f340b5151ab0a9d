"""Batch scoring of pandas DataFrames: :func:`score_frame`.

One :meth:`Engine.score <dualuse.engine.Engine.score>` call per chunk (which makes one
``predict_proba`` call per chunk), results assembled column by column: no pydantic object
per row. Every row comes back, in input order, with the input's index (any index: non-unique,
strings, MultiIndex), all original columns and these added ones:

=================  ==================  ==========================================================
column             dtype               meaning
=================  ==================  ==========================================================
``category``       string (NA)         machine_tools / microelectronics / optics / none; NA when
                                       the row could not be screened (see ``status``)
``subcategory``    string (NA)         strongest matched subcategory of that family, or NA
``confidence``     float64 (NaN)       calibrated probability of ``category``
``risk_level``     string (NA)         high / medium / low / none
``needs_review``   boolean (NA)        True when a human should look at the row
``chpl_tier``      string (NA)         CHPL tier of the HS code, when listed
``matched_terms``  string (NA)         taxonomy terms / pattern ids found, ``|``-separated
                                       (``''`` when none matched, NA when not screened)
``hs_suggestion``  string (NA)         the top suggested HS 2022 six-digit code (NA without the
                                       index, see :mod:`dualuse.hs_index`)
``hs_suggestion_   string (NA)         its CHPL tier, when listed
chpl_tier``
``priority``       string (NA)         P1 (look first) to P4 (:mod:`dualuse.priority`); NA when
                                       not screened or the destination is invalid
``destination_     string (NA)         embargoed / diversion_risk / other for the row's
status``                               destination (:mod:`dualuse.destinations`), NA without one
``status``         string              one of :data:`dualuse.engine.STATUSES`
``error``          string (NA)         why the row is not ``ok``
=================  ==================  ==========================================================

With ``explain=True`` three more columns follow (:data:`dualuse.explain.EXPLAIN_COLUMNS`),
each equal to what :func:`dualuse.classify` returns for an ``ok`` row and NA/None for a row
that was not screened:

==================  ==============  ========================================================
``review_reasons``  object (list)   ``Classification.review_reasons`` as a list of str
``references``      object (list)   ``Classification.references`` (control-list entries)
``evidence``        string (NA)     compact JSON list: ``[e.model_dump(mode="json") for e in
                                    Classification.evidence]`` (terms with spans and weights,
                                    exclusions, HS facts, top model features, notes)
==================  ==============  ========================================================

When the engine applies reviewed decisions (``Engine(..., decisions=...)``, see
:mod:`dualuse.decisions`) two more columns follow (:data:`dualuse.decisions.DECISION_COLUMNS`);
without decisions they are absent, so the lean output stays as it is:

=====================  ============  ===================================================
``decided``            boolean (NA)  True when a reviewed decision set ``category``
``screened_category``  string (NA)   the category the screening gave (before the decision)
=====================  ============  ===================================================

A bad row never raises and never shifts the others; bad arguments raise before any work.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .decisions import DECISION_COLUMNS
from .engine import ChunkResult, Engine
from .errors import ColumnNotFoundError, InputTypeError, OptionError, describe
from .explain import EXPLAIN_COLUMNS, evidence_json, explain_columns
from .progress import chunk_progress

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger("dualuse.batch")

__all__ = [
    "score_frame",
    "score_columns",
    "OUTPUT_COLUMNS",
    "EXPLAIN_COLUMNS",
    "output_columns",
    "check_chunk_size",
    "hs_codes_as_text",
    "NUMERIC_HS_WARNING",
]

#: Said once per column when HS codes arrive as numbers (see :func:`hs_codes_as_text`).
NUMERIC_HS_WARNING = (
    "HS column {column!r} holds numbers, read as digits (845811 -> '845811'); numeric codes may have lost "
    "leading zeros (0901 -> 901) or trailing zeros (8458.10 -> 8458.1): store HS codes as text"
)

#: Columns added by :func:`score_frame` (and by ``dualuse score``), in this order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "category",
    "subcategory",
    "confidence",
    "risk_level",
    "needs_review",
    "chpl_tier",
    "matched_terms",
    "hs_suggestion",
    "hs_suggestion_chpl_tier",
    "priority",
    "destination_status",
    "status",
    "error",
)


def output_columns(explain: bool, decisions: bool = False) -> tuple[str, ...]:
    """The columns the batch paths add: :data:`OUTPUT_COLUMNS`, then :data:`EXPLAIN_COLUMNS` with
    ``explain``, then :data:`~dualuse.decisions.DECISION_COLUMNS` when the engine has decisions."""
    return OUTPUT_COLUMNS + (EXPLAIN_COLUMNS if explain else ()) + (DECISION_COLUMNS if decisions else ())


def check_explain(explain: object) -> bool:
    """Validate the ``explain`` switch (a bool: a truthy string such as ``"no"`` must not turn it on)."""
    if not isinstance(explain, bool):
        raise OptionError(f"explain: expected True or False, got {describe(explain)}")
    return explain


#: At most this many distinct terms are listed in ``matched_terms`` (then ``|...``).
MAX_LISTED_TERMS = 8


def check_chunk_size(chunk_size: object, param: str = "chunk_size") -> int:
    """Validate a chunk size option (a positive int, not a bool)."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size <= 0:
        raise OptionError(f"{param}: expected a positive int (rows per chunk, e.g. 20000), got {describe(chunk_size)}")
    return int(chunk_size)


def _check_column(df: pd.DataFrame, column: object, param: str) -> None:
    try:
        present = column in df.columns
    except TypeError:  # unhashable
        present = False
    if not present:
        available = ", ".join(repr(c) for c in df.columns[:50]) + (" ..." if len(df.columns) > 50 else "")
        raise ColumnNotFoundError(f"{param}: column {column!r} not found; available columns: {available or '(none)'}")
    if not df.columns.is_unique and (df.columns == column).sum() > 1:
        raise OptionError(f"{param}: column {column!r} appears more than once in the frame; rename the duplicates")


def matched_terms_of(result: ChunkResult) -> list[str | None]:
    """``'term|term'`` per row (distinct, in text order); '' when nothing matched, None when not screened."""
    out: list[str | None] = []
    for f in result.facts:
        match = f.match
        if match is None:
            out.append(None)
            continue
        if not match.matches:
            out.append("")
            continue
        terms = list(dict.fromkeys(m.term for m in match.matches))
        if len(terms) > MAX_LISTED_TERMS:
            terms = terms[:MAX_LISTED_TERMS] + ["..."]
        out.append("|".join(terms))
    return out


def hs_codes_as_text(codes: Sequence[object]) -> tuple[list[object], bool]:
    """HS codes that arrived as numbers (JSON, Parquet, pandas), as the digit strings they stand for.

    An int is its digits (``845811`` -> ``'845811'``); an integral float is read as an int
    (``845811.0`` -> ``'845811'``); another finite float keeps its shortest decimal form
    (``8458.11`` -> ``'8458.11'``). Bools, non-finite floats and everything else are left as
    they are (the engine reports them). Returns the codes and whether any number was read, so
    that the caller can warn that leading or trailing zeros may already be lost.
    """
    out = list(codes)
    seen = False
    for i, v in enumerate(out):
        if isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        if isinstance(v, (int, np.integer)):
            out[i], seen = str(int(v)), True
        elif isinstance(v, (float, np.floating)) and math.isfinite(v):
            f = float(v)
            out[i], seen = (str(int(f)) if f.is_integer() else repr(f)), True
    return out, seen


def result_columns(result: ChunkResult) -> dict[str, Any]:
    """The output columns of one scored chunk as plain lists / a float array (picklable, compact).

    The extra key ``input_truncated`` (not an output column) flags the rows screened on their
    first ``max_chars`` characters only, for file output and its summary.
    """
    return {
        "category": result.category,
        "subcategory": result.subcategory,
        "confidence": np.asarray(result.confidence, dtype=float),
        "risk_level": result.risk_level,
        "needs_review": result.needs_review,
        "chpl_tier": result.chpl_tier,
        "matched_terms": matched_terms_of(result),
        "hs_suggestion": [f.hs_suggestions[0].code if f.hs_suggestions else None for f in result.facts],
        "hs_suggestion_chpl_tier": [f.hs_suggestions[0].chpl_tier if f.hs_suggestions else None for f in result.facts],
        "priority": result.priority or [None] * len(result),
        "destination_status": [f.destination_status for f in result.facts],
        "status": result.status,
        "error": result.error,
        "input_truncated": [f.truncated for f in result.facts],
        **(decision_columns(result) if result.decided is not None else {}),
    }


def decision_columns(result: ChunkResult) -> dict[str, list[Any]]:
    """:data:`~dualuse.decisions.DECISION_COLUMNS` of a chunk scored by an engine with decisions."""
    decided = result.decided or [None] * len(result)
    return {
        "decided": [None if c is None else a is not None for c, a in zip(result.category, decided)],
        "screened_category": [c if a is None else a.screened_category for c, a in zip(result.category, decided)],
    }


def score_columns(
    engine: Engine,
    texts: Sequence[object],
    hs_codes: Sequence[object] | None,
    explain: bool = False,
    destinations: Sequence[object] | None = None,
) -> dict[str, Any]:
    """Score one chunk and return its output columns (see :func:`result_columns`).

    With ``explain``, also :data:`EXPLAIN_COLUMNS` (see :func:`dualuse.explain.explain_columns`):
    lists, and evidence as a list of dicts per row, so that each writer picks its own encoding.
    """
    # without destinations, the two-argument call that engine subclasses written before them know
    result = engine.score(texts, hs_codes) if destinations is None else engine.score(texts, hs_codes, destinations)
    cols = result_columns(result)
    if explain:
        cols.update(explain_columns(engine, result, texts))
    return cols


def _string_dtype():
    import pandas as pd

    return pd.StringDtype()


def columns_to_frame_dict(
    cols: dict[str, Any], n: int, explain: bool = False, names: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Typed pandas arrays for the output columns (string / float64 / boolean, NA where missing).

    The explain columns: lists in object columns (``None`` where not screened) and the
    evidence as a compact JSON string (a string column round-trips through every format).
    """
    import pandas as pd

    sdt = _string_dtype()
    out: dict[str, Any] = {}
    for name in names if names is not None else output_columns(explain):
        values = cols[name]
        if name in ("review_reasons", "references"):
            arr = np.empty(n, dtype=object)
            arr[:] = list(values)  # element-wise: numpy would otherwise read the lists as a 2-D shape
            out[name] = arr
        elif name == "evidence":
            out[name] = pd.array([evidence_json(v) for v in values], dtype=sdt) if n else pd.array([], dtype=sdt)
        elif name == "confidence":
            out[name] = np.asarray(values, dtype="float64").reshape(n)
        elif name in ("needs_review", "decided"):
            out[name] = pd.array(list(values), dtype="boolean") if n else pd.array([], dtype="boolean")
        else:
            out[name] = pd.array(list(values), dtype=sdt) if n else pd.array([], dtype=sdt)
    return out


def score_frame(
    df: pd.DataFrame,
    text_column: str,
    *,
    hs_column: str | None = None,
    chunk_size: int = 20_000,
    engine: Engine | None = None,
    explain: bool = False,
    progress: bool = False,
    destination_column: str | None = None,
) -> pd.DataFrame:
    """Screen the ``text_column`` of ``df`` (optionally with HS codes from ``hs_column``).

    ``destination_column`` holds each record's destination (ISO 3166-1 alpha-2, e.g. ``"KZ"``;
    empty/NA for none): it raises the ``priority`` of rows bound for a listed destination, and
    an unknown code gives the row the status ``invalid_destination`` (the text is still
    screened).

    Returns a new frame: ``df``'s rows (same index, order and length) and columns, plus
    :data:`OUTPUT_COLUMNS`. Ok rows equal :func:`dualuse.classify` with the same engine.
    ``explain=True`` adds :data:`EXPLAIN_COLUMNS` (review reasons, control-list references
    and the evidence as JSON; see the module docstring); off by default, as they multiply
    the size of the output. ``progress=True`` shows progress per chunk: a ``tqdm`` bar
    (notebook widget or terminal line) when tqdm is installed (``pip install
    'dualuse[notebooks]'``), else a plain line on stderr (:class:`dualuse.progress.Progress`).

    Raises (before any scoring): :class:`~dualuse.errors.InputTypeError` when ``df`` is not a
    DataFrame (a Series must be wrapped: ``s.to_frame("text")``),
    :class:`~dualuse.errors.ColumnNotFoundError` (listing the available columns),
    :class:`~dualuse.errors.OptionError` for a bad ``chunk_size`` or when ``df`` already has
    one of the output columns.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        hint = "; wrap a Series with s.to_frame('text')" if isinstance(df, pd.Series) else ""
        raise InputTypeError(f"df: expected a pandas DataFrame, got {describe(df)}{hint}")
    chunk_size = check_chunk_size(chunk_size)
    explain = check_explain(explain)
    if not isinstance(progress, bool):
        raise OptionError(f"progress: expected True or False, got {describe(progress)}")
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine: expected a dualuse.Engine or None, got {describe(engine)}")
    _check_column(df, text_column, "text_column")
    if hs_column is not None:
        _check_column(df, hs_column, "hs_column")
    if destination_column is not None:
        _check_column(df, destination_column, "destination_column")
    n = len(df)
    eng = engine
    if eng is None and n:
        from .defaults import default_engine

        eng = default_engine()
    names = output_columns(explain, decisions=eng is not None and eng.decisions is not None)
    clash = [c for c in names if c in df.columns]
    if clash:
        raise OptionError(
            f"df: already has output column(s) {', '.join(map(repr, clash))}; rename or drop them "
            "(e.g. df.drop(columns=[...])) before scoring"
        )
    if n == 0 or eng is None:
        cols: dict[str, Any] = {name: [] for name in names}
        cols["confidence"] = np.empty(0)
    else:
        texts = df[text_column].to_numpy(dtype=object, na_value=None)
        codes = None if hs_column is None else df[hs_column].to_numpy(dtype=object, na_value=None)
        if codes is not None:
            converted, numeric = hs_codes_as_text(codes.tolist())
            if numeric:
                log.warning(NUMERIC_HS_WARNING.format(column=hs_column))
                codes = np.asarray(converted, dtype=object)
        dests = None if destination_column is None else df[destination_column].to_numpy(dtype=object, na_value=None)
        parts = []
        with chunk_progress(progress, total=n, label="dualuse score_frame") as bar:
            for start in range(0, n, chunk_size):
                stop = min(n, start + chunk_size)
                chunk_codes = None if codes is None else codes[start:stop].tolist()
                chunk_dests = None if dests is None else dests[start:stop].tolist()
                parts.append(score_columns(eng, texts[start:stop].tolist(), chunk_codes, explain, chunk_dests))
                bar.update(stop - start)
        if len(parts) == 1:
            cols = parts[0]
        else:
            cols = {}
            for name in names:
                if name == "confidence":
                    cols[name] = np.concatenate([p[name] for p in parts])
                else:
                    merged: list = []
                    for p in parts:
                        merged.extend(p[name])
                    cols[name] = merged
    added = pd.DataFrame(columns_to_frame_dict(cols, n, explain, names), index=df.index)
    out = df.copy(deep=False)
    for name in names:
        out[name] = added[name].array  # positional: safe for duplicate and MultiIndex labels
    return out
