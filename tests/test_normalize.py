"""Folding and the offset map: every span found in folded text maps back into the original."""

from __future__ import annotations

import pytest

from dualuse.normalize import fold, normalize, term_key


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        pytest.param("CNC Lathe", "cnc lathe", id="ascii-lower"),
        pytest.param("ＣＮＣ", "cnc", id="full-width"),
        pytest.param("CN\u0421", "cnc", id="cyrillic-es-homoglyph"),
        pytest.param("C.N.C. lathe", "cnc lathe", id="dotted-acronym"),
        pytest.param("F P G A", "fpga", id="spaced-acronym"),
        pytest.param("micro\u200bcontroller", "microcontroller", id="zero-width-removed"),
        pytest.param("lens\u202eabc", "lensabc", id="bidi-override-removed"),
        pytest.param("a\x00b", "a b", id="nul-to-space"),
        pytest.param("Ångström", "angstrom", id="accents-stripped"),
        pytest.param("Straße", "strasse", id="sharp-s-expands"),
        pytest.param("ﬁbre", "fibre", id="ligature-expands"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("Straße CNC", "cnc", id="expansion-before"),
        pytest.param("İstanbul CNC", "cnc", id="dotted-capital-i"),
        pytest.param("ﬁﬁﬁ lathe", "lathe", id="ligatures-before"),
        pytest.param("x\u200b\u200by lathe", "lathe", id="deletions-before"),
        pytest.param("Станок ЧПУ", "чпу", id="cyrillic"),
        pytest.param("数控车床 lathe", "lathe", id="cjk"),
        pytest.param("C.N.C. lathe", "lathe", id="after-joined-acronym"),
    ],
)
def test_spans_map_back_to_original(text: str, needle: str) -> None:
    norm = normalize(text)
    folded_needle = fold(needle)
    i = norm.text.index(folded_needle)
    start, end = norm.span(i, i + len(folded_needle))
    assert fold(text[start:end]) == folded_needle
    assert 0 <= start < end <= len(text)


def test_term_key_ignores_separators() -> None:
    assert term_key("5-axis") == term_key("5 axis") == term_key("5axis")
