"""Model files are verified against their manifest before anything is unpickled."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest

from dualuse.errors import ModelCompatibilityError, ModelIntegrityError
from dualuse.training import legacy_pickle as persistence
from dualuse.training.legacy_pickle import load_pickle_model as load_model
from dualuse.training.legacy_pickle import read_manifest, save_pickle_model


@pytest.fixture(scope="module")
def pickle_model_dir(small_classifier, tmp_path_factory):
    """The session's small classifier as a format-1 (pickle) directory, as dualuse 0.1 wrote them."""
    from dualuse.fusion import FusionConfig

    out = tmp_path_factory.mktemp("pickle_model")
    save_pickle_model(
        small_classifier,
        out,
        model_id="small-test-model",
        fusion=FusionConfig(),
        corpus_sha256="0" * 64,
        taxonomy_sha256="0" * 64,
        taxonomy_version="0",
    )
    return out


@pytest.fixture
def pickle_copy(pickle_model_dir, tmp_path):
    """A copy of the format-1 directory that a test may tamper with."""
    dst = tmp_path / "model"
    shutil.copytree(pickle_model_dir, dst)
    return dst


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if unpickling starts."""
    calls = []

    def guard(payload):
        calls.append(1)
        raise AssertionError("unpickling started")

    monkeypatch.setattr(persistence, "_unpickle", guard)
    return calls


def test_round_trip_predicts_identically(pickle_model_dir, pickle_copy) -> None:
    a, b = load_model(pickle_model_dir), load_model(pickle_copy)
    texts = ["cnc lathe", "potato chips", "stm32f407", "germanium lens"]
    assert (a.predict_proba(texts) == b.predict_proba(texts)).all()
    assert a.sha256 == read_manifest(pickle_model_dir).model_sha256


def test_changed_byte_refused_before_unpickling(pickle_copy, no_unpickling) -> None:
    path = pickle_copy / "model.pkl"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256 .* does not match the manifest"):
        load_model(pickle_copy)
    assert no_unpickling == []


def test_truncated_file_refused(pickle_copy, no_unpickling) -> None:
    path = pickle_copy / "model.pkl"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelIntegrityError, match="size .* does not match"):
        load_model(pickle_copy)
    assert no_unpickling == []


def test_swapped_manifest_refused(pickle_copy, no_unpickling) -> None:
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    manifest["model_sha256"] = "ab" * 32
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="does not match the manifest"):
        load_model(pickle_copy)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda m: m.update(format_version=99), "format_version 99 is not the supported 1", id="format-version"),
        pytest.param(lambda m: m.pop("model_sha256"), "field model_sha256: Field required", id="missing-field"),
        pytest.param(lambda m: m.update(classes=["a", "b"]), "classes", id="wrong-classes"),
    ],
)
def test_manifest_mismatch_refused(pickle_copy, no_unpickling, edit, message) -> None:
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    edit(manifest)
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match=message):
        load_model(pickle_copy)
    assert no_unpickling == []


def test_other_sklearn_version_refused_with_rebuild_hint(pickle_copy, no_unpickling) -> None:
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    manifest["sklearn_version"] = "0.24.2"
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelCompatibilityError, match=r"built with scikit-learn 0\.24\.2.*dualuse train"):
        load_model(pickle_copy)
    assert no_unpickling == []


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_code_running_pickle_refused_even_with_matching_manifest(pickle_copy) -> None:
    payload = pickle.dumps(_Evil(), protocol=5)
    (pickle_copy / "model.pkl").write_bytes(payload)
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    import hashlib

    manifest["model_sha256"] = hashlib.sha256(payload).hexdigest()
    manifest["model_size"] = len(payload)
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match=r"references (posix|os|nt)\.system, which is not on the allow-list"):
        load_model(pickle_copy)


def test_missing_directory(tmp_path) -> None:
    with pytest.raises(ModelIntegrityError, match="cannot read it"):
        load_model(tmp_path / "absent")


def test_model_file_name_cannot_escape_directory(pickle_copy, no_unpickling) -> None:
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    manifest["model_file"] = "../model.pkl"
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="plain file name"):
        load_model(pickle_copy)
