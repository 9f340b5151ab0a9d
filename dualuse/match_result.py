"""What the keyword matcher finds in one text: terms and patterns, exclusions, family scores.

Plain frozen records with spans into the original text, shared by the matcher, its second
readings (:mod:`dualuse.readings`) and the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["KeywordMatch", "ExclusionHit", "MatchResult"]


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    """A term or pattern found in a text (span into the original string)."""

    kind: str  # "term" or "pattern"
    term: str  # the taxonomy term as written, or the pattern id
    subcategory: str
    family: str
    language: str
    weight: float
    start: int
    end: int
    matched_text: str
    #: how it was found: "exact", or in the typo or abbreviation reading (:mod:`dualuse.spelling`)
    reading: str = "exact"


@dataclass(frozen=True, slots=True)
class ExclusionHit:
    """An exclusion phrase found in a text and the matches it cancelled."""

    exclusion_id: str
    phrase: str
    families: tuple[str, ...]
    scope: str
    start: int
    end: int
    matched_text: str
    cancelled: tuple[str, ...] = ()  # matched texts of the terms it cancelled (text and head scope)
    spares: tuple[str, ...] = ()  # subcategories of its families it leaves standing

    def cancels(self, match: KeywordMatch) -> bool:
        """Whether this exclusion's families cover the match (its spared subcategories excepted)."""
        return match.family in self.families and match.subcategory not in self.spares


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Everything the matcher found in one text."""

    matches: tuple[KeywordMatch, ...]
    exclusions: tuple[ExclusionHit, ...]
    family_scores: dict[str, float] = field(default_factory=dict)
    #: what the text model reads when a second reading found terms (leet letters read, terms
    #: of reversed or hidden-split text added); None: the folded text as it is
    model_text: str | None = None

    @property
    def families(self) -> set[str]:
        return {m.family for m in self.matches}
