"""Seeded generator of invoice-style training lines from the taxonomy.

Tariff text names a family through legal qualifiers ("for working metal"); invoices name
it through product nouns, brands, part numbers, specifications and abbreviations. This
module writes lines in invoice style so the model learns the second register too:

* positives per subcategory: a term (any language) or a part number sampled from the
  subcategory's patterns, with brands, model codes, specifications, quantities, case changes,
  abbreviations and typos around it;
* hard negatives: neighbouring products that share words with the families (hand tools,
  cutting tools, woodworking machines, computers and boards, LED lighting, spectacles,
  ordinary cameras, food mills, ...) from ``data/synthetic/negatives.txt`` and from the
  taxonomy's exclusion phrases, dressed the same way.

Each subcategory and each negative phrase draws from its own ``random.Random`` seeded with
the seed and its name, so the same taxonomy, negatives file and seed give the same lines,
byte for byte, and a taxonomy edit changes only the lines of what it edits (one shared
stream would re-draw every line after the first edit, and retrain a different model).
"""

from __future__ import annotations

import random
import re as _re
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..taxonomy import Taxonomy
from .morphology import singular_phrase

__all__ = ["generate", "sample_pattern", "read_negatives", "short_forms", "short_forms_of", "bare_terms"]

_SPECS = {
    "machine_tools": [
        "X/Y/Z travel {a}/{b}/{c} mm",
        "spindle {rpm} rpm",
        "{kw} kW",
        "table {a}x{b} mm",
        "BT40",
        "BT50",
        "HSK-A63",
        "{n}-axis",
        "ATC {t} tools",
        "max. swing {a} mm",
        "{t} t",
        "positioning accuracy 0.00{d} mm",
        "Fanuc 0i-MF",
        "Siemens 828D",
        "new",
        "used, year {y}",
        "with coolant system",
        "complete with standard accessories",
    ],
    "microelectronics": [
        "QFN-{p}",
        "LQFP-{p}",
        "BGA-{p}",
        "TSSOP-{p}",
        "SOT-23",
        "TO-220",
        "DIP-{p}",
        "SOIC-{p}",
        "{v}V",
        "{mhz} MHz",
        "{mb}Mbit",
        "reel of {q}",
        "tape & reel",
        "tray",
        "tray of {q}",
        "tube of {q}",
        "cut tape",
        "RoHS",
        "date code {y}{w}",
        "lead-free",
        "industrial temp",
        "-40~85C",
    ],
    "optics": [
        "{mm} mm",
        "f/{f}",
        "{x}x{mm}",
        "{nm} nm",
        "AR coated",
        "{res}x{res2}",
        "{um} um",
        "FOV {deg} deg",
        "IP67",
        "range {km} km",
        "{w} W",
        "N-BK7",
        "dia. {mm} mm",
        "EFL {mm} mm",
        "waterproof",
        "with case",
        "with strap",
        "with strap and cleaning cloth",
        "battery operated",
        "with batteries",
    ],
    "none": [
        "{v}V",
        "{w} W",
        "{mm} mm",
        "pack of {q}",
        "set of {n}",
        "black",
        "stainless steel",
        "{q} pcs",
        "new",
        "size {n}",
        "{kg} kg",
        "EU plug",
        "model {code}",
        "white",
        "OEM",
    ],
}
_QTY = ["", "", "", "{q} pcs", "qty {q}", "{q} units", "1 set", "{q} PCS", "x{q}", "{q} шт", "{q}台", "{q}个"]
_PREFIX = ["", "", "", "Item {n}: ", "P/N {code} ", "Line {n} - ", "{code} ", "PO#{q}{n} ", "SKU {code} "]


def _fill(template: str, rng: random.Random) -> str:
    values = {
        "a": rng.choice([300, 500, 600, 850, 1000, 1270, 1600]),
        "b": rng.choice([400, 500, 600, 800]),
        "c": rng.choice([400, 500, 600, 700]),
        "rpm": rng.choice([6000, 8000, 10000, 12000, 15000, 24000]),
        "kw": rng.choice([5.5, 7.5, 11, 15, 18.5, 22]),
        "n": rng.randint(2, 9),
        "t": rng.choice([16, 20, 24, 30, 40, 100]),
        "d": rng.randint(2, 8),
        "y": rng.randint(2008, 2025),
        "p": rng.choice([8, 14, 16, 20, 32, 48, 64, 100, 144, 256]),
        "v": rng.choice([1.8, 3.3, 5, 12, 24, 220, 600, 1200]),
        "mhz": rng.choice([8, 16, 48, 100, 168, 480]),
        "mb": rng.choice([1, 4, 16, 64, 128, 512]),
        "q": rng.choice([1, 2, 5, 10, 50, 100, 250, 1000, 3000]),
        "w": rng.choice([1, 2, 10, 50, 100, 500, 1000, 3000]),
        "mm": rng.choice([6, 12.7, 25, 25.4, 35, 50, 75, 100]),
        "f": rng.choice([1.0, 1.2, 1.4, 2.8, 4]),
        "x": rng.choice([4, 6, 8, 10, 12, 20]),
        "nm": rng.choice([532, 633, 905, 1064, 1550]),
        "res": rng.choice([160, 256, 384, 640, 1280]),
        "res2": rng.choice([120, 192, 288, 512, 1024]),
        "um": rng.choice([12, 17, 25]),
        "deg": rng.choice([6, 12, 24, 45]),
        "km": rng.choice([1, 3, 5, 10]),
        "kg": rng.choice([0.5, 1, 5, 25]),
        "w2": 0,
        "code": _random_code(rng),
    }
    return template.format(**values)


def _random_code(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return (
        "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
        + str(rng.randint(10, 99999))
        + rng.choice(["", "", "-" + str(rng.randint(1, 9)), rng.choice(letters)])
    )


def sample_pattern(regex: str, rng: random.Random) -> str:
    """A random string matching a (restricted) taxonomy pattern, plus a plausible suffix."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse
    out: list[str] = []
    _emit(sre_parse.parse(regex), rng, out, sre_parse)
    suffix = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(rng.randint(0, 5)))
    return "".join(out).upper() + suffix


def _emit(items, rng, out, sre_parse) -> None:
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "IN":
            choices: list[str] = []
            negate = False
            for iop, iarg in arg:
                iname = str(iop)
                if iname == "LITERAL":
                    choices.append(chr(iarg))
                elif iname == "RANGE":
                    choices.extend(chr(c) for c in range(iarg[0], iarg[1] + 1))
                elif iname == "CATEGORY":
                    choices.extend("0123456789" if "DIGIT" in str(iarg) else "abcdefghkmnprstuvwxz")
                elif iname == "NEGATE":
                    negate = True
            if negate or not choices:
                choices = list("abcdefghkmnprstuvwxz0123456789")
            out.append(rng.choice(choices))
        elif name == "CATEGORY":
            out.append(rng.choice("0123456789" if "DIGIT" in str(arg) else "abcdefghkmnprstuvwxz"))
        elif name == "ANY":
            out.append(rng.choice("abcdefghkmnprstuvwxz0123456789"))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            hi = min(hi, lo + 3) if hi != sre_parse.MAXREPEAT else lo + 3
            for _ in range(rng.randint(lo, hi)):
                _emit(sub, rng, out, sre_parse)
        elif name == "SUBPATTERN":
            _emit(arg[-1], rng, out, sre_parse)
        elif name == "BRANCH":
            _emit(rng.choice(arg[1]), rng, out, sre_parse)
        # AT (anchors) and anything else emit nothing


def _dress(core: str, family: str, rng: random.Random, brand: str | None) -> str:
    """Put a product noun into a realistic invoice line."""
    parts = []
    if brand and rng.random() < 0.6:
        parts.append(brand)
    if rng.random() < 0.3:
        parts.append(_random_code(rng))
    parts.append(core)
    specs = _SPECS[family]
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        parts.append(_fill(rng.choice(specs), rng))
    rng.shuffle(parts) if rng.random() < 0.15 else None
    sep = rng.choice([" ", " ", ", ", "; ", " - "])
    line = sep.join(p for p in parts if p)
    line = _fill(rng.choice(_PREFIX), rng) + line
    qty = _fill(rng.choice(_QTY), rng)
    if qty:
        line = f"{line}, {qty}"
    return _style(line, rng)


def _style(line: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.25:
        line = line.upper()
    elif r < 0.35:
        line = line.lower()
    elif r < 0.45:
        line = line.title()
    if rng.random() < 0.08 and len(line) > 8:  # one typo: drop or swap a letter
        i = rng.randrange(1, len(line) - 1)
        line = line[:i] + line[i + 1 :] if rng.random() < 0.5 else line[: i - 1] + line[i] + line[i - 1] + line[i + 1 :]
    return line


def read_negatives(path: str | Path) -> list[str]:
    """Hard-negative product phrases, one per line (``#`` starts a comment)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def generate(
    taxonomy: Taxonomy, negatives: Sequence[str], *, per_subcategory: int = 120, negatives_per_phrase: int = 4, seed: int = 0
) -> Iterator[tuple[str, str, str]]:
    """Yield ``(text, label, source)`` lines; deterministic for a given seed."""
    for sub in taxonomy.subcategories:
        rng = random.Random(f"{seed}:{sub.id}")  # str seeds are hashed with sha512: stable across runs
        terms = [t for _, t in sub.terms.items()]
        weak = [t for _, t in sub.weak_terms.items()]
        brands: list[str | None] = list(sub.brands) or [None]
        for _ in range(per_subcategory):
            r = rng.random()
            if sub.patterns and r < 0.3:
                core = sample_pattern(rng.choice(sub.patterns).regex, rng)
                if terms and rng.random() < 0.5:
                    core = f"{core} {rng.choice(terms)}"
            elif weak and r < 0.4 and terms:
                core = f"{rng.choice(weak)} {rng.choice(terms)}"
            else:
                core = rng.choice(terms) if terms else sample_pattern(rng.choice(sub.patterns).regex, rng)
            yield _dress(core, sub.family, rng, rng.choice(brands)), sub.family, f"synthetic:{sub.id}"
    phrases = list(dict.fromkeys([*negatives, *(p for ex in taxonomy.exclusions for _, p in ex.phrases.items())]))
    for phrase in phrases:
        rng = random.Random(f"{seed}:negative:{phrase}")
        for _ in range(negatives_per_phrase):
            yield _dress(phrase, "none", rng, None), "none", "synthetic:negative"


# ---------------------------------------------------------------------------------------------
# Short trader forms of tariff lines: traders type "metal lathe", "binoculars",
# "transistors", not "Machine-tools; lathes (including turning centres) for removing metal".
# Derived from the *training* corpus only: each ";"-segment's head noun phrase, lower case,
# also singular and, for "... for working metal", "metal ...". A form that the corpus gives
# two different labels is dropped.


_CUT = _re.compile(
    r"\s*(?:\(|\bfor\b|\bof\b|\bwith\b|\bn\.e\.c|\bnesoi\b|\bexcl|\bother than\b|\bwhether\b|\bnot\b|\bused\b|"
    r"\bdesigned\b|\bincl|\bin heading\b|\bincluding\b|\bsuch as\b|\bhaving\b|\bcontaining\b|\bwhich\b|\bthat\b|\bby\b|"
    r"\bon\b|\bin\b|\bto\b|\bexcept\b|\bpresented\b|\bput up\b|\bthe\b|:|\d)",
    _re.IGNORECASE,
)
_METAL = _re.compile(r"\bfor (?:working|removing|finishing|forming|cutting)? ?metals?\b|\bfor working metal\b", _re.IGNORECASE)
_LEAD = _re.compile(r"^(?:(?:other|and|but|being|as|n\.e\.s|goods specified|machines|apparatus|parts|accessories)\b\s*)+")
_STOP = {
    "other",
    "others",
    "parts",
    "part",
    "parts and accessories",
    "accessories",
    "new",
    "used",
    "articles",
    "goods",
    "products",
    "horizontal",
    "vertical",
    "numerically controlled",
    "other than numerically controlled",
    "machines",
    "machine",
    "apparatus",
    "appliances",
    "instruments",
    "equipment",
    "devices",
    "of a kind",
    "n.e.c",
    "unmounted",
    "mounted",
    "electric",
    "electrical",
    "manual",
    "automatic",
    "material",
    "materials",
    "metal",
    "metals",
    "plates",
    "sheets",
    "tools",
    "filter",
    "filters",
    "controller",
    "controllers",
    "programmable",
    "objective",
    "astronomical",
    "mountings therefor",
    "plates thereof",
    "polarising material",
    "compound optical",
    "electrically erasable",
    "machine-tools",
    "machine tools",
    "elements",
    "assemblies",
    "units",
    "sets",
    "entirely",
}


def _head(segment: str) -> list[str]:
    seg = _re.sub(r"\([^)]*\)", " ", segment)
    seg = _CUT.split(seg, maxsplit=1)[0]
    seg = seg.strip(" ,.;-").lower()
    seg = _re.sub(r"\s+", " ", seg)
    if not seg:
        return []
    parts = [p.strip() for p in _re.split(r",\s*|\s+or\s+|\s+and\s+", seg) if p.strip()]
    if len(parts) <= 1:
        return [seg]
    head = parts[-1].split(" ")[-1]
    out = []
    for p in parts:
        if " " not in p and p.endswith("ing") and p != head:
            out.append(f"{p} {head}")
        else:
            out.append(p)
    return out


def short_forms_of(text: str) -> list[str]:
    """Short trader forms of one tariff line (see the comment above)."""
    segments = [s.strip() for s in text.split(";") if s.strip()]
    forms: list[str] = []
    prev: list[str] = []
    for k, seg in enumerate(segments):
        heads = _head(seg)
        metal = bool(_METAL.search(seg))
        for h in heads:
            h = _LEAD.sub("", h)
            cands = [h]
            if k == len(segments) - 1 and len(h.split()) <= 2 and not h.endswith("s") and prev:
                cands = [f"{h} {_LEAD.sub('', p)}" for p in prev[:1]] + cands
            if metal and "metal" not in h:
                cands.append(f"metal {h}")
            for c in cands:
                c = c.strip(" ,.-")
                n = len(c.split())
                if 1 <= n <= 5 and c not in _STOP and _re.search(r"[a-z]{3}", c):
                    forms.append(c)
                    forms.append(singular_phrase(c))
        if heads:
            prev = heads
    return list(dict.fromkeys(forms))


def short_forms(texts: Sequence[str], labels: Sequence[str]) -> list[tuple[str, str]]:
    """``(form, label)`` for every unambiguous short form of the given labelled tariff lines."""
    seen: dict[str, set[str]] = {}
    for t, lbl in zip(texts, labels):
        for f in short_forms_of(t):
            seen.setdefault(f, set()).add(lbl)
    return [(f, next(iter(lbls))) for f, lbls in seen.items() if len(lbls) == 1]


def bare_terms(taxonomy: Taxonomy, negatives: Sequence[str]) -> Iterator[tuple[str, str, str]]:
    """Each taxonomy term and each hard-negative / exclusion phrase alone, as a trader types it.

    ``_dress`` almost always wraps a term in brands, codes and specifications; a search term or a
    short invoice line is often the bare noun ("pillar drill", "magnifier"). Word order is kept
    (inverted "drill, pillar" forms hurt the model: see docs/decisions.md, "Training lines").
    """
    seen: set[str] = set()
    lines: list[tuple[str, str]] = [(t, sub.family) for sub in taxonomy.subcategories for _, t in sub.terms.items()]
    lines += [(p, "none") for p in [*negatives, *(p for ex in taxonomy.exclusions for _, p in ex.phrases.items())]]
    for text, label in lines:
        key = text.lower()
        if key not in seen:
            seen.add(key)
            yield key, label, "synthetic:bare"
