"""The review report: a scored file as one self-contained HTML page a reviewer works from.

:func:`report` (``dualuse report SCORED -o report.html``) reads a ``dualuse score`` output
once, chunk by chunk (:mod:`.collect`), and writes the summary, inline SVG charts
(:mod:`.charts`) and a sortable, filterable table of the rows needing review with the matched
spans highlighted (:mod:`.page`, its own style and script in :mod:`.assets`). A layer above
the file readers: nothing in the screening core imports it.
"""

from .report import DEFAULT_MAX_ROWS, DEFAULT_PAGE_SIZE, ReportSummary, report

__all__ = ["report", "ReportSummary", "DEFAULT_MAX_ROWS", "DEFAULT_PAGE_SIZE"]
