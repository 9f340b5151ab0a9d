"""Matcher mechanics on a small hand-made taxonomy (independent of the default content)."""

from __future__ import annotations

import pytest

from dualuse.matcher import KeywordMatcher


@pytest.fixture(scope="module")
def matcher(mini_taxonomy):
    return KeywordMatcher(mini_taxonomy)


def _found(matcher, text):
    return [(m.matched_text, m.family) for m in matcher.match(text).matches]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("CNC lathe", [("CNC", "machine_tools"), ("lathe", "machine_tools")], id="two-terms"),
        pytest.param("CNC6140 machine", [("CNC", "machine_tools")], id="term-followed-by-digit"),
        pytest.param("5 axis mill", [("5 axis", "machine_tools")], id="hyphen-term-with-space"),
        pytest.param("5axis mill", [("5axis", "machine_tools")], id="hyphen-term-joined"),
        pytest.param("C.N.C. machine", [("C.N.C", "machine_tools")], id="dotted-acronym"),
        pytest.param("ＣＮＣ", [("ＣＮＣ", "machine_tools")], id="full-width"),
        pytest.param("CN\u0421 machine", [("CN\u0421", "machine_tools")], id="homoglyph"),
        pytest.param("lathes", [("lathes", "machine_tools")], id="regular-plural"),
        pytest.param("turning centres", [("turning centres", "machine_tools")], id="plural-of-a-phrase"),
        pytest.param("5-axis lasers", [("5-axis", "machine_tools"), ("lasers", "optics")], id="plural-after-term"),
        pytest.param("CNCes", [], id="es-plural-only-after-sibilant"),
        pytest.param("lathess", [], id="one-plural-suffix-only"),
        pytest.param("laser printers", [], id="plural-of-an-exclusion-consumes-it"),
        pytest.param("centres, turning", [("centres, turning", "machine_tools")], id="inverted-two-part-term"),
        pytest.param("chips, potato", [], id="inverted-exclusion-cancels-its-family"),
        pytest.param("printer, laser", [], id="inverted-exclusion-across-the-comma"),
        pytest.param("chips, blue", [("chips", "microelectronics")], id="inversion-adds-nothing-new"),
        pytest.param("CNC lathe for wood", [], id="text-exclusion-cancels-its-family"),
        pytest.param("laser cutter for wood", [("laser cutter", "machine_tools")], id="text-exclusion-spares-a-subcategory"),
        pytest.param(
            "laser cutter and CNC lathe for wood", [("laser cutter", "machine_tools")], id="spared-term-stays-others-go"
        ),
        pytest.param("centres (turning)", [("centres (turning)", "machine_tools")], id="bracketed-modifier-read-first"),
        pytest.param("chips (potato)", [], id="bracketed-exclusion-cancels-its-family"),
        pytest.param("centres (turning) used", [], id="no-inversion-after-the-bracket"),
        pytest.param("centres, turning, used", [], id="no-inversion-of-three-parts"),
        pytest.param("centres, 5 turning", [], id="no-inversion-with-digits"),
        pytest.param("cncx", [], id="letter-blocks-boundary"),
        pytest.param(
            "токарного станка", [("токарного", "machine_tools"), ("станка", "machine_tools")], id="cyrillic-inflections"
        ),
        pytest.param(
            "立式数控车床CK6150", [("数控车床", "machine_tools"), ("CK6150", "machine_tools")], id="cjk-longest-then-pattern"
        ),
        pytest.param("FPGA芯片", [("FPGA", "microelectronics"), ("芯片", "microelectronics")], id="latin-next-to-cjk"),
        pytest.param("STM32F407VGT6", [("STM32F407VGT6", "microelectronics")], id="pattern-spans-token"),
        pytest.param("xSTM32F4", [], id="pattern-needs-token-start"),
        pytest.param("Potato chips, salted", [], id="overlap-exclusion"),
        pytest.param("wafer cookies and IC chips", [("chips", "microelectronics")], id="exclusion-only-where-it-covers"),
        pytest.param("原味薯片", [], id="cjk-exclusion"),
        pytest.param("fiber laser source 2 kW", [("fiber laser source", "optics")], id="longest-term-wins"),
        pytest.param("laser printer toner", [], id="laser-printer-excluded"),
        pytest.param("milling machine for flour", [], id="text-scope-exclusion-cancels-nothing-else"),
        pytest.param("CNC lathe for flour", [], id="text-scope-exclusion-cancels-family"),
        # head scope: the phrase names the item, a family term before it only describes it
        pytest.param("lathe cutting tools", [], id="head-cancels-its-modifier"),
        pytest.param("CNC lathe cutting tools, 12 pcs", [], id="head-cancels-modifiers-up-to-two-words-away"),
        pytest.param("cutting tools for lathes", [], id="head-cancels-its-complement-after-for"),
        pytest.param(
            "cutting tools suitable for CNC lathe, 5-axis", [("5-axis", "machine_tools")], id="complement-ends-at-punctuation"
        ),
        pytest.param("lathe with cutting tools", [("lathe", "machine_tools")], id="joining-word-keeps-the-item"),
        pytest.param("lathe, cutting tools", [("lathe", "machine_tools")], id="comma-keeps-the-item"),
        pytest.param("lathe cutting tools set", [("lathe", "machine_tools")], id="head-must-end-the-noun-phrase"),
        pytest.param("cutting tools lathe", [("lathe", "machine_tools")], id="head-before-the-term-is-a-modifier"),
        pytest.param("microcontroller cooler", [], id="head-cancels-another-listed-family"),
        pytest.param("laser cooler", [("laser", "optics")], id="head-keeps-unlisted-families"),
        pytest.param("cooler", [], id="head-alone-matches-nothing"),
        pytest.param("车床刀具", [], id="head-cjk-modifier-without-space"),
        pytest.param("tools, lathe cutting", [], id="head-in-the-inverted-reading"),
        pytest.param("fiber laser source cable", [], id="phrase-hidden-inside-an-earlier-term"),
        pytest.param("fiber laser source, cable", [("fiber laser source", "optics")], id="hidden-phrase-must-be-contiguous"),
    ],
)
def test_matches(matcher, text, expected) -> None:
    assert _found(matcher, text) == expected


def test_spans_are_half_open_into_original(matcher) -> None:
    text = "Straße: ＣＮＣ lathe"
    for m in matcher.match(text).matches:
        assert text[m.start : m.end] == m.matched_text
    spans = [(m.start, m.end) for m in matcher.match(text).matches]
    assert spans == [(8, 11), (12, 17)]


def test_weak_terms_weigh_less(matcher) -> None:
    (m,) = matcher.match("silicon wafer").matches
    assert m.weight == 0.5
    assert matcher.match("silicon wafer").family_scores["microelectronics"] == 0.5


def test_matches_at_one_place_count_once_at_their_strongest(matcher) -> None:
    from dualuse.matcher import KeywordMatch

    weak = KeywordMatch("term", "wafer", "microelectronics.ics", "microelectronics", "en", 0.5, 0, 5, "wafer")
    strong = KeywordMatch("pattern", "stm32", "microelectronics.ics", "microelectronics", "any", 1.0, 0, 13, "wafer-stm32f4")
    elsewhere = KeywordMatch("term", "chip", "microelectronics.ics", "microelectronics", "en", 0.5, 14, 18, "chip")
    for order in ([weak, strong], [strong, weak]):
        assert matcher.family_scores(order)["microelectronics"] == 1.0
    assert matcher.family_scores([weak, strong, elsewhere])["microelectronics"] == 1.5


def test_family_scores_are_capped(matcher) -> None:
    scores = matcher.match("CNC lathe turning centre 5-axis 车床").family_scores
    assert scores["machine_tools"] == matcher.score_cap


def test_exclusion_reported(matcher) -> None:
    res = matcher.match("Potato chips")
    assert [(x.exclusion_id, x.matched_text) for x in res.exclusions] == [("snacks", "Potato chips")]


def test_long_text_scales_linearly(matcher) -> None:
    # not a timing test: the matcher must find every occurrence in a long text
    text = "CNC lathe; " * 5000
    assert len(matcher.match(text).matches) == 10000


def test_head_exclusion_reports_what_it_cancelled(matcher) -> None:
    res = matcher.match("CNC lathe cutting tools")
    (hit,) = res.exclusions
    assert (hit.exclusion_id, hit.scope, hit.matched_text) == ("named_after_the_machine", "head", "cutting tools")
    assert hit.cancelled == ("CNC", "lathe")
    assert res.family_scores.get("machine_tools", 0.0) == 0.0


def test_head_exclusion_alone_cancels_nothing(matcher) -> None:
    (hit,) = matcher.match("cutting tools").exclusions
    assert hit.cancelled == ()


# ---------------------------------------------------------------------------- compiled engine
# The matcher walks a trie at the places an Aho-Corasick scan names (dualuse._automaton). These
# pin down the corners where that walk must decide exactly as a backtracking regex over the
# same trie would: separator runs first and longest, entries that start with a separator,
# entries that end with one, plural and stem endings, and the two-character pattern index.

EDGE_TAXONOMY = """
schema_version = 1
name = "edge"
version = "1.0.0"

[[subcategory]]
id = "machine_tools.edge"
family = "machine_tools"
label = "Edge cases"
terms.en = ["ab cd", "abcd ef", "box", "mill-", "-xq"]
terms.ru = ["-станк"]
patterns = [{ id = "kx", regex = "KX\\\\d" }, { id = "short", regex = "q?z" }]

[[exclusion]]
id = "edge_ex"
phrases.en = ["cd gh"]
families = ["machine_tools"]
"""


@pytest.fixture(scope="module")
def edge_matcher(tmp_path_factory):
    from dualuse.taxonomy import load_taxonomy

    path = tmp_path_factory.mktemp("edge") / "edge.toml"
    path.write_text(EDGE_TAXONOMY, encoding="utf-8")
    return KeywordMatcher(load_taxonomy(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the separator branch is tried before the next letter: "ab cd" ends the word first
        pytest.param("abcd ef", [("ab cd", "abcd")], id="separator-branch-before-longer-entry"),
        pytest.param("abcdef", [("abcd ef", "abcdef")], id="longer-entry-when-the-word-goes-on"),
        pytest.param("ab  cd-ef", [("ab cd", "ab  cd")], id="separator-run-inside-entry"),
        pytest.param("ab cdef", [], id="letter-after-entry-blocks"),
        pytest.param("boxes", [("box", "boxes")], id="es-plural-after-x"),
        pytest.param("boxs", [("box", "boxs")], id="s-plural"),
        pytest.param("mill- x", [("mill-", "mill-")], id="entry-ending-with-separator-takes-it"),
        pytest.param("mill x", [("mill-", "mill")], id="entry-ending-with-separator-may-end-without"),
        # every Cyrillic entry starts with a separator: no first letter to look for, so a match
        # may start on the separators before the stem
        pytest.param("  станка", [("-станк", "  станка")], id="unguarded-entry-starts-on-separators"),
        pytest.param("x станкаа", [("-станк", "станкаа")], id="stem-takes-up-to-three-letters"),
        pytest.param("станкаааа", [], id="stem-refuses-four-letters"),
        # Latin entries do have first letters; "-xq" starts with none of them
        pytest.param("a -xq", [], id="guarded-entry-needs-a-first-letter"),
        pytest.param("kx1 and KX2", [("kx", "kx1"), ("kx", "KX2")], id="pattern-upper-case-matches-folded-text"),
        pytest.param("z qz", [("short", "z"), ("short", "qz")], id="pattern-of-one-character"),
        pytest.param("ab cd gh", [], id="exclusion-after-a-term-start"),
    ],
)
def test_engine_corners(edge_matcher, text, expected) -> None:
    result = edge_matcher.match(text)
    assert [(m.term, m.matched_text) for m in result.matches] == expected
    for m in result.matches:
        assert text[m.start : m.end] == m.matched_text


def test_scanner_reports_key_starts_across_separators() -> None:
    from dualuse._automaton import KeyScanner

    scanner = KeyScanner(["abcd", "bc", "芯片"])
    assert sorted(scanner.hits("a - b cd")) == [(0, 0), (4, 1)]
    assert sorted(scanner.hits("x芯片 abcd")) == [(1, 2), (4, 0), (5, 1)]
    assert KeyScanner([]).hits("abcd") == []


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        ("xk?(5032|6125)", {"xk5", "xk6", "x50", "x61"}),
        ("(core ?)?i[3579]-", {"cor", "i3-", "i5-", "i7-", "i9-"}),
        ("KX\\d", {f"kx{d}" for d in range(10)}),
        ("q?z", {"qz", "z"}),  # whole matches shorter than the prefix length
        ("8457\\.\\d{2}", {"845"}),
        ("\\bbt40", {"bt4"}),
        ("[0o]i", {"0i", "oi"}),
        ("k[pм]", None),  # a non-ASCII character may match an ASCII one case-insensitively
        ("[^a]b", None),
        ("a.", None),
    ],
)
def test_pattern_prefixes(regex, expected) -> None:
    from re import _parser as sre_parse  # type: ignore[attr-defined]

    from dualuse._automaton import pattern_prefixes

    found = pattern_prefixes(sre_parse.parse(regex))
    assert (None if found is None else set(found)) == expected


def test_pattern_index_is_the_file_order_alternation(keyword_engine) -> None:
    # at a token start the first pattern in file order that matches wins, whatever the index;
    # the linear-time engine gives the match Python's re would
    import re

    matcher = keyword_engine.matcher
    for text in ["xc7z020clg400", "ryzen 7 5800x", "8542.31", "core i7-13700k", "ad9361bbcz", "lm317t"]:
        rules = [matcher._pattern_rules[i] for i in matcher._pattern_by_first[text[0]]]
        first = next(r for r in rules if re.match(r.regex, text, re.IGNORECASE))
        (m,) = [m for m in matcher.match(text).matches if m.kind == "pattern"]
        assert m.term == first.pattern_id


def test_matcher_pickles_and_matches_the_same(matcher) -> None:
    # engines travel to worker processes; the automaton is rebuilt from its keys
    import pickle

    copy = pickle.loads(pickle.dumps(matcher))
    for text in ["CNC lathe", "Potato chips", "立式数控车床CK6150", "fiber laser source cable", "STM32F407VGT6"]:
        assert copy.match(text) == matcher.match(text)
