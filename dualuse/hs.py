"""HS codes: parsing, the family mapping of LABELS.md, CHPL tiers and the HS 2017 -> 2022 bridge.

Everything here follows ``LABELS.md`` ("HS 2022 codes -> family"):

* the first match wins, most specific prefix first;
* ``8541`` is microelectronics except ``854141`` (LEDs), ``854142`` and ``854143``
  (photovoltaic), which are ``none``; ``9001`` is optics except ``900130``, ``900140`` and
  ``900150`` (contact lenses, spectacle lenses), which are ``none``;
* two *national-line* rules need the description: lines of ``853710`` that say "numerical
  control" are machine tools, lines of ``852589`` that say thermal or infrared are optics.
  Without a description (or when the phrase only occurs inside an exclusion such as
  "(excl. numerical control panels ...)") they are ``none``;
* HS 2017 codes ``8541.40`` and ``8541.50`` no longer exist in HS 2022 (split into
  ``8541.41``-``8541.49`` and ``8541.51``/``8541.59``). ``854150`` bridges unambiguously
  (both targets are microelectronics and CHPL tier 3.A). ``854140`` cannot be placed without
  the text (LEDs and solar cells are ``none``, other photosensitive devices are
  microelectronics): :func:`hs_family` returns ``none`` for it, :func:`hs_family_ambiguous`
  returns True and :attr:`HSCode.bridge_note` says why, so callers must not use it as
  family evidence.

An HS code is never a verdict: the family is evidence for a human reviewer.

Functions are cached (:func:`functools.lru_cache`) so that the batch path can call them once
per row for millions of rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from .categories import Category
from .errors import InputTypeError, InvalidHSCodeError, describe

__all__ = [
    "HSCode",
    "parse_hs_code",
    "hs_family",
    "hs_family_ambiguous",
    "chpl_tier",
    "chpl_table",
    "strip_exclusions",
    "HS_FAMILY_PREFIXES",
    "HS_EXCEPTIONS",
    "HS_NATIONAL_LINE_RULES",
    "HS2017_BRIDGE",
    "SPLIT_HEADINGS",
    "CHPL_SOURCE",
    "CHPL_DATE",
    "CHPL_TIERS",
]

#: Where the CHPL list comes from (the packaged copy is ``dualuse/data/chpl_2024.csv``).
CHPL_SOURCE = (
    "US Department of Commerce, Bureau of Industry and Security, Common High Priority Items List "
    "(joint US/EU/UK/Japan list), "
    "https://www.bis.gov/licensing/country-guidance/common-high-priority-items-list-chpl"
)
#: Publication date of the CHPL version shipped with the package.
CHPL_DATE = "2024-02-23"
#: The tiers of the CHPL, highest priority first.
CHPL_TIERS: tuple[str, ...] = ("1", "2", "3.A", "3.B", "4.A", "4.B")

#: LABELS.md "HS 2022 codes -> family": family -> HS prefixes (unconditional rules only).
HS_FAMILY_PREFIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "machine_tools": (
            "8456",
            "8457",
            "8458",
            "8459",
            "8460",
            "8461",
            "8462",
            "8463",
            "846610",
            "846620",
            "846630",
            "846693",
            "846694",
        ),
        "microelectronics": ("8542", "8541", "8486", "903082", "903141"),
        "optics": (
            "9001",
            "9002",
            "9005",
            "9011",
            "9013",
            "901510",
            "902730",
            "902750",
            "852583",
        ),
    }
)

#: The "except" rules of LABELS.md: rule prefix -> more specific prefixes that are ``none``.
HS_EXCEPTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "8541": ("854141", "854142", "854143"),  # LEDs; photovoltaic cells and panels
        "9001": ("900130", "900140", "900150"),  # contact lenses; spectacle lenses
    }
)

#: National-line rules: HS-6 -> (family, human-readable condition). The condition is
#: checked on the description (see :func:`hs_family`); otherwise the code is ``none``.
HS_NATIONAL_LINE_RULES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "853710": ("machine_tools", 'says "numerical control"'),
        "852589": ("optics", "says thermal or infrared"),
    }
)

_NATIONAL_LINE_PATTERNS: Mapping[str, re.Pattern[str]] = MappingProxyType(
    {
        "853710": re.compile(r"\bnumerical[\s-]+controls?\b", re.IGNORECASE),
        "852589": re.compile(r"\b(?:thermal|infra[\s-]?red)\b", re.IGNORECASE),
    }
)

#: HS 2017 six-digit codes that do not exist in HS 2022: code -> (HS 2022 code or None, note).
HS2017_BRIDGE: Mapping[str, tuple[str | None, str]] = MappingProxyType(
    {
        "854150": (
            "854159",
            "HS 2017 8541.50 (other semiconductor devices) was split in HS 2022 into 8541.51 "
            "(semiconductor-based transducers) and 8541.59 (other); both are microelectronics "
            "and CHPL tier 3.A, so it is mapped to 8541.59.",
        ),
        "854140": (
            None,
            "HS 2017 8541.40 (photosensitive semiconductor devices, including photovoltaic cells "
            "and light-emitting diodes) was split in HS 2022 into 8541.41 (LEDs, none), 8541.42 and "
            "8541.43 (photovoltaic cells and panels, none) and 8541.49 (other photosensitive "
            "devices, microelectronics); it cannot be placed without the text, so the code is "
            "not family evidence.",
        ),
    }
)

#: Headings whose six-digit subheadings fall in different families. A code given with only
#: these four digits is reported as ambiguous by :func:`hs_family_ambiguous`.
SPLIT_HEADINGS: frozenset[str] = frozenset(
    p[:4]
    for prefixes in (*HS_FAMILY_PREFIXES.values(), *HS_EXCEPTIONS.values(), tuple(HS_NATIONAL_LINE_RULES))
    for p in prefixes
    if len(p) > 4
)

# Most specific prefix first; exceptions map to "none".
_RULES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [(p, fam) for fam, prefixes in HS_FAMILY_PREFIXES.items() for p in prefixes]
        + [(p, "none") for excepted in HS_EXCEPTIONS.values() for p in excepted],
        key=lambda rule: (-len(rule[0]), rule[0]),
    )
)

_SHAPE = re.compile(r"[0-9]+(?:(?:\s*[.\-]\s*|\s+)[0-9]+)*")
_NON_DIGITS = re.compile(r"[^0-9]")
_EXPECTED = "expected 4-10 digits with optional dots or spaces (e.g. '8458.11')"


@dataclass(frozen=True)
class HSCode:
    """A parsed HS code (HS 2022 after the bridge)."""

    raw: str
    """The code as given."""
    digits: str
    """4-10 digits, separators removed, after the HS 2017 -> 2022 bridge when applicable."""
    hs6: str | None
    """The first 6 digits, or None when only 4 or 5 digits were given."""
    bridged_from: str | None = None
    """The HS 2017 six-digit code when the bridge applied (even when ambiguous), else None."""
    bridge_note: str | None = None
    """A human explanation of the bridge, else None."""

    @property
    def heading(self) -> str:
        """The first four digits."""
        return self.digits[:4]

    def __str__(self) -> str:
        return self.digits


@lru_cache(maxsize=65536)
def _parse(code: str) -> HSCode | None:
    text = code.strip()
    if not _SHAPE.fullmatch(text):
        return None
    digits = _NON_DIGITS.sub("", text)
    if not 4 <= len(digits) <= 10:
        return None
    hs6 = digits[:6] if len(digits) >= 6 else None
    bridge = HS2017_BRIDGE.get(hs6) if hs6 else None
    if bridge is None:
        return HSCode(raw=code, digits=digits, hs6=hs6)
    target, note = bridge
    if target is None:  # ambiguous: keep the HS 2017 digits
        return HSCode(raw=code, digits=digits, hs6=hs6, bridged_from=hs6, bridge_note=note)
    return HSCode(raw=code, digits=target + digits[6:], hs6=target, bridged_from=hs6, bridge_note=note)


def parse_hs_code(code: object, *, param: str = "hs_code") -> HSCode:
    """Parse an HS code given as a string of 4-10 digits with optional dots, spaces or hyphens.

    ``"8458.11"``, ``"8458 11 00"``, ``"84581100"`` and ``"8458.11.0090"`` are accepted. HS 2017
    codes 8541.40/8541.50 are bridged to HS 2022 (see the module docstring).

    Raises:
        InputTypeError: ``code`` is not a ``str`` (ints would lose leading zeros).
        InvalidHSCodeError: ``code`` is empty, has letters or other junk, or has fewer than 4
            or more than 10 digits. Messages name ``param``, what was expected and what was
            received.
    """
    if not isinstance(code, str):
        raise InputTypeError(
            f"{param}: expected a str of 4-10 digits (e.g. '8458.11'; pass codes as strings to keep "
            f"leading zeros), got {describe(code)}"
        )
    parsed = _parse(code)
    if parsed is None:
        raise InvalidHSCodeError(f"{param}: {_EXPECTED}, got {describe(code)}")
    return parsed


def _as_code(code: HSCode | str, param: str) -> HSCode:
    return code if isinstance(code, HSCode) else parse_hs_code(code, param=param)


# "(excl. ...)", "(excluding ...)", "(other than ...)", "(not ...)", "(except ...)", one nesting level.
_PAREN_EXCLUSION = re.compile(
    r"\(\s*(?:excl\b\.?|excluding\b|other\s+than\b|except\b|not\b)[^()]*(?:\([^()]*\)[^()]*)*\)",
    re.IGNORECASE,
)
# An unparenthesised exclusion runs to the end of its clause.
_CLAUSE_EXCLUSION = re.compile(r"\b(?:excl\b\.?|excluding\b|other\s+than\b|except\b)[^;:()]*", re.IGNORECASE)


def strip_exclusions(text: str) -> str:
    """``text`` without its exclusion clauses, so that phrases there do not count.

    Removes parenthesised exclusions ("(excl. numerical control panels ...)", "(other than
    ...)") and unparenthesised ones up to the end of their clause ("Lasers, other than laser
    diodes; ..." keeps "Lasers, ; ..."). Used by the national-line rules and by the corpus
    builder's "not settled" phrase rules.
    """
    if "(" in text:
        text = _PAREN_EXCLUSION.sub(" ", text)
    return _CLAUSE_EXCLUSION.sub(" ", text)


_RULE_INDEX: Mapping[str, str] = MappingProxyType(dict(_RULES))
_RULE_LENGTHS: tuple[int, ...] = tuple(sorted({len(p) for p, _ in _RULES}, reverse=True))


@lru_cache(maxsize=65536)
def _family_of_digits(digits: str) -> str:
    for n in _RULE_LENGTHS:  # most specific prefix first
        family = _RULE_INDEX.get(digits[:n]) if len(digits) >= n else None
        if family is not None:
            return family
    return "none"


def hs_family(code: HSCode | str, description: str | None = None) -> Category:
    """The family of an HS 2022 code per LABELS.md (one of ``CATEGORIES``).

    The first matching prefix wins, most specific first, with the "except" rules of
    :data:`HS_EXCEPTIONS`. For the national-line rules (:data:`HS_NATIONAL_LINE_RULES`)
    ``description`` must say "numerical control" (853710 -> machine_tools) or thermal /
    infrared (852589 -> optics) outside an exclusion clause; without it these codes are
    ``none``. The ambiguous HS 2017 code 8541.40 is ``none`` (see :func:`hs_family_ambiguous`).
    A string ``code`` is parsed with :func:`parse_hs_code` (errors name the parameter ``code``).
    """
    hs = _as_code(code, "code")
    if description is not None and not isinstance(description, str):
        raise InputTypeError(f"description: expected a str or None, got {describe(description)}")
    if hs.bridged_from is not None and hs.hs6 == hs.bridged_from:  # bridge could not place it
        return "none"
    if hs.hs6 is not None and hs.hs6 in _NATIONAL_LINE_PATTERNS:
        if description and _NATIONAL_LINE_PATTERNS[hs.hs6].search(strip_exclusions(description)):
            return HS_NATIONAL_LINE_RULES[hs.hs6][0]  # type: ignore[return-value]
        return "none"
    return _family_of_digits(hs.digits)  # type: ignore[return-value]


def hs_family_ambiguous(code: HSCode | str) -> bool:
    """True when the code cannot be placed in one family, so it must not be family evidence.

    That is the HS 2017 code 8541.40 (split across LEDs, solar cells and other photosensitive
    devices in HS 2022), and a code given with only four or five digits of a heading whose
    subheadings fall in different families (:data:`SPLIT_HEADINGS`, e.g. ``8541``, ``8466``,
    ``9001``).
    """
    hs = _as_code(code, "code")
    if hs.bridged_from is not None and hs.hs6 == hs.bridged_from:
        return True
    return hs.hs6 is None and hs.digits[:4] in SPLIT_HEADINGS


@lru_cache(maxsize=1)
def chpl_table() -> tuple[tuple[str, str, str], ...]:
    """The CHPL list as ``(hs6, tier, hs2022_description)`` rows, in file order.

    Loaded from the package data ``dualuse/data/chpl_2024.csv`` (CHPL of :data:`CHPL_DATE`).
    """
    text = resources.files("dualuse").joinpath("data", "chpl_2024.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    return tuple((row["hs6"], row["chpl_tier"], row["hs2022_description"]) for row in reader)


@lru_cache(maxsize=1)
def _chpl_index() -> Mapping[str, str]:
    return MappingProxyType({hs6: tier for hs6, tier, _ in chpl_table()})


def chpl_tier(code: HSCode | str) -> str | None:
    """The CHPL tier ('1', '2', '3.A', '3.B', '4.A', '4.B') of a code whose first six digits
    are on the list, else None.

    Bridged HS 2017 codes report the tier of their HS 2022 code when the bridge is unambiguous
    (8541.50 -> 8541.59, tier 3.A); 8541.40 gets None. A CHPL tier is a diversion-risk flag,
    whatever the family; it is not an export-control classification.
    """
    hs = _as_code(code, "code")
    if hs.hs6 is None or (hs.bridged_from is not None and hs.hs6 == hs.bridged_from):
        return None
    return _chpl_index().get(hs.hs6)
