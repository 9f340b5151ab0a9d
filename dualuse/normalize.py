"""Text normalisation with an offset map back into the original string.

Matching and model features both work on a *folded* copy of the text: compatibility forms
unfolded (full-width ``ＣＮＣ`` -> ``cnc``, ligatures), accents and other combining marks
removed, case folded, look-alike letters mapped to one skeleton (Cyrillic ``С`` and Latin
``C`` fold alike, so ``CNС`` with a Cyrillic last letter still reads ``cnc``), Traditional
Chinese characters mapped to Simplified (``數控車床`` -> ``数控车床``), invisible
format characters (zero-width, bidi controls, soft hyphen) removed, control characters
turned into spaces, and letter-by-letter spelt acronyms joined (``C.N.C.``, ``F P G A``).

Terms of the taxonomy are folded by the same function, so the folding never has to be
right about which script a word "really" is in: both sides land on the same skeleton.

The Chinese table (``dualuse/data/zh_t2s.json``, 3,232 characters) is derived from OpenCC's
dictionaries (Apache-2.0) by ``dualuse/data/make_zh_t2s.py``: regional variants reversed, then
OpenCC's character table with its default candidate, one character to one character only, so
the folded text stays aligned with the original. Phrase-level conversion is not needed for
matching: a term and a text are folded by the same table, whichever character OpenCC would
have chosen in context. Japanese kanji that share a Traditional form fold the same way, which
only matters if a Japanese and a Chinese term were meant to differ.

Every folded character remembers the index of the original character it came from, so a
span found in the folded text maps back to a half-open ``[start, end)`` span of the
original string. ASCII text (the common case) takes a fast path with an identity map.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Normalized", "normalize", "fold", "term_key", "SEPARATORS"]

#: Characters a multi-word or hyphenated term may be written with (or without) between parts.
SEPARATORS = " \t-_/."
_SEPARATOR_RE = re.compile(r"[\s\-_/.]+")

# Look-alike letters folded onto one Latin skeleton (after case folding). Both the text and
# the taxonomy terms go through this map, so Russian terms still match Russian text.
_HOMOGLYPHS = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "μ": "u", "ϲ": "c", "ү": "y",
    # typographic dashes and slashes fold to ASCII so separators stay uniform
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2044": "/", "\u2215": "/",
}

# Capitals whose look-alike differs from their small letter's: Greek Η (eta) looks like H but
# η like n, Ν (nu) like N but ν like v, Μ like M but μ like u. Mapped *before* case folding,
# so "ΜCU" or "ΤΗΕRΜΑL" written with Greek capitals still read "mcu" and "thermal" (after
# case folding they would read "ucu" and "tnerual": an evasion). Per-character and cached,
# so this costs nothing on the ASCII fast path. Only a taxonomy term written in Greek
# capitals would fold differently from the same word in Greek small letters; the
# taxonomy has no Greek terms.
_CAPITAL_HOMOGLYPHS = {"Η": "h", "Ν": "n", "Μ": "m", "Υ": "y", "Ζ": "z", "Ϲ": "c", "Ү": "y"}

_ASCII_CONTROLS = {i: " " for i in (*range(0, 32), 127)}


def _load_zh_t2s() -> dict[str, str]:
    data = resources.files("dualuse").joinpath("data", "zh_t2s.json").read_text(encoding="utf-8")
    table: dict[str, str] = json.loads(data)["table"]
    return table


# Traditional -> Simplified Chinese, one character to one character (see the module doc).
# Merged with the homoglyph map so each folded character costs one dict lookup; the two never
# share a key (the Chinese table has only CJK characters).
_ZH_T2S: dict[str, str] = _load_zh_t2s()
_CHAR_MAP: dict[str, str] = {**_ZH_T2S, **_HOMOGLYPHS}

# Spelt-out acronyms: three or more single letters joined by one separator each, e.g.
# "c.n.c.", "f p g a", "c-n-c". Joined so that the term "cnc" matches.
_SPELT = re.compile(r"(?<![^\W_])[^\W\d_](?:[ .\-][^\W\d_](?![^\W_])){2,}\.?")


@lru_cache(maxsize=200_000)
def _fold_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width, bidi controls, soft hyphen: invisible, so gone
        return ""
    if category in ("Cc", "Zl", "Zp", "Zs") or ch.isspace():
        return " "
    if category in ("Cs", "Co", "Cn"):  # lone surrogates, private use, unassigned
        return " "
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        if unicodedata.combining(c):
            continue
        if c in _CAPITAL_HOMOGLYPHS:
            out.append(_CAPITAL_HOMOGLYPHS[c])
            continue
        for d in c.casefold():
            out.append(_CHAR_MAP.get(d, d))
    return "".join(out)


def fold(text: str) -> str:
    """The folded text alone (no offsets): what the model sees and how terms are keyed."""
    return normalize(text).text


def term_key(term: str) -> str:
    """The lookup key of a taxonomy term: folded, separators removed."""
    return _SEPARATOR_RE.sub("", fold(term))


@dataclass(frozen=True, slots=True)
class Normalized:
    """Folded text plus, when it differs in length, the original index of each folded char."""

    text: str
    offsets: tuple[int, ...] | None  # None: identity map (same length, char for char)
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the folded text to a half-open span of the original."""
        if self.offsets is None:
            return start, end
        if end <= start:
            pos = self.offsets[start] if start < len(self.offsets) else self.original_length
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


def normalize(text: str) -> Normalized:
    """Fold ``text`` for matching and features, keeping a map back to original offsets."""
    if text.isascii():
        folded = text.lower().translate(_ASCII_CONTROLS)
        offsets: list[int] | None = None
    else:
        pieces = [_fold_char(c) for c in text]
        if all(len(p) == 1 for p in pieces):
            folded, offsets = "".join(pieces), None
        else:
            offsets = [i for i, p in enumerate(pieces) for _ in p]
            folded = "".join(pieces)
    if "." in folded or " " in folded or "-" in folded:
        folded, offsets = _join_spelt_acronyms(folded, offsets)
    return Normalized(folded, tuple(offsets) if offsets is not None else None, len(text))


def _join_spelt_acronyms(folded: str, offsets: list[int] | None) -> tuple[str, list[int] | None]:
    matches = list(_SPELT.finditer(folded))
    if not matches:
        return folded, offsets
    base = offsets if offsets is not None else list(range(len(folded)))
    out_chars: list[str] = []
    out_offsets: list[int] = []
    pos = 0
    for m in matches:
        out_chars.append(folded[pos : m.start()])
        out_offsets.extend(base[pos : m.start()])
        for i in range(m.start(), m.end()):
            if folded[i] not in " .-":
                out_chars.append(folded[i])
                out_offsets.append(base[i])
        pos = m.end()
    out_chars.append(folded[pos:])
    out_offsets.extend(base[pos:])
    return "".join(out_chars), out_offsets
