"""HS code parsing, the LABELS.md family mapping, CHPL tiers and the HS 2017 -> 2022 bridge.

Expected values are written from LABELS.md and the published CHPL list, not from the
implementation's output.
"""

from __future__ import annotations

import pytest

from dualuse.categories import CATEGORIES
from dualuse.errors import InputTypeError, InvalidHSCodeError
from dualuse.hs import (
    CHPL_DATE,
    HS_EXCEPTIONS,
    HS_FAMILY_PREFIXES,
    HSCode,
    chpl_table,
    chpl_tier,
    hs_family,
    hs_family_ambiguous,
    parse_hs_code,
    strip_exclusions,
)

# --------------------------------------------------------------------------- parsing

GOOD_CODES = [
    # id, raw, digits, hs6
    ("dotted-6", "8458.11", "845811", "845811"),
    ("spaced-8", "8458 11 00", "84581100", "845811"),
    ("plain-8", "84581100", "84581100", "845811"),
    ("dotted-10", "8458.11.0090", "8458110090", "845811"),
    ("hyphens", "8458-11-00", "84581100", "845811"),
    ("heading-only", "8458", "8458", None),
    ("outer-spaces", "  8542.31 ", "854231", "854231"),
    ("leading-zero", "0101.21", "010121", "010121"),
    ("ten-digits", "9013100000", "9013100000", "901310"),
]


@pytest.mark.parametrize(("raw", "digits", "hs6"), [g[1:] for g in GOOD_CODES], ids=[g[0] for g in GOOD_CODES])
def test_parse_good_codes(raw: str, digits: str, hs6: str | None) -> None:
    code = parse_hs_code(raw)
    assert isinstance(code, HSCode)
    assert code.raw == raw
    assert code.digits == digits
    assert code.hs6 == hs6
    assert code.bridged_from is None and code.bridge_note is None


BAD_CODES = [
    ("letter", "84A8"),
    ("empty", ""),
    ("blank", "   "),
    ("three-digits", "845"),
    ("eleven-digits", "84581100001"),
    ("double-dot", "8458..11"),
    ("trailing-dot", "8458.11."),
    ("junk", "8458/11"),
    ("prefix-text", "HS 8458.11"),
    ("fullwidth-digits", "\uff18\uff14\uff15\uff18"),
]


@pytest.mark.parametrize("raw", [b[1] for b in BAD_CODES], ids=[b[0] for b in BAD_CODES])
def test_parse_bad_codes_name_param_expectation_and_value(raw: str) -> None:
    with pytest.raises(InvalidHSCodeError, match=r"^hs_code: expected 4-10 digits .*got ") as info:
        parse_hs_code(raw)
    assert repr(raw) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_error_message_example() -> None:
    expected = "hs_code: expected 4-10 digits with optional dots or spaces (e.g. '8458.11'), got '84A8' (type str)"
    with pytest.raises(InvalidHSCodeError) as info:
        parse_hs_code("84A8")
    assert str(info.value) == expected


def test_parse_error_names_custom_param() -> None:
    with pytest.raises(InvalidHSCodeError, match=r"^commodity_code: expected .*got '12' \(type str\)"):
        parse_hs_code("12", param="commodity_code")


@pytest.mark.parametrize(
    "value",
    [8458, 8458.11, None, b"8458", ["8458"]],
    ids=["int", "float", "none", "bytes", "list"],
)
def test_parse_non_str_is_type_error(value: object) -> None:
    with pytest.raises(InputTypeError, match=r"^hs_code: expected a str .*got .*\(type "):
        parse_hs_code(value)


def test_type_error_is_builtin_type_error() -> None:
    with pytest.raises(TypeError):
        parse_hs_code(8458)


def test_parse_is_cached_and_frozen() -> None:
    a = parse_hs_code("8458.11")
    assert parse_hs_code("8458.11") is a
    with pytest.raises(AttributeError):
        a.digits = "0000"  # type: ignore[misc]


# --------------------------------------------------------------------------- families

# Straight from LABELS.md "HS 2022 codes -> family"; one row per prefix and exception.
FAMILIES = [
    # machine_tools
    ("8456", "8456.11", "machine_tools"),
    ("8457", "8457.10", "machine_tools"),
    ("8458", "8458.11.00", "machine_tools"),
    ("8459", "8459.61", "machine_tools"),
    ("8460", "8460.12", "machine_tools"),
    ("8461", "8461.50", "machine_tools"),
    ("8462", "8462.61", "machine_tools"),
    ("8463", "8463.10", "machine_tools"),
    ("846610", "8466.10", "machine_tools"),
    ("846620", "8466.20", "machine_tools"),
    ("846630", "8466.30", "machine_tools"),
    ("846693", "8466.93", "machine_tools"),
    ("846694", "8466.94", "machine_tools"),
    ("846691-stone-parts", "8466.91", "none"),
    ("846692-wood-parts", "8466.92", "none"),
    ("8464-stone-machines", "8464.10", "none"),
    ("8465-woodworking", "8465.91", "none"),
    ("8467-hand-tools", "8467.21", "none"),
    ("8207-interchangeable-tools", "8207.50", "none"),
    # microelectronics
    ("8542", "8542.31", "microelectronics"),
    ("8542-parts", "8542.90", "microelectronics"),
    ("8541-diodes", "8541.10", "microelectronics"),
    ("854149-photosensitive", "8541.49", "microelectronics"),
    ("854151-transducers", "8541.51", "microelectronics"),
    ("854160-piezo", "8541.60", "microelectronics"),
    ("except-854141-led", "8541.41", "none"),
    ("except-854142-pv-cells", "8541.42", "none"),
    ("except-854143-pv-panels", "8541.43", "none"),
    ("except-854141-national", "8541.41.0000", "none"),
    ("8486", "8486.20", "microelectronics"),
    ("903082", "9030.82", "microelectronics"),
    ("903141", "9031.41", "microelectronics"),
    ("903089-not-903082", "9030.89", "none"),
    ("903149-not-903141", "9031.49", "none"),
    ("8534-pcb", "8534.00", "none"),
    ("8532-capacitors", "8532.24", "none"),
    ("8471-computers", "8471.50", "none"),
    # optics
    ("9001-fibres", "9001.10", "optics"),
    ("9001-elements", "9001.90", "optics"),
    ("except-900130-contact-lenses", "9001.30", "none"),
    ("except-900140-glass-spectacle", "9001.40", "none"),
    ("except-900150-other-spectacle", "9001.50", "none"),
    ("9002", "9002.11", "optics"),
    ("9005", "9005.10", "optics"),
    ("9011", "9011.10", "optics"),
    ("9013", "9013.20", "optics"),
    ("901310-sights", "9013.10", "optics"),
    ("901510", "9015.10", "optics"),
    ("901520-theodolites", "9015.20", "none"),
    ("902730", "9027.30", "optics"),
    ("902750", "9027.50", "optics"),
    ("902720-chromatographs", "9027.20", "none"),
    ("852583-night-vision", "8525.83", "optics"),
    ("852582-not-optics", "8525.82", "none"),
    ("9004-spectacles", "9004.10", "none"),
    ("9006-photo-cameras", "9006.59", "none"),
    ("9012-electron-microscopes", "9012.10", "none"),
    # none
    ("0101-horses", "0101.21", "none"),
    ("8482-bearings", "8482.10", "none"),
]


@pytest.mark.parametrize(("code", "family"), [f[1:] for f in FAMILIES], ids=[f[0] for f in FAMILIES])
def test_family_from_labels_md(code: str, family: str) -> None:
    assert hs_family(code) == family
    assert hs_family(parse_hs_code(code)) == family


def test_family_is_a_category() -> None:
    assert hs_family("8458.11") in CATEGORIES


NATIONAL_LINES = [
    (
        "853710-nc-panel",
        "8537.10.10",
        "Numerical control panels with built-in automatic data-processing machine",
        "machine_tools",
    ),
    (
        "853710-nc-other-leaf",
        "8537101090",
        "Numerical control panels with built-in automatic data-processing machine; Other",
        "machine_tools",
    ),
    ("853710-nc-lowercase-plural", "853710", "numerical controls for lathes", "machine_tools"),
    ("853710-plc", "8537.10.91", "Programmable memory controllers", "none"),
    (
        "853710-nc-excluded",
        "85371091",
        "Programmable memory controllers (excl. numerical control panels with built-in automatic data-processing machines)",
        "none",
    ),
    ("853710-nc-other-than", "85371098", "Boards for electric control, other than numerical control panels", "none"),
    ("853710-no-description", "8537.10", None, "none"),
    ("853710-empty-description", "8537.10", "", "none"),
    ("853720-nc-not-national-line", "8537.20", "Numerical control panels", "none"),
    ("852589-thermal", "8525.89", "Thermal imaging cameras", "optics"),
    ("852589-infrared", "8525.89.00", "infrared camera module", "optics"),
    ("852589-infra-red", "8525890000", "Infra-red cameras", "optics"),
    ("852589-plain-camera", "8525.89", "Television cameras, digital cameras and video camera recorders", "none"),
    ("852589-no-description", "8525.89", None, "none"),
    ("852589-excl-thermal", "8525.89", "Digital cameras (excl. thermal imaging cameras)", "none"),
    ("852583-no-description-needed", "8525.83", None, "optics"),
    ("8458-description-ignored", "8458.11", "potato chips", "machine_tools"),
]


@pytest.mark.parametrize(("code", "description", "family"), [n[1:] for n in NATIONAL_LINES], ids=[n[0] for n in NATIONAL_LINES])
def test_national_line_rules(code: str, description: str | None, family: str) -> None:
    assert hs_family(code, description) == family


def test_description_must_be_str() -> None:
    with pytest.raises(InputTypeError, match=r"^description: expected a str or None, got 5 \(type int\)"):
        hs_family("8537.10", 5)  # type: ignore[arg-type]


def test_family_str_code_errors_name_code_param() -> None:
    with pytest.raises(InvalidHSCodeError, match=r"^code: expected 4-10 digits"):
        hs_family("84x5")


def test_most_specific_prefix_wins() -> None:
    # 8541 is microelectronics but its more specific exceptions are none; 9001 likewise.
    assert hs_family("8541") == "microelectronics"
    assert hs_family("854141") == "none"
    assert hs_family("9001") == "optics"
    assert hs_family("900130") == "none"
    # 8466 is only machine tools through its six-digit prefixes
    assert hs_family("8466") == "none"
    assert hs_family("846693") == "machine_tools"


def test_prefix_constants_match_labels_md() -> None:
    assert set(HS_FAMILY_PREFIXES) == {"machine_tools", "microelectronics", "optics"}
    assert set(HS_FAMILY_PREFIXES["machine_tools"]) == {
        "8456",
        "8457",
        "8458",
        "8459",
        "8460",
        "8461",
        "8462",
        "8463",
        "846610",
        "846620",
        "846630",
        "846693",
        "846694",
    }
    assert set(HS_FAMILY_PREFIXES["microelectronics"]) == {"8542", "8541", "8486", "903082", "903141"}
    assert set(HS_FAMILY_PREFIXES["optics"]) == {
        "9001",
        "9002",
        "9005",
        "9011",
        "9013",
        "901510",
        "902730",
        "902750",
        "852583",
    }
    assert {k: set(v) for k, v in HS_EXCEPTIONS.items()} == {
        "8541": {"854141", "854142", "854143"},
        "9001": {"900130", "900140", "900150"},
    }


AMBIGUOUS = [
    ("plain-6", "8458.11", False),
    ("split-heading-8466", "8466", True),
    ("split-heading-8541", "8541", True),
    ("split-heading-9001", "9001", True),
    ("split-heading-8537", "8537", True),
    ("whole-heading-8458", "8458", False),
    ("whole-heading-8542", "8542", False),
    ("hs2017-854140", "8541.40", True),
    ("hs2017-854150", "8541.50", False),
]


@pytest.mark.parametrize(("code", "ambiguous"), [a[1:] for a in AMBIGUOUS], ids=[a[0] for a in AMBIGUOUS])
def test_family_ambiguous(code: str, ambiguous: bool) -> None:
    assert hs_family_ambiguous(parse_hs_code(code)) is ambiguous


# --------------------------------------------------------------------------- HS 2017 bridge


@pytest.mark.parametrize("raw", ["8541.50", "8541.50.00", "8541500080", "854150"], ids=["6", "8", "10", "plain-6"])
def test_bridge_854150_is_microelectronics(raw: str) -> None:
    code = parse_hs_code(raw)
    assert code.bridged_from == "854150"
    assert code.hs6 in {"854151", "854159"}
    assert code.digits.startswith(code.hs6)
    assert len(code.digits) == len(raw.replace(".", ""))
    assert code.bridge_note and "8541.51" in code.bridge_note and "8541.59" in code.bridge_note
    assert hs_family(code) == "microelectronics"
    assert not hs_family_ambiguous(code)
    assert chpl_tier(code) == "3.A"  # 854151 and 854159 are both tier 3.A


@pytest.mark.parametrize("raw", ["8541.40", "8541.40.20", "8541400000"], ids=["6", "8", "10"])
def test_bridge_854140_is_ambiguous(raw: str) -> None:
    code = parse_hs_code(raw)
    assert code.bridged_from == "854140"
    assert code.bridge_note and "cannot be placed" in code.bridge_note
    assert hs_family_ambiguous(code)
    assert hs_family(code) == "none"
    assert hs_family(code, "Light emitting diodes") == "none"
    assert chpl_tier(code) is None


def test_hs2022_codes_are_not_bridged() -> None:
    for raw in ("8541.41", "8541.49", "8541.51", "8541.59"):
        code = parse_hs_code(raw)
        assert code.bridged_from is None
        assert code.digits == raw.replace(".", "")


# --------------------------------------------------------------------------- CHPL

CHPL = [
    ("845811-tier-4B", "8458.11", "4.B"),
    ("845710-tier-4B", "8457.10.10", "4.B"),
    ("846693-tier-4B", "8466.93", "4.B"),
    ("854231-tier-1", "8542.31", "1"),
    ("854239-tier-1", "8542.39.90", "1"),
    ("853221-tier-2", "8532.21", "2"),
    ("854800-tier-2", "8548.00", "2"),
    ("852589-tier-3A", "8525.89", "3.A"),
    ("854160-tier-3A", "8541.60", "3.A"),
    ("848210-tier-3B", "8482.10", "3.B"),
    ("901310-tier-3B", "9013.10", "3.B"),
    ("848620-tier-4A", "8486.20", "4.A"),
    ("903082-tier-4A", "9030.82", "4.A"),
    ("not-listed-8456", "8456.11", None),
    ("not-listed-854141", "8541.41", None),
    ("not-listed-horses", "0101.21", None),
    ("heading-only", "8542", None),
]


@pytest.mark.parametrize(("code", "tier"), [c[1:] for c in CHPL], ids=[c[0] for c in CHPL])
def test_chpl_tier(code: str, tier: str | None) -> None:
    assert chpl_tier(code) == tier
    assert chpl_tier(parse_hs_code(code)) == tier


def test_chpl_table() -> None:
    table = chpl_table()
    assert len(table) == 50
    assert len({hs6 for hs6, _, _ in table}) == 50
    assert {tier for _, tier, _ in table} == {"1", "2", "3.A", "3.B", "4.A", "4.B"}
    assert all(len(hs6) == 6 and hs6.isdigit() for hs6, _, _ in table)
    assert ("845811", "4.B") in {(h, t) for h, t, _ in table}
    assert sum(1 for _, t, _ in table if t == "4.B") == 5
    assert CHPL_DATE == "2024-02-23"


# --------------------------------------------------------------------------- exclusions


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("Lasers, other than laser diodes; other optical appliances", "optical appliances", "laser diodes"),
        ("Lasers (excl. laser diodes)", "Lasers", "laser diodes"),
        ("Controllers (excl. numerical control panels (with ADP))", "Controllers", "numerical"),
        ("Cameras (excluding thermal cameras), digital", "digital", "thermal"),
    ],
    ids=["other-than-clause", "excl-paren", "nested-paren", "excluding-paren"],
)
def test_strip_exclusions(text: str, kept: str, gone: str) -> None:
    stripped = strip_exclusions(text)
    assert kept in stripped
    assert gone not in stripped
