"""Review priority: where a reviewer starts, from the item, its CHPL tier and its destination.

A flag alone does not say where to start. ``priority`` orders the rows of a batch from ``P1``
(look first) to ``P4`` by adding three kinds of points:

=============================  ======  ===============================================
what                           points  when
=============================  ======  ===============================================
item                           2       flagged family, risk level high or medium
                               1       flagged family at low risk, or ``none`` with the
                                       review reason ``uncertain``
CHPL tier                      1       the given HS code is on the Common High Priority
                                       Items List; without a code, a suggested HS-6 code
                                       is (:func:`suggested_tier`)
destination                    3       on the ``embargoed`` list
                               2       on the ``diversion_risk`` list
                               0       elsewhere, or no destination given
=============================  ======  ===============================================

Destination points count only when the item or the tier gave at least one point, so an
ordinary product shipped to an embargoed country stays ``P4``: the library screens for the
dual-use families, not for every sanctioned good. Then ``P1`` >= 5 points, ``P2`` 3-4,
``P3`` 1-2, ``P4`` 0. So a CNC lathe (flagged, high, CHPL 4.B) is P1 to Russia (2+1+3) or
Kazakhstan (2+1+2) and P2 to Germany (2+1); a flagged microscope without a CHPL code is P3
to Germany and P2 to Kazakhstan; a ball bearing (``none``, CHPL 3.B) is P3 to Germany and
P2 to Russia.

A priority is a triage order for human review, never a legal verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from .destinations import DestinationStatus

__all__ = ["Priority", "PRIORITIES", "DESTINATION_POINTS", "priority_points", "priority", "suggested_tier"]

Priority = Literal["P1", "P2", "P3", "P4"]
#: Highest first.
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")
#: Points of a destination's list (see the module docstring).
DESTINATION_POINTS: dict[str, int] = {"embargoed": 3, "diversion_risk": 2, "other": 0}
# Lowest points of P1, P2, P3.
_THRESHOLDS = ((5, "P1"), (3, "P2"), (1, "P3"))


def priority_points(
    category: str,
    risk_level: str | None,
    review_reasons: tuple[str, ...],
    chpl_tier: str | None,
    destination: DestinationStatus | None,
) -> int:
    """The points of the rule in the module docstring."""
    if category != "none":
        item = 2 if risk_level in ("high", "medium") else 1
    else:
        item = 1 if "uncertain" in review_reasons else 0
    tier = 1 if chpl_tier is not None else 0
    where = DESTINATION_POINTS[destination or "other"] if item + tier > 0 else 0
    return item + tier + where


def priority(
    category: str,
    risk_level: str | None,
    review_reasons: tuple[str, ...],
    chpl_tier: str | None,
    destination: DestinationStatus | None,
) -> Priority:
    """``P1`` (look first) to ``P4`` for one screened row (see the module docstring)."""
    points = priority_points(category, risk_level, review_reasons, chpl_tier, destination)
    for lowest, label in _THRESHOLDS:
        if points >= lowest:
            return label  # type: ignore[return-value]
    return "P4"


def suggested_tier(category: str, suggestions: Sequence[Any]) -> str | None:
    """The CHPL tier a reviewer would check first when the record has no HS code.

    For a flagged row, the best-ranked suggestion of the row's family that is on the list
    (a CNC lathe's suggestions may rank the non-CNC subheading first; the listed one is the
    one to rule out); for a ``none`` row, the top suggestion's tier.
    """
    if not suggestions:
        return None
    if category == "none":
        return suggestions[0].chpl_tier
    return next((s.chpl_tier for s in suggestions if s.family == category and s.chpl_tier is not None), None)
