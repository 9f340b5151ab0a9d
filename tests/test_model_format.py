"""The format-2 model directory: exact round trip, deterministic bytes, and refusal of
every tampered, hostile or old-style directory with a message naming the file.

A directory is tampered with after saving; where an attacker could also rewrite the
manifest's hashes to match (``_forge``), the content checks that follow must still refuse.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _dev_model import assert_same_values, dev_classifier, dev_texts_and_labels, fits_in_float32, same_explanations

from dualuse.cli import main as cli_main
from dualuse.errors import ModelIntegrityError
from dualuse.fusion import FusionConfig
from dualuse.persistence import (
    ARRAYS_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    _arrays_bytes,
    load_model,
    save_model,
)
from dualuse.training.legacy_pickle import convert, save_pickle_model


def main(argv: list[str]) -> int:
    return cli_main(["model", *argv])


ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "dualuse" / "data" / "model"
CONVERT_COMMAND = "dualuse model convert"


def _save(scorer, directory: Path) -> str:
    return save_model(
        scorer,
        directory,
        model_id="dev-test-model",
        fusion=FusionConfig(),
        corpus_sha256="0" * 64,
        taxonomy_sha256="1" * 64,
        taxonomy_version="test",
        seed=0,
        training={"rows": 212},
    )


@pytest.fixture(scope="session")
def saved(tmp_path_factory):
    """A format-2 directory of the dev classifier, and its model sha256."""
    directory = tmp_path_factory.mktemp("format2") / "model"
    return directory, _save(dev_classifier().to_linear_model(), directory)


@pytest.fixture
def model_dir(saved, tmp_path):
    """A fresh copy of the saved directory, free to tamper with."""
    copy = tmp_path / "model"
    shutil.copytree(saved[0], copy)
    return copy


def _manifest(directory: Path) -> dict:
    return json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))


def _write_manifest(directory: Path, manifest: dict) -> None:
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _forge(directory: Path) -> None:
    """Rewrite the manifest's sizes and hashes to match the files, as an attacker could."""
    manifest = _manifest(directory)
    for name in manifest["files"]:
        data = (directory / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    _write_manifest(directory, manifest)


def _refused(directory: Path, *fragments: str) -> str:
    with pytest.raises(ModelIntegrityError) as info:
        load_model(directory)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# ----------------------------------------------------------------------------- round trip


def test_round_trip_predicts_what_the_classifier_predicts(saved):
    directory, digest = saved
    model = load_model(directory)
    texts = list(dev_texts_and_labels()[0])
    assert_same_values(model.predict_proba(texts), dev_classifier().predict_proba_features(dev_classifier().features(texts)))
    assert same_explanations([model.explain(texts[0], "none")], [dev_classifier().explain(texts[0], "none")])
    assert model.sha256 == digest == hashlib.sha256((directory / MANIFEST_FILE).read_bytes()).hexdigest()
    assert model.model_id == "dev-test-model" and model.fusion == FusionConfig()
    assert sorted(os.listdir(directory)) == sorted([ARRAYS_FILE, MANIFEST_FILE, MODEL_FILE])
    manifest = _manifest(directory)
    assert manifest["format_version"] == 2 and manifest["seed"] == 0 and "reproducibility" in manifest


def test_saving_is_deterministic(saved, tmp_path):
    directory, digest = saved
    again = tmp_path / "again"
    assert _save(dev_classifier().to_linear_model(), again) == digest
    for name in os.listdir(directory):
        assert (again / name).read_bytes() == (directory / name).read_bytes(), name
    # the archive carries no clock: members are dated 1980-01-01 whatever the time
    arrays = {k: np.zeros(2, np.float32) for k in ("word_idf", "char_idf", "coef", "intercept")}
    arrays.update(word_vocab=np.zeros(0, np.uint8), char_vocab=np.zeros(0, np.uint8))
    assert _arrays_bytes(arrays) == _arrays_bytes(arrays)


def test_save_refuses_a_non_empty_directory(saved, tmp_path):
    (tmp_path / "x").write_text("")
    with pytest.raises(FileExistsError):
        _save(dev_classifier().to_linear_model(), tmp_path)


def test_shipped_model_loads_and_pins_its_hash():
    model = load_model(SHIPPED)
    assert load_model(SHIPPED, expected_sha256=model.sha256).sha256 == model.sha256
    with pytest.raises(ModelIntegrityError, match="not the expected"):
        load_model(SHIPPED, expected_sha256="0" * 64)
    assert model.predict_proba(["cnc lathe"]).argmax() == 0
    assert model.manifest["format_version"] == 2 and model.manifest["seed"] == 20240412


# ----------------------------------------------------------------------------- tampering


def test_flipped_byte_is_refused(model_dir):
    data = bytearray((model_dir / ARRAYS_FILE).read_bytes())
    data[len(data) // 2] ^= 0x01
    (model_dir / ARRAYS_FILE).write_bytes(bytes(data))
    _refused(model_dir, ARRAYS_FILE, "sha256")


def test_truncated_file_is_refused(model_dir):
    data = (model_dir / ARRAYS_FILE).read_bytes()
    (model_dir / ARRAYS_FILE).write_bytes(data[:-100])
    _refused(model_dir, ARRAYS_FILE, "bytes, the manifest says")


def test_grown_file_is_refused_unread(model_dir):
    with open(model_dir / MODEL_FILE, "ab") as fh:
        fh.write(b" ")
    _refused(model_dir, MODEL_FILE, "exceed the limit")


def test_extra_file_is_refused(model_dir):
    (model_dir / "notes.txt").write_text("hello")
    _refused(model_dir, "notes.txt", "unexpected files")


def test_wrong_hash_in_manifest_is_refused(model_dir):
    manifest = _manifest(model_dir)
    manifest["files"][MODEL_FILE]["sha256"] = "ab" * 32
    _write_manifest(model_dir, manifest)
    _refused(model_dir, MODEL_FILE, "does not match")


@pytest.mark.parametrize("name", ["../arrays.npz", "sub/arrays.npz", "..", ".hidden", "a\\b"])
def test_path_traversal_in_manifest_is_refused(model_dir, name):
    manifest = _manifest(model_dir)
    manifest["files"][name] = manifest["files"].pop(ARRAYS_FILE)
    _write_manifest(model_dir, manifest)
    _refused(model_dir, "path traversal")


def test_manifest_claiming_a_huge_file_is_refused(model_dir):
    manifest = _manifest(model_dir)
    manifest["files"][ARRAYS_FILE]["size"] = 5 * 10**9
    _write_manifest(model_dir, manifest)
    _refused(model_dir, ARRAYS_FILE, "size")


def test_huge_real_file_is_refused_without_reading_it(model_dir):
    # a sparse 2 GiB file: refused on its real (fstat) size, not read into memory
    with open(model_dir / ARRAYS_FILE, "r+b") as fh:
        fh.truncate(2 << 30)
    _refused(model_dir, ARRAYS_FILE, "exceed the limit")


def test_oversized_arrays_are_refused_even_with_forged_hashes(model_dir):
    spec = json.loads((model_dir / MODEL_FILE).read_text())
    spec["word"]["n_features"] += 1  # arrays no longer match the description
    (model_dir / MODEL_FILE).write_text(json.dumps(spec))
    _forge(model_dir)
    _refused(model_dir, ARRAYS_FILE, "expected shape")
    spec["word"]["n_features"] = 10**9
    (model_dir / MODEL_FILE).write_text(json.dumps(spec))
    _forge(model_dir)
    _refused(model_dir, MODEL_FILE, "n_features")


def test_wrong_dtype_and_compressed_members_are_refused(model_dir):
    import io
    import zipfile

    with np.load(model_dir / ARRAYS_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["coef"] = arrays["coef"].astype(np.float64)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, value in arrays.items():
            inner = io.BytesIO()
            np.save(inner, value, allow_pickle=False)
            zf.writestr(f"{name}.npy", inner.getvalue())
    (model_dir / ARRAYS_FILE).write_bytes(buf.getvalue())
    _forge(model_dir)
    _refused(model_dir, ARRAYS_FILE, "coef", "dtype")
    deflated = io.BytesIO()
    with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in arrays.items():
            inner = io.BytesIO()
            np.save(inner, value, allow_pickle=False)
            zf.writestr(f"{name}.npy", inner.getvalue())
    (model_dir / ARRAYS_FILE).write_bytes(deflated.getvalue())
    _forge(model_dir)
    _refused(model_dir, ARRAYS_FILE, "compressed")


def test_pickled_object_array_is_refused(model_dir):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf, np.load(model_dir / ARRAYS_FILE, allow_pickle=False) as npz:
        for name in npz.files:
            inner = io.BytesIO()
            value = np.array([object()], dtype=object) if name == "intercept" else npz[name]
            np.save(inner, value, allow_pickle=True)
            zf.writestr(f"{name}.npy", inner.getvalue())
    (model_dir / ARRAYS_FILE).write_bytes(buf.getvalue())
    _forge(model_dir)
    _refused(model_dir, ARRAYS_FILE, "unreadable array")


def test_unsupported_token_pattern_is_refused(model_dir):
    spec = json.loads((model_dir / MODEL_FILE).read_text())
    spec["word"]["token_pattern"] = r"(a+)+$"
    (model_dir / MODEL_FILE).write_text(json.dumps(spec))
    _forge(model_dir)
    _refused(model_dir, MODEL_FILE, "token_pattern", "not supported")


@pytest.mark.parametrize("target", [ARRAYS_FILE, MANIFEST_FILE])
def test_symlink_instead_of_a_file_is_refused(model_dir, tmp_path, target):
    real = tmp_path / "elsewhere"
    shutil.move(model_dir / target, real)
    os.symlink(real, model_dir / target)
    _refused(model_dir, target, "symlink")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("target", [MODEL_FILE, MANIFEST_FILE])
def test_fifo_instead_of_a_file_is_refused_without_blocking(model_dir, target):
    (model_dir / target).unlink()
    os.mkfifo(model_dir / target)
    _refused(model_dir, target, "FIFO")


def test_missing_file_is_refused(model_dir):
    (model_dir / MODEL_FILE).unlink()
    _refused(model_dir, MODEL_FILE, "missing")


# ----------------------------------------------------------------------------- the manifest's decision parameters


def test_editing_fusion_in_range_changes_the_reported_hash(model_dir, saved):
    manifest = _manifest(model_dir)
    manifest["fusion"]["none_bias"] = 6.0
    _write_manifest(model_dir, manifest)
    model = load_model(model_dir)
    assert model.fusion.none_bias == 6.0
    assert model.sha256 != saved[1]  # provenance shows it is not the published model
    with pytest.raises(ModelIntegrityError, match="not the expected"):
        load_model(model_dir, expected_sha256=saved[1])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("none_bias", 60),
        ("keyword_weight", -50),
        ("temperature", -1),
        ("temperature", 0),
        ("max_chars", 0),
        ("max_chars", 2.5),
        ("review_threshold", 1.5),
        ("high_risk_threshold", -0.1),
        ("hs_weight", True),
        ("medium_risk_threshold", 0.9),
    ],
)
def test_out_of_range_fusion_is_refused(model_dir, field, value):
    manifest = _manifest(model_dir)
    manifest["fusion"][field] = value
    _write_manifest(model_dir, manifest)
    _refused(model_dir, MANIFEST_FILE, "fusion")


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["fusion"].pop("temperature"),
        lambda m: m["fusion"].update(extra_weight=1.0),
        lambda m: m.update(format_version=True),
        lambda m: m.update(format_version=3),
        lambda m: m.update(classes=["optics", "none"]),
        lambda m: m.update(surprise=1),
        lambda m: m.update(seed="0"),
        lambda m: m.pop("corpus_sha256"),
    ],
)
def test_malformed_manifest_is_refused(model_dir, edit):
    manifest = _manifest(model_dir)
    edit(manifest)
    _write_manifest(model_dir, manifest)
    _refused(model_dir, MANIFEST_FILE)


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": 1, "a": 2}', "[" * 100_000, "\ufeff{}", "not json"])
def test_manifest_that_is_not_strict_json_is_refused(model_dir, text):
    (model_dir / MANIFEST_FILE).write_text(text, encoding="utf-8")
    _refused(model_dir, MANIFEST_FILE)


# ----------------------------------------------------------------------------- the old format


def _pickle_dir(directory: Path) -> Path:
    save_pickle_model(
        dev_classifier(),
        directory,
        model_id="dev-pickle",
        fusion=FusionConfig(none_bias=1.5),
        corpus_sha256="2" * 64,
        taxonomy_sha256="3" * 64,
        taxonomy_version="t",
    )
    return directory


def test_pickle_model_is_refused_with_the_conversion_command(tmp_path):
    old = _pickle_dir(tmp_path / "old")
    message = _refused(old, "format_version 1", CONVERT_COMMAND)
    assert "dualuse train" in message
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(old / "model.pkl", bare / "model.pkl")  # a pickle without its manifest
    _refused(bare, "model.pkl", CONVERT_COMMAND)


def test_convert_command_turns_a_pickle_directory_into_an_equal_model(tmp_path):
    old = _pickle_dir(tmp_path / "old")
    assert main(["convert", str(old), str(tmp_path / "new")]) == 0
    assert convert(old, tmp_path / "again") == load_model(tmp_path / "new").sha256  # same bytes each run
    model = load_model(tmp_path / "new")
    texts = list(dev_texts_and_labels()[0])
    assert_same_values(model.predict_proba(texts), dev_classifier().predict_proba_features(dev_classifier().features(texts)))
    assert model.fusion.none_bias == 1.5 and model.model_id == "dev-pickle"
    assert model.manifest["converted_from"]["format_version"] == 1
    assert main(["verify", str(tmp_path / "new")]) == 0
    assert main(["verify", str(old)]) == 3


# ----------------------------------------------------------------------------- nothing executable on the load path

LOADER_PROBE = textwrap.dedent(
    """
    import sys, pickle, numpy as np
    calls = []
    def refuse(*args, **kwargs):
        raise AssertionError("pickle or joblib called while loading a format-2 model")
    pickle.loads = pickle.load = refuse
    pickle.Unpickler = refuse
    try:
        import joblib
        joblib.load = refuse
    except ImportError:
        pass
    real_load = np.load
    def recording_load(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle", "default"))
        return real_load(*args, **kwargs)
    np.load = recording_load
    from dualuse.persistence import load_model
    model = load_model(sys.argv[1])
    model.predict_proba(["5-axis cnc machining centre", "potato chips"])
    model.top_features(model.features(["cnc lathe"]), ["machine_tools"])
    assert calls and all(c is False for c in calls), calls
    # joblib is imported by this probe itself (to trap joblib.load); scikit-learn must not be at all
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "sklearn")
    assert not loaded, loaded
    print("ok", len(calls))
    """
)


def test_loading_never_unpickles_and_needs_no_scikit_learn():
    result = subprocess.run(
        [sys.executable, "-c", LOADER_PROBE, str(SHIPPED)], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_engine_with_the_converted_model_classifies_as_with_the_pickle(tmp_path):
    import pandas as pd

    from dualuse.api import classify_batch
    from dualuse.engine import Engine
    from dualuse.taxonomy import default_taxonomy
    from dualuse.training.legacy_pickle import load_pickle_model

    sample = pd.read_csv(ROOT / "data" / "sample" / "trade_records.csv", dtype=str, keep_default_na=False)
    texts, codes = sample["description"].tolist()[:60], [c or None for c in sample["hs_code"].tolist()[:60]]
    old_dir = _pickle_dir(tmp_path / "old")
    old_engine = Engine(default_taxonomy(), load_pickle_model(old_dir))
    convert(old_dir, tmp_path / "new")
    new_model = load_model(tmp_path / "new")
    new_engine = Engine(default_taxonomy(), new_model)
    old = classify_batch(texts, hs_codes=codes, engine=old_engine)
    new = classify_batch(texts, hs_codes=codes, engine=new_engine)
    assert new[0].provenance.model_sha256 == new_model.sha256 != old[0].provenance.model_sha256
    for a, b in zip(old, new):  # everything but the provenance's model hash is the same
        if fits_in_float32():
            assert a.model_dump(exclude={"provenance"}) == b.model_dump(exclude={"provenance"})
        else:  # an older scikit-learn fitted in float64; the file stores float32 (see fits_in_float32)
            assert (a.category, a.subcategory, a.review_reasons) == (b.category, b.subcategory, b.review_reasons)
            np.testing.assert_allclose(list(a.probabilities.values()), list(b.probabilities.values()), atol=1e-5)
