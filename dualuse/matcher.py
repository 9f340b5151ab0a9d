"""Keyword matching: taxonomy terms, part-number patterns and exclusions, in one pass each.

All terms and exclusion phrases of a taxonomy are compiled once into a single regular
expression shaped like a character trie, so matching a text costs one scan whatever the
number of terms (no per-term loop). Three word regimes share that expression:

* Latin (and other non-CJK) terms match on word boundaries: a letter right before or after
  blocks the match, a digit does not (``VMC`` matches in ``VMC850``);
* Cyrillic terms are stems: they match at a word start and may be followed by up to three
  more letters (``станк`` matches ``станка``, ``станков``);
* CJK terms match anywhere (no spaces between words).

A space or hyphen inside a term matches any run of separators or none (``5-axis`` =
``5 axis`` = ``5axis``). At one position the longest entry wins and a match consumes its
text, so an *overlap* exclusion such as ``potato chips`` swallows the term ``chips`` it
covers; *text* exclusions cancel every match of their families in the description.

Patterns (part numbers, model series) run in a second pass over the same folded text.
All spans are half-open ``[start, end)`` offsets into the **original** string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .categories import FAMILIES
from .normalize import Normalized, fold, normalize, term_key
from .taxonomy import Taxonomy

__all__ = ["KeywordMatch", "ExclusionHit", "MatchResult", "KeywordMatcher"]

# Letters of alphabetic scripts after folding (accents are already stripped). CJK is not in
# here on purpose: "FPGA芯片" must still match "fpga" and "芯片".
_LETTER = r"[a-z\u00df-\u024f\u0370-\u03ff\u0400-\u052f]"
_SEP = r"[\s\-_/.]*"
_CYRILLIC_SUFFIX = _LETTER + "{0,3}"
_TOKEN_TAIL = r"[a-z0-9\-/#+]*"
_SEPARATOR_RUN = re.compile(r"[\s\-_/.]+")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # CJK radicals, kana, unified ideographs
        or 0xAC00 <= o <= 0xD7AF  # Hangul
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
    )


def _script_of(term: str) -> str:
    if any(_is_cjk(c) for c in term):
        return "cjk"
    if any("\u0400" <= c <= "\u052f" for c in term):
        return "cyr"
    return "lat"


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    """A term or pattern found in a text (span into the original string)."""

    kind: str  # "term" or "pattern"
    term: str  # the taxonomy term as written, or the pattern id
    subcategory: str
    family: str
    language: str
    weight: float
    start: int
    end: int
    matched_text: str


@dataclass(frozen=True, slots=True)
class ExclusionHit:
    """An exclusion phrase found in a text and the matches it cancelled."""

    exclusion_id: str
    phrase: str
    families: tuple[str, ...]
    scope: str
    start: int
    end: int
    matched_text: str
    cancelled: tuple[str, ...] = ()  # matched texts of cancelled terms (text scope) or covered ones


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Everything the matcher found in one text."""

    matches: tuple[KeywordMatch, ...]
    exclusions: tuple[ExclusionHit, ...]
    family_scores: dict[str, float] = field(default_factory=dict)

    @property
    def families(self) -> set[str]:
        return {m.family for m in self.matches}


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str  # "term" | "exclusion"
    text: str
    language: str
    subcategory: str  # subcategory id, or exclusion id
    family: str  # family, or "" for exclusions
    weight: float
    families: tuple[str, ...] = ()
    scope: str = ""


class _Trie:
    """A character trie compiled to a regex; separators inside terms become ``_SEP``."""

    SEP = "\x00"

    def __init__(self) -> None:
        self.root: dict = {}

    def add(self, term: str) -> None:
        node = self.root
        for ch in _with_separator_marks(term):
            node = node.setdefault(ch, {})
        node[""] = True

    def __bool__(self) -> bool:
        return bool(self.root)

    def regex(self) -> str:
        return self._regex(self.root)

    def _regex(self, node: dict) -> str:
        if "" in node and len(node) == 1:
            return ""
        branches = []
        for ch in sorted(k for k in node if k != ""):
            piece = _SEP if ch == self.SEP else re.escape(ch)
            branches.append(piece + self._regex(node[ch]))
        optional = "" in node
        if len(branches) == 1 and not optional:
            return branches[0]
        body = "(?:" + "|".join(branches) + ")"
        # greedy optional: the longer term is tried first, the shorter on backtrack
        return body + "?" if optional else body


def _with_separator_marks(term: str) -> str:
    folded = fold(term).strip()
    return re.sub(r"[\s\-_/.]+", _Trie.SEP, folded)


class KeywordMatcher:
    """Finds taxonomy terms, patterns and exclusions in texts. Build once, reuse for all rows."""

    def __init__(self, taxonomy: Taxonomy, *, weak_weight: float = 0.5, score_cap: float = 2.0) -> None:
        self.taxonomy = taxonomy
        self.score_cap = score_cap
        self._entries: dict[str, list[_Entry]] = {}
        tries = {"lat": _Trie(), "cyr": _Trie(), "cjk": _Trie()}
        for t in taxonomy.term_entries(weak_weight=weak_weight):
            self._add(tries, _Entry("term", t.text, t.language, t.subcategory, t.family, t.weight))
        for ex in taxonomy.exclusions:
            for lang, phrase in ex.phrases.items():
                self._add(tries, _Entry("exclusion", phrase, lang, ex.id, "", 0.0, tuple(ex.families), ex.scope))
        parts = []
        if tries["cjk"]:
            parts.append(f"(?P<cjk>{tries['cjk'].regex()})")
        if tries["cyr"]:
            parts.append(f"(?<!{_LETTER})(?P<cyr>{tries['cyr'].regex()}){_CYRILLIC_SUFFIX}(?!{_LETTER})")
        if tries["lat"]:
            parts.append(f"(?<!{_LETTER})(?P<lat>{tries['lat'].regex()})(?!{_LETTER})")
        self._term_re = re.compile("|".join(parts)) if parts else None

        self._patterns: dict[str, tuple[str, str, str, float]] = {}
        groups = []
        for sub in taxonomy.subcategories:
            for p in sub.patterns:
                name = f"p{len(self._patterns)}"
                self._patterns[name] = (p.id, sub.id, sub.family, p.weight)
                # author groups become non-capturing so only our named groups capture
                body = re.sub(r"(?<!\\)\((?!\?)", "(?:", p.regex)
                groups.append(f"(?P<{name}>{body})")
        self._pattern_re = (
            re.compile(f"(?<![a-z0-9])(?:{'|'.join(groups)}){_TOKEN_TAIL}", re.IGNORECASE) if groups else None
        )

    def _add(self, tries: dict[str, _Trie], entry: _Entry) -> None:
        key = term_key(entry.text)
        if not key:
            return
        tries[_script_of(entry.text)].add(entry.text)
        self._entries.setdefault(key, []).append(entry)

    # ------------------------------------------------------------------ matching

    def match(self, text: str) -> MatchResult:
        """Match one text (any length; callers bound the length)."""
        return self.match_normalized(normalize(text), text)

    def match_many(self, texts: Iterable[str]) -> list[MatchResult]:
        """Match each text; same result as :meth:`match` per item."""
        return [self.match(t) for t in texts]

    def match_normalized(self, norm: Normalized, original: str) -> MatchResult:
        """Match a text already normalised with :func:`dualuse.normalize.normalize`."""
        folded = norm.text
        matches: list[KeywordMatch] = []
        exclusions: list[tuple[_Entry, int, int]] = []  # folded spans
        term_spans: list[tuple[int, int]] = []
        if self._term_re is not None:
            for m in self._term_re.finditer(folded):
                group = m.lastgroup or ""
                core_start, core_end = m.span(group)
                key = _SEPARATOR_RUN.sub("", folded[core_start:core_end])  # already folded
                entries = self._entries.get(key)
                if not entries:  # cannot happen for a well-formed trie; be safe, not sorry
                    continue
                excl = [e for e in entries if e.kind == "exclusion"]
                if excl:
                    exclusions.extend((e, m.start(), m.end()) for e in excl)
                    continue
                start, end = norm.span(m.start(), m.end())
                seen_subs: set[str] = set()
                for e in entries:
                    if e.subcategory in seen_subs:
                        continue
                    seen_subs.add(e.subcategory)
                    matches.append(
                        KeywordMatch("term", e.text, e.subcategory, e.family, e.language, e.weight, start, end, original[start:end])
                    )
                term_spans.append((m.start(), m.end()))
        if self._pattern_re is not None:
            overlap_excl = [(s, e) for (x, s, e) in exclusions if x.scope == "overlap"]
            for m in self._pattern_re.finditer(folded):
                s_f, e_f = m.span()
                if any(s < e_f and s_f < e for s, e in overlap_excl):
                    continue
                for name, value in m.groupdict().items():
                    if value is None:
                        continue
                    pid, sub, fam, weight = self._patterns[name]
                    start, end = norm.span(s_f, e_f)
                    matches.append(KeywordMatch("pattern", pid, sub, fam, "any", weight, start, end, original[start:end]))
                    break
        hits: list[ExclusionHit] = []
        cancelled_families: set[str] = set()
        for e, s_f, e_f in exclusions:
            start, end = norm.span(s_f, e_f)
            cancelled: tuple[str, ...] = ()
            if e.scope == "text":
                cancelled_families.update(e.families)
                cancelled = tuple(m.matched_text for m in matches if m.family in e.families)
            hits.append(ExclusionHit(e.subcategory, e.text, e.families, e.scope, start, end, original[start:end], cancelled))
        if cancelled_families:
            matches = [m for m in matches if m.family not in cancelled_families]
        matches.sort(key=lambda m: (m.start, m.end))
        return MatchResult(tuple(matches), tuple(hits), self.family_scores(matches))

    def family_scores(self, matches: Iterable[KeywordMatch]) -> dict[str, float]:
        """Keyword evidence per family: summed weights of distinct matches, capped."""
        scores = dict.fromkeys(FAMILIES, 0.0)
        seen: set[tuple[str, int]] = set()
        for m in matches:
            if (m.family, m.start) in seen:
                continue
            seen.add((m.family, m.start))
            scores[m.family] = min(self.score_cap, scores[m.family] + m.weight)
        return scores
