"""The keyword taxonomy: data (TOML), validated by pydantic at load, versioned and hashed.

A taxonomy file holds the three families of LABELS.md split into subcategories. Each
subcategory lists terms per language, part-number / model-series patterns, HS-2022 prefixes,
CHPL tiers and control-list references for a reviewer to check (references, never a
verdict). Exclusions are phrases that cancel matches (``potato chips`` cancels the
microelectronics term ``chips``).

The default taxonomy ships inside the package (``dualuse/data/taxonomy.toml``). Users load
their own file with :func:`load_taxonomy` or extend the default with
:meth:`Taxonomy.extended_with`. Every problem is reported as a :class:`TaxonomyError` naming
the file, the entry and the problem. Files are parsed as TOML (data only, no code runs) and
are size-limited; regular-expression patterns are restricted so that none can backtrack
catastrophically.
"""

from __future__ import annotations

import hashlib
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .categories import Family
from .errors import TaxonomyError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "Language",
    "LANGUAGES",
    "Pattern",
    "Subcategory",
    "Exclusion",
    "Brand",
    "Series",
    "BRAND_SERIES_WEIGHT",
    "Taxonomy",
    "TermEntry",
    "load_taxonomy",
    "default_taxonomy",
    "MAX_TAXONOMY_BYTES",
]

Language = Literal["en", "ru", "zh", "de", "fr", "es", "it", "tr", "ja", "ko", "other"]
LANGUAGES: tuple[str, ...] = ("en", "ru", "zh", "de", "fr", "es", "it", "tr", "ja", "ko", "other")

#: A taxonomy file larger than this is refused before parsing (untrusted input).
MAX_TAXONOMY_BYTES = 2_000_000
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
    def _safe_regex(cls, value: str) -> str:
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
#: a manufacturer part-number series (``stm32``), so it weighs as much.
BRAND_SERIES_WEIGHT = 2.0
_NAME = r"^[A-Za-z0-9][A-Za-z0-9 .+&'/-]*$"
_SERIES = r"^[A-Za-z0-9][A-Za-z0-9 .+/-]*#?$"
# Separators between the maker's name and a series, and inside multi-word names, as they are
# written in trade records ("Haas VF-2", "DMG MORI CMX 1100 V", "Mazak QUICK TURN-250").
# Literal characters only: the training-line generator samples patterns (dualuse.synth).
_GAP = "[ ,:_./-]{1,3}"
_INNER = "[ _./-]{0,2}"
# A series without a model number ends at a non-letter: "Pulsar Thermion" is not "Thermionic".
_SERIES_END = "(?:$|[ ,;:()_./+0-9-])"


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
    aliases: Annotated[list[Annotated[str, Field(min_length=2, max_length=40, pattern=_NAME)]], Field(min_length=1, max_length=60)]
    subcategory: Annotated[str, Field(pattern=_ID)]
    brand_alone: bool = True
    series: Annotated[list[Series], Field(max_length=100)] = []
    source: Annotated[str, Field(min_length=1)]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def _literal_regex(text: str) -> str:
    """A regex for a name as written: folded, words joined by any short run of separators."""
    from .normalize import fold  # local import: normalize does not depend on taxonomy

    words = [w for w in re.split(r"[\s\-_/.]+", fold(text)) if w]
    return _INNER.join(re.escape(w) for w in words)


def _series_regex(series: Series) -> str:
    if series.model:
        tail = "[ _./-]{0,2}[0-9]"
    elif series.name[-1].isdigit():
        tail = ""  # a name ending in a digit is a part-number stem: "STM32" + "F407", "TC58" + "NVG"
    else:
        tail = _SERIES_END
    return _literal_regex(series.name) + tail


def brand_patterns(brand: Brand) -> list[tuple[str, Pattern]]:
    """The ``(subcategory id, pattern)`` pairs a brand entry expands into (see :class:`Brand`).

    The series of one maker and subcategory share one pattern, ``brand:<maker>:<subcategory>``
    (the matched text names the series as written): one pattern per series made keyword
    matching four times slower, because the matcher tries every pattern that can start at a
    token. A series that stands alone gets its own pattern, ``brand:<maker>:<series>``.
    """
    maker = _slug(brand.maker)
    names = sorted({_literal_regex(a) for a in brand.aliases}, key=lambda r: (-len(r), r))
    prefix = "(?:" + "|".join(names) + ")" + _GAP
    grouped: dict[str, list[Series]] = {}
    out: list[tuple[str, Pattern]] = []
    for series in brand.series:
        sub = series.subcategory or brand.subcategory
        if series.alone:
            note = f"{brand.maker} {series.name} ({brand.source})"
            out.append((sub, _generated_pattern(f"brand:{maker}:{_slug(series.name)}", _series_regex(series), note)))
        else:
            grouped.setdefault(sub, []).append(series)
    for sub, members in grouped.items():
        bodies = sorted({_series_regex(x) for x in members}, key=lambda r: (-len(r), r))
        note = f"{brand.maker}: " + ", ".join(x.name for x in members) + f" ({brand.source})"
        regex = prefix + "(?:" + "|".join(bodies) + ")"
        out.append((sub, _generated_pattern(f"brand:{maker}:{_slug(sub.rsplit('.', 1)[-1])}", regex, note)))
    return out


def _generated_pattern(pid: str, regex: str, note: str) -> Pattern:
    check_pattern_is_safe(regex)  # generated from literals; checked all the same
    # built without the length limit of hand-written patterns (aliases and series make it long)
    return Pattern.model_construct(id=pid, regex=regex, note=note, weight=BRAND_SERIES_WEIGHT)


def _expand_brands(data: TaxonomyFile, where: str, *, strict: bool) -> list[Subcategory]:
    """The subcategories with the brand registry folded in (weak brand terms, series patterns)."""
    by_id = {s.id: i for i, s in enumerate(data.subcategories)}
    extra_patterns: dict[str, list[Pattern]] = {}
    extra_weak: dict[str, list[str]] = {}
    for n, brand in enumerate(data.brands):
        pairs = brand_patterns(brand)
        for sub_id in {brand.subcategory, *(s for s, _ in pairs)}:
            if sub_id not in by_id and strict:
                raise TaxonomyError(f"{where}: [[brand]] #{n + 1} ({brand.maker!r}): no subcategory {sub_id!r}")
        if brand.brand_alone:
            extra_weak.setdefault(brand.subcategory, []).extend(brand.aliases)
        for sub_id, pattern in pairs:
            extra_patterns.setdefault(sub_id, []).append(pattern)
    out: list[Subcategory] = []
    for sub in data.subcategories:
        patterns = extra_patterns.get(sub.id, [])
        weak = extra_weak.get(sub.id, [])
        if not patterns and not weak:
            out.append(sub)
            continue
        seen = {(p.id, p.regex) for p in sub.patterns}
        new = [p for p in patterns if (p.id, p.regex) not in seen and not seen.add((p.id, p.regex))]
        weak_terms = sub.weak_terms.model_copy(update={"other": list(dict.fromkeys([*sub.weak_terms.other, *weak]))})
        out.append(sub.model_copy(update={"patterns": [*sub.patterns, *new], "weak_terms": weak_terms}))
    return out


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


@dataclass(frozen=True)
class TermEntry:
    """One term of a taxonomy, flattened for the matcher."""

    text: str
    language: str
    subcategory: str
    family: str
    weight: float


class Taxonomy:
    """A validated taxonomy, its version and the sha256 of its canonical content."""

    def __init__(self, data: TaxonomyFile, *, source: str, sha256: str, extension: bool = False) -> None:
        self.data = data
        self.source = source
        self.sha256 = sha256
        # an extension may name subcategories of the taxonomy it extends: checked once merged
        self._subcategories = _expand_brands(data, source, strict=not extension)
        self._by_id = {s.id: s for s in self._subcategories}
        _check_consistency(data, source, spares_must_exist=not extension, subcategories=self._subcategories)

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def version(self) -> str:
        return self.data.version

    @property
    def subcategories(self) -> list[Subcategory]:
        """The subcategories with the brand registry expanded into them (see :class:`Brand`)."""
        return list(self._subcategories)

    @property
    def brands(self) -> list[Brand]:
        return list(self.data.brands)

    @property
    def exclusions(self) -> list[Exclusion]:
        return list(self.data.exclusions)

    def subcategory(self, subcategory_id: str) -> Subcategory:
        """The subcategory with this id (KeyError if absent)."""
        return self._by_id[subcategory_id]

    def term_entries(self, *, weak_weight: float = 0.5) -> list[TermEntry]:
        """All terms, strong (weight 1) and weak (``weak_weight``), in file order."""
        out: list[TermEntry] = []
        for sub in self._subcategories:
            for lang, term in sub.terms.items():
                out.append(TermEntry(term, lang, sub.id, sub.family, 1.0))
            for lang, term in sub.weak_terms.items():
                out.append(TermEntry(term, lang, sub.id, sub.family, weak_weight))
        return out

    def extended_with(self, other: Taxonomy | TaxonomyFile | dict) -> Taxonomy:
        """A new taxonomy: this one plus the subcategories and exclusions of ``other``.

        A subcategory of ``other`` whose id exists here adds its terms, patterns and
        references to the existing one; a new id is appended. The result's version is
        ``other``'s and its hash covers the merged content.
        """
        if isinstance(other, dict):
            other_data = _validate(other, "<dict>")
        elif isinstance(other, Taxonomy):
            other_data = other.data
        else:
            other_data = other
        merged_subs: list[Subcategory] = []
        extra = {s.id: s for s in other_data.subcategories}
        for sub in self.data.subcategories:
            add = extra.pop(sub.id, None)
            merged_subs.append(sub if add is None else _merge_subcategory(sub, add, other_data.name))
        merged_subs.extend(extra.values())
        merged = TaxonomyFile(
            schema_version=1,
            name=f"{self.data.name}+{other_data.name}",
            version=other_data.version,
            description=self.data.description,
            families={**self.data.families, **other_data.families},
            subcategories=merged_subs,
            exclusions=[*self.data.exclusions, *other_data.exclusions],
            brands=[*self.data.brands, *other_data.brands],
        )
        return Taxonomy(merged, source=f"{self.source}+{other_data.name}", sha256=_content_hash(merged))

    def __repr__(self) -> str:
        return f"Taxonomy(name={self.name!r}, version={self.version!r}, subcategories={len(self.data.subcategories)}, sha256={self.sha256[:12]}...)"


def _merge_subcategory(base: Subcategory, add: Subcategory, where: str) -> Subcategory:
    if add.family != base.family:
        raise TaxonomyError(
            f"{where}: subcategory {add.id!r}: family {add.family!r} conflicts with the existing family {base.family!r}"
        )

    def merge_terms(a: Terms, b: Terms) -> Terms:
        return Terms(**{lang: list(dict.fromkeys([*getattr(a, lang), *getattr(b, lang)])) for lang in LANGUAGES})

    return base.model_copy(
        update={
            "terms": merge_terms(base.terms, add.terms),
            "weak_terms": merge_terms(base.weak_terms, add.weak_terms),
            "patterns": [*base.patterns, *[p for p in add.patterns if p.id not in {q.id for q in base.patterns}]],
            "brands": list(dict.fromkeys([*base.brands, *add.brands])),
            "hs_prefixes": list(dict.fromkeys([*base.hs_prefixes, *add.hs_prefixes])),
            "chpl_tiers": list(dict.fromkeys([*base.chpl_tiers, *add.chpl_tiers])),
            "control_refs": list(dict.fromkeys([*base.control_refs, *add.control_refs])),
        }
    )


# --------------------------------------------------------------------------- regex safety


def check_pattern_is_safe(regex: str) -> None:
    """Refuse patterns that could backtrack catastrophically or that do more than match.

    Allowed: literals, character classes, groups, alternation, bounded or simple repeats,
    optional parts (``(a|b)?``, ``(x\\d+)?``), inline flags. Refused: a repeat or an alternation inside a repeat (``(a+)+``,
    ``(a|aa)+``), more than one repeat of more than 20 (``\\w+\\w+x`` is cubic),
    back-references, look-arounds, conditionals, and anything ``re`` warns about.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. FutureWarning "possible nested set"
            compiled = re.compile(regex)
    except (re.error, Warning) as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    if compiled.groups > 10:
        raise ValueError("too many groups (at most 10)")
    try:  # the parser is private API; its name changed in 3.11
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = sre_parse.parse(regex)
    long_repeats = [0]
    _walk_regex(parsed, sre_parse, inside_repeat=False, long_repeats=long_repeats)


def _walk_regex(items, sre_parse, *, inside_repeat: bool, long_repeats: list[int]) -> None:  # noqa: ANN001
    names = sre_parse
    for op, arg in items:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            if inside_repeat:  # anything repeated inside a repeat, even an optional part
                raise ValueError("nested repeats (a repeat inside a repeat) can backtrack catastrophically")
            if hi is names.MAXREPEAT and lo > 20:
                raise ValueError("unbounded repeat with a large minimum")
            if hi is names.MAXREPEAT or hi > 20:
                long_repeats[0] += 1
                if long_repeats[0] > 1:
                    raise ValueError("more than one long repeat (e.g. \\w+\\w+) can backtrack polynomially")
            # inside an optional part (max 1, tried at most twice) repeats and alternations are fine
            _walk_regex(sub, sre_parse, inside_repeat=hi != 1, long_repeats=long_repeats)
        elif name == "SUBPATTERN":
            _walk_regex(arg[-1], sre_parse, inside_repeat=inside_repeat, long_repeats=long_repeats)
        elif name == "BRANCH":
            if inside_repeat:
                raise ValueError("an alternation inside a repeat ((a|aa)+) can backtrack exponentially")
            for branch in arg[1]:
                _walk_regex(branch, sre_parse, inside_repeat=inside_repeat, long_repeats=long_repeats)
        elif name in ("GROUPREF", "GROUPREF_EXISTS", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"):
            raise ValueError(f"{name.lower()} is not allowed in taxonomy patterns")
        elif name in ("LITERAL", "NOT_LITERAL", "IN", "ANY", "AT", "RANGE", "CATEGORY", "NEGATE"):
            continue
        else:  # anything new or unusual is refused rather than trusted
            raise ValueError(f"regex construct {name} is not allowed in taxonomy patterns")


# --------------------------------------------------------------------------- loading


def _format_validation_error(exc: ValidationError, data: dict) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = list(err["loc"])
        where = _describe_location(loc, data)
        parts.append(f"{where}: {err['msg']} (got {_short(err.get('input'))})")
    more = len(exc.errors()) - 10
    if more > 0:
        parts.append(f"... and {more} more problems")
    return "; ".join(parts)


def _describe_location(loc: list, data: dict) -> str:
    """Turn pydantic's location into words a taxonomy author recognises (entry ids)."""
    if len(loc) >= 2 and loc[0] == "brand" and isinstance(loc[1], int):
        entries = data.get("brand", [])
        maker = entries[loc[1]].get("maker", "?") if loc[1] < len(entries) and isinstance(entries[loc[1]], dict) else "?"
        rest = ".".join(str(x) for x in loc[2:])
        return f"[[brand]] #{loc[1] + 1} (maker {maker!r})" + (f" field {rest}" if rest else "")
    if len(loc) >= 2 and loc[0] in ("subcategory", "exclusion") and isinstance(loc[1], int):
        entries = data.get(loc[0], [])
        entry_id = entries[loc[1]].get("id", "?") if loc[1] < len(entries) and isinstance(entries[loc[1]], dict) else "?"
        rest = ".".join(str(x) for x in loc[2:])
        return f"[[{loc[0]}]] #{loc[1] + 1} (id {entry_id!r})" + (f" field {rest}" if rest else "")
    return "field " + ".".join(str(x) for x in loc) if loc else "top level"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _validate(raw: dict, where: str) -> TaxonomyFile:
    try:
        return TaxonomyFile.model_validate(raw)
    except ValidationError as exc:
        raise TaxonomyError(f"{where}: invalid taxonomy: {_format_validation_error(exc, raw)}") from None


def _content_hash(data: TaxonomyFile) -> str:
    canonical = data.model_dump_json(by_alias=True).encode("utf-8")
    return hashlib.sha256(canonical).hexdigest()


def _check_consistency(
    data: TaxonomyFile, where: str, *, spares_must_exist: bool = True, subcategories: list[Subcategory] | None = None
) -> None:
    """Duplicate ids, terms claimed by two families and stray ``spares`` are errors; say which entries.

    ``subcategories`` are the expanded ones (brand aliases are weak terms there), so a brand
    name cannot point at two families either.
    """
    seen: dict[str, int] = {}
    for i, sub in enumerate(data.subcategories):
        if sub.id in seen:
            raise TaxonomyError(f"{where}: [[subcategory]] #{i + 1}: duplicate id {sub.id!r} (first at #{seen[sub.id] + 1})")
        seen[sub.id] = i
    seen_ex: set[str] = set()
    for i, ex in enumerate(data.exclusions):
        if ex.id in seen_ex:
            raise TaxonomyError(f"{where}: [[exclusion]] #{i + 1}: duplicate id {ex.id!r}")
        seen_ex.add(ex.id)
        for sub_id in ex.spares:
            if sub_id in seen:
                ok = data.subcategories[seen[sub_id]].family in ex.families
            else:
                ok = not spares_must_exist
            if not ok:
                raise TaxonomyError(
                    f"{where}: [[exclusion]] {ex.id!r}: spares {sub_id!r} is not a subcategory of its families {ex.families}"
                )
    # a term may repeat inside a family (harmless), but not across families
    from .normalize import term_key  # local import: normalize does not depend on taxonomy

    owner: dict[str, tuple[str, str]] = {}
    for sub in subcategories if subcategories is not None else data.subcategories:
        for _, term in [*sub.terms.items(), *sub.weak_terms.items()]:
            key = term_key(term)
            if not key:
                raise TaxonomyError(f"{where}: subcategory {sub.id!r}: term {term!r} is empty after normalisation")
            prev = owner.get(key)
            if prev is not None and prev[1] != sub.family:
                raise TaxonomyError(
                    f"{where}: subcategory {sub.id!r}: term {term!r} conflicts with the same term in "
                    f"subcategory {prev[0]!r} of family {prev[1]!r}"
                )
            owner.setdefault(key, (sub.id, sub.family))


def load_taxonomy(path: str | Path | None = None, *, extend_default: bool = False) -> Taxonomy:
    """Load and validate a taxonomy TOML file (the packaged default when ``path`` is None).

    With ``extend_default=True`` the file's entries are added to the default taxonomy.
    Raises :class:`TaxonomyError` naming the file, the entry and the problem.
    """
    if path is None:
        raw_bytes = resources.files("dualuse").joinpath("data/taxonomy.toml").read_bytes()
        where = "dualuse/data/taxonomy.toml"
    else:
        if not isinstance(path, (str, Path)):
            raise TaxonomyError(f"path: expected a str or pathlib.Path, got {type(path).__name__}")
        p = Path(path)
        where = str(p)
        try:  # bounded read: the limit holds on the bytes read, not on what stat() says
            with open(p, "rb") as fh:
                raw_bytes = fh.read(MAX_TAXONOMY_BYTES + 1)
        except OSError as exc:
            raise TaxonomyError(f"{where}: cannot read taxonomy file: {exc.strerror or exc}") from None
        if len(raw_bytes) > MAX_TAXONOMY_BYTES:
            raise TaxonomyError(f"{where}: taxonomy file is over {MAX_TAXONOMY_BYTES} bytes; the limit is {MAX_TAXONOMY_BYTES}")
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{where}: taxonomy file is not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{where}: not valid TOML: {exc}") from None
    data = _validate(raw, where)
    extension = extend_default and path is not None
    taxonomy = Taxonomy(data, source=where, sha256=_content_hash(data), extension=extension)
    if extension:
        return default_taxonomy().extended_with(taxonomy)
    return taxonomy


_DEFAULT: Taxonomy | None = None


def default_taxonomy() -> Taxonomy:
    """The packaged taxonomy, loaded and validated once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_taxonomy()
    return _DEFAULT
