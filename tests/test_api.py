"""The public classify / classify_batch API: results, errors, batch = loop, JSON round trip."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pydantic import ValidationError

from dualuse import Classification, classify, classify_batch
from dualuse.errors import EmptyTextError, InputTypeError, InvalidHSCodeError


@pytest.mark.parametrize(
    ("text", "hs_code", "category"),
    [
        pytest.param("CNC lathe", None, "machine_tools", id="keyword-hit"),
        pytest.param("Potato chips, salted", None, "none", id="exclusion"),
        pytest.param("STM32F407VGT6", None, "microelectronics", id="part-number"),
        pytest.param("数控车床", None, "machine_tools", id="chinese"),
        pytest.param("spare parts", "8458.11", "machine_tools", id="hs-code-alone"),
        pytest.param("cotton T-shirt", None, "none", id="clear-miss"),
    ],
)
def test_categories(mini_engine, text, hs_code, category) -> None:
    assert classify(text, hs_code=hs_code, engine=mini_engine).category == category


def test_result_is_frozen_and_complete(mini_engine) -> None:
    r = classify("CNC lathe CK6150", hs_code="8458.11", engine=mini_engine)
    with pytest.raises(ValidationError, match="frozen"):
        r.category = "none"  # type: ignore[misc]
    assert abs(sum(r.probabilities.values()) - 1.0) < 1e-9
    assert set(r.probabilities) == {"machine_tools", "microelectronics", "optics", "none"}
    assert r.confidence == max(r.probabilities.values())
    assert r.chpl_tier == "4.B"
    assert r.subcategory == "machine_tools.lathes"
    assert r.references == ("2B001",)
    assert r.needs_review and "family_flagged" in r.review_reasons
    terms = r.matched_terms()
    assert [t.matched_text for t in terms] == ["CNC", "lathe", "CK6150"]
    for t in terms:
        assert r.text[t.start : t.end] == t.matched_text
    hs = [e for e in r.evidence if e.kind == "hs_code"][0]
    assert hs.family == "machine_tools" and hs.agrees_with_text is True
    assert r.provenance.taxonomy_version == "1.0.0" and len(r.provenance.taxonomy_sha256) == 64
    assert r.provenance.model_id is None


def test_json_round_trip(mini_engine) -> None:
    r = classify("Станок токарный с ЧПУ 16К20", hs_code="8458 11 00", engine=mini_engine)
    assert Classification.model_validate_json(r.model_dump_json()) == r


def test_wrong_hs_code_does_not_win_silently(mini_engine) -> None:
    r = classify("CNC lathe", hs_code="6109.10", engine=mini_engine)  # a T-shirt code
    hs = [e for e in r.evidence if e.kind == "hs_code"][0]
    assert hs.agrees_with_text is False
    assert r.needs_review and "hs_text_disagreement" in r.review_reasons


def test_hs_code_without_text_evidence_sends_to_review(mini_engine) -> None:
    r = classify("assorted spare parts", hs_code="9013.10", engine=mini_engine)
    assert r.category == "optics"
    assert r.chpl_tier == "3.B" and r.needs_review


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        pytest.param(
            lambda e: classify(123, engine=e), InputTypeError, r"text: expected str, got 123 \(type int\)", id="int-text"
        ),
        pytest.param(lambda e: classify(None, engine=e), TypeError, r"text: expected str, got None", id="none-text"),
        pytest.param(
            lambda e: classify("", engine=e), EmptyTextError, r"text: expected a non-empty description, got ''", id="empty"
        ),
        pytest.param(
            lambda e: classify("  \t ", engine=e), ValueError, r"text: expected a non-empty description", id="whitespace"
        ),
        pytest.param(
            lambda e: classify("lathe", hs_code="84A8", engine=e),
            InvalidHSCodeError,
            r"hs_code: expected .*got '84A8'",
            id="bad-hs",
        ),
        pytest.param(
            lambda e: classify("lathe", hs_code=8458, engine=e),
            InputTypeError,
            r"hs_code: expected str or None .*got 8458",
            id="int-hs",
        ),
        pytest.param(
            lambda e: classify_batch("CNC lathe", engine=e),
            InputTypeError,
            r"texts: expected a sequence of str, got a bare str",
            id="bare-string",
        ),
        pytest.param(
            lambda e: classify_batch(["a", 5], engine=e), InputTypeError, r"texts\[1\]: expected str, got 5", id="batch-item"
        ),
        pytest.param(
            lambda e: classify_batch(["a", "b"], hs_codes=["8458"], engine=e),
            InputTypeError,
            r"hs_codes: expected 2 codes",
            id="hs-length",
        ),
        pytest.param(
            lambda e: classify_batch(["a", " "], engine=e), EmptyTextError, r"texts\[1\]: expected a non-empty", id="batch-empty"
        ),
    ],
)
def test_errors_name_parameter_expected_and_received(mini_engine, call, exc, message) -> None:
    with pytest.raises(exc, match=message):
        call(mini_engine)


def _mixed_descriptions(n: int, seed: int = 7) -> tuple[list[str], list[str | None]]:
    rng = random.Random(seed)
    pieces = [
        "CNC",
        "lathe",
        "potato chips",
        "STM32F103C8T6",
        "数控车床",
        "laser",
        "laser printer",
        "wafer",
        "T-shirt",
        "5-axis",
        "токарный станок",
        "FPGA芯片",
        "for flour",
        "ＣＮＣ",
        "lens",
        "chips",
        "x",
    ]
    codes = [None, None, "8458.11", "8542.31", "9013.10", "6109.10", "854150", "854140"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(n)]
    return texts, [rng.choice(codes) for _ in range(n)]


def test_batch_equals_loop_on_1000_mixed(mini_engine) -> None:
    texts, codes = _mixed_descriptions(1000)
    batch = classify_batch(texts, hs_codes=codes, engine=mini_engine)
    loop = [classify(t, hs_code=c, engine=mini_engine) for t, c in zip(texts, codes)]
    assert batch == loop


def test_batch_equals_loop_with_model(small_engine) -> None:
    texts, codes = _mixed_descriptions(300, seed=3)
    batch = classify_batch(texts, hs_codes=codes, engine=small_engine)
    loop = [classify(t, hs_code=c, engine=small_engine) for t, c in zip(texts, codes)]
    assert batch == loop
    assert all(r.scores.model is not None and abs(sum(r.scores.model.values()) - 1) < 1e-6 for r in batch)
    assert all(r.provenance.model_id == "small-test-model" for r in batch)
    assert any(e.kind == "model_feature" for r in batch for e in r.evidence)


def test_repeated_descriptions_in_one_batch_keep_their_own_hs_codes(small_engine) -> None:
    # the engine screens a repeated description once per chunk; each row must still get
    # the result it gets alone, with its own HS code and its own status
    texts = ["CNC lathe 16K20", "\u200b\u200b", "CNC lathe 16K20", "\u200b\u200b", "CNC lathe 16K20"]
    codes = ["8458.11", None, "6109.10", "8458.11", "84A8"]
    res = small_engine.score(texts, codes)
    assert res.status == ["ok", "empty_text", "ok", "empty_text", "invalid_hs_code"]
    alone = [small_engine.score([t], [c]) for t, c in zip(texts, codes)]
    assert [a.status[0] for a in alone] == res.status
    for i, a in enumerate(alone):
        np.testing.assert_array_equal(res.probabilities[i], a.probabilities[0])
    assert res.facts[0].match is res.facts[2].match  # screened once
    assert res.facts[0].hs_family == "machine_tools" and res.facts[2].hs_family == "none"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # --- part numbers
        # a manufacturer's part number alone names the device (LABELS.md: ICs and discrete
        # semiconductors are microelectronics); the model, trained mostly on prose, must not
        # outvote it
        pytest.param("STM32F407VGT6", "microelectronics", id="mcu"),
        pytest.param("STM32F407VGT6 tray", "microelectronics", id="mcu-in-trays"),
        pytest.param("LM358DR", "microelectronics", id="op-amp"),
        pytest.param("IRFZ44N", "microelectronics", id="mosfet"),
        pytest.param("XC7Z020-1CLG400C", "microelectronics", id="fpga"),
        pytest.param("W25Q128JVSIQ, 2500 pcs", "microelectronics", id="flash"),
        pytest.param("IPG YLR-1000", "optics", id="fibre-laser-source"),
        pytest.param("Empty JEDEC trays for QFN, 100 pcs", "none", id="empty-trays"),
        pytest.param("STM32 Nucleo-64 development board", "none", id="dev-board"),
        # --- item heads
        # the item is the head, not what it is made for (LABELS.md: a family says what the
        # item is); the head exclusion rules the family out for the model as well
        pytest.param("Power supply for fiber laser, 1 kW", "none", id="power-supply"),
        pytest.param("Tool cabinet for CNC tool holders", "none", id="cabinet"),
        pytest.param("Mounting bracket for thermal camera", "none", id="bracket"),
        pytest.param("CNC router for aluminium, 6090", "machine_tools", id="router-for-metal"),
        pytest.param("Surface grinder with coolant pump", "machine_tools", id="grinder-with-pump"),
        # accessories that come with the item do not make it an accessory
        pytest.param("Binoculars 10x42 with strap and cleaning cloth", "optics", id="binoculars-with-strap"),
        pytest.param("Microscope with LED illumination, battery operated", "optics", id="battery-microscope"),
        pytest.param("Binocular strap, neoprene", "none", id="strap-alone"),
    ],
)
def test_invoice_wording_with_the_default_model(default_engine, text, category) -> None:
    assert classify(text, engine=default_engine).category == category


def test_results_equal_validated_ones_field_by_field(default_engine) -> None:
    """Results are assembled without a second validation; validating their data again must
    give the same object, field for field and byte for byte in JSON (types included)."""
    texts = [
        "5-axis CNC vertical machining center DMU 50",
        "FPGA XC7K325T-2FFG900I industrial grade",
        "men's cotton T-shirt, size M",
        "germanium infrared lens 50 mm f/1.0 for wood",
        "Станок токарный с ЧПУ 16К20",
        "数控车床 CK6150",
        "z" * 25_000,
    ]
    codes = ["8457.10", None, "6109.10", "9002.11", "", "8458.11", None]
    for result in classify_batch(texts, hs_codes=codes, engine=default_engine):
        again = Classification.model_validate(result.model_dump())
        assert again == result
        assert again.model_dump_json() == result.model_dump_json()
        assert again.model_fields_set == result.model_fields_set
        with pytest.raises(ValidationError):
            result.category = "none"  # type: ignore[misc]  # still frozen
