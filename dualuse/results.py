"""Typed, frozen results: what ``classify`` returns and everything nested inside it.

A :class:`Classification` carries the decision (category, subcategory, calibrated
confidence, probabilities, risk level, review flag), the evidence that explains it (matched
terms with spans into the original text, exclusions, HS facts, the model's top features),
each component's own score beside the fused one, and the provenance (library, taxonomy and
model versions with hashes). ``model_dump_json()`` and ``model_validate_json()`` round-trip.
"""

from __future__ import annotations

import html
import itertools
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
    "ReviewedDecision",
    "HSSuggestion",
    "Destination",
    "Classification",
]

RiskLevel = Literal["high", "medium", "low", "none"]
EvidenceKind = Literal["term", "pattern"]
MatchReading = Literal["exact", "typo", "abbreviation"]
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
    reading: MatchReading = Field(
        default="exact",
        description="How it was found: as written, or read as a typo or an abbreviation of the term (weaker "
        "evidence: its weight is already reduced).",
    )


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
    decisions_sha256: str | None = Field(
        default=None, description="sha256 of the reviewed-decisions file the engine applies, or None without one."
    )
    hs_index_sha256: str | None = Field(default=None, description="The HS-6 suggestion index, or None without suggestions.")
    destinations_name: str | None = None
    destinations_version: str | None = None
    destinations_sha256: str | None = Field(default=None, description="The destination lists the priority used.")


class ReviewedDecision(_Frozen):
    """A reviewed decision that set the category, and the screening's own verdict beside it."""

    label: Category = Field(description="The decided category (the result's `category`).")
    reviewer: str | None
    date: str | None = Field(description="ISO date of the decision.")
    note: str | None
    text: str = Field(description="The description as written in the decisions file.")
    hs_code: str | None = Field(description="The HS code the decision is limited to, or None for any code.")
    source: str = Field(description="The decisions file's name.")
    line: int = Field(ge=1, description="Line (CSV) or row (Parquet) of the decision in its file.")
    file_sha256: str
    screened_category: Category = Field(description="The category the screening gave before the decision.")
    screened_confidence: float = Field(ge=0.0, le=1.0)
    screened_probabilities: dict[Category, float]


class HSSuggestion(_Frozen):
    """A suggested HS 2022 six-digit code for the description: a starting point, never a classification."""

    code: str = Field(description="HS 2022 subheading, six digits.")
    score: float = Field(
        description="Ranking score (text similarity plus family and taxonomy agreement); compare within one text."
    )
    heading: str = Field(description="The HS 2022 text of the subheading.")
    family: Category = Field(description="The code's family per LABELS.md.")
    chpl_tier: str | None = Field(description="The code's CHPL tier, when listed.")


class Destination(_Frozen):
    """The destination given with the record and the list it is on."""

    code: str = Field(description="ISO 3166-1 alpha-2 code.")
    status: Literal["embargoed", "diversion_risk", "other"]
    sources: tuple[str, ...] = Field(description="Title, date and URL of each document that puts it on its list.")


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
    hs_suggestions: tuple[HSSuggestion, ...] = Field(
        default=(), description="Top HS 2022 six-digit codes for the text, best first (empty without the index)."
    )
    destination: Destination | None = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = Field(
        default=None, description="Review order, P1 first (dualuse.priority): a triage aid, never a legal verdict."
    )
    provenance: Provenance
    decision: ReviewedDecision | None = Field(
        default=None, description="The reviewed decision that set `category`, or None when the screening decided."
    )

    @property
    def flagged(self) -> bool:
        """True when the description falls in one of the three families."""
        return self.category != "none"

    def matched_terms(self) -> list[TermEvidence]:
        """The term and pattern evidence only."""
        return [e for e in self.evidence if isinstance(e, TermEvidence)]

    def _repr_html_(self) -> str:
        """An HTML fragment for notebooks: the text with matched spans highlighted, and the key facts.

        Every piece of text (the description, terms, reasons, references, features) goes
        through :func:`html.escape`: descriptions come from trade records, i.e. from anyone.
        """
        e = html.escape
        rows = [
            ("category", f"{self.category}" + (f" ({self.subcategory})" if self.subcategory else "")),
            ("confidence", f"{self.confidence:.3f}"),
            ("risk level", self.risk_level),
            ("needs review", "yes" if self.needs_review else "no"),
        ]
        if self.hs_code is not None:
            rows.append(("HS code", self.hs_code + (f" (CHPL tier {self.chpl_tier})" if self.chpl_tier else "")))
        rows.append(("reasons", ", ".join(self.review_reasons) or "none"))
        rows.append(("references", ", ".join(self.references) or "none"))
        features = [f"{x.feature} ({x.contribution:+.3f})" for x in self.evidence if isinstance(x, ModelFeatureEvidence)]
        if features:
            rows.append(("model features", ", ".join(features)))
        notes = [x.message for x in self.evidence if isinstance(x, NoteEvidence)]
        if notes:
            rows.append(("notes", "; ".join(notes)))
        if self.decision is not None:
            d = self.decision
            rows.append(("reviewed decision", f"{d.reviewer} on {d.date} (screening said {d.screened_category})"))
        table = "".join(
            f'<tr><th style="text-align:left;padding-right:1em">{e(k)}</th><td style="text-align:left">{e(v)}</td></tr>'
            for k, v in rows
        )
        return (
            '<div class="dualuse-classification">'
            f'<p style="font-family:monospace;white-space:pre-wrap">{highlighted_html(self.text, self.evidence)}</p>'
            f"<table>{table}</table>"
            "<p><small>A screening flag for human review, not an export-control classification.</small></p></div>"
        )


#: Inline styles of highlighted spans (a notebook fragment has no style sheet of its own).
_TERM_STYLE = "background:#ffe08a"
_EXCLUSION_STYLE = "background:#d0d0d0;text-decoration:line-through"


def highlighted_html(text: str, evidence: tuple[Evidence, ...] | list[Evidence]) -> str:
    """``text`` escaped, with each term / pattern span in ``<mark>`` and each exclusion span struck through.

    Spans are half-open offsets into ``text``; overlapping spans are cut at every boundary so
    that the tags nest correctly, and a piece covered by a term is shown as a term (the
    ``title`` names every term and exclusion that covers it).
    """
    spans: list[tuple[int, int, str, str]] = []
    for x in evidence:
        if isinstance(x, TermEvidence):
            spans.append((x.start, x.end, "term", f"{x.term} ({x.subcategory}, weight {x.weight:g})"))
        elif isinstance(x, ExclusionEvidence):
            spans.append((x.start, x.end, "exclusion", f"exclusion: {x.phrase}"))
    n = len(text)
    spans = [(max(0, a), min(n, b), k, t) for a, b, k, t in spans if min(n, b) > max(0, a)]
    cuts = sorted({0, n, *(a for a, *_ in spans), *(b for _, b, *_ in spans)})
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        piece = html.escape(text[a:b])
        covering = [(k, t) for s, t_end, k, t in spans if s <= a and b <= t_end]
        if not covering:
            out.append(piece)
            continue
        style = _TERM_STYLE if any(k == "term" for k, _ in covering) else _EXCLUSION_STYLE
        title = html.escape("; ".join(dict.fromkeys(t for _, t in covering)))
        out.append(f'<mark style="{style}" title="{title}">{piece}</mark>')
    return "".join(out)
