"""Second readings of a text: the same characters as a reader may see them.

:func:`dualuse.normalize.normalize` reads a text one way: invisible characters removed, in
logical (stored) order. Two tricks make what a reader sees differ from that, and each gets a
second reading here, matched like the first; whatever it finds that the first reading did not
is added as evidence (:func:`merge_readings`):

* **hidden characters as spaces.** A NUL, a DEL, a zero-width space or a blank letter
  (U+3164 HANGUL FILLER, U+2800 BRAILLE PATTERN BLANK, ...) between two words: removing it
  (the first reading) joins the words, ``CNC\\x00lathe`` -> ``cnclathe``; reading it as a
  space keeps both. Soft hyphens and zero-width joiners are left out: they sit inside words
  by design, and splitting a word there would read fragments as terms.
* **right-to-left override.** U+202E (RLO) makes the letters after it display in reverse
  order, up to the next U+202C (PDF) or the end of the line: ``\\u202erellortnocorcim``
  displays as "microcontroller". The second reading reverses each such run. Nested
  overrides (an LRO inside an RLO run) are not modelled: the whole run is reversed.

A reading is a new string plus, for each of its characters, the index of the original
character it shows, so a match in a reading maps back to an exact half-open span of the
original text (the smallest span covering the characters it used), and the evidence quotes
the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .match_result import ExclusionHit, KeywordMatch, MatchResult
from .normalize import BLANK_LOOKALIKES, fold, is_hidden

__all__ = ["Reading", "alternate_readings", "merge_readings"]

RLO, PDF = "\u202e", "\u202c"
_ASCII_HIDDEN = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
_LINE_ENDS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# characters that join the parts of one word by design; never read as a word break
_WORD_INTERNAL = frozenset("\u00ad\u200c\u200d\u2060\ufeff\u034f")

Reading = tuple[str, list[int]]  # the reading, and the original index of each of its characters


def _as_space(ch: str) -> bool:
    return ch not in _WORD_INTERNAL and ch != RLO and (ch in BLANK_LOOKALIKES or is_hidden(ch))


def _spaced(text: str) -> str:
    return "".join(" " if _as_space(c) else c for c in text)


def _reversed_runs(text: str) -> Reading:
    """``text`` in display order for its RLO runs (each reversed, the RLO and PDF dropped)."""
    chars: list[str] = []
    index: list[int] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != RLO:
            chars.append(text[i])
            index.append(i)
            i += 1
            continue
        j = i + 1
        while j < n and text[j] != PDF and text[j] not in _LINE_ENDS:
            j += 1
        for k in range(j - 1, i, -1):
            chars.append(text[k])
            index.append(k)
        i = j + 1 if j < n and text[j] == PDF else j
    return "".join(chars), index


def alternate_readings(text: str) -> list[Reading]:
    """The second readings ``text`` has (most texts: none; see the module doc)."""
    if text.isascii() and _ASCII_HIDDEN.search(text) is None:  # the common case, at C speed
        return []
    readings: list[Reading] = []
    spaced = any(_as_space(c) for c in text)
    if spaced:
        readings.append((_spaced(text), list(range(len(text)))))
    if RLO in text:
        shown, index = _reversed_runs(text)
        readings.append((shown, index))
        if spaced:
            readings.append((_spaced(shown), index))
    return readings


def merge_readings(
    original: str,
    folded: str,
    first: object,
    readings: list[Reading],
    match_one: Callable[[str], object],
    family_scores: Callable[[list], dict[str, float]],
    describe: Callable[[int, int, int], tuple[str, float]] | None = None,
) -> object:
    """``first`` (a :class:`~dualuse.matcher.MatchResult`) plus what the second readings find.

    A match or exclusion found in a reading is kept when its span in the original overlaps
    nothing already kept, and a match also when it covers, and is longer than, the matches
    it overlaps (they are dropped: the longest reading wins, as in the matcher); a reading's exclusions cancel what that reading found (the matcher
    applies them), never a match of the first reading. The model reads the first reading's
    text followed by the terms only the second readings found, so the words a reader sees
    reach the model too. ``describe(i, start, end)``, when given, says how a match of reading ``i`` at
    ``[start, end)`` of the original was found and the fraction of its weight it keeps
    (:mod:`dualuse.spelling`); without it a reading's matches are exact and keep their weight.
    """

    assert isinstance(first, MatchResult)
    matches = list(first.matches)
    exclusions = list(first.exclusions)
    taken = [(m.start, m.end) for m in matches] + [(x.start, x.end) for x in exclusions]
    added: list[str] = []

    def place(start: int, end: int, index: list[int], widen: bool) -> tuple[int, int] | None:
        nonlocal matches, taken
        used = index[start:end]
        s, e = min(used), max(used) + 1
        overlapped = [(a, b) for a, b in taken if a < e and s < b]
        if not overlapped:
            return s, e
        # the longest reading wins, as in the matcher: "\u202eehtal CNC" shows "CNC lathe",
        # a longer term than the "CNC" read in stored order
        inside = all(s <= a and b <= e and (a, b) != (s, e) for a, b in overlapped)
        if not widen or not inside or any((x.start, x.end) in overlapped for x in exclusions):
            return None
        matches = [m for m in matches if (m.start, m.end) not in overlapped]
        taken = [t for t in taken if t not in overlapped]
        return s, e

    for number, (shown, index) in enumerate(readings):
        other = match_one(shown)
        assert isinstance(other, MatchResult)
        spans: dict[tuple[int, int], tuple[int, int] | None] = {}
        for m in other.matches:
            key = (m.start, m.end)
            if key not in spans:
                spans[key] = place(m.start, m.end, index, True)
            span = spans[key]
            if span is not None:
                how, factor = describe(number, span[0], span[1]) if describe is not None else (m.reading, 1.0)
                matches.append(
                    KeywordMatch(
                        m.kind,
                        m.term,
                        m.subcategory,
                        m.family,
                        m.language,
                        m.weight * factor,
                        span[0],
                        span[1],
                        original[span[0] : span[1]],
                        how,
                    )
                )
                added.append(fold(m.term) if m.kind == "term" else fold(original[span[0] : span[1]]))
        taken.extend(s for s in spans.values() if s is not None)
        for x in other.exclusions:
            span = place(x.start, x.end, index, False)
            if span is not None:
                exclusions.append(
                    ExclusionHit(
                        x.exclusion_id,
                        x.phrase,
                        x.families,
                        x.scope,
                        span[0],
                        span[1],
                        original[span[0] : span[1]],
                        x.cancelled,
                        x.spares,
                    )
                )
                taken.append(span)
    if not added and len(exclusions) == len(first.exclusions):
        return first
    matches.sort(key=lambda m: (m.start, m.end))
    base = first.model_text if first.model_text is not None else folded
    model_text = base + " " + " ".join(dict.fromkeys(added)) if added else first.model_text
    return MatchResult(tuple(matches), tuple(exclusions), family_scores(matches), model_text)
