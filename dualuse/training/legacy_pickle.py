"""Format-1 (pickle) model directories: read them safely and convert them to format 2.

The library screens with format-2 models (:mod:`dualuse.persistence`: arrays and JSON, no
pickle). Models written by dualuse 0.1 are a ``model.pkl`` and a ``manifest.json``; this
module reads them only to convert them (``dualuse model convert OLD_DIR NEW_DIR``), and it
needs scikit-learn. Loading:

1. reads the manifest (size-limited JSON, validated by pydantic) and checks its format version;
2. checks the model file's size and sha256 against the manifest;
3. checks that the installed scikit-learn has the manifest's major.minor version (a pickle
   from another version may load and still predict differently, so it is refused with the
   rebuild command rather than trusted);
4. only then unpickles, with an unpickler that resolves nothing outside an allow-list of
   scikit-learn, NumPy, SciPy and dualuse classes, so even a file whose manifest was forged
   to match cannot import ``os`` or call ``eval``.

There is no switch to skip any of these steps.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import platform
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._version import __version__
from ..categories import CATEGORIES
from ..errors import ModelCompatibilityError, ModelIntegrityError
from ..fusion import FusionConfig
from ..model import FittedModel
from ..persistence import save_model as save_portable_model

__all__ = ["FORMAT_VERSION", "ModelManifest", "save_pickle_model", "load_pickle_model", "read_manifest", "convert"]

FORMAT_VERSION = 1
MODEL_FILE = "model.pkl"
MANIFEST_FILE = "manifest.json"
MAX_MANIFEST_BYTES = 1_000_000
REBUILD_HINT = "rebuild it with `dualuse train --out DIR` (see README, 'Rebuilding the model')"


class ModelManifest(BaseModel):
    """What a model file must be, written beside it at training time."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    format_version: int
    model_id: str
    created_by: str = Field(description="dualuse version that trained the model")
    sklearn_version: str
    python_version: str
    numpy_version: str
    classes: list[str]
    model_file: str
    model_size: int
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    corpus_sha256: str
    taxonomy_sha256: str
    taxonomy_version: str
    fusion: dict[str, float]
    training: dict[str, Any] = {}
    metrics: dict[str, Any] = {}


def sha256_file(path: Path) -> str:
    """Streamed sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- saving


def save_pickle_model(
    model: Any,
    directory: str | Path,
    *,
    model_id: str,
    fusion: FusionConfig,
    corpus_sha256: str,
    taxonomy_sha256: str,
    taxonomy_version: str,
    training: dict | None = None,
    metrics: dict | None = None,
) -> ModelManifest:
    """Pickle ``model`` (a fitted TextClassifier) into a format-1 ``directory`` with its manifest.

    Only to produce format-1 directories for the converter's tests; models are saved in
    format 2 by :func:`dualuse.persistence.save_model`."""
    import numpy
    import sklearn

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(model, protocol=5)
    (out / MODEL_FILE).write_bytes(payload)
    manifest = ModelManifest(
        format_version=FORMAT_VERSION,
        model_id=model_id,
        created_by=__version__,
        sklearn_version=sklearn.__version__,
        python_version=platform.python_version(),
        numpy_version=numpy.__version__,
        classes=list(CATEGORIES),
        model_file=MODEL_FILE,
        model_size=len(payload),
        model_sha256=hashlib.sha256(payload).hexdigest(),
        corpus_sha256=corpus_sha256,
        taxonomy_sha256=taxonomy_sha256,
        taxonomy_version=taxonomy_version,
        # format 1 knew only the numeric fields (familiar scripts came with format 2)
        fusion={k: float(v) for k, v in fusion.__dict__.items() if k not in ("familiar_scripts", "unfamiliar_weight")},
        training=training or {},
        metrics=metrics or {},
    )
    (out / MANIFEST_FILE).write_text(json.dumps(manifest.model_dump(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


# --------------------------------------------------------------------------- loading


def read_manifest(directory: str | Path) -> ModelManifest:
    """Read and validate a model directory's manifest (nothing is unpickled)."""
    path = Path(directory) / MANIFEST_FILE
    try:  # bounded read: the limit holds on the bytes read
        with open(path, "rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ModelIntegrityError(f"model manifest {path}: cannot read it ({exc.strerror or exc}); {REBUILD_HINT}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ModelIntegrityError(f"model manifest {path}: size exceeds the {MAX_MANIFEST_BYTES}-byte limit")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelIntegrityError(f"model manifest {path}: not valid UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise ModelIntegrityError(f"model manifest {path}: expected a JSON object, got {type(raw).__name__}")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ModelIntegrityError(
            f"model manifest {path}: format_version {raw.get('format_version')!r} is not the supported {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    try:
        return ModelManifest.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ModelIntegrityError(f"model manifest {path}: field {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _verify_file(directory: Path, manifest: ModelManifest) -> bytes:
    if Path(manifest.model_file).name != manifest.model_file:
        raise ModelIntegrityError(f"model manifest: model_file {manifest.model_file!r} must be a plain file name")
    path = directory / manifest.model_file
    try:  # never read more than the manifest promises (plus one byte to detect growth)
        with open(path, "rb") as fh:
            payload = fh.read(manifest.model_size + 1)
    except OSError as exc:
        raise ModelIntegrityError(f"model file {path}: cannot read it ({exc.strerror}); {REBUILD_HINT}") from None
    if len(payload) != manifest.model_size:
        raise ModelIntegrityError(
            f"model file {path}: size {len(payload)} bytes does not match the manifest's {manifest.model_size}; "
            "the file is truncated or replaced and was not loaded"
        )
    digest = hashlib.sha256(payload).hexdigest()
    if digest != manifest.model_sha256:
        raise ModelIntegrityError(
            f"model file {path}: sha256 {digest} does not match the manifest's {manifest.model_sha256}; "
            "the file was modified and was not loaded"
        )
    return payload


def _check_versions(manifest: ModelManifest) -> None:
    import sklearn

    built = manifest.sklearn_version.split(".")[:2]
    have = sklearn.__version__.split(".")[:2]
    if built != have:
        raise ModelCompatibilityError(
            f"model {manifest.model_id}: built with scikit-learn {manifest.sklearn_version}, but "
            f"{sklearn.__version__} is installed; a pickled model may predict differently across versions, "
            f"so it is not loaded: install scikit-learn=={manifest.sklearn_version} or {REBUILD_HINT}"
        )
    if manifest.classes != list(CATEGORIES):
        raise ModelIntegrityError(f"model {manifest.model_id}: classes {manifest.classes} are not {list(CATEGORIES)}")


# Exactly the globals a dualuse model pickle may reference (like skops' audit). Anything
# else (os.system, builtins.eval, subprocess, any other class) is refused by name before it
# is imported or called, even when the manifest was forged to match the file.
_NUMPY_CORE = ("numpy._core.multiarray", "numpy.core.multiarray")
_ALLOWED_GLOBALS = {
    ("dualuse.model", "TextClassifier"),  # where the shipped model file records the class; resolved below
    ("dualuse.training.estimator", "TextClassifier"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    *((m, "_reconstruct") for m in _NUMPY_CORE),
    *((m, "scalar") for m in _NUMPY_CORE),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("sklearn.feature_extraction.text", "TfidfVectorizer"),
    ("sklearn.feature_extraction.text", "TfidfTransformer"),
    ("sklearn.linear_model._logistic", "LogisticRegression"),
    # scikit-learn < 1.5 keeps the idf weights of a TfidfTransformer as a sparse diagonal matrix
    ("scipy.sparse._csr", "csr_matrix"),
    ("scipy.sparse._dia", "dia_matrix"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}
_NUMPY_SCALAR_TYPES = {
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool_",
    "object_",
    "str_",
    "bytes_",
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = (module, name) in _ALLOWED_GLOBALS or (module == "numpy" and name in _NUMPY_SCALAR_TYPES)
        if not allowed:
            raise ModelIntegrityError(f"model pickle references {module}.{name}, which is not on the allow-list; refused")
        if (module, name) == ("dualuse.model", "TextClassifier"):
            from .estimator import TextClassifier

            return TextClassifier
        return super().find_class(module, name)


def _unpickle(payload: bytes) -> Any:
    return _RestrictedUnpickler(io.BytesIO(payload)).load()


def load_pickle_model(directory: str | Path) -> FittedModel:
    """Load a format-1 directory after verifying manifest, file hash and versions, in that order."""
    from .estimator import TextClassifier

    directory = Path(directory)
    manifest = read_manifest(directory)
    payload = _verify_file(directory, manifest)
    _check_versions(manifest)
    classifier = _unpickle(payload)
    if not isinstance(classifier, TextClassifier):
        raise ModelIntegrityError(
            f"model file in {directory}: expected a dualuse TextClassifier, got {type(classifier).__name__}"
        )
    fusion_fields: dict[str, Any] = {k: v for k, v in manifest.fusion.items() if k in FusionConfig.__dataclass_fields__}
    if "max_chars" in fusion_fields:
        fusion_fields["max_chars"] = int(fusion_fields["max_chars"])
    return FittedModel(classifier, FusionConfig(**fusion_fields), manifest.model_id, manifest.model_sha256)


# --------------------------------------------------------------------------- conversion


def convert(source: str | Path, destination: str | Path) -> str:
    """Convert a format-1 (pickle) model directory into a format-2 one; returns the model sha256.

    The pickle is read by :func:`load_pickle_model`, which verifies its manifest and
    unpickles through the allow-list.
    """
    old = load_pickle_model(source)
    from .estimator import TextClassifier

    classifier = old.scorer
    assert isinstance(classifier, TextClassifier)  # load_pickle_model refuses anything else
    manifest = read_manifest(source)
    return save_portable_model(
        classifier.to_linear_model(),
        destination,
        model_id=manifest.model_id,
        fusion=old.fusion,
        corpus_sha256=manifest.corpus_sha256,
        taxonomy_sha256=manifest.taxonomy_sha256,
        taxonomy_version=manifest.taxonomy_version,
        seed=int(manifest.training.get("seed", classifier.random_state)),
        training=manifest.training,
        metrics=manifest.metrics,
        converted_from={"format_version": 1, "model_sha256": manifest.model_sha256, "sklearn_version": manifest.sklearn_version},
    )
