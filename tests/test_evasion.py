"""Evasions against the DEFAULT taxonomy (keyword-only engine): spelling games still match.

Each row writes a term any reasonable taxonomy holds (lathe, machining centre, CNC, FPGA,
microcontroller, thermal imager, binoculars, riflescope) the way someone hiding it might:
spaced or dotted letters, Cyrillic / Greek look-alikes inside Latin words, full-width forms,
zero-width characters and soft hyphens inside words, combining marks, leetspeak digits. The
plain spelling is checked first and must match: the default taxonomy is part of the package,
so a term dropped from it fails the row (naming the term) rather than skipping it.

Known gaps (SECURITY.md, "What it does not guarantee") are pinned as they are today: each is
a plain test that the spelling is *not* caught, so a change that catches one is noticed (then
move the row to EVASIONS and update SECURITY.md).

Leetspeak is a second, narrow reading in the matcher (see ``dualuse/matcher.py``): part
numbers and ordinary codes must match exactly as before, with no new false positives.
"""

from __future__ import annotations

import pytest

from dualuse.api import classify
from dualuse.matcher import KeywordMatcher

# (evasive text, expected family, plain spelling that the taxonomy must know)
EVASIONS = [
    # spaced and dotted letters
    ("C N C lathe", "machine_tools", "CNC"),
    ("C.N.C. machine", "machine_tools", "CNC"),
    ("c-n-c turning", "machine_tools", "CNC"),
    ("F.P.G.A.", "microelectronics", "FPGA"),
    ("F P G A module", "microelectronics", "FPGA"),
    ("M.C.U. 32-bit", "microelectronics", "MCU"),
    ("m-i-c-r-o-c-o-n-t-r-o-l-l-e-r", "microelectronics", "microcontroller"),
    # look-alike letters from other scripts inside Latin words
    ("\u0421N\u0421 lathe", "machine_tools", "CNC"),  # Cyrillic Es
    ("FPG\u0410", "microelectronics", "FPGA"),  # Cyrillic A
    ("\u039cCU board-level", "microelectronics", "MCU"),  # Greek capital Mu
    ("\u03a4\u0397\u0395RMAL IMAGER", "optics", "thermal imager"),  # Greek Tau, Eta, Epsilon
    ("mi\u0441r\u043econtroller", "microelectronics", "microcontroller"),  # Cyrillic es, o
    ("l\u0430the", "machine_tools", "lathe"),  # Cyrillic a
    ("bin\u03bfculars 10x42", "optics", "binoculars"),  # Greek omicron
    # full-width, mathematical and enclosed forms
    ("\uff26\uff30\uff27\uff21", "microelectronics", "FPGA"),
    ("\uff4c\uff41\uff54\uff48\uff45", "machine_tools", "lathe"),
    ("\U0001d413\U0001d407\U0001d404\U0001d411\U0001d40c\U0001d400\U0001d40b imager", "optics", "thermal imager"),
    ("\u24dc\u24d2\u24e4", "microelectronics", "MCU"),
    # invisible characters inside words
    ("mi\u200bcrocontroller", "microelectronics", "microcontroller"),
    ("mi\u200ccro\u200dcon\u2060troller", "microelectronics", "microcontroller"),
    ("micro\u00adcontroller", "microelectronics", "microcontroller"),
    ("ther\u00admal ima\u00adger", "optics", "thermal imager"),
    ("la\ufeffthe", "machine_tools", "lathe"),
    ("F\u202ePGA", "microelectronics", "FPGA"),
    # combining marks
    ("l\u0336a\u0336t\u0336h\u0336e\u0336", "machine_tools", "lathe"),
    ("m\u00efcrocontr\u00f4ller", "microelectronics", "microcontroller"),
    # separators inside multi-word terms
    ("machining-centre", "machine_tools", "machining centre"),
    ("thermal_imager", "optics", "thermal imager"),
    ("machining   /   centre", "machine_tools", "machining centre"),
    # leetspeak digits inside words
    ("m1crocontroller", "microelectronics", "microcontroller"),
    ("m1cr0c0ntr0ll3r", "microelectronics", "microcontroller"),
    ("th3rmal 1mager", "optics", "thermal imager"),
    ("therm4l imag3r", "optics", "thermal imager"),
    ("b1nocu1ars", "optics", "binoculars"),
    ("r1flescope 3-9x40", "optics", "riflescope"),
    ("1athe", "machine_tools", "lathe"),
    ("mach1n1ng centre", "machine_tools", "machining centre"),
    ("m@chining centre", "machine_tools", "machining centre"),
    ("$TM microcontroll3r", "microelectronics", "microcontroller"),
    ("micr0c0ntr0113r", "microelectronics", "microcontroller"),  # dense: the term covers the token
    ("th3rm4l 1m4g3r", "optics", "thermal imager"),
    # control characters and blank letters inside words (invisible, so removed)
    ("la\x00the", "machine_tools", "lathe"),
    ("FP\x7fGA", "microelectronics", "FPGA"),
    ("micro\x1bcontroller", "microelectronics", "microcontroller"),
    ("la\u3164the", "machine_tools", "lathe"),  # HANGUL FILLER
    ("FP\u2800GA", "microelectronics", "FPGA"),  # BRAILLE PATTERN BLANK
    ("la\u115fthe \u1160 \uffa0", "machine_tools", "lathe"),
    ("CNC\x00lathe", "machine_tools", "lathe"),  # between words: read as a space too
    ("binoculars\u3164thermal\u2800imager", "optics", "thermal imager"),
    # right-to-left override: the run after it displays reversed
    ("\u202erellortnocorcim", "microelectronics", "microcontroller"),
    ("offer: \u202eehtal CNC\u202c, new", "machine_tools", "lathe"),
    ("\u202eAGPF\u202c module", "microelectronics", "FPGA"),
    # UTS #39 look-alikes (Unicode confusables data) and small capitals
    ("\u03f9\u039d\u03f9", "machine_tools", "CNC"),  # Greek lunate sigma, Nu, lunate sigma
    ("\ua730\u1d18\u0262\u1d00", "microelectronics", "FPGA"),  # small capitals
    (
        "\u1d0d\u026a\u1d04\u0280\u1d0f\u1d04\u1d0f\u0274\u1d1b\u0280\u1d0f\u029f\u029f\u1d07\u0280",
        "microelectronics",
        "microcontroller",
    ),
    ("\u0251\u0455\u0456\u0441", "microelectronics", "ASIC"),  # Latin alpha, Cyrillic dze, i, es
    ("mic\u0433ocont\u0433oller", "microelectronics", "microcontroller"),  # Cyrillic ghe in a Latin word
    # combinations
    ("m1cr\u043e\u200bcontroller", "microelectronics", "microcontroller"),
    ("\u202erellort\x00nocorcim", "microelectronics", "microcontroller"),
    ("\uff54\uff48\uff13\uff52\uff4d\uff41\uff4c imager", "optics", "thermal imager"),
]


def _families(engine, text: str) -> set[str]:
    return {e.family for e in classify(text, engine=engine).matched_terms()}


@pytest.mark.parametrize(("text", "family", "plain"), EVASIONS, ids=[repr(t)[1:-1] for t, _, _ in EVASIONS])
def test_evasion_still_matches(keyword_engine, text: str, family: str, plain: str) -> None:
    assert family in _families(keyword_engine, plain), f"the default taxonomy has no term {plain!r} for {family}"
    r = classify(text, engine=keyword_engine)
    assert family in {e.family for e in r.matched_terms()}, [e.matched_text for e in r.matched_terms()]
    if classify(plain, engine=keyword_engine).category == family:  # not a weak term alone
        assert r.category == family
    for e in r.matched_terms():  # evidence shows the text as written, e.g. the leet spelling
        assert text[e.start : e.end] == e.matched_text


@pytest.fixture(scope="module")
def default_engine():
    import dualuse

    return dualuse.default_engine()


@pytest.mark.parametrize(("text", "family", "plain"), EVASIONS, ids=[repr(t)[1:-1] for t, _, _ in EVASIONS])
def test_evasion_with_the_default_engine_is_flagged_or_reviewed(default_engine, text: str, family: str, plain: str) -> None:
    """The embedded model must not talk a found term down to a silent ``none``.

    The model reads what the matcher read (leet letters as letters, the terms of a reversed
    or hidden-split reading), so an evasion fares like its plain spelling: flagged as the
    family, or at least sent to review.
    """
    r = classify(text, engine=default_engine)
    assert family in {e.family for e in r.matched_terms()}, [e.matched_text for e in r.matched_terms()]
    assert r.category == family or r.needs_review, (r.category, r.probabilities)
    for e in r.matched_terms():
        assert text[e.start : e.end] == e.matched_text


@pytest.mark.parametrize("text", ["b1nocu1ars", "1athe", "m1cr0c0ntr0ll3r", "\u202erellortnocorcim", "la\x00the", "FP\x7fGA"])
def test_issue_spellings_are_flagged_by_the_default_engine(default_engine, text: str) -> None:
    assert classify(text, engine=default_engine).category != "none"


def test_leet_evidence_shows_the_original_spelling(keyword_engine) -> None:
    r = classify("Lot of 50 m1crocontroller units", engine=keyword_engine)
    (ev,) = [e for e in r.matched_terms() if e.term == "microcontroller"]
    assert ev.matched_text == "m1crocontroller" and (ev.start, ev.end) == (10, 25)


# ---------------------------------------------------------------------------- known limitations


# (text, family, plain spelling the taxonomy knows); the same list as SECURITY.md
KNOWN_GAPS = [
    pytest.param("micr o controller", "microelectronics", "microcontroller", id="word-split-by-a-space"),
    pytest.param("micrcontroler", "microelectronics", "microcontroller", id="misspelling-two-edits-away"),
    pytest.param("FP6A", "microelectronics", "FPGA", id="leet-with-a-code-digit-6"),
    pytest.param("8inoculars", "optics", "binoculars", id="leet-with-a-code-digit-8"),
]


@pytest.mark.parametrize(("text", "family", "plain"), KNOWN_GAPS)
def test_known_gap_is_not_caught(keyword_engine, text: str, family: str, plain: str) -> None:
    """Known gap: an adversary who knows the taxonomy can write around it (SECURITY.md).

    The plain spelling is caught; this spelling is not (no term, category none). If this
    fails because the spelling is now caught, the gap is closed: move the row to EVASIONS.
    """
    assert family in _families(keyword_engine, plain)
    r = classify(text, engine=keyword_engine)
    assert r.matched_terms() == [], [e.matched_text for e in r.matched_terms()]
    assert r.category == "none"


# ---------------------------------------------------------------------------- no new false positives


@pytest.fixture(scope="module")
def matcher_without_leet(keyword_engine) -> KeywordMatcher:
    """The packaged taxonomy's matcher with the ordinary pass only (built once: ~0.5 s)."""
    plain = KeywordMatcher(keyword_engine.taxonomy)
    plain._leet_trie = None
    # the comparison below means something only if this really switches the leet pass off
    assert plain.match("m1crocontroller").matches == ()
    assert keyword_engine.matcher.match("m1crocontroller").matches != ()
    return plain


CODES = [
    "STM32F407VGT6",
    "XC7Z020-1CLG400C",
    "CK6150 lathe",
    "16K20",
    "BT40 tool holder",
    "3-9x40 scope",
    "VF-2",
    "XC7K325T-2FFG900I",
    "IRF540N",
    "LM317T",
    "NE555P",
    "ATMEGA328P-PU",
    "ESP32-WROOM",
    "AT24C02",
    "SN74LVC1G14",
    "Ti6Al4V bar",
    "SUS316L sheet",
    "AISI304",
    "6061-T6",
    "M3 screw",
    "A4 paper",
    "4K monitor",
    "50C SoC rated",
    "1C chip",
    "5MP camera",
    "win10 laptop",
    "covid19 test",
    "h264 encoder",
    "usb3 hub",
    "mp3 player",
    "x64 PC",
    "DDR4 3200",
    "Si3N4 ceramic",
    "l3harris radio",
    "ffp3 mask",
    "h3bo3 acid",
    "1kva ups",
    "4rpm motor",
    "B00K5 and c4ts",
    "5tar wars t-shirt",
    "p4ss the s4lt",
]


@pytest.mark.parametrize("text", CODES)
def test_codes_and_ordinary_text_match_exactly_as_without_leet(keyword_engine, matcher_without_leet, text: str) -> None:
    assert keyword_engine.matcher.match(text) == matcher_without_leet.match(text)


@pytest.mark.parametrize(
    ("text", "pattern_ids"),
    [("STM32F407", {"stm32"}), ("VMC850 and VMC-1060", {"vmc_model"}), ("XC7Z020 and 16K20", {"xilinx", "su_lathe_model"})],
)
def test_part_number_patterns_unchanged(keyword_engine, text, pattern_ids) -> None:
    # the patterns are in the packaged taxonomy (a missing one fails here, it is not skipped)
    assert pattern_ids <= {p.id for s in keyword_engine.taxonomy.subcategories for p in s.patterns}
    found = {m.term for m in keyword_engine.matcher.match(text).matches if m.kind == "pattern"}
    assert found == pattern_ids


def test_leet_exclusion_reading_never_cancels(mini_taxonomy) -> None:
    m = KeywordMatcher(mini_taxonomy)
    # a leet exclusion phrase stops leet terms under it, but cancels nothing else
    assert m.match("p0tato ch1ps").matches == ()
    assert [x.matched_text for x in m.match("p0tato chips").matches] == ["chips"]
    assert [x.matched_text for x in m.match("1athe for f1our").matches] == ["1athe"]
    assert m.match("1athe for flour").matches == ()  # an ordinary text exclusion still cancels leet terms


def test_leet_with_mini_taxonomy_patterns(mini_taxonomy) -> None:
    m = KeywordMatcher(mini_taxonomy)
    found = [(x.kind, x.matched_text) for x in m.match("CK6150 1athe, STM32F407 ch1p, 5 ax1s").matches]
    assert found == [("pattern", "CK6150"), ("term", "1athe"), ("pattern", "STM32F407"), ("term", "ch1p"), ("term", "5 ax1s")]
