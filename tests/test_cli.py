"""The thin CLI: classify output, JSON, exit codes for bad input and bad artefacts."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from dualuse.cli import EXIT_INTEGRITY, EXIT_OK, EXIT_USAGE, main


def test_classify_prints_evidence(capsys, small_model_dir) -> None:
    code = main(
        [
            "classify",
            "CNC lathe CK6150",
            "--hs-code",
            "8458.11",
            "--model",
            str(small_model_dir),
            "--taxonomy",
            str(FIXTURES / "mini_taxonomy.toml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "category:     machine_tools / machine_tools.lathes" in out
    assert "term 'lathe' [4:9]" in out
    assert "CHPL tier:    4.B" in out
    assert "not an export-control classification" in out


def test_classify_json(capsys, small_model_dir) -> None:
    code = main(["classify", "STM32F103C8T6", "--json", "--model", str(small_model_dir)])
    data = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert data["provenance"]["model_id"] == "small-test-model"
    assert set(data["probabilities"]) == {"machine_tools", "microelectronics", "optics", "none"}


def test_empty_text_is_usage_error(capsys, small_model_dir) -> None:
    assert main(["classify", "   ", "--model", str(small_model_dir)]) == EXIT_USAGE
    assert "text: expected a non-empty description" in capsys.readouterr().err


def test_bad_taxonomy_is_integrity_error(capsys, small_model_dir) -> None:
    code = main(["classify", "lathe", "--model", str(small_model_dir), "--taxonomy", str(FIXTURES / "broken_bad_family.toml")])
    assert code == EXIT_INTEGRITY
    assert "broken_bad_family.toml" in capsys.readouterr().err


def test_tampered_model_is_integrity_error(capsys, small_model_dir, tmp_path) -> None:
    import shutil

    d = tmp_path / "m"
    shutil.copytree(small_model_dir, d)
    (d / "arrays.npz").write_bytes(b"not a model")
    assert main(["classify", "lathe", "--model", str(d)]) == EXIT_INTEGRITY
    assert "arrays.npz" in capsys.readouterr().err


def test_unknown_subcommand_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_bad_jobs_value_is_a_usage_error_naming_the_option(value, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["score", "in.csv", "-o", "out.csv", "--text-column", "d", "--jobs", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--jobs" in err and f"expected an int >= 1 or 'auto', got {value!r}" in err


# ---------------------------------------------------------------------------- build-time commands from a wheel


def test_train_without_the_data_folder_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--data" in err and "corpus/nomenclature.csv" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_train_needs_an_explicit_destination(capsys) -> None:
    """Never the installed package by default: --out DIR or --into-package must be said."""
    assert main(["train"]) == EXIT_USAGE
    assert "--out DIR" in capsys.readouterr().err


def test_train_refuses_a_non_empty_output_directory(tmp_path, capsys) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["train", "--out", str(tmp_path)]) == EXIT_USAGE
    assert "new or empty directory" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_data_build_without_raw_sources_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(["data", "build", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--raw" in err and "hs2022-6digit-datasets" in err


def test_evaluate_without_the_data_folder_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(["evaluate", "--data", str(tmp_path)]) == EXIT_USAGE
    assert "--data" in capsys.readouterr().err


def test_model_verify_prints_the_model_hash(capsys) -> None:
    from dualuse.defaults import default_model
    from dualuse.persistence import packaged_model_dir

    assert main(["model", "verify", str(packaged_model_dir())]) == EXIT_OK
    assert default_model().sha256 in capsys.readouterr().out
