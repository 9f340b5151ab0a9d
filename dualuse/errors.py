"""Every exception dualuse raises on purpose.

Each one subclasses the built-in it refines, so callers that already catch ``ValueError``
or ``TypeError`` keep working, and each message names the parameter (or file and entry),
what was expected and what was received.
"""

from __future__ import annotations

__all__ = [
    "DualuseError",
    "InputTypeError",
    "EmptyTextError",
    "InvalidHSCodeError",
    "TaxonomyError",
    "ModelIntegrityError",
    "ModelCompatibilityError",
    "ColumnNotFoundError",
    "OptionError",
    "InputFileError",
    "OutputWriteError",
    "WorkerError",
    "DecisionsError",
]


class DualuseError(Exception):
    """Base class of all dualuse errors."""


def describe(value: object, limit: int = 60) -> str:
    """A short, safe description of a received value for error messages."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} (type {type(value).__name__})"


class InputTypeError(DualuseError, TypeError):
    """An argument has the wrong type (e.g. a non-str text, a bare str where a batch is expected)."""


class EmptyTextError(DualuseError, ValueError):
    """A text is empty or whitespace-only: there is nothing to classify."""


class InvalidHSCodeError(DualuseError, ValueError):
    """An HS code is not 4-10 digits (dots and spaces allowed)."""


class TaxonomyError(DualuseError, ValueError):
    """A taxonomy file is unreadable or invalid; the message names the file and entry."""


class ModelIntegrityError(DualuseError, ValueError):
    """A model file does not match its manifest (hash, size or format): it is not unpickled."""


class ModelCompatibilityError(DualuseError, RuntimeError):
    """A verified model was built with library versions this environment cannot honour."""


class ColumnNotFoundError(DualuseError, KeyError):
    """A DataFrame or file lacks a requested column; the message lists the available ones."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class OptionError(DualuseError, ValueError):
    """An option has an invalid value (e.g. chunk_size=0)."""


class InputFileError(DualuseError, ValueError):
    """An input file cannot be read at all (missing, no header, unsupported layout)."""


class OutputWriteError(DualuseError, OSError):
    """An output file cannot be written (directory missing, permissions, disk full)."""


class WorkerError(DualuseError, RuntimeError):
    """A worker process of ``score_file(..., jobs=N)`` died (killed by a signal or the OOM killer)."""


class DecisionsError(DualuseError, ValueError):
    """A reviewed-decisions file is unreadable or invalid; the message names the file, the line and the problem.

    ``problems`` lists every problem found (``"line 7: label: expected ..."``), not only the first.
    """

    problems: list[str]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.problems = []


class InvalidCountryCodeError(DualuseError, ValueError):
    """A destination is not an ISO 3166-1 alpha-2 code officially assigned (e.g. ``"KZ"``)."""


class DestinationListError(DualuseError, ValueError):
    """A destination-list file is malformed (unknown code, missing source, bad TOML...)."""
