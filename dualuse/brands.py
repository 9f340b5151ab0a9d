"""The brand registry: makers and their model series, expanded into taxonomy evidence.

A ``[[brand]]`` entry of a taxonomy names a maker, its aliases, the subcategory its products
belong to and its model series. At load it becomes (1) the maker's name as a weak term, only
where nearly everything the maker sells is in the family (``brand_alone``), and (2) a
pattern of weight :data:`BRAND_SERIES_WEIGHT` for the name followed by one of its series
("Haas VF-4SS", "Pulsar Thermion XP50"); series that mean nothing else stand alone
("Robodrill"). The patterns are built from literals only, so they pass the same safety check
as hand-written ones.
"""

from __future__ import annotations

import re

from .errors import TaxonomyError
from .taxonomy_schema import Brand, Pattern, Series, Subcategory, TaxonomyFile, check_pattern_is_safe

__all__ = ["BRAND_SERIES_WEIGHT", "brand_patterns", "expand_brands"]

#: a manufacturer part-number series (``stm32``), so it weighs as much.
BRAND_SERIES_WEIGHT = 2.0
# Separators between the maker's name and a series, and inside multi-word names, as they are
# written in trade records ("Haas VF-2", "DMG MORI CMX 1100 V", "Mazak QUICK TURN-250").
# Literal characters only: the training-line generator samples patterns (dualuse.synth).
_GAP = "[ ,:_./-]{1,3}"
_INNER = "[ _./-]{0,2}"
# A series without a model number ends at a non-letter: "Pulsar Thermion" is not "Thermionic".
_SERIES_END = "(?:$|[ ,;:()_./+0-9-])"


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


def brand_patterns(brand: Brand, *, check: bool = True) -> list[tuple[str, Pattern]]:
    """The ``(subcategory id, pattern)`` pairs a brand entry expands into (see :class:`Brand`).

    The series of one maker and subcategory share one pattern, ``brand:<maker>:<subcategory>``
    (the matched text names the series as written): one pattern per series made keyword
    matching four times slower, because the matcher tries every pattern that can start at a
    token. A series that stands alone gets its own pattern, ``brand:<maker>:<series>``.
    ``check``: run :func:`check_pattern_is_safe` on each (skipped for the packaged taxonomy).
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
            out.append((sub, _generated_pattern(f"brand:{maker}:{_slug(series.name)}", _series_regex(series), note, check)))
        else:
            grouped.setdefault(sub, []).append(series)
    for sub, members in grouped.items():
        bodies = sorted({_series_regex(x) for x in members}, key=lambda r: (-len(r), r))
        note = f"{brand.maker}: " + ", ".join(x.name for x in members) + f" ({brand.source})"
        regex = prefix + "(?:" + "|".join(bodies) + ")"
        out.append((sub, _generated_pattern(f"brand:{maker}:{_slug(sub.rsplit('.', 1)[-1])}", regex, note, check)))
    return out


def _generated_pattern(pid: str, regex: str, note: str, check: bool) -> Pattern:
    if check:
        check_pattern_is_safe(regex)  # generated from literals; checked all the same
    # built without the length limit of hand-written patterns (aliases and series make it long)
    return Pattern.model_construct(id=pid, regex=regex, note=note, weight=BRAND_SERIES_WEIGHT)


def expand_brands(data: TaxonomyFile, where: str, *, strict: bool, check: bool = True) -> list[Subcategory]:
    """The subcategories with the brand registry folded in (weak brand terms, series patterns).

    ``check``: check each generated pattern (see :func:`brand_patterns`).
    """
    by_id = {s.id: i for i, s in enumerate(data.subcategories)}
    extra_patterns: dict[str, list[Pattern]] = {}
    extra_weak: dict[str, list[str]] = {}
    for n, brand in enumerate(data.brands):
        pairs = brand_patterns(brand, check=check)
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
        new: list[Pattern] = []
        for p in patterns:
            if (p.id, p.regex) not in seen:
                seen.add((p.id, p.regex))
                new.append(p)
        weak_terms = sub.weak_terms.model_copy(update={"other": list(dict.fromkeys([*sub.weak_terms.other, *weak]))})
        out.append(sub.model_copy(update={"patterns": [*sub.patterns, *new], "weak_terms": weak_terms}))
    return out
