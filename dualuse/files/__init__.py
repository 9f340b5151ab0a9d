"""Scoring files of trade records: CSV, TSV, JSON Lines and Parquet, streamed chunk by chunk.

:func:`score_file` is the entry point (``dualuse score`` on the command line); the readers,
writers, worker pool and run summary each live in their own module of this package.
"""

from .pool import MAX_AUTO_JOBS, auto_jobs
from .readers import FORMATS
from .score import score_file
from .summary import ALL_STATUSES, FILE_STATUSES, ScoreSummary

__all__ = ["score_file", "ScoreSummary", "auto_jobs", "MAX_AUTO_JOBS", "FORMATS", "FILE_STATUSES", "ALL_STATUSES"]
