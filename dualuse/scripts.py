"""Which script a text is written in, by letters: the buckets reliability is reported in and
the fusion's test for a text the model has little ``none`` text of its script for.

**Script rule** (:func:`script_of`). Only letters count (``str.isalpha``: digits, punctuation,
symbols and spaces are ignored). Each letter is put in one group by its code point:

* ``latin``: Basic Latin and Latin-1 letters, Latin Extended-A/B, IPA extensions, Latin
  Extended Additional / C / D / E, full-width Latin;
* ``cyrillic``: Cyrillic, Cyrillic Supplement, Extended-A/B/C;
* ``cjk``: Han (CJK Unified Ideographs with extensions A-G, compatibility ideographs, radicals,
  the ideographic marks 々〆〇), Hiragana, Katakana (with half-width forms), Hangul (syllables
  and jamo);
* ``other``: any other letter (Greek, Arabic, Hebrew, Thai, Devanagari...).

The text's bucket is the group holding the most letters (ties go to the earlier group in the
order above); a text without letters is ``no_letters``. A ``cjk`` text is then named by the
characters only one language writes: ``japanese`` if it has any kana, else ``korean`` if it has
any Hangul, else ``chinese``. The count is per character, so a Chinese line with a Latin model
number longer than its Chinese words ("CK6140 车床" is Latin 2 vs Han 2 -> ``latin``) counts as
Latin: the rule measures the script the line is mostly written in, not its language.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

__all__ = ["SCRIPT_BUCKETS", "script_of"]

#: Buckets in report order.
SCRIPT_BUCKETS: tuple[str, ...] = ("latin", "cyrillic", "chinese", "japanese", "korean", "other", "no_letters")

_LATIN = (
    (0x0041, 0x005A),
    (0x0061, 0x007A),
    (0x00AA, 0x00AA),
    (0x00BA, 0x00BA),
    (0x00C0, 0x02AF),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1EFF),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
    (0xAB30, 0xAB6F),
    (0xFF21, 0xFF3A),
    (0xFF41, 0xFF5A),
)
_CYRILLIC = ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))
_HAN = (
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303B),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9D))
_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xFFA0, 0xFFDC))


def _in(ranges: tuple[tuple[int, int], ...]) -> Callable[[int], bool]:
    return lambda cp: any(lo <= cp <= hi for lo, hi in ranges)


_GROUPS: tuple[tuple[str, Callable[[int], bool]], ...] = (
    ("latin", _in(_LATIN)),
    ("cyrillic", _in(_CYRILLIC)),
    ("han", _in(_HAN)),
    ("kana", _in(_KANA)),
    ("hangul", _in(_HANGUL)),
)
_CJK = ("han", "kana", "hangul")


@cache  # few distinct letters occur; the range tests run once for each
def _group(ch: str) -> str:
    cp = ord(ch)
    for name, test in _GROUPS:
        if test(cp):
            return name
    return "other"


def script_of(text: str) -> str:
    """The script bucket of ``text`` (one of :data:`SCRIPT_BUCKETS`), by the rule in the module doc."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            g = _group(ch)
            counts[g] = counts.get(g, 0) + 1
    if not counts:
        return "no_letters"
    totals = {
        "latin": counts.get("latin", 0),
        "cyrillic": counts.get("cyrillic", 0),
        "cjk": sum(counts.get(g, 0) for g in _CJK),
        "other": counts.get("other", 0),
    }
    best = max(totals, key=lambda k: totals[k])  # max keeps the first of equal counts
    if best != "cjk":
        return best
    if counts.get("kana"):
        return "japanese"
    if counts.get("hangul"):
        return "korean"
    return "chinese"
