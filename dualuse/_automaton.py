"""Compiled search structures behind :mod:`dualuse.matcher`.

Three pieces, each built in milliseconds from a taxonomy:

* :class:`KeyScanner`: an Aho-Corasick automaton over the lookup keys (terms folded, separators
  removed), run on the text with its separators removed. Every place a term can match starts
  where its key occurs in that view, so the scanner names the few positions worth a look;
* :class:`Trie`: the character trie of the terms, walked at such a position in
  exactly the order a backtracking regular expression built from the same trie would try it
  (separator runs longest first, the longer term before the shorter one), so the first path
  the caller accepts is the one that expression would have matched;
* :func:`pattern_prefixes`: the first characters a part-number pattern can match, so the
  matcher runs a pattern's regex only where the text starts that way.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Any

from ahocorasick_rs import AhoCorasick, Implementation

__all__ = ["PREFIX_CHARS", "SEPARATOR_MARK", "Accept", "KeyScanner", "Trie", "pattern_prefixes"]

#: The character standing for a run of separators in a term's marks (see ``Trie.add``).
SEPARATOR_MARK = "\x00"
_SEPARATOR_RUN = re.compile(r"[\s\-_/.]+")
_SEPARATOR_SPLIT = re.compile(r"([\s\-_/.]+)")

_NO_READINGS: dict[str, str] = {}

#: Given the text and where a trie path ends in it, the end of the whole match, or None when
#: what follows the path rules it out (a letter after a Latin term, more than three letters
#: after a stem).
Accept = Callable[[str, int], "int | None"]


class Trie:
    """A character trie of term marks: folded characters, :data:`SEPARATOR_MARK` for separator runs.

    A node is the marks leading to it: the trie is the set of all prefixes of the entries plus
    the set of the entries themselves. Strings are not tracked by the garbage collector, so
    building it does not set off the collections that a tree of ~80,000 small dicts does
    (three times the build time).
    """

    def __init__(self) -> None:
        self.nodes: set[str] = set()
        self.ends: set[str] = set()
        self.before_separator: set[str] = set()  # nodes with a separator-run child
        self._firsts: set[str] = set()

    def add(self, marks: str) -> None:
        """Add one entry, given as its marks (e.g. ``"5\\x00axis"`` for ``5-axis``)."""
        self.nodes.update(accumulate(marks))  # "a", "ab", "abc": every prefix, in C
        self.ends.add(marks)
        if marks[0] != SEPARATOR_MARK:
            self._firsts.add(marks[0])
        at = marks.find(SEPARATOR_MARK)
        while at >= 0:
            self.before_separator.add(marks[:at])
            at = marks.find(SEPARATOR_MARK, at + 1)

    def __bool__(self) -> bool:
        return bool(self.ends)

    def firsts(self) -> frozenset[str]:
        """The characters entries start with.

        A regex over the trie looks ahead for one of them first. When there are none (every
        entry starts with a separator) it has no such guard, and a match may start on a
        separator.
        """
        return frozenset(self._firsts)

    def walk(self, text: str, pos: int, accept: Accept, readings: dict[str, str] | None = None) -> tuple[int, int] | None:
        """The first entry at ``pos`` that ``accept`` takes: ``(entry end, match end)`` or None.

        Paths are tried in the order of a regex whose alternations list the separator run first
        and then the characters, with every optional part greedy: at each node the separator
        run (longest first, down to no separator), then the next character, then ending here.
        That order, not "longest entry", decides between entries such as ``ab cd`` and
        ``abcd ef`` over the text ``abcd ef``; keeping it keeps the results of that regex.

        With ``readings`` a text character also stands for other trie characters: it maps a
        character to those it matches, itself included, in code-point order (``"1"`` ->
        ``"1il"``); a character not in it matches itself only.
        """
        return self._walk("", text, pos, accept, readings or _NO_READINGS)

    def _walk(self, node: str, text: str, pos: int, accept: Accept, readings: dict[str, str]) -> tuple[int, int] | None:
        if not readings:
            # along a stretch where a node neither ends an entry nor has a separator child there
            # is one way on, the next character: follow it without recursing
            nodes, stops = self.nodes, self.before_separator
            while node not in stops and node not in self.ends:
                if pos >= len(text) or text[pos] == SEPARATOR_MARK:
                    return None
                node += text[pos]
                if node not in nodes:
                    return None
                pos += 1
        if node in self.before_separator:
            sep = node + SEPARATOR_MARK
            run = _SEPARATOR_RUN.match(text, pos)
            for j in range(run.end() if run is not None else pos, pos - 1, -1):
                found = self._walk(sep, text, j, accept, readings)
                if found is not None:
                    return found
        if pos < len(text):
            ch = text[pos]
            for c in readings.get(ch, ch):  # a string: iterating it yields its characters
                child = node + c
                if c != SEPARATOR_MARK and child in self.nodes:
                    found = self._walk(child, text, pos + 1, accept, readings)
                    if found is not None:
                        return found
        if node in self.ends:
            end = accept(text, pos)
            if end is not None:
                return pos, end
        return None


class KeyScanner:
    """Finds every occurrence of the keys in a text read without its separators."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = list(keys)
        self._automaton = self._build(self.keys)

    @staticmethod
    def _build(keys: list[str]) -> AhoCorasick | None:
        # overlapping search needs the standard match kind (the default); the contiguous NFA
        # builds in ~10 ms for the default taxonomy and scans as fast as the DFA, which takes 100
        return AhoCorasick(keys, implementation=Implementation.ContiguousNFA) if keys else None

    def __getstate__(self) -> list[str]:
        # the automaton does not pickle (engines go to worker processes); it rebuilds in ms
        return self.keys

    def __setstate__(self, keys: list[str]) -> None:
        self.keys = keys
        self._automaton = self._build(keys)

    def hits(self, text: str) -> list[tuple[int, int]]:
        """``(start, key index)`` of each occurrence, overlapping ones included.

        ``start`` is the index in ``text`` of the key's first character; the key may be
        written there with separators between its characters.
        """
        if self._automaton is None:
            return []
        # words and separator runs alternate: [word, run, word, ..., word]
        parts = _SEPARATOR_SPLIT.split(text)
        words = parts[::2]
        stripped = "".join(words) if len(parts) > 1 else text
        found = self._automaton.find_matches_as_indexes(stripped, overlapping=True)
        if not found or len(parts) == 1:
            return [(s, k) for k, s, _ in found]
        # back to text offsets: a stripped index moves right by the length of every
        # separator run that sits at or before it (all sums in C)
        at = list(accumulate(map(len, words[:-1])))  # stripped index after each run
        removed = list(accumulate(map(len, parts[1::2])))  # separators up to each run
        out = []
        for k, s, _ in found:
            r = bisect_right(at, s)
            out.append((s + removed[r - 1] if r else s, k))
        return out


#: How many characters of a token :func:`pattern_prefixes` looks at. Two leave ordinary words
#: such as "co", "in", "th" trying patterns (core i7, INA219, THS4131); three rule them out.
PREFIX_CHARS = 3


def pattern_prefixes(parsed: object, limit: int = 4096) -> frozenset[str] | None:
    """The starts (:data:`PREFIX_CHARS` characters) of the strings a parsed pattern can match, or None.

    ``parsed`` is the output of the regex parser (``re._parser.parse``). A shorter string in
    the set is a whole match that short. Characters are lower-case ASCII: the pattern is
    matched case-insensitively on folded text, and only a text whose first characters are
    ASCII is tested against the set. None (test nothing, try the pattern) when the pattern
    starts with anything but plain ASCII characters, classes of them and digits, or when
    the set would exceed ``limit``.
    """
    try:
        return _sequence(list(parsed), PREFIX_CHARS, limit)  # type: ignore[call-overload]
    except Exception:  # _Unknown, or a parser shape not seen before: try the pattern everywhere
        return None


class _Unknown(Exception):
    """The start of a pattern is not simple to tell."""


def _sequence(items: list, k: int, limit: int) -> frozenset[str]:
    out = frozenset({""})
    for op, arg in items:
        shortest = min(len(s) for s in out)
        if shortest >= k:
            break
        # what follows only needs to fill the shortest start so far up to k characters
        out = _concat(out, _item(str(op), arg, k - shortest, limit), k, limit)
    return out


def _concat(left: frozenset[str], right: frozenset[str], k: int, limit: int) -> frozenset[str]:
    out = {s if len(s) >= k else (s + t)[:k] for s in left for t in (right if len(s) < k else ("",))}
    if len(out) > limit:
        raise _Unknown
    return frozenset(out)


def _item(name: str, arg: Any, k: int, limit: int) -> frozenset[str]:
    if name == "AT":  # \b, ^, $: zero width; ignoring them only widens the set
        return frozenset({""})
    if name == "LITERAL":
        return frozenset(_ascii_lower(arg))
    if name == "IN":
        chars: set[str] = set()
        for iop, iarg in arg:
            iname = str(iop)
            if iname == "LITERAL":
                chars |= _ascii_lower(iarg)
            elif iname == "RANGE":
                for code in range(iarg[0], iarg[1] + 1):
                    chars |= _ascii_lower(code)
            elif iname == "CATEGORY" and str(iarg).endswith("CATEGORY_DIGIT"):
                chars.update("0123456789")
            else:
                raise _Unknown
        return frozenset(chars)
    if name == "BRANCH":
        out: set[str] = set()
        for branch in arg[1]:
            out |= _sequence(list(branch), k, limit)
        return frozenset(out)
    if name == "SUBPATTERN":
        return _sequence(list(arg[-1]), k, limit)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        lo, hi, sub = arg
        one = _sequence(list(sub), k, limit)
        out_r = frozenset({""})
        for _ in range(min(lo, k)):
            out_r = _concat(out_r, one, k, limit)
        grown = out_r
        for _ in range(min(hi, k) - min(lo, k)):  # optional copies, as many as can reach k chars
            grown = _concat(grown, one, k, limit)
            out_r |= grown
        return out_r
    raise _Unknown


def _ascii_lower(code: int) -> set[str]:
    # a non-ASCII character may match an ASCII one case-insensitively (the Kelvin sign and
    # "k", the long s and "s"), so it makes the start unknown rather than guessed
    if code >= 128:
        raise _Unknown
    return {chr(code).lower()}
