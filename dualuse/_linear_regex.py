"""Taxonomy patterns for a linear-time engine: validation, and translation to RE2 syntax.

A taxonomy pattern is written in Python's ``re`` syntax but matched by RE2 (``google-re2``),
an automaton engine whose work is linear in the text it reads, whatever the pattern: no
pattern can backtrack. Two limits make the *whole* pass linear in the text, not only one
attempt: a pattern can match at most :data:`MAX_PATTERN_WIDTH` characters (every repeat is
bounded), so an attempt at a token start never reads further than that; and a pattern that
matches the empty string is refused (it would flag every text).

The translation keeps Python's meaning where RE2's differs: ``\\d``, ``\\w`` and ``\\s`` are
Unicode classes in Python and ASCII in RE2, so they are written out as Unicode classes.
``\\b`` stays RE2's word boundary, which counts ASCII letters, digits and ``_`` only (RE2 has
no other); ``$`` is "end of text" and the matcher removes one final newline first, as
Python's ``$`` would match before it.
"""

from __future__ import annotations

import re
import warnings

import re2  # type: ignore[import-untyped]

__all__ = ["MAX_PATTERN_WIDTH", "compile_linear", "to_re2", "validate_pattern"]

#: The most characters one pattern may match. The default taxonomy's widest pattern matches
#: 43; a bound makes each attempt cost at most this many characters of reading.
MAX_PATTERN_WIDTH = 128
#: RE2's memory budget for one compiled alternation (bytes); its default is 8 MiB.
_RE2_MAX_MEM = 64 << 20

try:  # the parser is private API; its name changed in 3.11
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse

_WORD = r"\p{L}\p{N}_"
_DIGIT = r"\p{Nd}"
# Python's \s for str patterns: str.isspace() characters
_SPACE = r"\t\n\x{b}\f\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_CATEGORY_IN = {
    "CATEGORY_DIGIT": (_DIGIT, False),
    "CATEGORY_NOT_DIGIT": (_DIGIT, True),
    "CATEGORY_WORD": (_WORD, False),
    "CATEGORY_NOT_WORD": (_WORD, True),
    "CATEGORY_SPACE": (_SPACE, False),
    "CATEGORY_NOT_SPACE": (_SPACE, True),
}
_AT = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}
_FLAGS = {re.IGNORECASE: "i", re.DOTALL: "s", re.MULTILINE: "m"}
_IGNORED_FLAGS = re.UNICODE | re.VERBOSE  # Unicode is the default; verbose is spent by the parser


def _char(code: int) -> str:
    ch = chr(code)
    return ch if ch.isascii() and ch.isalnum() else f"\\x{{{code:x}}}"


def _flags(bits: int) -> str:
    if bits & ~(_IGNORED_FLAGS | sum(_FLAGS)):
        raise ValueError("only the inline flags i, s, m, x and u are allowed in taxonomy patterns")
    return "".join(letter for flag, letter in _FLAGS.items() if bits & flag)


def _class(items) -> str:
    parts: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            parts.append(_char(arg))
        elif name == "RANGE":
            parts.append(f"{_char(arg[0])}-{_char(arg[1])}")
        elif name == "CATEGORY" and str(arg) in _CATEGORY_IN:
            body, inverted = _CATEGORY_IN[str(arg)]
            if inverted:  # a negated category inside a set has no RE2 spelling that keeps the set
                raise ValueError(f"{str(arg).lower()} inside a character set is not allowed in taxonomy patterns")
            parts.append(body)
        else:
            raise ValueError(f"regex construct {name} is not allowed in a character set")
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def _emit(items) -> str:
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(_char(arg))
        elif name == "NOT_LITERAL":
            out.append(f"[^{_char(arg)}]")
        elif name == "ANY":
            out.append(".")
        elif name == "IN":
            out.append(_class(arg))
        elif name == "CATEGORY" and str(arg) in _CATEGORY_IN:
            body, inverted = _CATEGORY_IN[str(arg)]
            out.append(f"[{'^' if inverted else ''}{body}]")
        elif name == "AT" and str(arg) in _AT:
            out.append(_AT[str(arg)])
        elif name == "BRANCH":
            out.append("(?:" + "|".join(_emit(branch) for branch in arg[1]) + ")")
        elif name == "SUBPATTERN":
            _group, add, remove, sub = arg
            on, off = _flags(add), _flags(remove)
            out.append(f"(?{on}{'-' + off if off else ''}:{_emit(sub)})")
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, sub = arg
            if hi is sre_parse.MAXREPEAT:
                raise ValueError(
                    f"an unbounded repeat (+, * or {{{lo},}}) is not allowed in taxonomy patterns: give it an upper "
                    "bound such as {1,20}"
                )
            lazy = "?" if name == "MIN_REPEAT" else ""
            out.append(f"(?:{_emit(sub)}){{{lo},{hi}}}{lazy}")
        elif name in ("GROUPREF", "GROUPREF_EXISTS", "ASSERT", "ASSERT_NOT", "ATOMIC_GROUP", "POSSESSIVE_REPEAT"):
            raise ValueError(f"{name.lower()} is not allowed in taxonomy patterns")
        else:  # anything new or unusual is refused rather than trusted
            raise ValueError(f"regex construct {name} is not allowed in taxonomy patterns")
    return "".join(out)


def _parse(regex: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. FutureWarning "possible nested set"
            compiled = re.compile(regex)
            parsed = sre_parse.parse(regex)
    except (re.error, Warning, RecursionError, OverflowError) as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    if compiled.groups > 10:
        raise ValueError("too many groups (at most 10)")
    return parsed


def to_re2(regex: str) -> str:
    """The RE2 spelling of a taxonomy pattern (Python syntax), with Python's meaning of
    ``\\d``, ``\\w`` and ``\\s``. Raises :class:`ValueError` for a construct RE2 cannot run in
    linear time or that has no RE2 spelling."""
    parsed = _parse(regex)
    flags = _flags(parsed.state.flags & ~re.UNICODE)
    return (f"(?{flags})" if flags else "") + _emit(parsed)


def compile_linear(pattern: str) -> re2._Regexp:
    """Compile an RE2-syntax pattern (from :func:`to_re2`) with the matcher's options."""
    options = re2.Options()
    options.max_mem = _RE2_MAX_MEM
    return re2.compile(pattern, options)


def validate_pattern(regex: str) -> None:
    """Refuse a taxonomy pattern that the linear-time engine cannot run, that can match more
    than :data:`MAX_PATTERN_WIDTH` characters, or that can match the empty string anywhere
    (its shortest match is empty: ``z?``, ``\\b``).

    Raises :class:`ValueError` saying which; returns None for an acceptable pattern.
    """
    translated = to_re2(regex)
    lo, hi = _parse(regex).getwidth()
    if lo == 0:
        raise ValueError("matches the empty string, so it would flag every text")
    if hi > MAX_PATTERN_WIDTH:
        raise ValueError(f"can match up to {hi:,} characters (at most {MAX_PATTERN_WIDTH}): bound its repeats more tightly")
    try:
        compile_linear(translated)
    except re2.error as exc:
        raise ValueError(f"the linear-time engine (RE2) cannot compile it: {exc}") from None
