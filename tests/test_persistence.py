"""Model files are verified against their manifest before anything is unpickled."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from dualuse import persistence
from dualuse.errors import ModelCompatibilityError, ModelIntegrityError
from dualuse.persistence import load_model, read_manifest


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if unpickling starts."""
    calls = []

    def guard(payload):
        calls.append(1)
        raise AssertionError("unpickling started")

    monkeypatch.setattr(persistence, "_unpickle", guard)
    return calls


def test_round_trip_predicts_identically(small_model_dir, model_copy) -> None:
    a, b = load_model(small_model_dir), load_model(model_copy)
    texts = ["cnc lathe", "potato chips", "stm32f407", "germanium lens"]
    assert (a.predict_proba(texts) == b.predict_proba(texts)).all()
    assert a.sha256 == read_manifest(small_model_dir).model_sha256


def test_changed_byte_refused_before_unpickling(model_copy, no_unpickling) -> None:
    path = model_copy / "model.pkl"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256 .* does not match the manifest"):
        load_model(model_copy)
    assert no_unpickling == []


def test_truncated_file_refused(model_copy, no_unpickling) -> None:
    path = model_copy / "model.pkl"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelIntegrityError, match="size .* does not match"):
        load_model(model_copy)
    assert no_unpickling == []


def test_swapped_manifest_refused(model_copy, no_unpickling) -> None:
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["model_sha256"] = "ab" * 32
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="does not match the manifest"):
        load_model(model_copy)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda m: m.update(format_version=99), "format_version 99 is not the supported 1", id="format-version"),
        pytest.param(lambda m: m.pop("model_sha256"), "field model_sha256: Field required", id="missing-field"),
        pytest.param(lambda m: m.update(classes=["a", "b"]), "classes", id="wrong-classes"),
    ],
)
def test_manifest_mismatch_refused(model_copy, no_unpickling, edit, message) -> None:
    manifest = json.loads((model_copy / "manifest.json").read_text())
    edit(manifest)
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match=message):
        load_model(model_copy)
    assert no_unpickling == []


def test_other_sklearn_version_refused_with_rebuild_hint(model_copy, no_unpickling) -> None:
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["sklearn_version"] = "0.24.2"
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelCompatibilityError, match=r"built with scikit-learn 0\.24\.2.*dualuse train"):
        load_model(model_copy)
    assert no_unpickling == []


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_code_running_pickle_refused_even_with_matching_manifest(model_copy) -> None:
    payload = pickle.dumps(_Evil(), protocol=5)
    (model_copy / "model.pkl").write_bytes(payload)
    manifest = json.loads((model_copy / "manifest.json").read_text())
    import hashlib

    manifest["model_sha256"] = hashlib.sha256(payload).hexdigest()
    manifest["model_size"] = len(payload)
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match=r"references (posix|os|nt)\.system, which is not on the allow-list"):
        load_model(model_copy)


def test_missing_directory(tmp_path) -> None:
    with pytest.raises(ModelIntegrityError, match="cannot read it"):
        load_model(tmp_path / "absent")


def test_model_file_name_cannot_escape_directory(model_copy, no_unpickling) -> None:
    manifest = json.loads((model_copy / "manifest.json").read_text())
    manifest["model_file"] = "../model.pkl"
    (model_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="plain file name"):
        load_model(model_copy)


@pytest.mark.slow  # two fits (about 30 s)
def test_training_is_deterministic(tmp_path) -> None:
    from conftest import _small_training_set

    from dualuse.training.estimator import TextClassifier
    from dualuse.normalize import fold

    frame = _small_training_set().sample(n=1500, random_state=0)
    texts = [fold(t) for t in frame["text"]]
    a = TextClassifier(max_features=20_000).fit(texts, frame["label"])
    b = TextClassifier(max_features=20_000).fit(texts, frame["label"])
    probe = ["cnc lathe", "fpga xc7a35t", "binoculars 10x42", "t-shirt"]
    assert (a.predict_proba(probe) == b.predict_proba(probe)).all()


_FIT_AND_HASH = '''
import hashlib, pickle, sys
sys.path.insert(0, sys.argv[1])
from conftest import _small_training_set
from dualuse.training.estimator import TextClassifier
from dualuse.normalize import fold
frame = _small_training_set().sample(n=800, random_state=0)
model = TextClassifier(max_features=5_000).fit([fold(t) for t in frame["text"]], frame["label"])
print(hashlib.sha256(pickle.dumps(model)).hexdigest())
'''


@pytest.mark.slow  # two fits in two fresh processes
@pytest.mark.timeout(900)  # each process may take up to its own 300 s limit
def test_two_fits_in_two_processes_pickle_to_the_same_bytes() -> None:
    # the model file's hash is the provenance: a rebuild from data/ must give the same bytes,
    # not only the same predictions (memory addresses differ between processes)
    tests_dir = str(Path(__file__).resolve().parent)
    digests = {
        subprocess.run([sys.executable, "-c", _FIT_AND_HASH, tests_dir], capture_output=True, text=True,
                       check=True, timeout=300).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1 and len(next(iter(digests))) == 64


def test_shipped_model_was_fitted_with_the_packaged_taxonomy() -> None:
    """The fusion of the embedded model is fitted on keyword evidence of one taxonomy; shipping
    a taxonomy edit without `dualuse train` would pair the model with evidence it never saw."""
    from dualuse.persistence import packaged_model_dir
    from dualuse.taxonomy import default_taxonomy

    manifest = read_manifest(packaged_model_dir())
    taxonomy = default_taxonomy()
    assert (manifest.taxonomy_version, manifest.taxonomy_sha256) == (taxonomy.version, taxonomy.sha256)
