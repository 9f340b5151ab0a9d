"""What scoring a chunk yields: per-row facts and the columnar results, in input order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import hs as hs_module
from .decisions import AppliedDecision
from .hs_index import Suggestion
from .match_result import MatchResult

__all__ = ["ChunkResult", "RowFacts"]


@dataclass
class RowFacts:
    """Per-row facts the pydantic path needs beyond the columnar arrays."""

    match: MatchResult | None = None
    hs: hs_module.HSCode | None = None
    hs_family: str | None = None
    hs_ambiguous: bool = False
    hs_error: str | None = None
    truncated: bool = False
    folded: str = ""
    #: no evidence, and written in a script the model saw little ``none`` text in (fusion doc)
    unfamiliar_script: bool = False
    hs_suggestions: tuple[Suggestion, ...] = ()
    destination: str | None = None
    destination_status: str | None = None
    destination_error: str | None = None


@dataclass
class ChunkResult:
    """Columnar results for a chunk, one entry per input row, in input order."""

    status: list[str]
    error: list[str | None]
    probabilities: np.ndarray  # (n, 4); NaN rows where there is no category
    model_probabilities: np.ndarray | None  # as fused: after ruling-out exclusions (see _rule_out)
    text_category: list[str | None]
    category: list[str | None]
    subcategory: list[str | None]
    confidence: np.ndarray
    risk_level: list[str | None]
    needs_review: list[bool | None]
    review_reasons: list[tuple[str, ...]]
    chpl_tier: list[str | None]
    references: list[tuple[str, ...]]
    facts: list[RowFacts] = field(repr=False, default_factory=list)
    #: the model's feature matrix of the chunk's distinct folded texts, and per row the index
    #: of its text in it (-1 for rows that were not screened): what explanations are built from
    model_features: Any = field(repr=False, default=None)
    model_rows: np.ndarray | None = field(repr=False, default=None)
    #: per row, the reviewed decision that set its category (None where none applied); None
    #: as a whole when the engine has no decisions (see :mod:`dualuse.decisions`)
    decided: list[AppliedDecision | None] | None = field(repr=False, default=None)
    #: P1 (look first) to P4 per row (:mod:`dualuse.priority`); None where there is no category
    #: or the destination is invalid
    priority: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.status)
