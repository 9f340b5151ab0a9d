"""Typo and abbreviation readings: the words a writer meant, as weaker evidence.

Trade records are typed in a hurry and squeezed into ERP fields: ``binoculors 8x42``,
``mircoscope``, ``VERT MACH CTR``. This module gives the matcher one more kind of second
reading (see :mod:`dualuse.readings`): the text with each likely typo of a taxonomy word
corrected and each known short form expanded. Whatever that reading finds that the exact
reading did not is reported with ``reading="typo"`` or ``reading="abbreviation"`` and a
fraction of the term's weight, so the evidence says how it was found and counts for less.

Typos. A Latin-script word of ``min_length`` letters or more (six by default: at five and
below, one edit reaches too many real words) is read as a taxonomy word when

* it is not a word of the lexicon (``dualuse/data/lexicon.txt``: the words of the official
  nomenclature the model trains on; "filling" is a word, not a typo of "milling"),
* it starts with the same letter (writers rarely miss the first letter, and most
  look-alike real words differ there: "rooter" aside, "boring"/"coring"), and
* one taxonomy word (or its plural) is one edit away, or several that are all words of
  one family's terms: a letter replaced, added, dropped, or two neighbours swapped (optimal string alignment distance 1). Candidates are
  found with the symmetric-delete method: each word is filed under itself and its one-letter
  deletions, so a lookup costs one probe per letter of the token, not a scan of all words.

Abbreviations. ``dualuse/data/spelling.toml`` lists short forms (``mach``, ``vert``,
``ctr``) with their expansions. An expansion alone is not evidence; it only counts when it
completes a term. A form with several expansions gives one reading per choice (at most
``max_readings``).
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .normalize import Normalized
from .readings import Reading

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Replacement", "SpellingReader", "default_lexicon", "spelling_settings", "within_one_edit"]

_LATIN_WORD = re.compile(r"[a-z]+")
_MAX_CACHED = 50_000  # remembered corrections (a token and what it reads as); then no more


@dataclass(frozen=True, slots=True)
class Replacement:
    """A word of the original text read as another: span into the original, the new word."""

    start: int
    end: int
    text: str
    reading: str  # "typo" or "abbreviation"


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one replaced, added, dropped or swapped letter."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one letter replaced
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]  # swapped
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _stems(token: str) -> list[tuple[str, str]]:
    """``token`` and, for an English plural, its singular, each with the suffix it dropped."""
    stems = [(token, "")]
    if token.endswith("es"):
        stems.append((token[:-2], "es"))
    if token.endswith("s") and not token.endswith("ss"):
        stems.append((token[:-1], "s"))
    return stems


@lru_cache(maxsize=1)
def default_lexicon() -> frozenset[str]:
    """The packaged lexicon (``dualuse/data/lexicon.txt``), read once per process."""
    text = resources.files("dualuse").joinpath("data", "lexicon.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and line[0] != "#")


@lru_cache(maxsize=1)
def spelling_settings() -> tuple[dict[str, tuple[str, ...]], dict[str, float]]:
    """The packaged abbreviations and settings (``dualuse/data/spelling.toml``), read once."""
    raw = tomllib.loads(resources.files("dualuse").joinpath("data", "spelling.toml").read_text(encoding="utf-8"))
    forms = {k: tuple(v) for k, v in raw["abbreviations"]["forms"].items()}
    settings = {
        "min_length": float(raw["typos"]["min_length"]),
        "typo_weight": float(raw["typos"]["weight_factor"]),
        "abbreviation_weight": float(raw["abbreviations"]["weight_factor"]),
    }
    return forms, settings


class SpellingReader:
    """Finds the typos and abbreviations of a text and builds the readings that correct them.

    ``term_words``: the words of the taxonomy's Latin-script terms (the words a typo may be
    read as), each with the families of the terms it is in; ``lexicon``: real words never read as typos; ``abbreviations``: short form ->
    expansions. See the module doc for the rules.
    """

    def __init__(
        self,
        term_words: Mapping[str, Iterable[str]],
        *,
        lexicon: frozenset[str] | Callable[[], frozenset[str]],
        abbreviations: Mapping[str, tuple[str, ...]],
        min_length: int = 6,
        typo_weight: float = 0.5,
        abbreviation_weight: float = 0.75,
        max_readings: int = 4,
    ) -> None:
        self.min_length = min_length
        self.weights = {"typo": typo_weight, "abbreviation": abbreviation_weight}
        self.max_readings = max_readings
        self._families = {w: frozenset(f) for w, f in term_words.items() if len(w) >= min_length and _LATIN_WORD.fullmatch(w)}
        self._targets = frozenset(self._families)
        # a token longer than every term word plus a plural suffix and one letter cannot be
        # one edit from any: never looked at (and a hostile 100,000-letter "word" costs nothing)
        self._max_length = max(map(len, self._targets), default=0) + 3
        # built when first needed: most texts have no word that is neither a term word nor
        # one letter away from one, and a process that never sees a typo never pays for them
        self._lexicon_source = lexicon
        self._lexicon: frozenset[str] | None = None
        self._index: dict[str, list[str]] | None = None
        self._abbreviations = {k: tuple(v) for k, v in abbreviations.items() if v}
        forms = "|".join(sorted(map(re.escape, self._abbreviations), key=len, reverse=True))
        # the only tokens worth a look: long words, and the short forms; found at C speed.
        # Words of prose only: a word glued to digits or an underscore is part of a code or
        # an identifier ("LM7805", "Conn_Coaxial"), whose letters are not a typist's words
        self._candidates = re.compile(
            r"(?<![a-z0-9_])(?:[a-z]{" + str(min_length) + r",}" + ("|" + forms if forms else "") + r")(?![a-z0-9_])"
        )
        self._corrections: dict[str, str | None] = {}

    def _deletion_index(self) -> dict[str, list[str]]:
        """Each term word filed under itself and its one-letter deletions (symmetric delete)."""
        if self._index is None:
            index: dict[str, list[str]] = {}
            for target in sorted(self._targets):
                index.setdefault(target, []).append(target)
                for i in range(len(target)):
                    index.setdefault(target[:i] + target[i + 1 :], []).append(target)
            self._index = index
        return self._index

    def _is_word(self, token: str) -> bool:
        if self._lexicon is None:
            source = self._lexicon_source
            self._lexicon = source if isinstance(source, frozenset) else source()
        return token in self._lexicon

    def correction(self, token: str) -> str | None:
        """The taxonomy word the folded ``token`` is a typo of, or None (see the module doc).

        A plural is read through its singular ("tranzistors" -> "transistors"), so the term
        words need not be filed in every plural form.
        """
        try:
            return self._corrections[token]
        except KeyError:
            pass
        found: str | None = None
        if self.min_length <= len(token) <= self._max_length and token not in self._targets:
            index = self._deletion_index()
            candidates: dict[str, str] = {}  # corrected token -> term word
            for stem, suffix in _stems(token):
                if stem in self._targets:  # a plural of a term word, spelled right
                    candidates.clear()
                    break
                for key in {stem} | _deletions(stem):
                    for target in index.get(key, ()):
                        if target[0] == stem[0] and within_one_edit(stem, target):
                            candidates[target + suffix] = target
            # several candidates are one reading when they are words of the same one family
            # ("microcontroler": English "microcontroller", French "microcontroleur")
            families = {f for target in candidates.values() for f in self._families[target]}
            unique = len(candidates) == 1 or len(families) == 1
            # the lexicon is consulted last: only for the rare token that has a candidate
            if candidates and unique and not self._is_word(token):
                found = min(candidates)
        if len(self._corrections) < _MAX_CACHED:
            self._corrections[token] = found
        return found

    def replacements(self, norm: Normalized, taken: list[tuple[int, int]]) -> list[list[Replacement]]:
        """For each reading to try, the words it reads differently (empty: no reading to try).

        ``taken``: spans of the original already covered by evidence; words there are left as
        they are.
        """
        folded = norm.text
        fixed: list[Replacement] = []
        choices: list[list[Replacement]] = []
        for m in self._candidates.finditer(folded):
            token = m.group()
            start, end = norm.span(*m.span())
            if any(s < end and start < e for s, e in taken):
                continue
            expansions = self._abbreviations.get(token)
            if expansions is not None:
                choices.append([Replacement(start, end, x, "abbreviation") for x in expansions])
                continue
            typo = self.correction(token)
            if typo is not None:
                fixed.append(Replacement(start, end, typo, "typo"))
        if not fixed and not choices:
            return []
        combos = itertools.islice(itertools.product(*choices), self.max_readings)
        return [sorted(fixed + list(combo), key=lambda r: r.start) for combo in combos]

    @staticmethod
    def reading(original: str, replaced: list[Replacement]) -> Reading:
        """``original`` with the ``replaced`` words (sorted, disjoint) written as read, and for
        each character the original character it stands for."""
        parts: list[str] = []
        index: list[int] = []
        at = 0
        for r in replaced:
            parts.append(original[at : r.start])
            index.extend(range(at, r.start))
            parts.append(r.text)
            # spread the new word over the old one, first letter on first, last on last, so
            # a match of the whole word maps back to the whole word as written
            n_old, n_new = r.end - r.start, len(r.text)
            index.extend(r.start + (k * (n_old - 1)) // max(1, n_new - 1) for k in range(n_new))
            at = r.end
        parts.append(original[at:])
        index.extend(range(at, len(original)))
        return "".join(parts), index

    def describe(self, replaced: list[Replacement], start: int, end: int) -> tuple[str, float]:
        """How a match at ``[start, end)`` of a reading built from ``replaced`` was found, and
        the fraction of the term's weight it counts: a typo anywhere in it makes it a typo."""
        kinds = {r.reading for r in replaced if r.start < end and start < r.end}
        kind = "typo" if "typo" in kinds else "abbreviation" if kinds else "exact"
        return kind, self.weights.get(kind, 1.0)
