"""One streamed pass over a scored file: the counts of the summary and the rows a reviewer must see.

A scored file is any output of ``dualuse score`` (CSV, TSV, JSON Lines, Parquet), with or
without ``--explain``. Each format stores the added columns its own way (see
:mod:`dualuse.files.writers`): CSV cells are text (``true``, ``1.0``, ``a|b``, evidence as JSON
text), JSON Lines has booleans, numbers, arrays and nested evidence, Parquet has typed columns
and evidence as JSON text. The ``_as_*`` readers below fold those into one shape.

A row *needs review* when its ``needs_review`` is true or its ``status`` is not ``ok`` (a row
that could not be screened, or was screened with a problem, needs a person too). The rows
are kept in file order up to ``max_rows``; the counts always cover every row.
"""

from __future__ import annotations

import collections
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..batch import OUTPUT_COLUMNS
from ..categories import CATEGORIES
from ..errors import ColumnNotFoundError, InputFileError
from ..explain import EXPLAIN_COLUMNS
from ..files.readers import Chunk, open_reader
from ..files.writers import guard_formula

__all__ = ["ReviewRow", "Tally", "collect", "REQUIRED_COLUMNS", "RISK_LEVELS"]

#: Columns a file must have to be read as a ``dualuse score`` output.
REQUIRED_COLUMNS = ("category", "confidence", "risk_level", "needs_review", "chpl_tier", "status")
RISK_LEVELS = ("high", "medium", "low", "none")
_SPAN_KINDS = ("term", "pattern", "exclusion")


@dataclass
class ReviewRow:
    """One row of the review table, its cells already folded into plain Python values."""

    number: int  # 1-based record number in the scored file
    row_id: str | None
    text: str
    hs_code: str | None
    category: str | None
    subcategory: str | None
    risk_level: str | None
    confidence: float | None
    chpl_tier: str | None
    status: str
    error: str | None
    matched_terms: list[str]
    review_reasons: list[str]
    references: list[str]
    evidence: list[dict[str, Any]] | None  # None: no evidence column, or unreadable (see evidence_problem)
    evidence_problem: str | None = None


@dataclass
class Tally:
    """Counts over every row of the scored file."""

    rows: int = 0
    review_rows: int = 0
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    categories: collections.Counter[str] = field(default_factory=collections.Counter)
    family_risk: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    chpl_tiers: collections.Counter[str] = field(default_factory=collections.Counter)
    unreadable_lines: list[str] = field(default_factory=list)  # problems reading the scored file itself
    unreadable_count: int = 0
    explained: bool = False
    text_column: str = ""
    kept: list[ReviewRow] = field(default_factory=list)


def _as_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = v if isinstance(v, str) else str(v)
    return s or None


def _as_id(v: Any, guarded: bool) -> str | None:
    s = _as_text(v)
    return _unguard(s, None) if guarded and s is not None else s


def _as_flag(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    return None


def _as_float(v: Any) -> float | None:
    if v is None or isinstance(v, bool) or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _as_list(v: Any) -> list[str]:
    if v is None or isinstance(v, float):
        return []
    if isinstance(v, str):
        return [p for p in v.split("|") if p]
    try:
        return [str(x) for x in v if x is not None]
    except TypeError:
        return [str(v)]


def _as_evidence(v: Any) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(evidence items, why unreadable); an empty cell is no evidence, not a problem."""
    if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
        return None, None
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except (ValueError, RecursionError):
            return None, "the evidence cell is not valid JSON"
    if not isinstance(v, list) or not all(isinstance(e, dict) for e in v):
        return None, "the evidence cell is not a list of objects"
    return v, None


def spans(evidence: list[dict[str, Any]] | None, text: str, shift: int = 0) -> list[tuple[int, int, dict[str, Any]]]:
    """The evidence items with a span that really marks ``matched_text`` in ``text`` (shifted by ``shift``).

    A span that does not fit the text (a hand-edited file, another text column) is left out
    rather than highlighting the wrong characters.
    """
    out = []
    for e in evidence or ():
        if e.get("kind") not in _SPAN_KINDS:
            continue
        s, t, m = e.get("start"), e.get("end"), e.get("matched_text")
        if type(s) is not int or type(t) is not int or not isinstance(m, str):
            continue
        s, t = s + shift, t + shift
        if 0 <= s < t <= len(text) and text[s:t] == m:
            out.append((s, t, e))
    return out


def _checkable(evidence: list[dict[str, Any]] | None) -> int:
    return sum(1 for e in evidence or () if e.get("kind") in _SPAN_KINDS)


def _unguard(text: str, evidence: list[dict[str, Any]] | None) -> str:
    """The text before the CSV / TSV formula guard added its ``'`` (see :func:`guard_formula`).

    A file written with ``--no-formula-guard`` may hold such a ``'`` of its own: the spans
    decide when they fit the text as it stands and not without the ``'``.
    """
    if text[:1] == "'" and guard_formula(text[1:]) == text:
        if _checkable(evidence) and len(spans(evidence, text)) > len(spans(evidence, text, 1)):
            return text
        return text[1:]
    return text


def _infer_text_column(columns: list[str], chunk: Chunk | None, ev_index: int | None) -> str | None:
    """The input column whose characters the evidence spans point at, else ``description`` if present."""
    candidates = [c for c in columns if c not in OUTPUT_COLUMNS + EXPLAIN_COLUMNS]
    if chunk is not None and ev_index is not None:
        evidences = [_as_evidence(v)[0] for v in chunk.column(ev_index)]
        best, best_hits = None, 0
        for c in candidates:
            texts = chunk.column(columns.index(c))
            hits = sum(len(spans(ev, t)) for ev, t in zip(evidences, texts) if isinstance(t, str) and ev)
            if hits > best_hits:
                best, best_hits = c, hits
        if best is not None:
            return best
    if "description" in candidates:
        return "description"
    return candidates[0] if len(candidates) == 1 else None


def collect(path: Path, fmt: str, *, text_column: str | None, id_column: str | None, max_rows: int, chunk_size: int) -> Tally:
    """Read the scored file once, chunk by chunk: counts of every row, the first ``max_rows`` review rows."""
    reader = open_reader(path, fmt, chunk_size)
    try:
        columns = list(reader.columns)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise InputFileError(
                f"scored: {str(path)!r} is not an output of 'dualuse score': missing column(s) {', '.join(missing)}"
            )
        idx = {c: columns.index(c) for c in columns}
        ev_index = idx.get("evidence")
        chunks = iter(reader)
        first = next(chunks, None)
        if text_column is None:
            text_column = _infer_text_column(columns, first, ev_index)
            if text_column is None:
                raise ColumnNotFoundError(
                    f"text_column: cannot tell which column holds the descriptions of {str(path)!r}; "
                    f"name it (available: {', '.join(map(repr, columns[:50]))})"
                )
        for param, col in (("text_column", text_column), ("id_column", id_column)):
            if col is not None and col not in idx:
                raise ColumnNotFoundError(
                    f"{param}: column {col!r} not found in {str(path)!r}; available columns: {', '.join(map(repr, columns[:50]))}"
                )
        tally = Tally(explained=ev_index is not None, text_column=text_column)
        guarded = fmt in ("csv", "tsv")
        if first is not None:
            _add_chunk(tally, first, idx, text_column, id_column, max_rows, guarded)
            for chunk in chunks:
                _add_chunk(tally, chunk, idx, text_column, id_column, max_rows, guarded)
        return tally
    finally:
        reader.close()


def _add_chunk(
    tally: Tally, chunk: Chunk, idx: dict[str, int], text_column: str, id_column: str | None, max_rows: int, guarded: bool
) -> None:
    rows = chunk.row_lists()
    get = idx.get
    for i, row in enumerate(rows):
        problem = chunk.problems.get(i)
        if problem is not None and not problem[2]:  # a line of the scored file that cannot be read
            tally.unreadable_count += 1
            if len(tally.unreadable_lines) < 20:
                tally.unreadable_lines.append(problem[1])
            continue
        tally.rows += 1
        status = _as_text(row[idx["status"]]) or "(missing)"
        category = _as_text(row[idx["category"]])
        risk = _as_text(row[idx["risk_level"]])
        tier = _as_text(row[idx["chpl_tier"]])
        tally.statuses[status] += 1
        if category is not None:
            tally.categories[category] += 1
            if category in CATEGORIES and category != "none":
                tally.family_risk[(category, risk or "none")] += 1
        if tier is not None:
            tally.chpl_tiers[tier] += 1
        if not (_as_flag(row[idx["needs_review"]]) is True or status != "ok"):
            continue
        tally.review_rows += 1
        if len(tally.kept) >= max_rows:
            continue
        evidence, ev_problem = _as_evidence(row[idx["evidence"]]) if "evidence" in idx else (None, None)
        text = _as_text(row[idx[text_column]]) or ""
        if guarded:
            text = _unguard(text, evidence)
        hs = next((e.get("raw") for e in evidence or () if e.get("kind") == "hs_code"), None)
        tally.kept.append(
            ReviewRow(
                number=tally.rows,
                row_id=_as_id(row[idx[id_column]], guarded) if id_column is not None else None,
                text=text,
                hs_code=hs if isinstance(hs, str) else None,
                category=category,
                subcategory=_as_text(row[i_]) if (i_ := get("subcategory")) is not None else None,
                risk_level=risk,
                confidence=_as_float(row[idx["confidence"]]),
                chpl_tier=tier,
                status=status,
                error=_as_text(row[i_]) if (i_ := get("error")) is not None else None,
                matched_terms=_as_list(row[i_]) if (i_ := get("matched_terms")) is not None else [],
                review_reasons=_as_list(row[i_]) if (i_ := get("review_reasons")) is not None else [],
                references=_as_list(row[i_]) if (i_ := get("references")) is not None else [],
                evidence=evidence,
                evidence_problem=ev_problem,
            )
        )
