"""Parsers of the raw public sources in ``data/raw``: each turns one source into labelled rows.

Training sources become :class:`Row` objects; evaluation-only sources become ``EvalRow``
objects that also carry what the "not settled" check needs. Labels come from the codes via
:func:`dualuse.hs.hs_family` per LABELS.md, never from reading the texts. Nothing here was
written or tuned from the rows of an evaluation source.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..categories import CATEGORIES
from ..hs import HSCode, hs_family, parse_hs_code, strip_exclusions

__all__ = [
    "Row",
    "EvalRow",
    "UNSETTLED_PHRASES",
    "UNSETTLED_HS_PREFIXES",
    "UNSETTLED_EU_PREFIXES",
    "clean_taric",
    "clean_hts",
    "normalise_space",
    "text_key",
    "join_segments",
    "unsettled_reason",
    "read_hs2022",
    "read_cn2023",
    "read_cn2025",
    "read_us_hts",
    "read_uk_trader_terms",
    "read_uk_parcel_lines",
    "read_cbp_rulings",
    "read_kicad_parts",
]


@dataclass(frozen=True)
class Row:
    """One labelled text."""

    text: str
    label: str
    source: str
    code: str

    def as_tuple(self) -> tuple[str, str, str, str]:
        return (self.text, self.label, self.source, self.code)


# --------------------------------------------------------------------------- text cleaning

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u00ad\ufeff"), None)
_SPACES = re.compile(r"\s+")
_TARIC_SUP = re.compile(r"\$(?=[0-9A-Za-z+\-])")  # $2 = superscript 2, $- = superscript minus
_TARIC_SUB = re.compile(r"@(?=[0-9])")  # H@3BO@3 = H3BO3 (subscripts)
_TARIC_ITALIC = re.compile(r"(?<![A-Za-z0-9])_([^_\s]+)_(?![A-Za-z0-9])")  # _tert_ = italic
_HTS_BREAK_TAG = re.compile(r"</?(?:newline|nl|br)\s*/?>", re.IGNORECASE)
_HTS_TAG = re.compile(r"</?(?:il|i|u|b|em|strong|span|sup|sub)(?:\s[^<>]{0,40})?>", re.IGNORECASE)


def normalise_space(text: str) -> str:
    """NFC, invisible characters removed, every run of whitespace (incl. NBSP) one space."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def clean_taric(text: str) -> str:
    """Remove the TARIC formatting markers of the EU CN 2025 export and normalise spaces.

    ``|`` (non-breaking space) -> space; ``$x`` (superscript) -> ``x`` ("E$2PROMs" ->
    "E2PROMs", "m$2" -> "m2", "10$-$6" -> "10-6"); ``@x`` (subscript) -> ``x``; ``!x!`` ->
    " x " (times); ``!o!`` -> "°"; ``!1!`` (line break) -> space; ``_word_`` (italics) -> word.
    """
    text = text.replace("!x!", " x ").replace("!o!", "°").replace("!1!", " ").replace("|", " ")
    text = _TARIC_SUP.sub("", text)
    text = _TARIC_SUB.sub("", text)
    text = _TARIC_ITALIC.sub(r"\1", text)
    return normalise_space(text)


def clean_hts(text: str) -> str:
    """Remove the HTML-like markup of the USITC export (<i>, <il>, <sup>...) and normalise spaces."""
    if "<" in text:
        text = _HTS_BREAK_TAG.sub(" ", text)
        text = _HTS_TAG.sub("", text)
    return normalise_space(text)


_KEY_TRIM = " .,;:"


def text_key(text: str) -> str:
    """The de-duplication key of a text: NFKC, case-folded, spaces collapsed, outer
    punctuation ``.,;:`` trimmed. Two texts with the same key count as the same text."""
    key = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    return _SPACES.sub(" ", key).strip(_KEY_TRIM)


def _segment(text: str) -> str:
    return text.strip().rstrip(":;").strip()


def join_segments(segments: Sequence[str]) -> str:
    """Join a description and its ancestors (outermost first) with ``"; "``.

    Trailing ``:``/``;`` of each segment are removed; empty segments, a segment repeating the
    previous one ("Electronic integrated circuits; Electronic integrated circuits") and
    intermediate segments that only say "Other" (they carry no meaning once their siblings are
    gone) are skipped; the last "Other" is kept, so a leaf "Other" reads e.g.
    "Parts and accessories ...; For machines of headings 8456 to 8461; Other".
    """
    parts = [_segment(s) for s in segments]
    last = len(parts) - 1
    kept: list[str] = []
    for i, part in enumerate(parts):
        folded = part.casefold()
        if not part or (i != last and folded == "other") or (kept and kept[-1].casefold() == folded):
            continue
        kept.append(part)
    return "; ".join(kept)


# --------------------------------------------------------------------------- "not settled" items

#: LABELS.md "Not settled" items, as phrase rules on descriptions (case-insensitive, matched
#: after exclusion clauses such as "(excl. laser diodes)" or "other than laser diodes" are
#: removed with :func:`dualuse.hs.strip_exclusions`).
UNSETTLED_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("laser diodes", r"\blaser[\s-]*diodes?\b|\bdiode[\s-]*lasers?\b"),
        ("magnetic chucks", r"\b(?:electro-?)?magnet(?:ic)?\s+chucks?\b"),
        (
            "ball screws and linear guides",
            r"\bball[\s-]*screws?\b|\b(?:ball\s+or\s+)?roller[\s-]*screws?\b"
            r"|\blinear[\s-]+(?:motion[\s-]+)?(?:guides?|guideways?|guide[\s-]+rails?)\b",
        ),
        ("bare silicon wafers", r"\b(?:bare|blank|prime|polished|silicon|si|soi|monocrystalline[\s-]+silicon)[\s-]+wafers?\b"),
        (
            "MEMS microphones and SAW filters",
            r"\bmems\b[^;]{0,30}?\bmicrophones?\b|\bmicrophones?\b[^;]{0,30}?\bmems\b"
            r"|\bsaw[\s-]+(?:filters?|resonators?|duplexers?)\b|\bsurface[\s-]+acoustic[\s-]+wave\b",
        ),
        (
            "SFP/optical transceivers",
            r"\b(?:q?sfp(?:\+|28|56|-dd)?|xfp|cfp[248]?|gbic)(?:\b|(?<=\+))"
            r"|\b(?:optical|optic|fib(?:re|er)(?:[\s-]+optic)?)[\s-]+transceivers?\b"
            r"|\btransceivers?\b[^;]{0,20}?\b(?:optical|fib(?:re|er))\b",
        ),
        ("electron microscopes", r"\belectron[\s-]+microscopes?\b"),
        (
            "laser levels",
            r"\blaser[\s-]+(?:levels?|levell?ers?)\b|\b(?:cross|multi)[\s-]*line[\s-]+lasers?\b"
            r"|\brotary[\s-]+lasers?\b|\bself[\s-]+levell?ing[\s-]+lasers?\b",
        ),
        (
            "IR thermometers",
            r"\b(?:ir|infra[\s-]?red|non[\s-]?contact)[\s-]+(?:\w+[\s-]+)?thermometers?\b"
            r"|\b(?:ir|infra[\s-]?red|optical|radiation)[\s-]+pyrometers?\b",
        ),
    )
)

_UNSETTLED_ANY = re.compile("|".join(f"(?:{p.pattern})" for _, p in UNSETTLED_PHRASES), re.IGNORECASE)

# A wafer mentioned as what a machine, instrument or container is *for* is not a bare wafer.
_WAFER_CONTEXT = re.compile(
    r"\b(?:machines?|machinery|apparatus|equipment|instruments?|tools?|furnaces?|ovens?|probers?"
    r"|testers?|inspection|carriers?|boxe?s?|cases?|cassettes?|pads?|holders?|chucks?)\b"
    r"|\bfor\b[^;]{0,60}\bwafers?\b",
    re.IGNORECASE,
)

#: Items identified by their HS code in every nomenclature (HS 2022 heading -> item).
UNSETTLED_HS_PREFIXES: dict[str, str] = {
    "9012": "electron microscopes",  # microscopes other than optical; diffraction apparatus; parts
    "3818": "bare silicon wafers",  # elements and compounds doped for electronics, discs/wafers
}
#: Items identified by an EU/UK CN line (applied to UK codes only; US lines differ).
UNSETTLED_EU_PREFIXES: dict[str, str] = {
    "84834030": "ball screws and linear guides",  # CN 8483 40 30 "Ball or roller screws"
}


def unsettled_reason(text: str, code: HSCode | None, *, eu_code: bool = False) -> str | None:
    """Why a row is one of the LABELS.md "not settled" items (the item name), else None.

    ``code`` rules first (:data:`UNSETTLED_HS_PREFIXES`, and :data:`UNSETTLED_EU_PREFIXES`
    when ``eu_code``), then the phrase rules (:data:`UNSETTLED_PHRASES`) on ``text`` without
    its exclusion clauses.
    """
    if code is not None:
        for prefix, item in UNSETTLED_HS_PREFIXES.items():
            if code.digits.startswith(prefix):
                return f"{item} (code {prefix})"
        if eu_code:
            for prefix, item in UNSETTLED_EU_PREFIXES.items():
                if code.digits.startswith(prefix):
                    return f"{item} (code {prefix})"
    if not _UNSETTLED_ANY.search(text):  # fast path: no phrase anywhere
        return None
    positive = strip_exclusions(text)
    for item, pattern in UNSETTLED_PHRASES:
        if pattern.search(positive):
            if item == "bare silicon wafers" and _WAFER_CONTEXT.search(positive):
                continue
            return f"{item} (phrase)"
    return None


# --------------------------------------------------------------------------- readers


def _read_csv(path: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _label(code: HSCode, text: str) -> str:
    return hs_family(code, text)


def read_hs2022(raw_dir: Path) -> list[Row]:
    """HS 2022 six-digit lines (UN Comtrade short texts), in file order; other levels skipped."""
    source = "hs2022-6digit-datasets"
    rows = []
    for rec in _read_csv(raw_dir / source / "harmonized-system.csv", encoding="utf-8-sig"):
        if rec["level"] != "6":
            continue
        code = parse_hs_code(rec["hscode"], param="hscode")
        text = normalise_space(rec["description"])
        rows.append(Row(text, _label(code, text), source, code.digits))
    return rows


def read_cn2023(raw_dir: Path) -> list[Row]:
    """EU CN 2023 self-explanatory sentences (Windows-1252, ``;``), in file order."""
    source = "eu-cn8-selfexplanatory-2023-en"
    path = raw_dir / source / "2023_en_intrastat_codes.csv"
    rows = []
    for rec in _read_csv(path, encoding="cp1252", delimiter=";"):
        code = parse_hs_code(rec["code"], param="code")
        text = normalise_space(rec["description"])
        rows.append(Row(text, _label(code, text), source, code.digits))
    return rows


def _common_prefix(codes: Iterable[str]) -> str:
    codes = list(codes)
    first, last = min(codes), max(codes)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


@dataclass
class _Node:
    code: str  # digits of the line (hier_pos digits of goods_code)
    text: str  # full description (ancestors joined)
    national: str  # the part of the description below the HS-6 subheading
    indent: int
    heading: int  # index of the heading row
    leaf: bool = True


def read_cn2025(raw_dir: Path) -> tuple[list[Row], list[Row]]:
    """EU CN 2025 tree lines (headings, HS-6, CN-8, TARIC-10; chapters skipped) with full
    descriptions rebuilt from the indents within each heading, in file order.

    A leaf (a line without sub-lines) is labelled by its code and, for the national-line
    rules of LABELS.md, the national part of its description (the CN-8/TARIC lines below the
    HS-6 subheading: the heading text of 8537 mentions "numerical control apparatus" for every
    line of the heading, so it must not count). A line
    with sub-lines (a heading, a grouping text line such as "Other" or a subheading split
    further) describes all of them: it gets their family when all its leaves agree, and is
    dropped otherwise (e.g. heading 8466, which mixes machine-tool parts with parts of
    woodworking machines). Its ``code`` is the common prefix of its leaves' codes.

    Returns the rows and the lines dropped because their leaves disagree (their ``label``
    lists the families found, joined with ``+``).
    """
    source = "eu-cn-2025-en"
    nodes: list[_Node] = []
    stack: list[tuple[int, int, str, int]] = []  # (indent, node index, cleaned text, hier_pos)
    heading = -1
    for rec in _read_csv(raw_dir / source / "cn2025_en_nomenclature.csv"):
        level = int(rec["hier_pos"])
        if level <= 2:
            continue
        indent = int(rec["indent_level"])
        text = clean_taric(rec["description"])
        if level == 4:
            stack = []
            heading = len(nodes)
        else:
            while stack and stack[-1][0] >= indent:
                stack.pop()
        if stack:
            nodes[stack[-1][1]].leaf = False
        stack.append((indent, len(nodes), text, level))
        full = join_segments([t for _, _, t, _ in stack])
        national = join_segments([t for _, _, t, lv in stack if lv > 6])
        nodes.append(_Node(rec["goods_code"][:level], full, national, indent, heading))

    labels: list[str] = [""] * len(nodes)
    for i, node in enumerate(nodes):
        if node.leaf:
            labels[i] = _label(parse_hs_code(node.code, param="goods_code"), node.national)
    rows: list[Row] = []
    mixed: list[Row] = []
    for i, node in enumerate(nodes):
        if node.leaf:
            rows.append(Row(node.text, labels[i], source, node.code))
            continue
        leaves = []
        j = i + 1
        while j < len(nodes) and nodes[j].heading == node.heading and (i == node.heading or nodes[j].indent > node.indent):
            if nodes[j].leaf:
                leaves.append(j)
            j += 1
        families = {labels[k] for k in leaves}
        if len(families) != 1:
            label = "+".join(c for c in CATEGORIES if c in families)
            mixed.append(Row(node.text, label, source, node.code))
            continue
        code = _common_prefix(nodes[k].code for k in leaves)[: len(node.code)]
        if len(code) < 4:
            code = node.code[:4]
        rows.append(Row(node.text, families.pop(), source, code))
    return rows, mixed


@dataclass(frozen=True)
class EvalRow:
    row: Row
    match_text: str  # the text the "not settled" phrase rules look at
    hs: HSCode | None  # None for a source without HS codes (its label comes with the source)
    eu_code: bool


def read_us_hts(raw_dir: Path) -> list[EvalRow]:
    """US HTS 2024 10-digit statistical lines with descriptions rebuilt by walking the
    ``Indent`` column upward (parents = nearest previous row with a smaller indent, text-only
    superior rows included), in file order.

    The national-line rules of LABELS.md (853710, 852589) and the "not settled" phrase rules
    look at the national part of the description only (the 8-digit, 10-digit and text-only
    lines below the HS-6 subheading): heading and subheading texts speak for every line below
    them ("... and numerical control apparatus ..." in heading 8537) or enumerate many goods
    ("... ball or roller screws; gear boxes ...").
    """
    source = "us-hts-2024-basic"
    out: list[EvalRow] = []
    stack: list[tuple[int, int, str]] = []  # (indent, number of digits, cleaned text)
    for rec in _read_csv(raw_dir / source / "hts_2024_basic_edition_csv.csv", encoding="utf-8-sig"):
        number = rec["HTS Number"].strip()
        digits = re.sub(r"[^0-9]", "", number)
        indent = int(rec["Indent"] or 0)
        text = clean_hts(rec["Description"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, len(digits), text))
        if len(digits) != 10:
            continue
        segments = [t for _, _, t in stack]
        full = join_segments(segments)
        last_international = max((k for k, (_, n, _) in enumerate(stack) if 0 < n <= 6), default=-1)
        national = join_segments(segments[last_international + 1 :])
        hs = parse_hs_code(digits, param="HTS Number")
        out.append(EvalRow(Row(full, _label(hs, national), source, hs.digits), national, hs, False))
    return out


def read_uk_trader_terms(raw_dir: Path) -> list[EvalRow]:
    """HMRC trader search terms (term -> 10-digit UK commodity code), in file order."""
    source = "uk-fpo-parcel-descriptions"
    with open(raw_dir / source / "search_references.json", encoding="utf-8") as handle:
        terms: dict[str, str] = json.load(handle)
    out = []
    for term, code in terms.items():
        text = normalise_space(term)
        hs = parse_hs_code(code, param="commodity code")
        out.append(EvalRow(Row(text, _label(hs, text), source, hs.digits), text, hs, True))
    return out


def read_uk_parcel_lines(raw_dir: Path) -> tuple[list[EvalRow], int]:
    """UK fast-parcel declaration lines with their 8/10-digit commodity code, in file order.

    Returns the rows and the number of records skipped because their code is not 4-10 digits
    (three records carry text in the code column).
    """
    source = "uk-fpo-parcel-descriptions"
    out = []
    invalid = 0
    for rec in _read_csv(raw_dir / source / "extra_references.csv"):
        code = rec["Commodity Code"].strip()
        if not code.isdigit() or not 4 <= len(code) <= 10:
            invalid += 1
            continue
        text = normalise_space(rec["Goods Description"])
        hs = parse_hs_code(code, param="Commodity Code")
        out.append(EvalRow(Row(text, _label(hs, text), source, hs.digits), text, hs, True))
    return out, invalid


def read_cbp_rulings(raw_dir: Path) -> list[EvalRow]:
    """US CBP CROSS ruling subjects with their (dotted) HTS code, in file order."""
    source = "us-cbp-cross-rulings-sample"
    out = []
    for rec in _read_csv(raw_dir / source / "cross_rulings_subjects.csv"):
        text = normalise_space(rec["description"])
        hs = parse_hs_code(rec["hts_code"], param="hts_code")
        out.append(EvalRow(Row(text, _label(hs, text), source, hs.digits), text, hs, False))
    return out


def read_kicad_parts(raw_dir: Path) -> list[EvalRow]:
    """KiCad symbol-library parts (part number and distributor-style description), in file order.

    The only evaluation source without HS codes: its ``label`` column was derived from the
    KiCad library each symbol belongs to, per LABELS.md (see the folder's SOURCE.md), and is
    taken as it is (a label outside the four categories fails the build). ``code`` stays empty
    (the ``part`` column is a part number, not an HS code) and the "not settled" rules look at
    the text alone. CC BY-SA 4.0: evaluation only, its SOURCE.md travels with every copy.
    """
    source = "kicad-symbols-parts-eval"
    out = []
    for line, rec in enumerate(_read_csv(raw_dir / source / "kicad_parts_eval.csv"), start=2):
        label = rec["label"].strip()
        if label not in CATEGORIES:
            raise ValueError(f"{source}: line {line}: expected a label among {list(CATEGORIES)}, got {label!r}")
        text = normalise_space(rec["text"])
        out.append(EvalRow(Row(text, label, source, ""), text, None, False))
    return out


# --------------------------------------------------------------------------- building
