"""The corpus and evaluation-set builder: deterministic, equal to the committed files, no
evaluation text in training, ancestors joined, TARIC markers cleaned, labels per LABELS.md."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from dualuse.categories import CATEGORIES
from dualuse.cli import main
from dualuse.hs import parse_hs_code
from dualuse.training.corpus import COLUMNS, build_all
from dualuse.training.sources import clean_hts, clean_taric, join_segments, text_key, unsettled_reason

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "data" / "raw"
DATA = REPO / "data"
EVAL_FILES = (
    "eval/us_hts_2024.csv",
    "eval/uk_trader_terms.csv",
    "eval/uk_parcel_lines.csv",
    "eval/cbp_rulings.csv",
    "eval/kicad_parts.csv",
)
#: Evaluation sets whose source has no HS codes: ``code`` is empty, labels come with the source.
NO_CODE_FILES = ("eval/kicad_parts.csv",)


def test_raw_sources_are_in_the_checkout() -> None:
    # data/raw is committed; a checkout without it must fail here, not skip the corpus tests
    from dualuse.training.corpus import EVALUATION_SOURCES, TRAINING_SOURCES

    assert sorted(p.parent.name for p in RAW.glob("*/SOURCE.md")) == sorted(
        [*TRAINING_SOURCES, *EVALUATION_SOURCES, "bis-chpl-2024"]
    ), "data/raw (committed source files) is missing or incomplete in this checkout"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("build1")
    return out, build_all(RAW, out)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) in (COLUMNS, ("file", "reason", *COLUMNS))
        return list(reader)


@pytest.fixture(scope="module")
def corpus(built: tuple[Path, dict[str, int]]) -> list[dict[str, str]]:
    return _read(built[0] / "corpus" / "nomenclature.csv")


@pytest.mark.slow  # a second full corpus build through the CLI
def test_deterministic_and_equal_to_committed_files(built: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    out, counts = built
    # second build through the CLI entry point
    assert main(["data", "build", "--raw", str(RAW), "--out", str(tmp_path)]) == 0
    for name, n in counts.items():
        first = (out / name).read_bytes()
        assert (tmp_path / name).read_bytes() == first, f"{name} differs between two builds"
        committed = DATA / name
        assert committed.is_file(), f"{name} is not committed; run dualuse data build"
        assert committed.read_bytes() == first, f"data/{name} is stale; run dualuse data build"
        assert first.count(b"\n") >= n + 1
        assert b"\r\n" not in first
        first.decode("utf-8")  # valid UTF-8
        assert not first.startswith(b"\xef\xbb\xbf")


def test_row_counts_returned(built: tuple[Path, dict[str, int]]) -> None:
    out, counts = built
    assert set(EVAL_FILES) | {"corpus/nomenclature.csv"} <= set(counts)
    for name in (*EVAL_FILES, "corpus/nomenclature.csv"):
        assert len(_read(out / name)) == counts[name]


def test_no_eval_text_in_training(built: tuple[Path, dict[str, int]], corpus: list[dict[str, str]]) -> None:
    train = {text_key(r["text"]) for r in corpus}
    for name in EVAL_FILES:
        rows = _read(built[0] / name)
        assert rows, name
        leaked = [r["text"] for r in rows if text_key(r["text"]) in train]
        assert not leaked, f"{name}: {len(leaked)} texts also in training"


def test_training_uses_training_sources_only(corpus: list[dict[str, str]]) -> None:
    assert {r["source"] for r in corpus} == {
        "hs2022-6digit-datasets",
        "eu-cn8-selfexplanatory-2023-en",
        "eu-cn-2025-en",
        "eaeu-tnved-hs6-2022-ru",
        "eaeu-tnved10-2017-ru",
        "tw-customs-tariff-2020-zh",
        "eu-cn8-2023-de",
    }


def test_training_sources_in_order(corpus: list[dict[str, str]]) -> None:
    from dualuse.training.corpus import TRAINING_SOURCES

    assert list(dict.fromkeys(r["source"] for r in corpus)) == list(TRAINING_SOURCES)


def test_every_language_has_none_and_family_text(corpus: list[dict[str, str]]) -> None:
    by_source = Counter((r["source"], r["label"]) for r in corpus)
    for source in ("eaeu-tnved-hs6-2022-ru", "eaeu-tnved10-2017-ru", "tw-customs-tariff-2020-zh", "eu-cn8-2023-de"):
        assert by_source[(source, "none")] > 5000, source
        assert all(by_source[(source, c)] >= 19 for c in CATEGORIES), source


def test_mixed_2017_line_logged(built: tuple[Path, dict[str, int]]) -> None:
    dropped = _read(built[0] / "corpus" / "dropped" / "dropped_rows.csv")
    assert [(d["code"], d["label"]) for d in dropped if d["source"] == "eaeu-tnved10-2017-ru"] == [
        ("8541409000", "microelectronics+none")
    ]


def test_files_well_formed(built: tuple[Path, dict[str, int]], corpus: list[dict[str, str]]) -> None:
    for name in ("corpus/nomenclature.csv", *EVAL_FILES):
        rows = corpus if name.startswith("corpus") else _read(built[0] / name)
        for r in rows:
            assert r["label"] in CATEGORIES
            if name in NO_CODE_FILES:
                assert r["code"] == "", (name, r)
            else:
                assert r["code"].isdigit() and 4 <= len(r["code"]) <= 10, (name, r)
            assert r["text"] and r["text"] == r["text"].strip()
            assert "  " not in r["text"]


def test_training_deduplicated_and_no_chapter_rows(corpus: list[dict[str, str]]) -> None:
    keys = [text_key(r["text"]) for r in corpus]
    assert len(keys) == len(set(keys))
    assert all(len(r["code"]) >= 4 for r in corpus)


def test_other_leaf_has_ancestors_joined(corpus: list[dict[str, str]]) -> None:
    rows = [r for r in corpus if r["source"] == "eu-cn-2025-en" and r["code"] == "84571090"]
    assert len(rows) == 1
    text = rows[0]["text"]
    assert text.endswith("; Other")
    assert "Machining centres" in text and "for working metal" in text
    assert rows[0]["label"] == "machine_tools"
    horizontal = [r for r in corpus if r["source"] == "eu-cn-2025-en" and r["code"] == "84571010"]
    assert horizontal and re.search(r"Machining centres; Horizontal$", horizontal[0]["text"])
    # no bare, meaningless leaves from the tree
    assert not [r for r in corpus if r["text"].casefold() in {"other", "horizontal"}]


def test_taric_markers_cleaned(corpus: list[dict[str, str]]) -> None:
    cn = [r["text"] for r in corpus if r["source"] == "eu-cn-2025-en"]
    assert not [t for t in cn if "|" in t or re.search(r"\$[0-9A-Za-z-]", t) or "!x!" in t]
    assert any("E2PROMs" in t for t in cn)


def test_clean_functions() -> None:
    assert clean_taric("Electrically erasable (E$2PROMs), 512|Mbits") == "Electrically erasable (E2PROMs), 512 Mbits"
    assert clean_taric("5|!x!|10$-$6|per Kelvin") == "5 x 10-6 per Kelvin"
    assert clean_taric("H@3BO@3\u00a0 dry") == "H3BO3 dry"
    assert clean_hts("Of <i>Bos</i> taurus<newline/>valued over $5:") == "Of Bos taurus valued over $5:"
    assert join_segments(["Heading:", "Other:", "Of steel:", "Other"]) == "Heading; Of steel; Other"
    assert join_segments(["ICs", "ICs", "Memories"]) == "ICs; Memories"
    assert text_key("  Machining  Centres: ") == text_key("machining centres")


KNOWN = [
    ("845710-hs2022", "hs2022-6digit-datasets", "845710", "machine_tools"),
    ("901310-hs2022", "hs2022-6digit-datasets", "901310", "optics"),
    ("854141-hs2022", "hs2022-6digit-datasets", "854141", "none"),
    ("854231-hs2022", "hs2022-6digit-datasets", "854231", "microelectronics"),
    ("900130-hs2022", "hs2022-6digit-datasets", "900130", "none"),
    ("846691-hs2022", "hs2022-6digit-datasets", "846691", "none"),
    ("84571010-cn2023", "eu-cn8-selfexplanatory-2023-en", "84571010", "machine_tools"),
    ("90131090-cn2023", "eu-cn8-selfexplanatory-2023-en", "90131090", "optics"),
    ("85414100-cn2023", "eu-cn8-selfexplanatory-2023-en", "85414100", "none"),
    ("85371010-cn2023-nc-panels", "eu-cn8-selfexplanatory-2023-en", "85371010", "machine_tools"),
    ("85371091-cn2023-nc-excluded", "eu-cn8-selfexplanatory-2023-en", "85371091", "none"),
    ("8537101090-cn2025-nc-other", "eu-cn-2025-en", "8537101090", "machine_tools"),
    ("9013100000-cn2025", "eu-cn-2025-en", "901310", "optics"),
    ("845811-ru", "eaeu-tnved-hs6-2022-ru", "845811", "machine_tools"),
    ("854231-ru", "eaeu-tnved-hs6-2022-ru", "854231", "microelectronics"),
    ("870130-ru", "eaeu-tnved-hs6-2022-ru", "870130", "none"),
    ("8541500000-ru2017-bridged", "eaeu-tnved10-2017-ru", "8541500000", "microelectronics"),
    ("8537101000-ru2017-digital-panels", "eaeu-tnved10-2017-ru", "8537101000", "none"),
    ("8458110000-tw", "tw-customs-tariff-2020-zh", "8458110000", "machine_tools"),
    ("9013101000-tw", "tw-customs-tariff-2020-zh", "9013101000", "optics"),
    ("8541401100-tw-photodiode", "tw-customs-tariff-2020-zh", "8541401100", "microelectronics"),
    ("8541402900-tw-led", "tw-customs-tariff-2020-zh", "8541402900", "none"),
    ("8525801010-tw-night-vision", "tw-customs-tariff-2020-zh", "8525801010", "optics"),
    ("8528720000-tw-colour-tv", "tw-customs-tariff-2020-zh", "8528720000", "none"),
    ("84571010-de", "eu-cn8-2023-de", "84571010", "machine_tools"),
    ("85371010-de-nc", "eu-cn8-2023-de", "85371010", "machine_tools"),
    ("85371091-de-nc-excluded", "eu-cn8-2023-de", "85371091", "none"),
]


@pytest.mark.parametrize(("source", "code", "label"), [k[1:] for k in KNOWN], ids=[k[0] for k in KNOWN])
def test_known_labels(corpus: list[dict[str, str]], source: str, code: str, label: str) -> None:
    rows = [r for r in corpus if r["source"] == source and r["code"] == code]
    assert rows, (source, code)
    assert {r["label"] for r in rows} == {label}


def test_mixed_heading_dropped(corpus: list[dict[str, str]]) -> None:
    # heading 8466 mixes machine-tool parts (8466.93) with stone/wood machine parts (8466.91/.92)
    assert not [r for r in corpus if r["source"] == "eu-cn-2025-en" and r["code"] == "8466"]
    assert [r for r in corpus if r["source"] == "eu-cn-2025-en" and r["code"] == "8457"]


def test_label_counts_plausible(built: tuple[Path, dict[str, int]], corpus: list[dict[str, str]]) -> None:
    counts = Counter(r["label"] for r in corpus)
    assert counts["machine_tools"] > 100
    assert counts["microelectronics"] > 50
    assert counts["optics"] > 50
    assert counts["none"] > 30_000
    hts = Counter(r["label"] for r in _read(built[0] / "eval/us_hts_2024.csv"))
    assert hts["machine_tools"] > 100 and hts["microelectronics"] > 20 and hts["optics"] > 20
    assert sum(hts.values()) > 15_000
    terms = Counter(r["label"] for r in _read(built[0] / "eval/uk_trader_terms.csv"))
    assert all(terms[c] > 10 for c in CATEGORIES)


def test_kicad_parts_evaluation_only(built: tuple[Path, dict[str, int]], corpus: list[dict[str, str]]) -> None:
    """The KiCad set keeps its source labels (counts as in its SOURCE.md), carries its licence
    note, and never reaches the training corpus."""
    assert "kicad-symbols-parts-eval" not in {r["source"] for r in corpus}
    rows = _read(built[0] / "eval/kicad_parts.csv")
    assert {r["source"] for r in rows} == {"kicad-symbols-parts-eval"}
    assert Counter(r["label"] for r in rows) == {"microelectronics": 3706, "none": 828}
    note = (RAW / "kicad-symbols-parts-eval" / "SOURCE.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in note and "KiCad symbol library contributors" in note


def test_kicad_parts_bad_label_fails(tmp_path: Path) -> None:
    from dualuse.training.sources import read_kicad_parts

    folder = tmp_path / "kicad-symbols-parts-eval"
    folder.mkdir()
    (folder / "kicad_parts_eval.csv").write_text(
        "text,label,library,part\nX1 made-up op amp  SOIC-8,microelectronics,Lib,X1\nY2 widget,gadget,Lib,Y2\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"line 3: .*got 'gadget'"):
        read_kicad_parts(tmp_path)
    (folder / "kicad_parts_eval.csv").write_text(
        "text,label,library,part\nX1 made-up op amp  SOIC-8,microelectronics,Lib,X1\n", encoding="utf-8"
    )
    (row,) = read_kicad_parts(tmp_path)
    assert row.row.as_tuple() == ("X1 made-up op amp SOIC-8", "microelectronics", "kicad-symbols-parts-eval", "")
    assert row.hs is None


def test_unsettled_items_left_out(built: tuple[Path, dict[str, int]]) -> None:
    for name in EVAL_FILES:
        for r in _read(built[0] / name):
            assert not r["code"].startswith(("9012", "3818")), (name, r)
            if name != "eval/us_hts_2024.csv":  # HTS rules look at the national text only
                eu = name.startswith("eval/uk_")
                code = parse_hs_code(r["code"]) if r["code"] else None
                assert unsettled_reason(r["text"], code, eu_code=eu) is None, (name, r)
    dropped = _read(built[0] / "eval/dropped/dropped_rows.csv")
    reasons = Counter(d["reason"].split(" (")[0] for d in dropped)
    assert reasons["equal to a training text"] > 0
    assert all(r == "equal to a training text" or r.startswith("not settled: ") for r in reasons)


UNSETTLED = [
    ("laser-diode", "405nm laser diode module", "8541.49", "laser diodes"),
    ("magnetic-chuck", "permanent magnetic chuck 300x150", "8505.90", "magnetic chucks"),
    ("ball-screw", "SFU1605 ball screw 400mm", "8483.40", "ball screws and linear guides"),
    ("linear-guide", "HIWIN linear guide rail 20mm", "8482.80", "ball screws and linear guides"),
    ("wafer", "8 inch prime silicon wafers", "3818.00", "bare silicon wafers"),
    ("wafer-phrase", "bare silicon wafer 200mm", "8541.90", "bare silicon wafers"),
    ("mems-mic", "MEMS microphone", "8518.10", "MEMS microphones and SAW filters"),
    ("saw-filter", "SAW filter 433MHz", "8541.60", "MEMS microphones and SAW filters"),
    ("sfp", "10G SFP+ transceiver", "8517.62", "SFP/optical transceivers"),
    ("optical-transceiver", "optical transceiver module", "8517.62", "SFP/optical transceivers"),
    ("electron-microscope", "scanning electron microscope", "9012.10", "electron microscopes"),
    ("laser-level", "self-levelling laser level", "9015.30", "laser levels"),
    ("ir-thermometer", "infrared thermometer gun", "9025.19", "IR thermometers"),
]


@pytest.mark.parametrize(("text", "code", "item"), [u[1:] for u in UNSETTLED], ids=[u[0] for u in UNSETTLED])
def test_unsettled_reason(text: str, code: str, item: str) -> None:
    reason = unsettled_reason(text, parse_hs_code(code))
    assert reason is not None and reason.startswith(item)


SETTLED = [
    ("lasers-excl-diodes", "Lasers, other than laser diodes", "9013.20"),
    ("lasers-excl-paren", "Lasers (excl. laser diodes)", "9013.20"),
    ("wafer-machine", "Machines for the manufacture of silicon wafers", "8486.10"),
    ("wafer-tester", "Instruments for measuring or checking semiconductor wafers", "9030.82"),
    ("wafer-cookies", "wafer cookies", "1905.32"),
    ("microphone", "dynamic microphone", "8518.10"),
    ("saw-blade", "band saw blade", "8202.20"),
    ("thermometer", "clinical thermometer", "9025.11"),
    ("gears", "Gears and gearing for machinery", "8483.40"),
]


@pytest.mark.parametrize(("text", "code"), [s[1:] for s in SETTLED], ids=[s[0] for s in SETTLED])
def test_settled_not_dropped(text: str, code: str) -> None:
    assert unsettled_reason(text, parse_hs_code(code)) is None
