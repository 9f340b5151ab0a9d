"""Typed, frozen results: what ``classify`` returns and everything nested inside it.

A :class:`Classification` carries the decision (category, subcategory, calibrated
confidence, probabilities, risk level, review flag), the evidence that explains it (matched
terms with spans into the original text, exclusions, HS facts, the model's top features),
each component's own score beside the fused one, and the provenance (library, taxonomy and
model versions with hashes). ``model_dump_json()`` and ``model_validate_json()`` round-trip.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .categories import Category

__all__ = [
    "RiskLevel",
    "TermEvidence",
    "ExclusionEvidence",
    "HSEvidence",
    "ModelFeatureEvidence",
    "NoteEvidence",
    "Evidence",
    "ComponentScores",
    "Provenance",
    "Classification",
]

RiskLevel = Literal["high", "medium", "low", "none"]
EvidenceKind = Literal["term", "pattern"]
Scope = Literal["overlap", "head", "text"]


class _Frozen(BaseModel):
    # protected_namespaces=(): fields such as model_id name the text model, not pydantic internals
    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())


class TermEvidence(_Frozen):
    """A taxonomy term or part-number pattern found in the text."""

    kind: EvidenceKind
    term: str = Field(description="The taxonomy term as written, or the pattern id.")
    subcategory: str
    family: Category
    language: str
    weight: float
    start: int = Field(ge=0, description="Half-open span [start, end) into the original text.")
    end: int = Field(ge=0)
    matched_text: str


class ExclusionEvidence(_Frozen):
    """An exclusion phrase found in the text, and the families whose matches it cancels."""

    kind: Literal["exclusion"] = "exclusion"
    exclusion_id: str
    phrase: str
    families: tuple[Category, ...]
    scope: Scope
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    matched_text: str


class HSEvidence(_Frozen):
    """What the HS code says, and whether the text agrees with it."""

    kind: Literal["hs_code"] = "hs_code"
    raw: str
    digits: str
    hs6: str | None
    family: Category
    ambiguous: bool = False
    bridged_from: str | None = None
    note: str | None = None
    chpl_tier: str | None = None
    agrees_with_text: bool | None = Field(
        default=None, description="False when the text alone points at another category than the code."
    )
    text_category: Category | None = Field(default=None, description="The category the text alone points at.")


class ModelFeatureEvidence(_Frozen):
    """A feature of the text model that pushed towards the predicted category."""

    kind: Literal["model_feature"] = "model_feature"
    feature: str
    contribution: float = Field(description="Contribution to the predicted class's log-odds (coef x value).")


class NoteEvidence(_Frozen):
    """Something a reviewer should know (truncated input, ambiguous HS bridge, ...)."""

    kind: Literal["note"] = "note"
    code: str
    message: str


Evidence = Annotated[
    TermEvidence | ExclusionEvidence | HSEvidence | ModelFeatureEvidence | NoteEvidence,
    Field(discriminator="kind"),
]


class ComponentScores(_Frozen):
    """Each component's own view, kept beside the fused probabilities."""

    keyword: dict[str, float] = Field(description="Keyword evidence per family (summed term weights, capped).")
    model: dict[str, float] | None = Field(
        description="Text model probabilities per category as the fusion used them (a family ruled out by a "
        "text-scope exclusion, or a head-scope one that cancelled a term, has its share moved to none), or None without a model."
    )
    hs_family: Category | None = Field(description="The family the HS code maps to, or None without a usable code.")


class Provenance(_Frozen):
    """Exactly which library, taxonomy and model produced a result."""

    dualuse_version: str
    taxonomy_name: str
    taxonomy_version: str
    taxonomy_sha256: str
    model_id: str | None
    model_sha256: str | None
    fusion: str = Field(description="Identifier of the fusion rule and its parameters.")


class Classification(_Frozen):
    """The screening result for one description. A flag for human review, never a clearance."""

    text: str = Field(description="The description as given (see input_truncated).")
    hs_code: str | None
    category: Category
    subcategory: str | None
    confidence: float = Field(ge=0.0, le=1.0, description="Calibrated probability of `category`.")
    probabilities: dict[Category, float]
    risk_level: RiskLevel
    needs_review: bool
    review_reasons: tuple[str, ...]
    chpl_tier: str | None
    references: tuple[str, ...] = Field(description="Control-list entries a reviewer should check; never a verdict.")
    evidence: tuple[Evidence, ...]
    scores: ComponentScores
    input_truncated: bool = False
    provenance: Provenance

    @property
    def flagged(self) -> bool:
        """True when the description falls in one of the three families."""
        return self.category != "none"

    def matched_terms(self) -> list[TermEvidence]:
        """The term and pattern evidence only."""
        return [e for e in self.evidence if isinstance(e, TermEvidence)]
