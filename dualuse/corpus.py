"""Deterministic builder of the training corpus and the evaluation sets from ``data/raw``.

``build_all(raw_dir, out_dir)`` derives (see ``data/README.md`` for the full description)::

    corpus/nomenclature.csv            training texts (HS 2022, EU CN 2023, EU CN 2025; Russian,
                                       Chinese and German nomenclatures via dualuse.sources_intl)
    corpus/dropped/dropped_rows.csv    training lines left out (mixed families, conflicting labels)
    eval/us_hts_2024.csv               evaluation only: US HTS 2024 10-digit lines
    eval/uk_trader_terms.csv           evaluation only: HMRC trader search terms
    eval/uk_parcel_lines.csv           evaluation only: UK fast-parcel declaration lines
    eval/cbp_rulings.csv               evaluation only: US CBP CROSS ruling subjects
    eval/dropped/dropped_rows.csv      evaluation rows left out, with the reason

Every data file has the columns ``text,label,source,code`` (the ``dropped`` logs add a
``file`` and ``reason`` column first), UTF-8 without BOM, ``\\n`` line endings, rows in source
order (the order of the source files, then the order of the rows inside each file). Labels
come from the codes via :func:`dualuse.hs.hs_family` per LABELS.md; the national-line rules
(853710, 852589) read the row's description (for the CN 2025 tree and the US HTS, the part
below the HS-6 subheading, since heading texts speak for every line under them).

The evaluation sources are parsed here and nowhere else; nothing in this module was written or
tuned from their rows, and they never enter the training corpus. Every evaluation set leaves
out (1) the items LABELS.md calls "not settled" (:func:`unsettled_reason`) and (2) texts equal,
after :func:`text_key` normalisation, to a training text.

Run ``python -m dualuse.corpus`` (or ``dualuse data build``) from the repository.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .categories import CATEGORIES
from .hs import HSCode, hs_family, parse_hs_code, strip_exclusions
from dualuse.sources_intl import INTL_TRAINING_SOURCES, read_intl_sources

__all__ = [
    "Row",
    "TRAINING_SOURCES",
    "EVALUATION_SOURCES",
    "COLUMNS",
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
    "build_training",
    "build_all",
    "main_data_build",
    "main",
]

#: Training sources, in the fixed order used for de-duplication (first occurrence kept).
TRAINING_SOURCES: tuple[str, ...] = (
    "hs2022-6digit-datasets",
    "eu-cn8-selfexplanatory-2023-en",
    "eu-cn-2025-en",
    *INTL_TRAINING_SOURCES,  # parsed in dualuse.sources_intl
)
#: Evaluation-only sources: parsed for the evaluation sets, never used for training.
EVALUATION_SOURCES: tuple[str, ...] = (
    "us-hts-2024-basic",
    "uk-fpo-parcel-descriptions",
    "us-cbp-cross-rulings-sample",
)
#: Column order of every derived data file.
COLUMNS: tuple[str, ...] = ("text", "label", "source", "code")

CORPUS_FILE = "corpus/nomenclature.csv"
CORPUS_DROPPED_FILE = "corpus/dropped/dropped_rows.csv"
EVAL_FILES: tuple[str, ...] = (
    "eval/us_hts_2024.csv",
    "eval/uk_trader_terms.csv",
    "eval/uk_parcel_lines.csv",
    "eval/cbp_rulings.csv",
)
DROPPED_FILE = "eval/dropped/dropped_rows.csv"


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
        ("ball screws and linear guides",
         r"\bball[\s-]*screws?\b|\b(?:ball\s+or\s+)?roller[\s-]*screws?\b"
         r"|\blinear[\s-]+(?:motion[\s-]+)?(?:guides?|guideways?|guide[\s-]+rails?)\b"),
        ("bare silicon wafers",
         r"\b(?:bare|blank|prime|polished|silicon|si|soi|monocrystalline[\s-]+silicon)[\s-]+wafers?\b"),
        ("MEMS microphones and SAW filters",
         r"\bmems\b[^;]{0,30}?\bmicrophones?\b|\bmicrophones?\b[^;]{0,30}?\bmems\b"
         r"|\bsaw[\s-]+(?:filters?|resonators?|duplexers?)\b|\bsurface[\s-]+acoustic[\s-]+wave\b"),
        ("SFP/optical transceivers",
         r"\b(?:q?sfp(?:\+|28|56|-dd)?|xfp|cfp[248]?|gbic)(?:\b|(?<=\+))"
         r"|\b(?:optical|optic|fib(?:re|er)(?:[\s-]+optic)?)[\s-]+transceivers?\b"
         r"|\btransceivers?\b[^;]{0,20}?\b(?:optical|fib(?:re|er))\b"),
        ("electron microscopes", r"\belectron[\s-]+microscopes?\b"),
        ("laser levels", r"\blaser[\s-]+(?:levels?|levell?ers?)\b|\b(?:cross|multi)[\s-]*line[\s-]+lasers?\b"
                         r"|\brotary[\s-]+lasers?\b|\bself[\s-]+levell?ing[\s-]+lasers?\b"),
        ("IR thermometers",
         r"\b(?:ir|infra[\s-]?red|non[\s-]?contact)[\s-]+(?:\w+[\s-]+)?thermometers?\b"
         r"|\b(?:ir|infra[\s-]?red|optical|radiation)[\s-]+pyrometers?\b"),
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
        while j < len(nodes) and nodes[j].heading == node.heading and (
            i == node.heading or nodes[j].indent > node.indent
        ):
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
class _EvalRow:
    row: Row
    match_text: str  # the text the "not settled" phrase rules look at
    hs: HSCode
    eu_code: bool


def read_us_hts(raw_dir: Path) -> list[_EvalRow]:
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
    out: list[_EvalRow] = []
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
        out.append(_EvalRow(Row(full, _label(hs, national), source, hs.digits), national, hs, False))
    return out


def read_uk_trader_terms(raw_dir: Path) -> list[_EvalRow]:
    """HMRC trader search terms (term -> 10-digit UK commodity code), in file order."""
    source = "uk-fpo-parcel-descriptions"
    with open(raw_dir / source / "search_references.json", encoding="utf-8") as handle:
        terms: dict[str, str] = json.load(handle)
    out = []
    for term, code in terms.items():
        text = normalise_space(term)
        hs = parse_hs_code(code, param="commodity code")
        out.append(_EvalRow(Row(text, _label(hs, text), source, hs.digits), text, hs, True))
    return out


def read_uk_parcel_lines(raw_dir: Path) -> tuple[list[_EvalRow], int]:
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
        out.append(_EvalRow(Row(text, _label(hs, text), source, hs.digits), text, hs, True))
    return out, invalid


def read_cbp_rulings(raw_dir: Path) -> list[_EvalRow]:
    """US CBP CROSS ruling subjects with their (dotted) HTS code, in file order."""
    source = "us-cbp-cross-rulings-sample"
    out = []
    for rec in _read_csv(raw_dir / source / "cross_rulings_subjects.csv"):
        text = normalise_space(rec["description"])
        hs = parse_hs_code(rec["hts_code"], param="hts_code")
        out.append(_EvalRow(Row(text, _label(hs, text), source, hs.digits), text, hs, False))
    return out


# --------------------------------------------------------------------------- building

@dataclass
class TrainingBuild:
    rows: list[Row]
    conflicts: list[Row]
    duplicates: int
    mixed_groups: list[Row]
    keys: set[str]


def build_training(raw_dir: Path) -> TrainingBuild:
    """The training corpus: the three training sources in :data:`TRAINING_SOURCES` order,
    de-duplicated on :func:`text_key` keeping the first occurrence; a text that gets different
    labels from different codes is dropped entirely (all its occurrences go to ``conflicts``)."""
    raw_dir = Path(raw_dir)
    cn2025, mixed = read_cn2025(raw_dir)
    intl = read_intl_sources(raw_dir)
    candidates = read_hs2022(raw_dir) + read_cn2023(raw_dir) + cn2025 + [Row(*r) for r in intl.rows]
    mixed = mixed + [Row(*r) for r in intl.mixed]
    keys = [text_key(row.text) for row in candidates]
    labels_by_key: dict[str, set[str]] = {}
    for key, row in zip(keys, candidates):
        labels_by_key.setdefault(key, set()).add(row.label)
    rows: list[Row] = []
    conflicts: list[Row] = []
    seen: set[str] = set()
    duplicates = 0
    for key, row in zip(keys, candidates):
        if not key:
            continue
        if len(labels_by_key[key]) > 1:
            conflicts.append(row)
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        rows.append(row)
    return TrainingBuild(rows, conflicts, duplicates, mixed, seen)


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == data:
        return  # keep mtime when nothing changed
    path.write_bytes(data)


def _label_counts(rows: Iterable[Row]) -> dict[str, int]:
    counts = Counter(r.label for r in rows)
    return {c: counts.get(c, 0) for c in CATEGORIES}


def build_all(raw_dir: Path, out_dir: Path, *, verbose: bool = False) -> dict[str, int]:
    """Derive the training corpus and the evaluation sets from ``raw_dir`` into ``out_dir``.

    Deterministic: the same inputs give byte-identical files. Returns the number of data rows
    written per file (paths relative to ``out_dir``, with ``/``). With ``verbose`` a summary of
    the counts per label and of everything dropped is printed.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    training = build_training(raw_dir)
    train_keys = training.keys

    hts = read_us_hts(raw_dir)
    parcels, invalid_parcels = read_uk_parcel_lines(raw_dir)
    eval_inputs: dict[str, list[_EvalRow]] = {
        "eval/us_hts_2024.csv": hts,
        "eval/uk_trader_terms.csv": read_uk_trader_terms(raw_dir),
        "eval/uk_parcel_lines.csv": parcels,
        "eval/cbp_rulings.csv": read_cbp_rulings(raw_dir),
    }

    outputs: dict[str, list[Row]] = {CORPUS_FILE: training.rows}
    dropped: list[tuple[str, str, str, str, str, str]] = []
    for name, items in eval_inputs.items():
        kept: list[Row] = []
        for item in items:
            item_name = unsettled_reason(item.match_text, item.hs, eu_code=item.eu_code)
            if item_name is not None:
                reason = f"not settled: {item_name}"
            elif text_key(item.row.text) in train_keys:
                reason = "equal to a training text"
            else:
                kept.append(item.row)
                continue
            dropped.append((name, reason, *item.row.as_tuple()))
        outputs[name] = kept

    counts: dict[str, int] = {}
    for name, rows in outputs.items():
        _write(out_dir / name, _csv_bytes(COLUMNS, (r.as_tuple() for r in rows)))
        counts[name] = len(rows)
    corpus_dropped = [(CORPUS_FILE, "mixed families below this line", *r.as_tuple()) for r in training.mixed_groups]
    corpus_dropped += [(CORPUS_FILE, "conflicting labels", *r.as_tuple()) for r in training.conflicts]
    _write(out_dir / CORPUS_DROPPED_FILE, _csv_bytes(("file", "reason", *COLUMNS), corpus_dropped))
    counts[CORPUS_DROPPED_FILE] = len(corpus_dropped)
    _write(out_dir / DROPPED_FILE, _csv_bytes(("file", "reason", *COLUMNS), dropped))
    counts[DROPPED_FILE] = len(dropped)

    if verbose:
        _print_summary(outputs, training, dropped, invalid_parcels)
    return counts


def _print_summary(outputs: dict[str, list[Row]], training: TrainingBuild,
                   dropped: list[tuple[str, ...]], invalid_parcels: int) -> None:
    width = max(len(n) for n in outputs)
    print(f"{'file':<{width}}  {'rows':>6}  " + "  ".join(f"{c:>16}" for c in CATEGORIES))
    for name, rows in outputs.items():
        counts = _label_counts(rows)
        print(f"{name:<{width}}  {len(rows):>6}  " + "  ".join(f"{counts[c]:>16}" for c in CATEGORIES))
    print(f"training: {training.duplicates} duplicate texts removed, {len(training.conflicts)} rows "
          f"with conflicting labels dropped ({len({text_key(r.text) for r in training.conflicts})} texts), "
          f"{len(training.mixed_groups)} lines with mixed families dropped")
    print(f"uk_parcel_lines: {invalid_parcels} records with an invalid commodity code skipped")
    by_reason = Counter((d[0], d[1], d[3]) for d in dropped)
    for (name, reason, label), n in sorted(by_reason.items()):
        print(f"dropped  {name:<{width}}  {reason:<60}  {label:<16}  {n:>5}")


def _repo_root(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "dualuse").is_dir():
            return candidate
    return start


def main_data_build(raw_dir: Path | str | None = None, out_dir: Path | str | None = None) -> int:
    """Entry point of ``dualuse data build``: build everything, print the summary, return 0
    (1 with a message on stderr when ``raw_dir`` does not exist). Defaults: ``data/raw`` and
    ``data`` under the repository root found from the current directory."""
    root = _repo_root(Path.cwd().resolve())
    raw = Path(raw_dir) if raw_dir is not None else root / "data" / "raw"
    out = Path(out_dir) if out_dir is not None else root / "data"
    missing = [s for s in (*TRAINING_SOURCES, *EVALUATION_SOURCES) if not (raw / s).is_dir()]
    if missing:
        print(f"raw_dir: expected a folder with {', '.join(missing)}, got {str(raw)!r}", file=sys.stderr)
        return 1
    counts = build_all(raw, out, verbose=True)
    print("wrote " + ", ".join(f"{name} ({n} rows)" for name, n in counts.items()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dualuse.corpus",
        description="Build data/corpus (training) and data/eval (evaluation only) from data/raw.",
    )
    parser.add_argument("--raw", type=Path, default=None, help="raw data folder (default: data/raw)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: data)")
    args = parser.parse_args(argv)
    return main_data_build(args.raw, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
