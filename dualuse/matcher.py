"""Keyword matching: taxonomy terms, part-number patterns and exclusions, in one pass each.

All terms and exclusion phrases of a taxonomy go into one character trie and one
Aho-Corasick automaton over their keys (see :mod:`dualuse._automaton`): the automaton scans
the text once, with its separators removed, and names the few positions where a term can
start; the trie is walked only there, and cheap checks apply the word rules. Building both
takes milliseconds, and a text costs one scan whatever the number of terms. Three word
regimes share the trie:

* Latin (and other non-CJK) terms match on word boundaries: a letter right before or after
  blocks the match, a digit does not (``VMC`` matches in ``VMC850``); a regular English
  plural of the term or phrase matches too (``lathes``, ``lenses``, ``fibre optic bundles``);
* Cyrillic terms are stems: they match at a word start and may be followed by up to three
  more letters (``станк`` matches ``станка``, ``станков``);
* CJK terms match anywhere (no spaces between words).

A space or hyphen inside a term matches any run of separators or none (``5-axis`` =
``5 axis`` = ``5axis``). At one position the longest entry wins and a match consumes its
text, so an *overlap* exclusion such as ``potato chips`` swallows the term ``chips`` it
covers; *text* exclusions cancel every match of their families in the description; *head*
exclusions also cancel a term of their families that describes the item they name
("telescope tripod", "cutting tools for lathes").

Patterns (part numbers, model series) run in a second pass over the same folded text, at
token starts only, and each only where the text starts the way the pattern can.
A text that is exactly two short comma-separated parts ("hacksaws, power") is also read
as "power hacksaws", the tariff-search habit of putting the head noun first.
All spans are half-open ``[start, end)`` offsets into the **original** string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from ._automaton import PREFIX_CHARS, SEPARATOR_MARK, Accept, KeyScanner, Trie, pattern_prefixes
from ._linear_regex import MAX_PATTERN_WIDTH, compile_linear, to_re2
from .categories import FAMILIES
from .match_result import ExclusionHit, KeywordMatch, MatchResult
from .normalize import Normalized, fold, normalize
from .readings import alternate_readings, merge_readings
from .spelling import SpellingReader, default_lexicon, spelling_settings
from .taxonomy import Taxonomy

__all__ = ["KeywordMatch", "ExclusionHit", "MatchResult", "KeywordMatcher"]


_WORDS = re.compile(r"[a-z]+")


def _is_letter(ch: str) -> bool:
    """A letter of an alphabetic script after folding (a-z, Latin-1 to Latin Extended-B from
    U+00DF, Greek, Cyrillic). CJK is not one on purpose: "FPGA芯片" must still match "fpga"
    and "芯片". Folding already stripped accents and lowered the case."""
    return "a" <= ch <= "z" or "\u00df" <= ch <= "\u024f" or "\u0370" <= ch <= "\u052f"


def _after_cjk(text: str, end: int) -> int | None:
    """CJK terms match anywhere: no spaces between words."""
    return end


def _after_stem(text: str, end: int) -> int | None:
    """A Cyrillic stem takes up to three more letters ("станк" -> "станков"), then the word ends."""
    stop, n = end, len(text)
    while stop < n and stop - end <= 3 and _is_letter(text[stop]):
        stop += 1
    return stop if stop - end <= 3 else None


def _after_word(text: str, end: int) -> int | None:
    """The term ends a word: no letter follows (a digit may: "VMC850")."""
    return None if end < len(text) and _is_letter(text[end]) else end


def _after_latin(text: str, end: int) -> int | None:
    """The term, or its English regular plural, ends a word.

    Trade wording is mostly plural ("lathes", "fibre optic bundles", "ICs") and listing every
    plural in the taxonomy by hand missed two thirds of them. "es" only after s, x, z or h
    ("lenses", "presses", "broaches"), so that "IC" does not read "ices"; each reading is
    tried longest first. The entry is still looked up by the term as listed; the evidence
    span covers the plural as written. Irregular plurals ("-y" -> "-ies") stay listed in the
    taxonomy.
    """
    if text.startswith("es", end) and text[end - 1] in "sxzh" and _after_word(text, end + 2) is not None:
        return end + 2
    if text.startswith("s", end) and _after_word(text, end + 1) is not None:
        return end + 1
    return _after_word(text, end)


# Tariff-search and catalogue terms put the head noun first: "hacksaws, power", "vices,
# machine", "chips, potato". A text that is exactly two short comma-separated parts (at most
# three words each, no digits: "Lens, 50mm" is a noun and its size) is also read as
# "modifier head" ("power hacksaws"), so listed terms and exclusions match either way. Index
# and catalogue wording also puts the modifier in brackets, "presses (hydraulic)", "chips
# (potato)": the same two parts, read the same way.
_INVERTED_TERMS = (
    re.compile(r"^\s*(?P<whole>(?P<head>[^\W\d][^,;:()\d]*?)\s*,\s*(?P<modifier>[^\W\d][^,;:()\d]*?))\s*$"),
    re.compile(r"^\s*(?P<whole>(?P<head>[^\W\d][^,;:()\d]*?)\s*\(\s*(?P<modifier>[^\W\d][^,;:()\d]*?)\s*\))\s*$"),
)
#: The longest text read in the inverted forms: two parts of at most three words each fit in
#: far fewer characters, and a bound keeps the forms' backtracking constant (100,000 spaces
#: between two letters took 37 s).
_MAX_INVERTED_CHARS = 240
# A *head* exclusion names an item that is `none` even when a family term describes it
# ("telescope tripod", "lathe cutting tools", "CPU cooler"): in an English noun phrase the last
# noun is the item and the words before it are modifiers; "X for Y" names X, made for Y.
# So a head phrase also cancels (1) a term of its families right before it in the same noun
# phrase: only separators and at most two plain words between them, and the phrase ends the
# noun phrase (end of text, punctuation, a number or a joining word follows), and (2) a term
# in the complement after "for" / "to fit" / "suitable for" / "compatible with" that follows it,
# up to the next punctuation. Joining words break a noun phrase: "binoculars with case" is
# binoculars, "spotting scope tripod kit" is left alone.
_JOINING = r"(?:for|with|without|and|or|plus|incl|including|in|on|of|to|from|by|w|x|для|с|и|für|mit|und)"
_MODIFIER_GAP = re.compile(rf"[\s\-]*(?:(?!{_JOINING}(?![^\W\d_]))[^\W\d_]+[\s\-]+){{0,2}}", re.IGNORECASE)
_PHRASE_END = re.compile(rf"\s*(?:$|[^\w\s]|\d|{_JOINING}(?![^\W\d_]))", re.IGNORECASE)
_COMPLEMENT = re.compile(
    r"\s+(?:for(?:\s+use\s+with)?|to\s+fit|fits|fitting|suitable\s+for|compatible\s+with|для|für)\s+([^,;:()\[\]|]*)",
    re.IGNORECASE,
)
# what a pattern match extends over after the pattern (the rest of a part number)
_TOKEN_TAIL = re.compile(r"[a-z0-9\-/#+]*", re.IGNORECASE)
_SEPARATOR_RUN = re.compile(r"[\s\-_/.]+")
_SEPARATOR_CHARS = frozenset(" \t\n\r\f\v-_/.")
# token starts whose patterns a matcher remembers (one small entry each; texts repeat them)
_MAX_REMEMBERED_STARTS = 200_000

# ---------------------------------------------------------------------------- leetspeak
# Digits and symbols written for look-alike letters inside a word ("m1crocontroller",
# "th3rmal 1mager", "b1nocu1ars"). They cannot be folded away in :mod:`dualuse.normalize`:
# the same characters are the substance of part numbers (STM32F407, XC7Z020, 16K20, BT40,
# 3-9x40), which the model and the patterns must keep seeing as written. So leetspeak is a
# second, narrow reading done here, only where it can matter:
#
# * a cheap check first: a leet character right next to a Latin letter (one C-level scan;
#   ordinary words and separate numbers such as "10 mm" or "2 kW" stop here);
# * a token (a run of [a-z0-9@$]) is a leet candidate only if it has at least 3 Latin
#   letters, no digit that leetspeak does not use (2, 6, 8, 9), and no ordinary match or
#   pattern touched it: codes such as 1C, 50C, 4K, BT40, 16K20, CK6150, XC7Z020, STM32F407,
#   IRF540, 3-9x40 are never re-read, and few ordinary rows get past this step. A dense
#   token (as many leet characters as letters, or two digits in a row: "1m4g3r",
#   "c0ntr0113r") is read only where one term covers the whole token, never a part of it;
# * the Latin terms are matched a second time with an expression in which each letter of
#   a term also accepts its leet forms (``i`` -> ``[i1]``); ``1`` reads as ``i`` or ``l``,
#   which one fixed de-leeting map could not do ("b1nocu1ars");
# * a leet reading counts only if it replaced at least one character inside a candidate
#   token and does not overlap anything the ordinary pass found (terms, patterns,
#   exclusions), so a text without leetspeak gets exactly the results it always had.
#   Leet readings of exclusion phrases only stop leet terms they cover; they never cancel.
#
# The evidence shows it: ``matched_text`` is the original leet spelling beside the term.
_LEET_FORMS = {"a": "4@", "e": "3", "i": "1", "l": "1", "o": "0", "s": "5$", "t": "7"}
_LEET_CHARS = "013457@$"
_LEET_READ = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
# class first, neighbour checked by look-around: several times faster than "[a-z][0-9]|..."
_LEET_HINT = re.compile(r"[013457@$](?<=[a-z].)|[013457@$](?=[a-z])")
# codes, not words: a digit leetspeak does not use (2, 6, 8, 9)
_NOT_LEET = re.compile(r"[2689]")
# dense leet (two digits in a row): read only where a term spans the whole token
_CODE_LIKE = re.compile(r"\d\d")
# a whole token with a leet character next to a letter somewhere in it
_LEET_TOKEN = re.compile(r"(?<![a-z0-9@$])[a-z0-9@$]*?(?:[a-z][013457@$]|[013457@$][a-z])[a-z0-9@$]*")
#: canonical form for looking up a leet reading: leet characters read, and l read as i
_LEET_CANON = str.maketrans({**_LEET_READ, "l": "i"})
#: the term characters a leet character can stand for, itself included, in code-point order
_LEET_ACCEPTS = {c: "".join(sorted({c} | {letter for letter, forms in _LEET_FORMS.items() if c in forms})) for c in _LEET_CHARS}


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # CJK radicals, kana, unified ideographs
        or 0xAC00 <= o <= 0xD7AF  # Hangul
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
    )


def _script_of(term: str) -> str:
    if term.isascii():
        return "lat"
    if any(_is_cjk(c) for c in term):
        return "cjk"
    if any("\u0400" <= c <= "\u052f" for c in term):
        return "cyr"
    return "lat"


class _Entry(NamedTuple):
    """A term or an exclusion phrase as filed under its key (a tuple: thousands are made per build)."""

    kind: str  # "term" | "exclusion"
    text: str
    language: str
    subcategory: str  # subcategory id, or exclusion id
    family: str  # family, or "" for exclusions
    weight: float
    families: tuple[str, ...] = ()
    scope: str = ""
    spares: tuple[str, ...] = ()


def _fold_all(texts: list[str]) -> list[str]:
    """``[fold(t) for t in texts]``, in one call of :func:`fold` for all of them.

    Folding is per character except for joining spelt acronyms ("c.n.c"), which looks at
    the neighbours of letters and separators; "|" is neither a word character nor one of
    the acronym separators, so next to it a text folds as it does at either end of a string.
    Folding ~5,000 terms one by one is a third of the time to build a matcher. When a text
    holds (or folds to) "|", the pieces would not line up, so each is folded alone.
    """
    out = [""] * len(texts)
    # ASCII texts together take the fast path of folding (a whole string or none of it)
    for ascii_ in (True, False):
        at = [i for i, t in enumerate(texts) if t.isascii() == ascii_]
        pieces = fold("|".join(texts[i] for i in at)).split("|") if at else []
        if len(pieces) != len(at):
            pieces = [fold(texts[i]) for i in at]
        for i, piece in zip(at, pieces, strict=True):
            out[i] = piece
    return out


def _leet_compatible(written: str, key: str) -> bool:
    """True when ``written`` is ``key`` with some letters replaced by their leet forms."""
    return len(written) == len(key) and all(w == k or w in _LEET_FORMS.get(k, "") for w, k in zip(written, key))


class _PatternRule:
    """One part-number pattern: what it reports, and where it can start.

    ``first`` holds the lower-case characters the pattern can start with (None: not simple to
    tell, so any); the pattern is tried at a token start only if the character there is one of
    them. ``prefixes`` holds the starts it can match (see :func:`dualuse._automaton.pattern_prefixes`).
    """

    __slots__ = ("body", "family", "first", "pattern_id", "prefixes", "regex", "subcategory", "weight")
    # ``regex`` is the pattern as written (Python syntax); ``body`` the same in RE2 syntax, its
    # groups non-capturing so only the matcher's named groups capture (:mod:`dualuse._linear_regex`)

    def __init__(self, pattern_id: str, subcategory: str, family: str, weight: float, regex: str) -> None:
        self.pattern_id, self.subcategory, self.family, self.weight = pattern_id, subcategory, family, weight
        self.regex, self.body = regex, to_re2(regex)
        self.first: set[str] | None = None
        self.prefixes: frozenset[str] | None = None
        try:
            from re import _parser as sre_parse  # type: ignore[attr-defined]
        except ImportError:  # pragma: no cover - Python 3.10
            import sre_parse
        try:
            parsed = sre_parse.parse(regex)
            self.first = _first_of(parsed)
        except Exception:  # any surprise: try the pattern everywhere, which is always correct
            return
        self.prefixes = pattern_prefixes(parsed)


def _first_of(items) -> set[str] | None:
    items = list(items)
    for pos, (op, arg) in enumerate(items):
        name = str(op)
        if name == "AT":
            continue
        if name == "LITERAL":
            return {chr(arg).lower()}
        if name == "IN":
            out: set[str] = set()
            for iop, iarg in arg:
                iname = str(iop)
                if iname == "LITERAL":
                    out.add(chr(iarg).lower())
                elif iname == "RANGE":
                    out.update(chr(x).lower() for x in range(iarg[0], iarg[1] + 1))
                elif iname == "CATEGORY" and str(iarg).endswith("CATEGORY_DIGIT"):
                    out.update("0123456789")
                else:
                    return None
            return out
        if name == "BRANCH":
            out = set()
            for branch in arg[1]:
                first = _first_of(branch)
                if first is None:
                    return None
                out |= first
            return out
        if name == "SUBPATTERN":
            return _first_of(arg[-1])
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, _hi, sub = arg
            first = _first_of(sub)
            if first is None or lo > 0:
                return first
            rest = _first_of(items[pos + 1 :])  # optional: it may start with what follows
            return None if rest is None else first | rest
        return None
    return None


#: The scripts in the order they are tried at one position, and the bit that stands for each
#: in a key's mask (the scripts it has entries in).
_SCRIPT_ORDER = ("cjk", "cyr", "lat")
_SCRIPT_BIT = {"cjk": 1, "cyr": 2, "lat": 4}


class _Script(NamedTuple):
    """One script's entries and the word rule they match with."""

    bit: int
    trie: Trie
    firsts: frozenset[str] | None  # the characters a match starts on (None: any, see Trie.firsts)
    word_start: bool  # no letter may come right before the match
    accept: Accept  # the rule after the entry (word end, plural, stem ending)


def _scripts(tries: dict[str, Trie]) -> tuple[_Script, ...]:
    """The scripts that have entries, in the order they are tried at one position."""
    rules = {"cjk": (False, _after_cjk), "cyr": (True, _after_stem), "lat": (True, _after_latin)}
    return tuple(
        _Script(_SCRIPT_BIT[name], tries[name], tries[name].firsts() or None, *rules[name])
        for name in _SCRIPT_ORDER
        if tries[name]
    )


def _scan(scripts: tuple[_Script, ...], text: str, starts: dict[int, int]) -> list[tuple[int, int, int]]:
    """Entries found left to right, each consuming its text: ``(start, end of the entry, end
    of the match)``.

    ``starts`` maps each candidate position to the mask of the scripts whose keys the scanner
    saw there; at a position the scripts are tried in order, each only where one of its keys
    starts, and the first entry found wins, as in one regex of the three alternatives.
    """
    found: list[tuple[int, int, int]] = []
    resume = 0
    for pos in sorted(starts):
        if pos < resume:
            continue
        mask = starts[pos]
        after_letter = pos > 0 and _is_letter(text[pos - 1])
        for script in scripts:
            if not mask & script.bit or (script.word_start and after_letter):
                continue
            if script.firsts is not None and text[pos] not in script.firsts:
                continue
            at = script.trie.walk(text, pos, script.accept)
            if at is not None:
                found.append((pos, *at))
                resume = at[1]
                break
    return found


def _candidate_starts(text: str, hits: Iterable[tuple[int, int]], masks: list[int], guarded: bool) -> dict[int, int]:
    """Positions to try, each with the mask of the scripts of the keys that start there; when a
    script has no first characters to look for, also the separator run right before them."""
    starts: dict[int, int] = {}
    for pos, key in hits:
        starts[pos] = starts.get(pos, 0) | masks[key]
    if not guarded:
        for pos, mask in list(starts.items()):
            while pos > 0 and _SEPARATOR_RUN.match(text, pos - 1) is not None:
                pos -= 1
                starts[pos] = starts.get(pos, 0) | mask
    return starts


def _entry_key(folded: str, start: int, end: int) -> str:
    """The lookup key of the entry matched at ``[start, end)``: its core (no plural, no
    Cyrillic ending) with separators removed; the text is folded already."""
    return _SEPARATOR_RUN.sub("", folded[start:end])


def _governed_by_head(original: str, start: int, end: int, matches: list[KeywordMatch], families: tuple[str, ...]) -> list[int]:
    """Indices of the matches a head phrase at ``[start, end)`` cancels (see ``_JOINING``)."""
    out: list[int] = []
    ends_phrase = _PHRASE_END.match(original, end) is not None
    complement = _COMPLEMENT.match(original, end)
    for i, m in enumerate(matches):
        if m.family not in families:
            continue
        if m.end <= start and ends_phrase and _MODIFIER_GAP.fullmatch(original, m.end, start) is not None:
            out.append(i)  # "telescope tripod": the term describes the item the phrase names
        elif complement is not None and complement.start(1) <= m.start and m.end <= complement.end(1):
            out.append(i)  # "cutting tools for lathes": the item is made for the term
    return out


class KeywordMatcher:
    """Finds taxonomy terms, patterns and exclusions in texts. Build once, reuse for all rows."""

    def __init__(self, taxonomy: Taxonomy, *, weak_weight: float = 0.5, score_cap: float = 2.0, spelling: bool = True) -> None:
        self.taxonomy = taxonomy
        self.score_cap = score_cap
        self._entries: dict[str, list[_Entry]] = {}
        self._lat_keys: dict[str, None] = {}  # keys of Latin-script entries, in file order
        self._key_scripts: dict[str, int] = {}  # key -> mask of the scripts it has entries in
        tries = {"lat": Trie(), "cyr": Trie(), "cjk": Trie()}
        exclusion_tries = {"lat": Trie(), "cyr": Trie(), "cjk": Trie()}  # phrases alone
        exclusion_keys: set[str] = set()
        terms = [
            _Entry("term", t.text, t.language, t.subcategory, t.family, t.weight)
            for t in taxonomy.term_entries(weak_weight=weak_weight)
        ]
        phrases = [
            _Entry("exclusion", phrase, lang, ex.id, "", 0.0, tuple(ex.families), ex.scope, tuple(ex.spares))
            for ex in taxonomy.exclusions
            for lang, phrase in ex.phrases.items()
        ]
        folded = _fold_all([e.text for e in terms + phrases])
        for entry, text in zip(terms, folded[: len(terms)], strict=True):
            self._add(entry, text, tries)
        for entry, text in zip(phrases, folded[len(terms) :], strict=True):
            exclusion_keys.add(self._add(entry, text, tries, exclusion_tries))
        self._scanner = KeyScanner(self._entries)
        self._key_masks = [self._key_scripts[key] for key in self._scanner.keys]
        self._terms = _scripts(tries)
        self._terms_guarded = all(script.firsts is not None for script in self._terms)
        # Second look for phrases hidden inside a term that starts earlier ("camera lens cap":
        # "camera lens" consumes the start of "lens cap"); run only on texts with a term, at
        # the places where the scanner saw an exclusion key.
        self._exclusions = _scripts(exclusion_tries)
        self._exclusions_guarded = all(script.firsts is not None for script in self._exclusions)
        self._exclusion_key_ids = frozenset(i for i, key in enumerate(self._scanner.keys) if key in exclusion_keys)
        # the leet reading of the Latin terms (see _LEET_FORMS); keys by canonical form
        self._leet_trie: Trie | None = tries["lat"] if tries["lat"] else None
        self._leet_keys: dict[str, list[str]] = {}
        for key in self._lat_keys:
            self._leet_keys.setdefault(key.translate(_LEET_CANON), []).append(key)
        # typo and abbreviation reading (dualuse.spelling) over the words of the Latin terms
        self._spelling: SpellingReader | None = None
        if spelling:
            forms, settings = spelling_settings()
            words: dict[str, set[str]] = {}
            for entry, text in zip(terms, folded[: len(terms)], strict=True):
                if _script_of(entry.text) == "lat":
                    for w in _WORDS.findall(text):
                        words.setdefault(w, set()).add(entry.family)
            self._spelling = SpellingReader(
                words,
                lexicon=default_lexicon,
                abbreviations=forms,
                min_length=int(settings["min_length"]),
                typo_weight=settings["typo_weight"],
                abbreviation_weight=settings["abbreviation_weight"],
            )

        # One alternation of 165 patterns tried at every position costs ~1.5 ms a row. Instead
        # each pattern is filed under the characters it can start with, and at a token start
        # only an alternation of the patterns that can start with its first characters is
        # tried (same order, same result). Those alternations compile when a text first needs
        # them: compiling them all up front would be most of the cost of building a matcher.
        self._pattern_rules = [
            _PatternRule(p.id, sub.id, sub.family, p.weight, p.regex) for sub in taxonomy.subcategories for p in sub.patterns
        ]
        firsts = [r.first for r in self._pattern_rules]
        self._pattern_wildcard = tuple(i for i, first in enumerate(firsts) if first is None)
        chars = sorted({c for first in firsts if first for c in first})
        self._pattern_by_first = {c: tuple(i for i, first in enumerate(firsts) if first is None or c in first) for c in chars}
        self._pattern_unknown_start = [i for i, r in enumerate(self._pattern_rules) if r.prefixes is None]
        self._pattern_by_prefix: dict[str, list[int]] = {}
        for i, r in enumerate(self._pattern_rules):
            for prefix in r.prefixes or ():
                self._pattern_by_prefix.setdefault(prefix, []).append(i)
        # filled as texts come: the alternation to try where a token starts with these
        # characters (None: no pattern can start so), and the alternation of each set of rules
        self._pattern_by_start: dict[str, Any] = {}  # RE2 alternations (untyped) or None
        self._alternations: dict[tuple[int, ...], Any] = {}
        self._pattern_start: re.Pattern[str] | None = None
        if self._pattern_wildcard:
            self._pattern_start = re.compile(r"(?<![a-z0-9])(?=.)", re.DOTALL)
        elif chars:
            self._pattern_start = self._compile_pattern_start(chars)

    def _compile_pattern_start(self, chars: list[str]) -> re.Pattern[str]:
        """The token starts where some pattern can match, found in one C-level scan.

        A token start whose first characters no pattern can start with is never yielded, so
        most words ("steel", "the", "and") cost nothing in Python. A start with a character
        that is not ASCII among them is let through (the prefix sets do not speak for it),
        and so is anything after a first character whose patterns can match it alone or
        start in a way that is not known: :meth:`_patterns_at` decides exactly.
        """
        anywhere: list[str] = []
        by_tail: dict[str, list[str]] = {}
        for c in chars:
            starts: set[str] = set()
            for i in self._pattern_by_first[c]:
                prefixes = self._pattern_rules[i].prefixes
                if prefixes is None:
                    starts = {c}
                    break
                starts.update(p for p in prefixes if p[:1] == c or not p)
            if not c.isascii() or any(len(p) < 2 for p in starts):
                anywhere.append(c)
                continue
            # what may follow c: the rest of a start, grouped by its first character
            nexts: dict[str, set[str]] = {}
            for p in starts:
                nexts.setdefault(p[1], set()).add(p[2:])
            tails = []
            for second, rests in sorted(nexts.items()):
                if "" in rests:  # a whole match of two characters: anything may follow
                    tails.append(re.escape(second))
                else:
                    tails.append(re.escape(second) + "(?:" + "|".join(re.escape(t) for t in sorted(rests)) + ")")
            by_tail.setdefault("|".join(tails), []).append(c)
        branches = ["[" + "".join(re.escape(c) for c in anywhere) + "]"] if anywhere else []
        for tail, firsts in by_tail.items():
            branches.append("[" + "".join(re.escape(c) for c in firsts) + f"](?=(?i:{tail})|[\\s\\S]?[^\\x00-\\x7f])")
        return re.compile("(?<![a-z0-9])(?:" + "|".join(branches) + ")")

    def _add(self, entry: _Entry, folded: str, *trie_sets: dict[str, Trie]) -> str:
        """File an entry (``folded``: its text folded) under its key and in its script's trie
        of each set; its key ("" when it has none, and then it is not filed)."""
        key = _SEPARATOR_RUN.sub("", folded)  # normalize.term_key
        if not key:
            return ""
        script = _script_of(entry.text)
        marks = _SEPARATOR_RUN.sub(SEPARATOR_MARK, folded.strip())
        self._key_scripts[key] = self._key_scripts.get(key, 0) | _SCRIPT_BIT[script]
        for tries in trie_sets:
            tries[script].add(marks)
        self._entries.setdefault(key, []).append(entry)
        if script == "lat":
            self._lat_keys[key] = None
        return key

    def _patterns_at(self, start: str) -> Any:
        """The alternation of the patterns that can match at a token starting with ``start``
        (None: none can), remembered for ASCII starts."""
        members = self._pattern_by_first.get(start[0], self._pattern_wildcard)
        if start.isascii():  # the prefix sets speak for ASCII text only
            lower = start.lower()
            # a pattern can match if one of its starts is the text's start, or is a whole
            # match shorter than that
            can = set(self._pattern_unknown_start)
            for n in range(len(lower) + 1):
                can.update(self._pattern_by_prefix.get(lower[:n], ()))
            members = tuple(i for i in members if i in can)
        rx = self._alternations.get(members) if members else None
        if members and rx is None:
            groups = "|".join(f"(?P<p{i}>{self._pattern_rules[i].body})" for i in members)
            rx = self._alternations[members] = compile_linear(f"(?i)(?:{groups})")
        if start.isascii() and len(self._pattern_by_start) < _MAX_REMEMBERED_STARTS:
            self._pattern_by_start[start] = rx
        return rx

    # ------------------------------------------------------------------ matching

    def match(self, text: str) -> MatchResult:
        """Match one text (any length; callers bound the length)."""
        return self.match_normalized(normalize(text), text)

    def match_many(self, texts: Iterable[str]) -> list[MatchResult]:
        """Match each text; same result as :meth:`match` per item."""
        return [self.match(t) for t in texts]

    def match_normalized(self, norm: Normalized, original: str) -> MatchResult:
        """Match a text already normalised with :func:`dualuse.normalize.normalize`,
        with the second readings of :mod:`dualuse.readings` (hidden characters, RLO runs)."""
        result = self._match_one(norm, original)
        readings = alternate_readings(original)
        if readings:
            merged = merge_readings(
                original, norm.text, result, readings, lambda shown: self._match_one(normalize(shown), shown), self.family_scores
            )
            assert isinstance(merged, MatchResult)
            result = merged
        if self._spelling is not None:
            result = self._with_spelling(result, norm, original)
        return result

    def _with_spelling(self, result: MatchResult, norm: Normalized, original: str) -> MatchResult:
        """Add what the typo and abbreviation readings find (weaker evidence; see dualuse.spelling)."""
        assert self._spelling is not None
        taken = [(m.start, m.end) for m in result.matches] + [(x.start, x.end) for x in result.exclusions]
        variants = self._spelling.replacements(norm, taken)
        if not variants:
            return result
        spelling = self._spelling
        merged = merge_readings(
            original,
            norm.text,
            result,
            [spelling.reading(original, replaced) for replaced in variants],
            lambda shown: self._match_one(normalize(shown), shown),
            self.family_scores,
            lambda i, start, end: spelling.describe(variants[i], start, end),
        )
        assert isinstance(merged, MatchResult)
        return merged

    def _match_one(self, norm: Normalized, original: str) -> MatchResult:
        result = self._match_reading(norm, original)
        if len(norm.text) > _MAX_INVERTED_CHARS:  # not two short parts; and the forms' lazy parts
            return result  # would cost time quadratic in a long run of spaces
        for form in _INVERTED_TERMS:
            inverted = form.match(norm.text)
            if inverted is not None:
                return self._with_inverted_reading(result, inverted, norm, original)
        return result

    def _with_inverted_reading(
        self, result: MatchResult, inverted: re.Match[str], norm: Normalized, original: str
    ) -> MatchResult:
        """Add what the reading "B A" of a two-part term "A, B" or "A (B)" finds (see _INVERTED_TERMS).

        Terms found only in the inverted reading, and exclusions found in it, are reported
        over the whole text (``matched_text`` is the text as written, ``term`` the listed
        term); an exclusion read this way cancels the matches of its families, because its
        phrase spans both parts ("chips, potato" is "potato chips").
        """
        head, modifier = inverted.group("head"), inverted.group("modifier")
        if len(head.split()) > 3 or len(modifier.split()) > 3:
            return result
        reading = modifier + " " + head
        other = self._match_reading(normalize(reading), reading)
        start, end = norm.span(inverted.start("whole"), inverted.end("whole"))
        whole = original[start:end]
        join = len(modifier)  # the space between the two parts in `reading`

        def spans_join(x: KeywordMatch | ExclusionHit) -> bool:
            # anything inside one part was found (or not) by the reading in the original order
            return x.start < join < x.end

        hits = list(result.exclusions)
        known = {x.exclusion_id for x in hits}
        cancelling: list[ExclusionHit] = []
        for x in other.exclusions:
            # a head phrase inside one part governs a term in the other ("tripod, telescope");
            # it replaces the same phrase found, governing nothing, in the original order
            governs = x.scope == "head" and bool(x.cancelled)
            if governs:
                hits = [h for h in hits if h.exclusion_id != x.exclusion_id]
            elif not spans_join(x) or x.exclusion_id in known:
                continue
            hit = ExclusionHit(
                x.exclusion_id,
                x.phrase,
                x.families,
                x.scope,
                start,
                end,
                whole,
                tuple(m.matched_text for m in result.matches if x.cancels(m)),
                x.spares,
            )
            cancelling.append(hit)
            hits.append(hit)

        def cancelled(m: KeywordMatch) -> bool:
            return any(x.cancels(m) for x in cancelling)

        matches = [m for m in result.matches if not cancelled(m)]
        weight: dict[str, float] = {}
        for m in matches:
            weight[m.subcategory] = max(weight.get(m.subcategory, 0.0), m.weight)
        for m in other.matches:
            # a listed term read across both parts is new evidence unless the subcategory
            # already has a match at least as strong ("sights" is weak, "telescopic sight" is not)
            if spans_join(m) and not cancelled(m) and m.weight > weight.get(m.subcategory, 0.0):
                weight[m.subcategory] = m.weight
                matches = [x for x in matches if x.subcategory != m.subcategory]
                matches.append(KeywordMatch(m.kind, m.term, m.subcategory, m.family, m.language, m.weight, start, end, whole))
        matches.sort(key=lambda m: (m.start, m.end))
        return MatchResult(tuple(matches), tuple(hits), self.family_scores(matches), result.model_text)

    def _match_reading(self, norm: Normalized, original: str) -> MatchResult:
        """One reading of a text: terms, patterns, leet terms, then exclusions."""
        folded = norm.text
        matches: list[KeywordMatch] = []
        exclusions: list[tuple[_Entry, int, int]] = []  # folded spans
        term_spans: list[tuple[int, int]] = []
        pattern_spans: list[tuple[int, int]] = []
        key_hits = self._scanner.hits(folded)
        if key_hits:
            starts = _candidate_starts(folded, key_hits, self._key_masks, self._terms_guarded)
            for s_f, key_end, e_f in _scan(self._terms, folded, starts):
                entries = self._entries.get(_entry_key(folded, s_f, key_end))
                if not entries:  # cannot happen for a well-formed trie; be safe, not sorry
                    continue
                excl = [e for e in entries if e.kind == "exclusion"]
                if excl:
                    exclusions.extend((e, s_f, e_f) for e in excl)
                    continue
                start, end = norm.span(s_f, e_f)
                seen_subs: set[str] = set()
                for e in entries:
                    if e.subcategory in seen_subs:
                        continue
                    seen_subs.add(e.subcategory)
                    matches.append(
                        KeywordMatch(
                            "term", e.text, e.subcategory, e.family, e.language, e.weight, start, end, original[start:end]
                        )
                    )
                term_spans.append((s_f, e_f))
        if term_spans and self._exclusions:
            exclusions.extend(self._hidden_exclusions(folded, key_hits, term_spans, matches, norm))
        if self._pattern_start is not None:
            overlap_excl = [(s, e) for (x, s, e) in exclusions if x.scope != "text"]
            by_start = self._pattern_by_start
            # Python's $ matches before a final newline too; RE2's only at the end
            subject = folded[:-1] if folded.endswith("\n") else folded
            resume = 0
            for start_match in self._pattern_start.finditer(folded):
                i = start_match.start()
                if i < resume:
                    continue
                head = folded[i : i + PREFIX_CHARS]
                try:
                    rx = by_start[head]  # the common case, without a call
                except KeyError:
                    rx = self._patterns_at(head)
                if rx is None:
                    continue
                # A pattern matches at most MAX_PATTERN_WIDTH characters, so the engine is given
                # that much text (and one character either side, for \b and $): each attempt then
                # costs the same however long the text is, and a text costs linear time.
                lo = i - 1 if i else 0
                m = rx.match(subject[lo : i + MAX_PATTERN_WIDTH + 1], i - lo)
                if m is None:
                    continue
                body_end = lo + m.end()
                tail = _TOKEN_TAIL.match(folded, body_end)  # always matches, maybe empty
                s_f, e_f = i, tail.end() if tail else body_end
                resume = e_f
                if any(s < e_f and s_f < e for s, e in overlap_excl):
                    continue
                # the named group wrapping the matched pattern closes after any group inside
                # it, so it is m.lastgroup (no groupdict over 165 groups per match)
                rule = self._pattern_rules[int(m.lastgroup[1:])]
                start, end = norm.span(s_f, e_f)
                matches.append(
                    KeywordMatch(
                        "pattern",
                        rule.pattern_id,
                        rule.subcategory,
                        rule.family,
                        "any",
                        rule.weight,
                        start,
                        end,
                        original[start:end],
                    )
                )
                pattern_spans.append((s_f, e_f))
        model_text = None
        if self._leet_trie is not None and _LEET_HINT.search(folded) is not None:  # cheap check first
            taken = term_spans + pattern_spans + [(s, e) for (_, s, e) in exclusions]
            leet, read = self._leet_matches(norm, original, taken)
            matches.extend(leet)
            if read:  # the model reads the letters, as it does for the plain spelling
                model_text = "".join(read.get(i, c) for i, c in enumerate(folded))
        hits: list[ExclusionHit] = []
        dropped: set[int] = set()  # indices into `matches` cancelled by a text or head phrase
        for e, s_f, e_f in exclusions:
            start, end = norm.span(s_f, e_f)
            idx: list[int] = []
            if e.scope == "text":
                idx = [i for i, m in enumerate(matches) if m.family in e.families]
            elif e.scope == "head":
                idx = _governed_by_head(original, start, end, matches, e.families)
            idx = [i for i in idx if matches[i].subcategory not in e.spares]
            dropped.update(idx)
            cancelled = tuple(matches[i].matched_text for i in idx)
            hits.append(
                ExclusionHit(e.subcategory, e.text, e.families, e.scope, start, end, original[start:end], cancelled, e.spares)
            )
        if dropped:
            matches = [m for i, m in enumerate(matches) if i not in dropped]
        matches.sort(key=lambda m: (m.start, m.end))
        return MatchResult(tuple(matches), tuple(hits), self.family_scores(matches), model_text)

    def _hidden_exclusions(
        self,
        folded: str,
        key_hits: list[tuple[int, int]],
        term_spans: list[tuple[int, int]],
        matches: list[KeywordMatch],
        norm: Normalized,
    ) -> list[tuple[_Entry, int, int]]:
        """Exclusion phrases that start inside a term and run past its end ("camera lens cap").

        The longest entry at a position consumes its text, so "camera lens" hides "lens cap".
        The phrase that runs on names the item ("lens cap"), so it is found here when it cuts
        into a term of its own families, and that term is dropped from ``matches`` (in place).
        """
        found: list[tuple[_Entry, int, int]] = []
        # a Latin or Cyrillic phrase can only start inside a term at a separator, so one-word
        # terms hide nothing; CJK has no separators, so CJK terms are always looked into
        multi_word = [
            (s, e)
            for s, e in term_spans
            if _SEPARATOR_RUN.search(folded, s, e) is not None or any(_is_cjk(c) for c in folded[s:e])
        ]
        if not multi_word:
            return found
        term_spans = multi_word
        first = min(s for s, _ in multi_word) + 1
        excluding = [(s, k) for s, k in key_hits if s >= first and k in self._exclusion_key_ids]
        starts = _candidate_starts(folded, excluding, self._key_masks, self._exclusions_guarded)
        for s_x, key_end, e_x in _scan(self._exclusions, folded, {s: m for s, m in starts.items() if s >= first}):
            cut = [(s, e) for s, e in term_spans if s < s_x < e < e_x]
            if not cut:
                continue
            spans = {norm.span(s, e) for s, e in cut}
            for entry in self._entries.get(_entry_key(folded, s_x, key_end), ()):
                if entry.kind != "exclusion":
                    continue
                # only a term of the phrase's own families is cut ("way covers for ..." keeps
                # the machine-tool term "way covers" whatever the optics phrase "covers for" says)
                hidden = [k for k in matches if (k.start, k.end) in spans and k.family in entry.families]
                if hidden:
                    found.append((entry, s_x, e_x))
                    matches[:] = [k for k in matches if k not in hidden]
        return found

    def _leet_matches(
        self, norm: Normalized, original: str, taken: list[tuple[int, int]]
    ) -> tuple[list[KeywordMatch], dict[int, str]]:
        """Terms written with leet digits inside words (see the comment at _LEET_FORMS),
        and the letter each leet character of a found term was read as (folded index)."""
        folded = norm.text
        candidates: list[tuple[int, int, bool]] = []  # token span, whole-token only
        for t in _LEET_TOKEN.finditer(folded):
            token = t.group()
            n_leet = sum(token.count(c) for c in _LEET_CHARS)
            n_letters = sum(1 for c in token if "a" <= c <= "z")
            if n_letters < 3 or _NOT_LEET.search(token):
                continue
            ts, te = t.span()
            if any(s < te and ts < e for s, e in taken):  # a part number or an ordinary match
                continue
            candidates.append((ts, te, n_letters <= n_leet or _CODE_LIKE.search(token) is not None))
        if not candidates:
            return [], {}
        out: list[KeywordMatch] = []
        read: dict[int, str] = {}
        assert self._leet_trie is not None
        resume = 0
        # no first-character guard and no plural in this reading: every word start is tried
        for s_f in range(len(folded)):
            if s_f < resume or (s_f > 0 and _is_letter(folded[s_f - 1])):
                continue
            found = self._leet_trie.walk(folded, s_f, _after_word, _LEET_ACCEPTS)
            if found is None:
                continue
            e_f = resume = found[1]
            if any(s < e_f and s_f < e for s, e in taken):
                continue
            at = [i for i in range(s_f, e_f) if folded[i] not in _SEPARATOR_CHARS]
            raw_key = "".join(folded[i] for i in at)
            key = next((k for k in self._leet_keys.get(raw_key.translate(_LEET_CANON), ()) if _leet_compatible(raw_key, k)), None)
            if key is None:
                continue
            replaced = {i: k for i, k in zip(at, key) if folded[i] != k}

            def readable(i: int, s_f: int = s_f, e_f: int = e_f) -> bool:
                # a dense token (as many leet characters as letters, or digits in a row)
                # counts only when the term covers all of it: "micr0c0ntr0113r"
                return any(cs <= i < ce and (not whole or (s_f <= cs and ce <= e_f)) for cs, ce, whole in candidates)

            if not replaced or not all(readable(i) for i in replaced):
                continue  # an ordinary spelling, or a leet character outside a candidate word
            entries = self._entries[key]
            if any(e.kind == "exclusion" for e in entries):  # consumed its span; cancels nothing
                continue
            read.update(replaced)
            start, end = norm.span(s_f, e_f)
            seen_subs: set[str] = set()
            for e in entries:
                if e.subcategory not in seen_subs:
                    seen_subs.add(e.subcategory)
                    out.append(
                        KeywordMatch(
                            "term", e.text, e.subcategory, e.family, e.language, e.weight, start, end, original[start:end]
                        )
                    )
        return out, read

    def family_scores(self, matches: Iterable[KeywordMatch]) -> dict[str, float]:
        """Keyword evidence per family: summed weights of distinct matches, capped.

        Matches of one family starting at the same place are one piece of evidence, worth the
        strongest of them ("Ryzen" is a weak term, "Ryzen 7 5800X" a model-number pattern).
        """
        strongest: dict[tuple[str, int], float] = {}
        for m in matches:
            key = (m.family, m.start)
            strongest[key] = max(strongest.get(key, 0.0), m.weight)
        scores: dict[str, float] = dict.fromkeys(FAMILIES, 0.0)
        for (family, _), weight in strongest.items():
            scores[family] = min(self.score_cap, scores[family] + weight)
        return scores
