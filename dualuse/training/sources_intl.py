"""Parsers of the non-English training nomenclatures (Russian, Traditional Chinese, German).

Each source is a flat ``code,text`` file of leaf lines copied under ``data/raw/<folder>``
with its ``SOURCE.md``; ``data/README.md`` describes them. Labels come from the codes via
:func:`dualuse.hs.hs_family` per LABELS.md, never from reading the texts, with two
complications that this module settles explicitly:

* **HS 2017 codes** (``eaeu-tnved10-2017-ru``, ``tw-customs-tariff-2020-zh``). LABELS.md says
  to map 8541.40 / 8541.50 to their HS 2022 subheadings first. 8541.50 is bridged by
  :func:`dualuse.hs.parse_hs_code`. 8541.40 is split by the national line: the EAEU line
  8541 40 10 (light-emitting diodes) goes to 8541.41, while 8541 40 90 ("other", which holds
  photovoltaic cells *and* other photosensitive devices) has two families and is dropped like a
  mixed group line; the Taiwan lines name their goods (LEDs -> 8541.41, solar and photovoltaic
  cells -> 8541.42, photodiodes and other photosensitive devices -> 8541.49). HS 2017 8525.80
  (cameras) was split in HS 2022 too: a Taiwan line that says night vision goes to 8525.83
  (optics), the others to 8525.89 (optics only if thermal or infrared).
* **National-line rules** (853710 "numerical control", 852589 thermal/infrared) are written
  for English descriptions. German lines are labelled through their official English twin
  (``eu-cn8-selfexplanatory-2023-en``, same codes in the same order), Taiwan lines through
  their official English text (``tw_tariff10_en.csv``), except that a Taiwan 853710 line whose
  Chinese text names numerical control (數值控制, or 數值 listed among the kinds of control
  equipment) counts as saying it; Russian lines are checked for the Russian phrases
  (числовое программное управление / ЧПУ; тепловизионные / инфракрасные).

The module depends on nothing else in the corpus builder: rows are plain
:class:`SourceRow` tuples that :mod:`dualuse.corpus` turns into its own rows, so the builder
can move without touching the parsers.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..categories import CATEGORIES
from ..hs import hs_family, parse_hs_code

__all__ = [
    "INTL_TRAINING_SOURCES",
    "SourceRow",
    "IntlBuild",
    "read_tnved_hs6_ru",
    "read_tnved10_2017_ru",
    "read_tw_tariff_zh",
    "read_cn8_2023_de",
    "read_intl_sources",
    "label_tnved10_2017",
    "label_tw_2017",
]

#: The non-English training sources, in the order they enter the corpus (after the English
#: ones, so that de-duplication keeps the English sources' rows unchanged).
INTL_TRAINING_SOURCES: tuple[str, ...] = (
    "eaeu-tnved-hs6-2022-ru",
    "eaeu-tnved10-2017-ru",
    "tw-customs-tariff-2020-zh",
    "eu-cn8-2023-de",
)

#: Files read per source (other files of a shared source folder are not used).
FILES: dict[str, str] = {
    "eaeu-tnved-hs6-2022-ru": "tnved_hs6_ru.csv",
    "eaeu-tnved10-2017-ru": "tnved10_ru_ett2017.csv",
    "tw-customs-tariff-2020-zh": "tw_tariff10_zh_hant.csv",
    "eu-cn8-2023-de": "eu_cn8_2023_de.csv",
}
TW_ENGLISH_FILE = "tw_tariff10_en.csv"
CN8_ENGLISH_SOURCE = "eu-cn8-selfexplanatory-2023-en"
CN8_ENGLISH_FILE = "2023_en_intrastat_codes.csv"


class SourceRow(NamedTuple):
    """One labelled line, in the corpus column order ``text,label,source,code``."""

    text: str
    label: str
    source: str
    code: str


@dataclass
class IntlBuild:
    """The rows of every non-English source in :data:`INTL_TRAINING_SOURCES` order, and the
    lines left out because their code covers several families (``label`` lists them, ``+``)."""

    rows: list[SourceRow] = field(default_factory=list)
    mixed: list[SourceRow] = field(default_factory=list)


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u00ad\ufeff"), None)
_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    # Same cleaning as the English sources get: NFC, invisible characters out, one space per
    # whitespace run. Full-width digits of the Taiwan text are kept as published (the matcher
    # and the model fold them).
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def _read(path: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> list[tuple[str, str]]:
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        text_column = "text" if "text" in (reader.fieldnames or ()) else "description"
        return [(rec["code"].strip(), _clean(rec[text_column])) for rec in reader]


# --------------------------------------------------------------------------- national-line phrases

# Russian forms of LABELS.md's national-line conditions (any case ending).
_RU_NUMERICAL_CONTROL = re.compile(r"числов\w*\s+программн\w*\s+управлени\w*|\bЧПУ\b", re.IGNORECASE)
_RU_THERMAL = re.compile(r"тепловизион\w*|инфракрасн\w*", re.IGNORECASE)
# "數值控制" or "數值" listed among the kinds of control equipment ("包括數值、程式、電腦及其他類似控制設備").
_ZH_NUMERICAL_CONTROL = re.compile(r"數值控制|数值控制|數值、[^，。；]{0,20}控制|数值、[^，。；]{0,20}控制")

_EN_LED = re.compile(r"\blight[\s-]*emitting\b|\bLEDs?\b", re.IGNORECASE)
_EN_PHOTOVOLTAIC = re.compile(r"\bsolar\b|\bphotovoltaic\b", re.IGNORECASE)
_EN_NIGHT_VISION = re.compile(r"\bnight[\s-]*vision\b", re.IGNORECASE)


def _rule_text_ru(hs6: str, text: str) -> str | None:
    """An English statement of the national-line condition a Russian line meets, else None."""
    if hs6 == "853710" and _RU_NUMERICAL_CONTROL.search(text):
        return "numerical control"
    if hs6 == "852589" and _RU_THERMAL.search(text):
        return "infrared"
    return None


def _mixed_label(*families: str) -> str:
    return "+".join(c for c in CATEGORIES if c in families)


# --------------------------------------------------------------------------- labels


def label_tnved10_2017(code: str, text: str) -> str | None:
    """LABELS.md family of an EAEU 2017 ten-digit line (HS 2017), or None when the line covers
    several families (8541 40 90: photovoltaic cells with other photosensitive devices)."""
    if code.startswith("854140"):
        if code[6:8] == "10":  # light-emitting diodes (incl. laser diodes, kept by code as none)
            return hs_family("854141" + code[6:])
        return None
    hs = parse_hs_code(code, param="code")  # bridges 8541.50 -> 8541.59
    return hs_family(hs, _rule_text_ru(hs.hs6 or "", text))


def label_tw_2017(code: str, text_zh: str, text_en: str) -> str:
    """LABELS.md family of a Taiwan ten-digit line (HS 2017), from its code, its official
    English text and, for 853710, its Chinese text (see the module doc)."""
    if code.startswith("854140"):
        if _EN_LED.search(text_en):
            return hs_family("854141" + code[6:])
        if _EN_PHOTOVOLTAIC.search(text_en):
            return hs_family("854142" + code[6:])
        return hs_family("854149" + code[6:])  # photodiodes, other photosensitive devices
    if code.startswith("852580"):
        if _EN_NIGHT_VISION.search(text_en):
            return hs_family("852583" + code[6:])
        return hs_family("852589" + code[6:], text_en)
    if code.startswith("853710") and _ZH_NUMERICAL_CONTROL.search(text_zh):
        return hs_family(code, "numerical control")
    return hs_family(code, text_en)


# --------------------------------------------------------------------------- readers


def read_tnved_hs6_ru(raw_dir: Path) -> IntlBuild:
    """EAEU nomenclature, HS 2022 six-digit subheadings in Russian, in file order."""
    source = "eaeu-tnved-hs6-2022-ru"
    out = IntlBuild()
    for code, text in _read(Path(raw_dir) / source / FILES[source]):
        hs = parse_hs_code(code, param="code")
        out.rows.append(SourceRow(text, hs_family(hs, _rule_text_ru(hs.hs6 or "", text)), source, hs.digits))
    return out


def read_tnved10_2017_ru(raw_dir: Path) -> IntlBuild:
    """EAEU nomenclature 2017 (HS 2017) ten-digit lines in Russian, in file order; the mixed
    line 8541 40 90 goes to ``mixed``."""
    source = "eaeu-tnved10-2017-ru"
    out = IntlBuild()
    for code, text in _read(Path(raw_dir) / source / FILES[source]):
        label = label_tnved10_2017(code, text)
        if label is None:
            out.mixed.append(SourceRow(text, _mixed_label("microelectronics", "none"), source, code))
        else:
            out.rows.append(SourceRow(text, label, source, code))
    return out


def read_tw_tariff_zh(raw_dir: Path) -> IntlBuild:
    """Taiwan Customs Import Tariff 2020 (HS 2017) ten-digit lines, official Traditional
    Chinese text, labelled with the help of the official English text of the same line."""
    source = "tw-customs-tariff-2020-zh"
    folder = Path(raw_dir) / source
    zh = _read(folder / FILES[source])
    en = _read(folder / TW_ENGLISH_FILE)
    if [c for c, _ in zh] != [c for c, _ in en]:
        raise ValueError(f"{source}: the Chinese and English files do not list the same codes in the same order")
    out = IntlBuild()
    for (code, text), (_, text_en) in zip(zh, en):
        out.rows.append(SourceRow(text, label_tw_2017(code, text, text_en), source, code))
    return out


def read_cn8_2023_de(raw_dir: Path) -> IntlBuild:
    """EU CN 2023 self-explanatory texts in German, labelled like their English twins (the
    national-line rules read the English sentence of the same code)."""
    source = "eu-cn8-2023-de"
    de = _read(Path(raw_dir) / source / FILES[source])
    en = _read(Path(raw_dir) / CN8_ENGLISH_SOURCE / CN8_ENGLISH_FILE, encoding="cp1252", delimiter=";")
    if [c for c, _ in de] != [c for c, _ in en]:
        raise ValueError(f"{source}: codes differ from the English twin {CN8_ENGLISH_SOURCE}")
    out = IntlBuild()
    for (code, text), (_, text_en) in zip(de, en):
        hs = parse_hs_code(code, param="code")
        out.rows.append(SourceRow(text, hs_family(hs, text_en), source, hs.digits))
    return out


_READERS = {
    "eaeu-tnved-hs6-2022-ru": read_tnved_hs6_ru,
    "eaeu-tnved10-2017-ru": read_tnved10_2017_ru,
    "tw-customs-tariff-2020-zh": read_tw_tariff_zh,
    "eu-cn8-2023-de": read_cn8_2023_de,
}


def read_intl_sources(raw_dir: Path) -> IntlBuild:
    """All non-English training sources, concatenated in :data:`INTL_TRAINING_SOURCES` order."""
    total = IntlBuild()
    for source in INTL_TRAINING_SOURCES:
        part = _READERS[source](Path(raw_dir))
        total.rows.extend(part.rows)
        total.mixed.extend(part.mixed)
    return total
