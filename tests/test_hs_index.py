"""HS-6 suggestions: the packaged index, its integrity checks, and what classify and batch report."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from dualuse import classify, classify_batch, score_frame
from dualuse.errors import InputTypeError, ModelCompatibilityError, ModelIntegrityError
from dualuse.hs import chpl_table, chpl_tier, hs_family
from dualuse.hs_index import HSIndex, packaged_index_dir


@pytest.fixture(scope="module")
def suggest_engine():
    from dualuse.defaults import default_model
    from dualuse.engine import Engine
    from dualuse.taxonomy import default_taxonomy

    return Engine(default_taxonomy(), default_model(), hs_index=HSIndex())


def test_packaged_index_loads_and_fits_the_packaged_model() -> None:
    from dualuse.defaults import default_model

    index = HSIndex().load()
    index.check_model(default_model().sha256)
    codes = index._loaded["codes"]  # type: ignore[index]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    # every CHPL code is an HS 2022 subheading, so the index can suggest each of them
    assert {hs6 for hs6, _, _ in chpl_table()} <= set(codes)


def test_the_issue_example_lists_the_cnc_lathe_code_with_its_tier(suggest_engine) -> None:
    result = classify("CNC horizontal lathe for metal", engine=suggest_engine)
    found = {s.code: s for s in result.hs_suggestions}
    assert "845811" in found
    assert found["845811"].chpl_tier == "4.B"
    assert found["845811"].family == "machine_tools"


@pytest.mark.parametrize(
    "text",
    [
        "5-axis vertical machining centre",
        "токарный станок с ЧПУ",
        "數控車床",
        "germanium lens for thermal camera",
        "cotton t-shirts",
    ],
)
def test_each_suggestion_carries_the_family_and_tier_of_its_code(suggest_engine, text) -> None:
    result = classify(text, engine=suggest_engine)
    assert 1 <= len(result.hs_suggestions) <= 3
    scores = [s.score for s in result.hs_suggestions]
    assert scores == sorted(scores, reverse=True)
    assert len({s.code for s in result.hs_suggestions}) == len(result.hs_suggestions)
    for s in result.hs_suggestions:
        assert s.chpl_tier == chpl_tier(s.code)
        assert s.family in (hs_family(s.code), hs_family(s.code, text.lower()))
        assert s.heading


def test_batch_equals_loop_for_suggestions(suggest_engine) -> None:
    texts = ["CNC lathe", "FPGA Xilinx XC7A35T", "CNC lathe", "binoculars 10x42", "wooden chair", "数控车床"] * 3
    batch = classify_batch(texts, engine=suggest_engine)
    for text, got in zip(texts, batch):
        assert got.hs_suggestions == classify(text, engine=suggest_engine).hs_suggestions


def test_score_frame_carries_the_top_suggestion_and_its_tier(suggest_engine) -> None:
    df = pd.DataFrame({"d": ["CNC horizontal lathe for metal", "wooden chair", None]})
    out = score_frame(df, "d", engine=suggest_engine)
    first = classify("CNC horizontal lathe for metal", engine=suggest_engine).hs_suggestions[0]
    assert out.loc[0, "hs_suggestion"] == first.code
    assert (pd.isna(out.loc[0, "hs_suggestion_chpl_tier"]) and first.chpl_tier is None) or (
        out.loc[0, "hs_suggestion_chpl_tier"] == first.chpl_tier
    )
    assert pd.isna(out.loc[2, "hs_suggestion"])  # not screened: no suggestion, status says why
    assert out.loc[2, "status"] == "empty_text"


def test_a_given_code_outside_the_suggestions_of_a_flagged_line_is_a_review_reason(suggest_engine) -> None:
    text = "CNC horizontal lathe for metal"
    suggested = {s.code for s in classify(text, engine=suggest_engine).hs_suggestions}
    inside = classify(text, hs_code=sorted(suggested)[0], engine=suggest_engine)
    assert "hs_code_not_suggested" not in inside.review_reasons
    outside = classify(text, hs_code="8459.61", engine=suggest_engine)  # milling machines: same family, other code
    assert "845961" not in suggested
    assert "hs_code_not_suggested" in outside.review_reasons


def test_no_index_means_no_suggestions(default_engine) -> None:
    assert classify("CNC lathe", engine=default_engine).hs_suggestions == ()


def test_provenance_names_the_index(suggest_engine) -> None:
    assert classify("CNC lathe", engine=suggest_engine).provenance.hs_index_sha256 == HSIndex().sha256


def test_an_index_needs_a_model(keyword_engine) -> None:
    from dualuse.engine import Engine

    with pytest.raises(InputTypeError, match="hs_index"):
        Engine(keyword_engine.taxonomy, None, hs_index=HSIndex())


@pytest.fixture()
def index_copy(tmp_path):
    target = tmp_path / "idx"
    shutil.copytree(packaged_index_dir(), target)
    return target


def test_a_modified_array_file_is_refused(index_copy) -> None:
    path = index_copy / "arrays.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        HSIndex(index_copy).load()


def test_an_extra_file_is_refused(index_copy) -> None:
    (index_copy / "extra.pkl").write_bytes(b"x")
    with pytest.raises(ModelIntegrityError, match="unexpected files"):
        HSIndex(index_copy).load()


def test_an_index_of_another_model_is_refused(index_copy, suggest_engine) -> None:
    index = HSIndex(index_copy)
    with pytest.raises(ModelCompatibilityError, match="built for model"):
        index.check_model("0" * 64)


def test_the_build_is_deterministic(tmp_path) -> None:
    from dualuse.defaults import default_model
    from dualuse.training.hs_index_build import build_index

    lines = [
        ("Lathes; horizontal, numerically controlled", "845811", "en"),
        ("Токарные станки горизонтальные с ЧПУ", "845811", "ru"),
        ("Ball bearings", "848210", "en"),
        ("Kugellager", "848210", "de"),
    ]
    headings = {"845811": "Lathes; horizontal, numerically controlled", "848210": "Ball bearings"}
    model = default_model()
    a = build_index(lines, headings, model, tmp_path / "a")
    b = build_index(lines, headings, model, tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / "arrays.npz").read_bytes() == (tmp_path / "b" / "arrays.npz").read_bytes()
    from dualuse.engine import Engine
    from dualuse.taxonomy import default_taxonomy

    engine = Engine(default_taxonomy(), model, hs_index=HSIndex(tmp_path / "a"))
    assert classify("kugellager 6204", engine=engine).hs_suggestions[0].code == "848210"
