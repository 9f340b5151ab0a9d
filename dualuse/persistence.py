"""The model as plain data (format 2): arrays, JSON and a manifest, never a pickle.

A model directory holds exactly three regular files:

``arrays.npz``
    An uncompressed zip of ``.npy`` arrays, read with ``np.load(..., allow_pickle=False)``:
    ``word_vocab`` and ``char_vocab`` (uint8: the UTF-8 bytes of the terms joined by
    ``"\\n"``, a term's feature index is its position), ``word_idf`` and ``char_idf``
    (float32), ``coef`` (float32, classes x features, word features first) and
    ``intercept`` (float32).
``model.json``
    What the arrays mean: class order of the coefficient rows, n-gram ranges, feature counts
    and the fixed TF-IDF settings (token pattern, sublinear tf, l2 norm), all checked
    against the only values :class:`~dualuse.linear_model.LinearTextModel` computes.
``manifest.json``
    ``format_version`` 2, model id, the sha256 and size of every other file, taxonomy and
    corpus hashes, seed, the fusion parameters, training parameters, metrics and a
    reproducibility note.

**The model sha256** reported in provenance is the sha256 of ``manifest.json``'s bytes.
The manifest names the hash of every other file, so that one digest covers every byte of
the directory, including the fusion parameters that turn probabilities into decisions:
editing only the manifest (say ``none_bias``) changes the reported hash,
and values out of range are refused outright.

Loading verifies before it reads: the manifest first (bounded read of a regular file,
strict JSON, every field typed and range-checked), then the directory holds exactly the
listed files, then each file's real size (``fstat``, not the manifest's claim) against a
limit and the manifest, then its sha256 over the very bytes that are parsed afterwards (no
second read a swapped file could slip into), then array dtypes and shapes against
``model.json`` and each other. Symlinks, FIFOs and devices are refused, never opened for
reading. Every failure raises :class:`~dualuse.errors.ModelIntegrityError` naming the file.

Format-1 directories (``model.pkl``) are refused with the command that converts them:
``dualuse model convert OLD_DIR NEW_DIR`` (needs scikit-learn, which reads the pickle through
the guarded loader of :mod:`dualuse.training.legacy_pickle`). Models load only from a path
the caller gives, or from the package's own ``dualuse/data/model`` directory
(:func:`packaged_model_dir`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .categories import CATEGORIES
from .errors import ModelIntegrityError
from .fusion import FusionConfig, check_fusion, fusion_json
from .linear_model import MAX_FEATURES, MAX_NGRAM, WORD_TOKEN_PATTERN, LinearTextModel
from .model import FittedModel
from .untrusted import read_listed_files, read_regular_file, strict_json
from .vocabulary import Vocabulary

__all__ = [
    "FORMAT_VERSION",
    "check_fusion",
    "load_model",
    "save_model",
    "packaged_model_dir",
]

FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
DATA_FILES = (ARRAYS_FILE, MODEL_FILE)
# Upper bounds on the real size of each file: generous for the shipped model (~5 MB of
# arrays), small enough that a hostile directory cannot make the loader read gigabytes.
SIZE_LIMITS = {MANIFEST_FILE: 1_000_000, MODEL_FILE: 100_000, ARRAYS_FILE: 1 << 30}
MAX_VOCAB_BYTES = 1 << 28
ARRAY_DTYPES: dict[str, np.dtype] = {
    "word_vocab": np.dtype("<u1"),
    "char_vocab": np.dtype("<u1"),
    "word_idf": np.dtype("<f4"),
    "char_idf": np.dtype("<f4"),
    "coef": np.dtype("<f4"),
    "intercept": np.dtype("<f4"),
}
CONVERT_HINT = (
    "convert it with `dualuse model convert OLD_DIR NEW_DIR` (needs scikit-learn; "
    "reads the pickle with the guarded loader) or rebuild it with `dualuse train --out DIR`"
)
DEFAULT_REPRODUCIBILITY = (
    "The files are a pure function of the model's arrays and parameters: saving or converting the "
    "same model again gives the same bytes and the same model sha256. Retraining on another machine "
    "is not promised to give the same arrays (BLAS and thread settings move the last bits of the fit); "
    "compare a rebuild by its predictions, not its hash."
)
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def packaged_model_dir() -> Path:
    """The directory of the embedded default model inside the installed package."""
    return Path(str(resources.files("dualuse").joinpath("data/model")))


# --------------------------------------------------------------------------- checks


def _check_manifest(raw: object, where: str) -> dict[str, Any]:
    """Type- and range-check a format-2 manifest; returns it unchanged."""
    if not isinstance(raw, dict):
        raise ModelIntegrityError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    version = raw.get("format_version")
    if version == 1 and not isinstance(version, bool):
        raise ModelIntegrityError(f"{where}: format_version 1 is a pickle model, which is no longer loaded; {CONVERT_HINT}")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelIntegrityError(f"{where}: format_version {version!r} is not the supported {FORMAT_VERSION}")
    required: dict[str, type | tuple[type, ...]] = {
        "format_version": int,
        "model_id": str,
        "created_by": str,
        "files": dict,
        "classes": list,
        "fusion": dict,
        "taxonomy_sha256": str,
        "taxonomy_version": str,
        "corpus_sha256": str,
        "seed": int,
        "training": dict,
        "metrics": dict,
        "reproducibility": str,
    }
    optional = {"converted_from": dict}
    unknown = sorted(set(raw) - set(required) - set(optional))
    if unknown:
        raise ModelIntegrityError(f"{where}: unknown fields {unknown}")
    for name in required:
        if name not in raw:
            raise ModelIntegrityError(f"{where}: field {name!r} is missing")
    for name, kind in {**required, **optional}.items():
        if name in raw and (not isinstance(raw[name], kind) or isinstance(raw[name], bool)):
            raise ModelIntegrityError(
                f"{where}: field {name!r}: expected {getattr(kind, '__name__', kind)}, got {raw[name]!r:.60}"
            )
    if not 0 < len(raw["model_id"]) <= 200 or not raw["model_id"].isprintable():
        raise ModelIntegrityError(f"{where}: model_id: expected 1-200 printable characters")
    for name in ("taxonomy_sha256", "corpus_sha256"):
        if not _SHA256.match(raw[name]):
            raise ModelIntegrityError(f"{where}: {name}: expected 64 lowercase hex digits, got {raw[name]!r:.80}")
    if raw["classes"] != list(CATEGORIES):
        raise ModelIntegrityError(f"{where}: classes {raw['classes']!r:.120} are not {list(CATEGORIES)}")
    check_fusion(raw["fusion"], where)
    files = raw["files"]
    for name, entry in files.items():
        # a name is a bare file name: no separators, no "..", nothing hidden
        if not _FILE_NAME.match(name) or ".." in name:
            raise ModelIntegrityError(f"{where}: files: {name!r:.80} is not a plain file name (path traversal refused)")
        if not isinstance(entry, dict) or set(entry) != {"sha256", "size"}:
            raise ModelIntegrityError(f"{where}: files[{name!r}]: expected {{'sha256', 'size'}}, got {entry!r:.80}")
        size, digest = entry["size"], entry["sha256"]
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= SIZE_LIMITS.get(name, 0):
            raise ModelIntegrityError(f"{where}: files[{name!r}].size: {size!r:.40} is not a size within the limit")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise ModelIntegrityError(f"{where}: files[{name!r}].sha256: expected 64 lowercase hex digits")
    if set(files) != set(DATA_FILES):
        raise ModelIntegrityError(f"{where}: files: expected exactly {sorted(DATA_FILES)}, got {sorted(files)}")
    return raw


def _check_model_json(raw: object, where: str) -> dict[str, Any]:
    """The model description, with every fixed setting equal to what the scorer computes."""
    if not isinstance(raw, dict):
        raise ModelIntegrityError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    expected = _model_json([], (1, 1), (1, 1), 0, 0)  # the fixed settings; the variable ones are checked below
    if set(raw) != set(expected):
        raise ModelIntegrityError(f"{where}: expected fields {sorted(expected)}, got {sorted(raw)}")
    classes = raw["classes"]
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes) or sorted(classes) != sorted(CATEGORIES):
        raise ModelIntegrityError(f"{where}: classes: expected a permutation of {list(CATEGORIES)}, got {classes!r:.120}")
    for block in ("word", "char"):
        spec = raw[block]
        if not isinstance(spec, dict) or set(spec) != set(expected[block]):
            raise ModelIntegrityError(f"{where}: {block}: expected fields {sorted(expected[block])}")
        rng = spec["ngram_range"]
        if (
            not isinstance(rng, list)
            or len(rng) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in rng)
            or not 1 <= rng[0] <= rng[1] <= MAX_NGRAM
        ):
            raise ModelIntegrityError(
                f"{where}: {block}.ngram_range: expected [min, max] with 1 <= min <= max <= {MAX_NGRAM}, got {rng!r:.60}"
            )
        count = spec["n_features"]
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_FEATURES:
            raise ModelIntegrityError(f"{where}: {block}.n_features: expected an int in [0, {MAX_FEATURES}], got {count!r:.40}")
        for key, want in expected[block].items():
            if key not in ("ngram_range", "n_features") and spec[key] != want:
                raise ModelIntegrityError(f"{where}: {block}.{key} = {spec[key]!r:.80} is not supported (only {want!r})")
    for key in ("kind", "dtype", "feature_order"):
        if raw[key] != expected[key]:
            raise ModelIntegrityError(f"{where}: {key} = {raw[key]!r:.80} is not supported (only {expected[key]!r})")
    if raw["word"]["n_features"] + raw["char"]["n_features"] > MAX_FEATURES:
        raise ModelIntegrityError(f"{where}: more than {MAX_FEATURES} features in all")
    return raw


def _model_json(
    classes: Sequence[str], word_range: tuple[int, int], char_range: tuple[int, int], n_word: int, n_char: int
) -> dict[str, Any]:
    common = {"lowercase": False, "sublinear_tf": True, "use_idf": True, "norm": "l2"}
    return {
        "kind": "tfidf-word-char_wb-multinomial-logistic-regression",
        "dtype": "float32",
        "feature_order": "word features, then char features; a feature's index is its vocabulary position",
        "classes": list(classes),
        "word": {
            "analyzer": "word",
            "token_pattern": WORD_TOKEN_PATTERN,
            "ngram_joiner": " ",
            "ngram_range": list(word_range),
            "n_features": n_word,
            **common,
        },
        "char": {"analyzer": "char_wb", "ngram_range": list(char_range), "n_features": n_char, **common},
    }


def _read_arrays(data: bytes, spec: dict[str, Any], where: str) -> dict[str, np.ndarray]:
    """Arrays of ``arrays.npz`` (already hash-checked bytes), dtypes and shapes checked."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelIntegrityError(f"{where}: not a valid npz archive ({exc})") from None
    names = [m.filename for m in members]
    if sorted(names) != sorted(f"{k}.npy" for k in ARRAY_DTYPES):
        raise ModelIntegrityError(f"{where}: expected arrays {sorted(ARRAY_DTYPES)}, found members {sorted(names)[:10]}")
    for m in members:  # stored, so no member can expand beyond the file's checked size
        if m.compress_type != zipfile.ZIP_STORED or m.file_size != m.compress_size:
            raise ModelIntegrityError(f"{where}: member {m.filename} is compressed; only stored members are read")
    n_word, n_char = spec["word"]["n_features"], spec["char"]["n_features"]
    n_classes = len(spec["classes"])
    shapes = {
        "word_idf": (n_word,),
        "char_idf": (n_char,),
        "coef": (n_classes, n_word + n_char),
        "intercept": (n_classes,),
    }
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            loaded = {name: npz[name] for name in ARRAY_DTYPES}
    except (ValueError, OSError, EOFError) as exc:  # malformed .npy headers or data
        raise ModelIntegrityError(f"{where}: unreadable array ({exc})") from None
    arrays: dict[str, np.ndarray] = {}
    for name, dtype in ARRAY_DTYPES.items():
        arr = loaded[name]
        if arr.dtype != dtype:
            raise ModelIntegrityError(f"{where}: array {name}: expected dtype {dtype.str}, got {arr.dtype.str}")
        want = shapes.get(name)
        if want is not None and arr.shape != want:
            raise ModelIntegrityError(f"{where}: array {name}: expected shape {want}, got {arr.shape}")
        if want is None and (arr.ndim != 1 or arr.size > MAX_VOCAB_BYTES):
            raise ModelIntegrityError(
                f"{where}: array {name}: expected one dimension of at most {MAX_VOCAB_BYTES} bytes, got shape {arr.shape}"
            )
        arrays[name] = arr.astype(dtype.newbyteorder("="), copy=False)
    return arrays


def _terms(blob: np.ndarray, count: int, name: str, where: str, offset: int) -> Vocabulary:
    """The vocabulary of a ``*_vocab`` array, kept as bytes (see :mod:`dualuse.vocabulary`)."""
    data = blob.tobytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelIntegrityError(f"{where}: array {name}: not UTF-8") from None
    found = data.count(b"\n") + 1 if data else 0
    if found != count:
        raise ModelIntegrityError(f"{where}: array {name}: {found} terms, model.json says {count}")
    return Vocabulary.from_blob(data, count, name, offset)


# --------------------------------------------------------------------------- loading


def load_model(directory: str | Path, *, expected_sha256: str | None = None) -> FittedModel:
    """Verify a format-2 model directory, then build its scorer; nothing is unpickled.

    ``expected_sha256`` pins the model: a directory whose model sha256 (the manifest's
    hash, which covers every file) differs is refused.
    """
    directory = Path(directory)
    try:
        entries = sorted(os.listdir(directory))
    except OSError as exc:
        raise ModelIntegrityError(f"model directory {directory}: cannot list it ({exc.strerror or exc})") from None
    manifest_path = directory / MANIFEST_FILE
    if MANIFEST_FILE not in entries and "model.pkl" in entries:
        raise ModelIntegrityError(
            f"{directory}: holds model.pkl, a format-1 pickle model, which is no longer loaded; {CONVERT_HINT}"
        )
    manifest_bytes = read_regular_file(manifest_path, SIZE_LIMITS[MANIFEST_FILE])
    manifest = _check_manifest(strict_json(manifest_bytes, str(manifest_path)), str(manifest_path))
    model_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    if expected_sha256 is not None and model_sha256 != expected_sha256:
        raise ModelIntegrityError(f"{manifest_path}: model sha256 {model_sha256} is not the expected {expected_sha256}")
    extra = sorted(set(entries) - set(DATA_FILES) - {MANIFEST_FILE})
    if extra:
        raise ModelIntegrityError(f"{directory}: unexpected files {extra[:5]} beside the model; refused")
    contents = read_listed_files(directory, DATA_FILES, manifest["files"], SIZE_LIMITS)
    spec = _check_model_json(strict_json(contents[MODEL_FILE], str(directory / MODEL_FILE)), str(directory / MODEL_FILE))
    where = str(directory / ARRAYS_FILE)
    arrays = _read_arrays(contents[ARRAYS_FILE], spec, where)
    try:
        scorer = LinearTextModel(
            word_terms=_terms(arrays["word_vocab"], spec["word"]["n_features"], "word_vocab", where, 0),
            char_terms=_terms(arrays["char_vocab"], spec["char"]["n_features"], "char_vocab", where, spec["word"]["n_features"]),
            word_idf=arrays["word_idf"],
            char_idf=arrays["char_idf"],
            word_ngram_range=tuple(spec["word"]["ngram_range"]),
            char_ngram_range=tuple(spec["char"]["ngram_range"]),
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            classes=spec["classes"],
        )
    except ValueError as exc:
        raise ModelIntegrityError(f"{where}: {exc}") from None
    fusion = check_fusion(manifest["fusion"], str(manifest_path))
    return FittedModel(scorer, fusion, manifest["model_id"], model_sha256, manifest)


# --------------------------------------------------------------------------- saving


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def _arrays_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An npz archive whose bytes depend on the arrays only (np.savez stamps the clock)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, dtype in ARRAY_DTYPES.items():  # fixed member order
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # the same bytes on every OS
            info.external_attr = 0o644 << 16
            zf.writestr(info, _npy_bytes(np.ascontiguousarray(arrays[name], dtype=dtype)))
    return buf.getvalue()


def _vocab_blob(terms: list[str], name: str) -> np.ndarray:
    bad = next((t for t in terms if "\n" in t), None)
    if bad is not None:
        raise ValueError(f"{name}: term {bad!r} contains a newline, the separator of the stored vocabulary")
    return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def save_model(
    model: LinearTextModel,
    directory: str | Path,
    *,
    model_id: str,
    fusion: FusionConfig,
    corpus_sha256: str,
    taxonomy_sha256: str,
    taxonomy_version: str,
    seed: int,
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    converted_from: dict[str, Any] | None = None,
    reproducibility: str = DEFAULT_REPRODUCIBILITY,
) -> str:
    """Write ``model`` as a format-2 directory (new or empty) and return its model sha256.

    Deterministic: the same model and arguments give the same bytes, hence the same hash.
    The manifest is checked as the loader checks it before anything is written.
    """
    out = Path(directory)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out}: expected a new or empty directory (a model directory holds only its own files)")
    a = model.to_arrays()
    arrays = {
        "word_vocab": _vocab_blob(a["word_terms"], "word_terms"),
        "char_vocab": _vocab_blob(a["char_terms"], "char_terms"),
        "word_idf": a["word_idf"],
        "char_idf": a["char_idf"],
        "coef": a["coef"],
        "intercept": a["intercept"],
    }
    files = {
        ARRAYS_FILE: _arrays_bytes(arrays),
        MODEL_FILE: _json_bytes(
            _model_json(a["classes"], a["word_ngram_range"], a["char_ngram_range"], len(a["word_terms"]), len(a["char_terms"]))
        ),
    }
    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "model_id": model_id,
        "created_by": f"dualuse {__version__}",
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in files.items()},
        "classes": list(CATEGORIES),
        "fusion": fusion_json(fusion),
        "taxonomy_sha256": taxonomy_sha256,
        "taxonomy_version": taxonomy_version,
        "corpus_sha256": corpus_sha256,
        "seed": int(seed),
        "training": training or {},
        "metrics": metrics or {},
        "reproducibility": reproducibility,
    }
    if converted_from is not None:
        manifest["converted_from"] = converted_from
    manifest_bytes = _json_bytes(manifest)
    _check_manifest(strict_json(manifest_bytes, MANIFEST_FILE), MANIFEST_FILE)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in {**files, MANIFEST_FILE: manifest_bytes}.items():  # manifest last: a partial write never loads
        (out / name).write_bytes(data)
    return hashlib.sha256(manifest_bytes).hexdigest()
