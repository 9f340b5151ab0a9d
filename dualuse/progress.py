"""A dependency-free progress line for long batch jobs (rows, rows/s, percentage, ETA).

It writes to stderr only (never to stdout, which may carry data), and by default only when
stderr is a terminal: ``mode="auto"``. ``"always"`` forces it (e.g. into a CI log, one line
per update instead of carriage returns), ``"never"`` silences it.

The total may be a row count or a byte count (a file's size, when the number of rows is not
known in advance); the ETA extrapolates the fraction done at the current rate.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from .errors import OptionError, describe

__all__ = ["Progress", "PROGRESS_MODES", "format_duration", "chunk_progress"]

PROGRESS_MODES = ("auto", "always", "never")


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` for a number of seconds (``--:--:--`` when unknown)."""
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "--:--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Reports progress of a job that processes rows.

    Args:
        mode: ``"auto"`` (only when ``stream`` is a TTY), ``"always"`` or ``"never"``.
        total: the total amount of work in ``total_unit`` (None when unknown: no ETA).
        total_unit: ``"rows"`` or ``"bytes"``: what :meth:`update`'s ``position`` counts.
        label: printed before the figures.
        stream: where to write (default: ``sys.stderr``).
        min_interval: seconds between two redraws.
    """

    def __init__(
        self,
        mode: str = "auto",
        *,
        total: int | None = None,
        total_unit: str = "rows",
        label: str = "scored",
        stream: TextIO | None = None,
        min_interval: float = 0.25,
    ) -> None:
        if mode not in PROGRESS_MODES:
            raise OptionError(f"progress: expected one of {', '.join(PROGRESS_MODES)}, got {describe(mode)}")
        if total_unit not in ("rows", "bytes"):
            raise OptionError(f"total_unit: expected 'rows' or 'bytes', got {describe(total_unit)}")
        self.stream = stream if stream is not None else sys.stderr
        isatty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = mode == "always" or (mode == "auto" and isatty)
        self._tty = isatty
        self.total = total if total and total > 0 else None
        self.total_unit = total_unit
        self.label = label
        self.min_interval = min_interval
        self.start = time.monotonic()
        self.rows = 0
        self.position = 0
        self._last_draw = 0.0
        self._width = 0
        self._drawn_rows = -1
        self._closed = False

    # ------------------------------------------------------------------ figures

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.start, 1e-9)

    @property
    def rate(self) -> float:
        """Rows per second so far."""
        return self.rows / self.elapsed

    @property
    def fraction(self) -> float | None:
        if self.total is None:
            return None
        done = self.rows if self.total_unit == "rows" else self.position
        return min(max(done / self.total, 0.0), 1.0)

    @property
    def eta(self) -> float | None:
        f = self.fraction
        if f is None or f <= 0:
            return None
        return self.elapsed * (1.0 - f) / f

    def line(self) -> str:
        parts = [f"{self.label} {self.rows:,} rows", f"{self.rate:,.0f} rows/s"]
        f = self.fraction
        if f is not None:
            parts.append(f"{100 * f:.0f}%")
            parts.append(f"ETA {format_duration(self.eta if self.eta is not None else float('nan'))}")
        parts.append(f"elapsed {format_duration(self.elapsed)}")
        return " | ".join(parts)

    # ------------------------------------------------------------------ drawing

    def update(self, rows: int, position: int | None = None) -> None:
        """Record ``rows`` more rows done (and the new position in bytes or rows, if tracked)."""
        self.rows += rows
        if position is not None:
            self.position = position
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._draw()

    def _draw(self, final: bool = False) -> None:
        self._drawn_rows = self.rows
        text = self.line()
        try:
            if self._tty:
                pad = " " * max(0, self._width - len(text))
                self.stream.write("\r" + text + pad + ("\n" if final else ""))
                self._width = len(text)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not kill the job
            self.enabled = False

    def close(self) -> None:
        """Draw the final line (once)."""
        if self._closed:
            return
        self._closed = True
        if self.enabled and (self._tty or self._drawn_rows != self.rows):
            self._draw(final=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Silent:
    """The progress display of ``progress=False``: does nothing."""

    def update(self, rows: int) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _Tqdm:
    """A ``tqdm.auto`` bar: a widget in Jupyter, a line on stderr in a terminal."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, rows: int) -> None:
        self.bar.update(rows)

    def __enter__(self) -> _Tqdm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def chunk_progress(enabled: bool, *, total: int, label: str) -> Any:
    """A context manager with ``update(rows)``, for ``score_frame(..., progress=True)``.

    ``tqdm.auto`` when tqdm is installed (the ``notebooks`` extra): a plain ``\\r`` line does
    not redraw in a notebook's output cell, a tqdm widget does. Without tqdm, a
    :class:`Progress` line on stderr (``mode="always"``: the caller asked for it).
    """
    if not enabled:
        return _Silent()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return Progress("always", total=total, label=label)
    return _Tqdm(tqdm(total=total, desc=label, unit="rows"))
