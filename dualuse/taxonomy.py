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
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from .brands import BRAND_SERIES_WEIGHT, expand_brands
from .errors import TaxonomyError
from .taxonomy_schema import (
    LANGUAGES,
    PACKAGED_CONTEXT,
    Brand,
    Exclusion,
    Language,
    Pattern,
    Series,
    Subcategory,
    TaxonomyFile,
    Terms,
    check_pattern_is_safe,
)
from .untrusted import read_regular_file

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
    "check_pattern_is_safe",
    "MAX_TAXONOMY_BYTES",
]

#: A taxonomy file larger than this is refused before parsing (untrusted input).
MAX_TAXONOMY_BYTES = 2_000_000


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

    def __init__(self, data: TaxonomyFile, *, source: str, sha256: str, extension: bool = False, packaged: bool = False) -> None:
        self.data = data
        self.source = source
        self.sha256 = sha256
        # an extension may name subcategories of the taxonomy it extends: checked once merged;
        # the packaged taxonomy's generated patterns are checked by its tests (PACKAGED_CONTEXT)
        self._subcategories = expand_brands(data, source, strict=not extension, check=not packaged)
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


def _validate(raw: dict, where: str, *, packaged: bool = False) -> TaxonomyFile:
    try:
        return TaxonomyFile.model_validate(raw, context={PACKAGED_CONTEXT: True} if packaged else None)
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
        # a regular file (a FIFO would block, a device never end), at most MAX_TAXONOMY_BYTES
        try:
            raw_bytes = read_regular_file(p, MAX_TAXONOMY_BYTES, TaxonomyError, follow_symlinks=True)
        except TaxonomyError as exc:
            problem = str(exc).removeprefix(f"{p}: ")
            raise TaxonomyError(f"{where}: cannot read taxonomy file: {problem}") from None
    try:
        # "utf-8-sig": a byte-order mark, as Windows editors write one, is read and dropped
        raw = tomllib.loads(raw_bytes.decode("utf-8-sig"))
        data = _validate(raw, where, packaged=path is None)
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{where}: taxonomy file is not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:  # arrays or inline tables nested thousands deep: the parser recurses
        raise TaxonomyError(
            f"{where}: not a taxonomy: arrays or tables nested too deeply (a taxonomy nests at most a few levels)"
        ) from None
    extension = extend_default and path is not None
    taxonomy = Taxonomy(data, source=where, sha256=_content_hash(data), extension=extension, packaged=path is None)
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
