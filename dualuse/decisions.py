"""Reviewed decisions: labels a team has settled, applied before anyone looks at the row again.

A decisions file is a CSV (UTF-8, a BOM is accepted) or Parquet table with one decision per
row:

==============  =========  ===============================================================
column          required   meaning
==============  =========  ===============================================================
``text``        yes        the description as the reviewer saw it
``hs_code``     no         the HS code it came with; empty: the decision holds for any code
``label``       yes        one of ``machine_tools``, ``microelectronics``, ``optics``, ``none``
``reviewer``    yes        who decided
``date``        yes        when, as an ISO date (``2026-03-31``), not in the future
``note``        no         why, in the reviewer's words
==============  =========  ===============================================================

Matching is on the *normalised* text: :func:`dualuse.normalize.fold` (case, width, accents,
look-alike letters, Traditional/Simplified Chinese, invisible characters) with runs of
whitespace collapsed and the ends trimmed (:func:`decision_key`), so ``"  OKUMA  ma-600HII"``
matches a decision written as ``"Okuma MA-600HII"``. A decision with an HS code applies only
to rows whose parsed code starts with its digits (``8458`` covers ``8458.11.00``); the most
specific decision wins (longest code, then the decision without a code). A row with no
code, or an invalid one, only gets decisions without a code.

The whole file is validated when it is loaded, before any row is scored: unknown columns
(a misspelt ``hs_code`` would silently widen every decision), missing required columns,
empty texts, unknown labels, missing reviewers, bad or future dates, bad HS codes, and two
decisions for the same normalised text and code with different labels. Every problem is
reported in one :class:`~dualuse.errors.DecisionsError` naming the file and line (CSV; for
Parquet the row, counted from 1). The same text and code decided twice with the same label
is kept once (the first line).

The engine (:class:`dualuse.engine.Engine`, ``decisions=``) applies them; training reads the
same format (``dualuse train --extra-labels``), where reviewer and date may be left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .categories import CATEGORIES
from .errors import DecisionsError, InputTypeError, InvalidHSCodeError, describe
from .hs import parse_hs_code
from .normalize import fold

__all__ = [
    "Decision",
    "Decisions",
    "AppliedDecision",
    "DECISION_COLUMNS",
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "as_decisions",
    "decision_key",
    "load_decisions",
]

#: Columns a decisions file must have (``reviewer`` and ``date`` only when ``require_review``).
REQUIRED_COLUMNS = ("text", "label", "reviewer", "date")
#: Columns a decisions file may have.
OPTIONAL_COLUMNS = ("hs_code", "note")
#: Columns the batch paths add when the engine has decisions (after the other output columns).
DECISION_COLUMNS = ("decided", "screened_category")
#: At most this many problems are listed in one error.
MAX_LISTED_PROBLEMS = 20
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Decision:
    """One validated decision, as written in its file (``line`` counts from 1, the header being line 1 of a CSV)."""

    text: str
    hs_code: str | None
    hs_digits: str | None
    label: str
    reviewer: str | None
    date: str | None
    note: str | None
    line: int


@dataclass(frozen=True)
class AppliedDecision:
    """A decision applied to a scored row, with the verdict the screening gave before it."""

    decision: Decision
    screened_category: str
    screened_confidence: float
    screened_probabilities: tuple[float, ...]


@lru_cache(maxsize=65_536)
def decision_key(text: str) -> str:
    """The matching key of a description: folded as the screening folds it, whitespace collapsed."""
    return " ".join(fold(text).split())


class Decisions:
    """A validated decisions file: look-ups by normalised text and HS code.

    Build it with :func:`load_decisions`. ``source`` is the file's name (no directory),
    ``sha256`` the hash of its bytes (recorded in every result's provenance).
    """

    def __init__(self, entries: list[Decision], source: str, sha256: str) -> None:
        self.entries = tuple(entries)
        self.source = source
        self.sha256 = sha256
        self._index: dict[str, list[Decision]] = {}
        for d in self.entries:
            self._index.setdefault(decision_key(d.text), []).append(d)
        for found in self._index.values():  # most specific first: longest code, the code-free one last
            found.sort(key=lambda d: -len(d.hs_digits or ""))

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Decisions({self.source!r}, {len(self)} decisions, sha256={self.sha256[:12]}...)"

    def lookup(self, text: str, hs_digits: str | None) -> Decision | None:
        """The decision for ``text`` with the (parsed) HS code ``hs_digits``, or None."""
        found = self._index.get(decision_key(text))
        if not found:
            return None
        for d in found:
            if d.hs_digits is None or (hs_digits is not None and hs_digits.startswith(d.hs_digits)):
                return d
        return None


def as_decisions(value: object, param: str = "decisions") -> Decisions:
    """``value`` as :class:`Decisions`: loaded from a path, or returned as it is."""
    if isinstance(value, Decisions):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load_decisions(value)
    raise InputTypeError(f"{param}: expected a path to a decisions file (CSV or Parquet) or a Decisions, got {describe(value)}")


def _read_rows(path: Path, data: bytes) -> tuple[list[str], list[tuple[int, dict[str, object]]], str]:
    """(header, [(line or row number, {column: value})], what the numbers count)."""
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        try:
            import pyarrow.parquet as pq
        except ImportError:  # pragma: no cover - exercised only without the extra
            raise DecisionsError(
                f"decisions file {str(path)!r}: reading Parquet needs pyarrow: pip install 'dualuse[parquet]'"
            ) from None
        try:
            table = pq.read_table(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise DecisionsError(f"decisions file {str(path)!r}: not a readable Parquet file ({exc})") from None
        header = [str(c) for c in table.column_names]
        return header, [(i + 1, row) for i, row in enumerate(table.to_pylist())], "row"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DecisionsError(
            f"decisions file {str(path)!r}: expected UTF-8 text, got a byte {data[exc.start]:#04x} at offset {exc.start}"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DecisionsError(
            f"decisions file {str(path)!r}, line 1: expected a header line ({', '.join(REQUIRED_COLUMNS)}, ...), got an empty file"
        ) from None
    except csv.Error as exc:
        raise DecisionsError(f"decisions file {str(path)!r}, line 1: {exc}") from None
    rows: list[tuple[int, dict[str, object]]] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            if cells and any(c.strip() for c in cells):  # blank lines carry no decision
                rows.append((start, {"__cells__": cells}))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DecisionsError(f"decisions file {str(path)!r}, line {start}: {exc}") from None
    return header, rows, "line"


def _text(value: object) -> str | None:
    """A cell as stripped text, None when empty or missing."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    s = value.strip() if isinstance(value, str) else None
    return s or None


def _date(value: object) -> str:
    """An ISO date (``YYYY-MM-DD``) not after today; raises ValueError with the problem."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"date: expected an ISO date such as 2026-03-31, got {value.strip()!r}") from None
    else:
        raise ValueError(f"date: expected an ISO date such as 2026-03-31, got {describe(value)}")
    if day > dt.date.today():
        raise ValueError(f"date: expected a date not after today, got {day.isoformat()}")
    return day.isoformat()


def load_decisions(path: str | os.PathLike[str], *, require_review: bool = True) -> Decisions:
    """Read and validate a decisions file (see the module docstring for the format).

    ``require_review=False`` (labelled lines for training) makes ``reviewer`` and ``date``
    optional. Raises :class:`~dualuse.errors.DecisionsError` naming the file, and the line
    (or Parquet row) of every problem found, before anything uses the file.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DecisionsError(f"decisions file {str(p)!r}: cannot read it ({exc.strerror or exc})") from None
    header, rows, unit = _read_rows(p, data)
    names = [h.strip().lower() for h in header]
    required = REQUIRED_COLUMNS if require_review else ("text", "label")
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    where = f"decisions file {str(p)!r}"
    unknown = [h for h, n in zip(header, names) if n not in known]
    missing = [c for c in required if c not in names]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or doubled:
        parts = []
        if missing:
            parts.append(f"missing required column(s) {', '.join(map(repr, missing))}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
        if doubled:
            parts.append(f"column(s) given twice: {', '.join(map(repr, doubled))}")
        raise DecisionsError(
            f"{where}, {unit} 1: {'; '.join(parts)}; expected the columns {', '.join(known)} "
            f"(required: {', '.join(required)}), got {', '.join(map(repr, header)) or 'none'}"
        )
    problems: list[str] = []
    entries: list[Decision] = []
    seen: dict[tuple[str, str], Decision] = {}
    for number, raw in rows:
        if "__cells__" in raw:
            cells = raw["__cells__"]
            assert isinstance(cells, list)
            if len(cells) != len(names):
                problems.append(f"{unit} {number}: expected {len(names)} fields (as in the header), got {len(cells)}")
                continue
            row: dict[str, object] = dict(zip(names, cells))
        else:
            row = {n: raw.get(h) for h, n in zip(header, names)}
        try:
            entries_row = _decision(row, number, require_review)
        except ValueError as exc:
            problems.append(f"{unit} {number}: {exc}")
            continue
        key = (decision_key(entries_row.text), entries_row.hs_digits or "")
        first = seen.get(key)
        if first is None:
            seen[key] = entries_row
            entries.append(entries_row)
        elif first.label != entries_row.label:
            code = f" and HS code {entries_row.hs_code!r}" if entries_row.hs_code else ""
            problems.append(
                f"{unit} {number}: label {entries_row.label!r} contradicts {unit} {first.line}, which decided "
                f"{first.label!r} for the same normalised text{code} ({first.text!r})"
            )
    if problems:
        listed = problems[:MAX_LISTED_PROBLEMS]
        more = f"\n  ... and {len(problems) - len(listed)} more" if len(problems) > len(listed) else ""
        if len(problems) == 1:
            message = f"{where}, {problems[0]}"
        else:
            message = f"{where}: {len(problems)} problems:\n  " + "\n  ".join(listed) + more
        error = DecisionsError(message)
        error.problems = problems
        raise error
    return Decisions(entries, p.name, hashlib.sha256(data).hexdigest())


def _decision(row: dict[str, object], number: int, require_review: bool) -> Decision:
    """One row as a :class:`Decision`; raises ValueError naming the column and the problem."""
    raw_text = row.get("text")
    if not isinstance(raw_text, str) and raw_text is not None:
        raise ValueError(f"text: expected a description, got {describe(raw_text)}")
    text = _text(raw_text)
    if text is None or not decision_key(text):
        raise ValueError(f"text: expected a non-empty description, got {describe(raw_text)}")
    label_raw = row.get("label")
    label = _text(label_raw)
    label = label.lower() if label is not None else None
    if label not in CATEGORIES:
        raise ValueError(f"label: expected one of {', '.join(CATEGORIES)}, got {describe(label_raw)}")
    reviewer = _text(row.get("reviewer"))
    if require_review and reviewer is None:
        raise ValueError(f"reviewer: expected who made the decision, got {describe(row.get('reviewer'))}")
    date_raw = row.get("date")
    date = None
    if not (date_raw is None or (isinstance(date_raw, str) and not date_raw.strip())):
        date = _date(date_raw)
    elif require_review:
        raise ValueError(f"date: expected an ISO date such as 2026-03-31, got {describe(date_raw)}")
    code_raw = row.get("hs_code")
    code = None if code_raw is None or (isinstance(code_raw, str) and not code_raw.strip()) else code_raw
    digits = None
    if code is not None:
        try:
            digits = parse_hs_code(code, param="hs_code").digits
        except (InvalidHSCodeError, InputTypeError) as exc:
            raise ValueError(str(exc)) from None
    return Decision(
        text=text,
        hs_code=code.strip() if isinstance(code, str) else None,
        hs_digits=digits,
        label=label,
        reviewer=reviewer,
        date=date,
        note=_text(row.get("note")),
        line=number,
    )
