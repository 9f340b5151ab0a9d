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

Everything is driven by one ``random.Random(seed)``, so the same taxonomy, negatives file
and seed give the same lines, byte for byte.
"""

from __future__ import annotations

import random

from collections.abc import Iterator, Sequence
from pathlib import Path

from .taxonomy import Taxonomy

__all__ = ["generate", "sample_pattern", "read_negatives"]

_SPECS = {
    "machine_tools": [
        "X/Y/Z travel {a}/{b}/{c} mm", "spindle {rpm} rpm", "{kw} kW", "table {a}x{b} mm", "BT40", "BT50", "HSK-A63",
        "{n}-axis", "ATC {t} tools", "max. swing {a} mm", "{t} t", "positioning accuracy 0.00{d} mm", "Fanuc 0i-MF",
        "Siemens 828D", "new", "used, year {y}", "with coolant system", "complete with standard accessories",
    ],
    "microelectronics": [
        "QFN-{p}", "LQFP-{p}", "BGA-{p}", "TSSOP-{p}", "SOT-23", "TO-220", "DIP-{p}", "SOIC-{p}", "{v}V", "{mhz} MHz",
        "{mb}Mbit", "reel of {q}", "tape & reel", "RoHS", "date code {y}{w}", "lead-free", "industrial temp", "-40~85C",
    ],
    "optics": [
        "{mm} mm", "f/{f}", "{x}x{mm}", "{nm} nm", "AR coated", "{res}x{res2}", "{um} um", "FOV {deg} deg", "IP67",
        "range {km} km", "{w} W", "N-BK7", "dia. {mm} mm", "EFL {mm} mm", "waterproof", "with case",
    ],
    "none": [
        "{v}V", "{w} W", "{mm} mm", "pack of {q}", "set of {n}", "black", "stainless steel", "{q} pcs", "new",
        "size {n}", "{kg} kg", "EU plug", "model {code}", "white", "OEM",
    ],
}
_QTY = ["", "", "", "{q} pcs", "qty {q}", "{q} units", "1 set", "{q} PCS", "x{q}", "{q} шт", "{q}台", "{q}个"]
_PREFIX = ["", "", "", "Item {n}: ", "P/N {code} ", "Line {n} - ", "{code} ", "PO#{q}{n} ", "SKU {code} "]


def _fill(template: str, rng: random.Random) -> str:
    values = {
        "a": rng.choice([300, 500, 600, 850, 1000, 1270, 1600]), "b": rng.choice([400, 500, 600, 800]),
        "c": rng.choice([400, 500, 600, 700]), "rpm": rng.choice([6000, 8000, 10000, 12000, 15000, 24000]),
        "kw": rng.choice([5.5, 7.5, 11, 15, 18.5, 22]), "n": rng.randint(2, 9), "t": rng.choice([16, 20, 24, 30, 40, 100]),
        "d": rng.randint(2, 8), "y": rng.randint(2008, 2025), "p": rng.choice([8, 14, 16, 20, 32, 48, 64, 100, 144, 256]),
        "v": rng.choice([1.8, 3.3, 5, 12, 24, 220, 600, 1200]), "mhz": rng.choice([8, 16, 48, 100, 168, 480]),
        "mb": rng.choice([1, 4, 16, 64, 128, 512]), "q": rng.choice([1, 2, 5, 10, 50, 100, 250, 1000, 3000]),
        "w": rng.choice([1, 2, 10, 50, 100, 500, 1000, 3000]), "mm": rng.choice([6, 12.7, 25, 25.4, 35, 50, 75, 100]),
        "f": rng.choice([1.0, 1.2, 1.4, 2.8, 4]), "x": rng.choice([4, 6, 8, 10, 12, 20]), "nm": rng.choice([532, 633, 905, 1064, 1550]),
        "res": rng.choice([160, 256, 384, 640, 1280]), "res2": rng.choice([120, 192, 288, 512, 1024]),
        "um": rng.choice([12, 17, 25]), "deg": rng.choice([6, 12, 24, 45]), "km": rng.choice([1, 3, 5, 10]),
        "kg": rng.choice([0.5, 1, 5, 25]), "w2": 0, "code": _random_code(rng),
    }
    return template.format(**values)


def _random_code(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(rng.choice(letters) for _ in range(rng.randint(1, 3))) + str(rng.randint(10, 99999)) + rng.choice(
        ["", "", "-" + str(rng.randint(1, 9)), rng.choice(letters)]
    )


def sample_pattern(regex: str, rng: random.Random) -> str:
    """A random string matching a (restricted) taxonomy pattern, plus a plausible suffix."""
    try:
        from re import _parser as sre_parse  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    out: list[str] = []
    _emit(sre_parse.parse(regex), rng, out, sre_parse)
    suffix = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(rng.randint(0, 5)))
    return "".join(out).upper() + suffix


def _emit(items, rng, out, sre_parse) -> None:  # noqa: ANN001 - private parser types
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
    rng = random.Random(seed)
    for sub in taxonomy.subcategories:
        terms = [t for _, t in sub.terms.items()]
        weak = [t for _, t in sub.weak_terms.items()]
        brands = list(sub.brands) or [None]
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
        for _ in range(negatives_per_phrase):
            yield _dress(phrase, "none", rng, None), "none", "synthetic:negative"


