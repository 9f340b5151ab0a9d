"""Taxonomy patterns run on a linear-time engine (RE2): the issue's backtracking baits finish
at once or are refused at load, and the translation keeps Python's meaning of each pattern."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from dualuse._linear_regex import MAX_PATTERN_WIDTH, compile_linear, to_re2, validate_pattern
from dualuse.engine import Engine
from dualuse.errors import TaxonomyError
from dualuse.taxonomy import default_taxonomy, load_taxonomy

try:
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]


def _taxonomy_with_pattern(tmp_path: Path, regex: str) -> Path:
    path = tmp_path / "user.toml"
    path.write_text(
        'schema_version = 1\nname = "user"\nversion = "1.0.0"\n[[subcategory]]\nid = "a.one"\nfamily = "optics"\n'
        f'label = "x"\nterms.en = ["lens"]\npatterns = [{{ id = "p", regex = {json.dumps(regex)} }}]\n',
        encoding="utf-8",
    )
    return path


# The reproductions: 16 s on 28 characters, over 90 s on 200 letters, quadratic in the
# token starts. Each now loads and screens a full-length text at once, or is refused at load.
_OPTIONAL_CHAIN = "a?" * 28 + "a" * 28


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("regex", "texts", "matches"),
    [
        pytest.param(_OPTIONAL_CHAIN, ["a" * 28, ("a" * 27 + " ") * 700, "a" * 56 + " x"], [1, 0, 1], id="optional-chain"),
        pytest.param("[a-z ]{1,100}x9", ["a " * 10_000, ("a " * 40 + "x9 ") * 200], [0, 200], id="bounded-class-run"),
        pytest.param("(a|aa){1,40}b", ["a" * 20_000, ("a" * 39 + " ") * 500], [0, 0], id="alternation-in-repeat"),
    ],
)
def test_backtracking_baits_screen_full_length_texts_at_once(tmp_path, regex, texts, matches) -> None:
    engine = Engine(load_taxonomy(_taxonomy_with_pattern(tmp_path, regex)))
    for text, expected in zip(texts, matches, strict=True):
        t0 = time.perf_counter()
        engine.score([text])
        found = [m for m in engine.matcher.match(text).matches if m.kind == "pattern"]
        elapsed = time.perf_counter() - t0
        assert elapsed < 5.0, f"{elapsed:.1f} s on {len(text):,} characters"  # the old engine: hours
        assert len(found) == expected


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        pytest.param(r"\w{0,20}" * 8 + "!", r"can match up to 161 characters \(at most 128\)", id="ranged-repeat-chain"),
        pytest.param("[a-z ]+x9", r"unbounded repeat", id="unbounded-class-run"),
        pytest.param("z?", "empty string", id="matches-empty"),
        pytest.param(r"\bx?", "empty string", id="empty-after-boundary"),
        pytest.param("(a+)+b", "unbounded repeat", id="nested-unbounded"),
        pytest.param(r"(a)\1", "groupref", id="backreference"),
        pytest.param("(?=a)ab", "assert", id="lookahead"),
        pytest.param("a++", "possessive", id="possessive"),
    ],
)
def test_patterns_the_linear_engine_cannot_bound_are_refused_at_load(tmp_path, regex, message) -> None:
    with pytest.raises(ValueError, match=message):
        validate_pattern(regex)
    with pytest.raises(TaxonomyError, match=r"user\.toml: invalid taxonomy: .*patterns\.0\.regex"):
        load_taxonomy(_taxonomy_with_pattern(tmp_path, regex))


def _sample(items, rng: random.Random) -> str:
    """A random string the parsed pattern matches (a generator independent of the translation)."""
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "IN":
            choices: list[str] = []
            for iop, iarg in arg:
                if str(iop) == "LITERAL":
                    choices.append(chr(iarg))
                elif str(iop) == "RANGE":
                    choices.extend(chr(c) for c in range(iarg[0], min(iarg[1], iarg[0] + 30) + 1))
                elif str(iop) == "CATEGORY":
                    choices.extend({"CATEGORY_DIGIT": "0719", "CATEGORY_WORD": "az09_", "CATEGORY_SPACE": " "}[str(iarg)])
            out.append(rng.choice(choices))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, sub = arg
            out.extend(_sample(sub, rng) for _ in range(rng.randint(lo, min(hi, lo + 3))))
        elif name == "SUBPATTERN":
            out.append(_sample(arg[-1], rng))
        elif name == "BRANCH":
            out.append(_sample(rng.choice(arg[1]), rng))
        elif name == "CATEGORY":
            out.append({"CATEGORY_DIGIT": "7", "CATEGORY_WORD": "k", "CATEGORY_SPACE": " "}[str(arg)])
    return "".join(out)


# \b in taxonomy patterns is an ASCII word boundary (RE2 has no other), spelt out for Python
_ASCII_BOUNDARY = r"(?:(?<![A-Za-z0-9_])(?=[A-Za-z0-9_])|(?<=[A-Za-z0-9_])(?![A-Za-z0-9_]))"


def test_every_default_pattern_matches_as_python_re_would() -> None:
    # Strings drawn from each pattern, cut short or followed by a character that decides its
    # end (\b, $ and classes); RE2 must give Python's span for each, with the matcher's flags.
    rng = random.Random(7)
    checked = 0
    for sub in default_taxonomy().subcategories:
        for p in sub.patterns:
            python = re.compile(p.regex.replace(r"\b", _ASCII_BOUNDARY), re.IGNORECASE)
            linear = compile_linear("(?i)" + to_re2(p.regex))
            parsed = sre_parse.parse(p.regex)
            for _ in range(12):
                s = _sample(parsed, rng)
                for text in (s, s + rng.choice([" ", "x", "7", "-", "/", "_", ","]), s[:-1], s.upper()):
                    want = python.match(text)
                    got = linear.match(text)
                    assert (want and want.span()) == (got and got.span()), (p.id, p.regex, text)
                    checked += 1
    assert checked > 10_000


@pytest.mark.parametrize(
    ("regex", "text", "span"),
    [
        pytest.param(r"\d{2}", "٣٤", (0, 2), id="unicode-digits"),  # \d is Unicode, as in Python
        pytest.param(r"\w{3}", "стк", (0, 3), id="unicode-word"),
        pytest.param(r"a\sb", "a\u3000b", (0, 3), id="unicode-space"),
        pytest.param(r"[^\w]x", "яx", None, id="negated-unicode-word"),
    ],
)
def test_translation_keeps_pythons_unicode_classes(regex, text, span) -> None:
    m = compile_linear(to_re2(regex)).match(text)
    assert (m and m.span()) == span == ((mm := re.match(regex, text)) and mm.span())


def test_word_boundary_is_ascii_so_part_numbers_glued_to_cjk_are_read(keyword_engine) -> None:
    # RE2's \b counts ASCII letters and digits only (as the token-start rule does): a part
    # number written against Chinese or Russian letters is read, as CJK text has no spaces.
    assert "steep_taper" in {m.term for m in keyword_engine.matcher.match("BT40单反相机").matches}
    assert keyword_engine.score(["BT40单反相机"]).category[0] == "machine_tools"


def test_widest_default_pattern_is_within_the_bound() -> None:
    widths = [sre_parse.parse(p.regex).getwidth()[1] for s in default_taxonomy().subcategories for p in s.patterns]
    assert widths and max(widths) <= MAX_PATTERN_WIDTH
