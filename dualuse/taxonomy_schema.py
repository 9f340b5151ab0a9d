"""The schema of a taxonomy file: pydantic models that validate it, and the pattern safety check.

Everything a TOML taxonomy may contain is declared here (families, subcategories with terms
per language, patterns, HS prefixes, CHPL tiers and control-list references, exclusions, the
brand registry); :mod:`dualuse.taxonomy` loads files against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ._linear_regex import MAX_PATTERN_WIDTH, validate_pattern
from .categories import Family

__all__ = [
    "Language",
    "LANGUAGES",
    "Terms",
    "Pattern",
    "Subcategory",
    "Exclusion",
    "Series",
    "Brand",
    "FamilyInfo",
    "TaxonomyFile",
    "check_pattern_is_safe",
    "MAX_TERM_CHARS",
    "MAX_PATTERN_CHARS",
    "MAX_PATTERN_WIDTH",
]

Language = Literal["en", "ru", "zh", "de", "fr", "es", "it", "tr", "ja", "ko", "other"]
LANGUAGES: tuple[str, ...] = ("en", "ru", "zh", "de", "fr", "es", "it", "tr", "ja", "ko", "other")

MAX_TERM_CHARS = 80
MAX_PATTERN_CHARS = 120

_ID = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
_HS_PREFIX = r"^\d{4,10}$"
_CHPL_TIER = r"^(1|2|3\.A|3\.B|4\.A|4\.B)$"
_CONTROL_REF = r"^\d[A-E]\d{3}[a-z0-9.]*$"

TermList = Annotated[list[Annotated[str, Field(min_length=1, max_length=MAX_TERM_CHARS)]], Field(max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Terms(_Strict):
    """Terms per language code. Matching is case-, width- and homoglyph-insensitive."""

    en: TermList = []
    ru: TermList = []
    zh: TermList = []
    de: TermList = []
    fr: TermList = []
    es: TermList = []
    it: TermList = []
    tr: TermList = []
    ja: TermList = []
    ko: TermList = []
    other: TermList = []

    def items(self) -> Iterator[tuple[str, str]]:
        """Yield ``(language, term)`` pairs in file order."""
        for lang in LANGUAGES:
            for term in getattr(self, lang):
                yield lang, term


class Pattern(_Strict):
    """A part-number or model-series pattern (a restricted regular expression).

    The pattern is matched case-insensitively at the start of a token (not preceded by a
    letter or digit); the reported span extends to the end of the token, so ``stm32[fghl]\\d``
    reports the whole ``STM32F407VGT6``.
    """

    #: ``brand:<maker>:<series>`` ids are generated from the brand registry (see :class:`Brand`).
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+(:[a-z0-9_]+){0,2}$")]
    regex: Annotated[str, Field(min_length=2, max_length=MAX_PATTERN_CHARS)]
    note: str = ""
    weight: Annotated[float, Field(gt=0, le=3)] = 1.0

    @field_validator("regex")
    @classmethod
    def _safe_regex(cls, value: str, info: ValidationInfo) -> str:
        # the package's own taxonomy is checked by its tests (as code is), not at every start
        if not (info.context or {}).get(PACKAGED_CONTEXT):
            check_pattern_is_safe(value)
        return value


class Subcategory(_Strict):
    """One subcategory of a family, with everything that identifies it."""

    id: Annotated[str, Field(pattern=_ID)]
    family: Family
    label: Annotated[str, Field(min_length=1)]
    description: str = ""
    terms: Terms
    #: Terms that point at the family but are ambiguous alone; they weigh less.
    weak_terms: Terms = Terms()
    patterns: list[Pattern] = []
    #: Makers whose names appear on invoices (used to generate training lines, not as terms).
    brands: list[str] = []
    hs_prefixes: list[Annotated[str, Field(pattern=_HS_PREFIX)]] = []
    chpl_tiers: list[Annotated[str, Field(pattern=_CHPL_TIER)]] = []
    control_refs: list[Annotated[str, Field(pattern=_CONTROL_REF)]] = []

    @model_validator(mode="after")
    def _has_terms(self) -> Subcategory:
        if not any(True for _ in self.terms.items()) and not self.patterns:
            raise ValueError("a subcategory needs at least one term or pattern")
        return self


class Exclusion(_Strict):
    """Phrases that cancel matches of the listed families.

    ``scope = "overlap"`` cancels a term only where the phrase covers it (``potato chips``
    cancels ``chips`` but not ``IC chips`` elsewhere in the line); the phrase consumes its
    text, so it covers terms of every family, whatever ``families`` says; ``scope = "text"``
    cancels every match of the listed families in the whole description (``coffee`` cancels
    ``grinder``); ``scope = "head"`` names an item that is outside the families even when one
    of their terms describes it: it covers like ``overlap`` and also cancels a term of the
    listed families right before it in the same noun phrase (``telescope tripod``, ``lathe
    cutting tools``) or after "for" in its complement (``cutting tools for lathes``).
    Phrases are matched like terms. ``spares`` lists subcategories of those families whose
    terms the exclusion leaves standing: "for wood" cancels a CNC router, but a laser cutter
    shapes any material and stays a machine tool (LABELS.md, HS 8456).
    """

    id: Annotated[str, Field(pattern=_ID)]
    phrases: Terms
    families: Annotated[list[Family], Field(min_length=1)]
    scope: Literal["overlap", "head", "text"] = "overlap"
    spares: list[str] = []
    note: str = ""


#: Weight of a maker's model series found in a text: a series names the product line, like


_NAME = r"^[A-Za-z0-9][A-Za-z0-9 .+&'/-]*$"
_SERIES = r"^[A-Za-z0-9][A-Za-z0-9 .+/-]*#?$"


class Series(_Strict):
    """A model series of a maker, as written on invoices: ``VF`` (Haas), ``Quick Turn`` (Mazak).

    ``model = true`` (written ``"VF#"`` in the short form) requires a model number after the
    series name ("VF-2", "ST 30Y"), for names too short to stand for the line-up without one.
    Otherwise a name ending in a letter must end at a non-letter ("Thermion", not
    "Thermionic"), and a name ending in a digit is a part-number stem that letters may follow
    ("STM32" in "STM32F407").
    ``alone = true`` also matches the series without the maker's name (``Robodrill``,
    ``Thermion``): only for names that mean nothing else. ``subcategory`` overrides the
    brand's when a maker's line-up spans subcategories (Haas ST lathes beside VF mills).
    """

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=_SERIES)]
    model: bool = False
    alone: bool = False
    subcategory: Annotated[str, Field(pattern=_ID)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        if isinstance(value, str):
            name = value.strip()
            return {"name": name[:-1], "model": True} if name.endswith("#") else {"name": name}
        return value


class Brand(_Strict):
    """A maker and its model series, as evidence for one subcategory (``[[brand]]`` entries).

    Expanded at load into (a) each alias as a weak term of the subcategory, when
    ``brand_alone`` is true (only for makers whose products are all, or nearly all, in the
    family: a Nikon may be a camera, a Fanuc a robot), and (b) patterns of weight
    :data:`BRAND_SERIES_WEIGHT` that match an alias followed by one of the series ("Haas
    VF-4SS" reads ``brand:haas_automation:machining_centres`` over "Haas VF-4SS": the id names
    the maker, the matched text the series as written), and a series alone when it is marked
    ``alone`` (``brand:fanuc:robodrill``).
    An entry may group several makers of one kind (fiber-laser makers) under one ``maker``. ``source`` says where the line-up comes from (the maker's
    catalogue or website): every series is a fact a reviewer can check.
    """

    maker: Annotated[str, Field(min_length=1, max_length=60)]
    aliases: Annotated[
        list[Annotated[str, Field(min_length=2, max_length=40, pattern=_NAME)]], Field(min_length=1, max_length=60)
    ]
    subcategory: Annotated[str, Field(pattern=_ID)]
    brand_alone: bool = True
    series: Annotated[list[Series], Field(max_length=100)] = []
    source: Annotated[str, Field(min_length=1)]


class FamilyInfo(_Strict):
    """Human-readable description of a family."""

    label: str
    description: str = ""


class TaxonomyFile(_Strict):
    """The schema of a taxonomy TOML file."""

    schema_version: Literal[1]
    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+([.-][0-9A-Za-z.]+)?$")]
    description: str = ""
    families: dict[Family, FamilyInfo] = {}
    subcategories: Annotated[list[Subcategory], Field(alias="subcategory")] = []
    exclusions: Annotated[list[Exclusion], Field(alias="exclusion")] = []
    brands: Annotated[list[Brand], Field(alias="brand")] = []

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


#: Validation context key: the data is the taxonomy shipped inside the package (see
#: :func:`dualuse.taxonomy.load_taxonomy`), whose patterns ``tests/test_taxonomy_content.py``
#: checks with :func:`check_pattern_is_safe`; the check parses every pattern twice in pure
#: Python, a quarter of a cold start, and guards against hostile files, which this is not.
PACKAGED_CONTEXT = "packaged"


def check_pattern_is_safe(regex: str) -> None:
    """Refuse a pattern that could make matching slower than linear, or that does more than match.

    Patterns are matched by a linear-time engine (RE2, see :mod:`dualuse._linear_regex`), so
    no pattern can backtrack. Refused: constructs that engine has no linear-time form for
    (back-references, look-arounds, conditionals, atomic groups, possessive repeats), unbounded
    repeats (``+``, ``*``, ``{n,}``: write ``{1,20}``), a pattern that can match more than
    :data:`MAX_PATTERN_WIDTH` characters or the empty string (``z?`` would flag every text),
    more than 10 groups, and anything ``re`` warns about.
    """
    validate_pattern(regex)


# --------------------------------------------------------------------------- loading
