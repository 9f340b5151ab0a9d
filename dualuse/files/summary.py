"""The summary of a :func:`~dualuse.files.score_file` run, and the statuses only files produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..engine import STATUSES

__all__ = ["ScoreSummary", "FILE_STATUSES", "ALL_STATUSES", "MAX_LISTED_PROBLEMS"]

#: Statuses only files can produce (on top of :data:`dualuse.engine.STATUSES`).
FILE_STATUSES = ("malformed_line", "undecodable_text")
ALL_STATUSES = STATUSES + FILE_STATUSES
#: At most this many row problems are kept (with line numbers) in the summary.
MAX_LISTED_PROBLEMS = 20


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
    #: ``ok`` rows screened on their first ``max_chars`` characters only (``error`` says so)
    truncated: int = 0
    problems: list[str] = field(default_factory=list)
    #: things about the whole file a reader should know (e.g. HS codes stored as numbers)
    warnings: list[str] = field(default_factory=list)

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
            + (
                " (" + ", ".join(f"{c} {n:,}" for c, n in sorted(self.categories.items()) if c != "none") + ")"
                if self.flagged
                else ""
            )
            + f"; not flagged (none): {self.categories.get('none', 0):,}; needs review: {self.needs_review:,}",
            "status: " + ", ".join(f"{s} {self.statuses[s]:,}" for s in ALL_STATUSES if self.statuses.get(s)),
        ]
        if self.truncated:
            lines.append(f"truncated (only the first max_chars characters screened; sent to review): {self.truncated:,} rows")
        lines.extend(f"warning: {w}" for w in self.warnings)
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
            "input": self.input,
            "output": self.output,
            "input_format": self.input_format,
            "output_format": self.output_format,
            "rows": self.rows,
            "seconds": self.seconds,
            "statuses": dict(self.statuses),
            "categories": dict(self.categories),
            "needs_review": self.needs_review,
            "blank_lines": self.blank_lines,
            "dropped_keys": self.dropped_keys,
            "truncated": self.truncated,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }
