"""HS-6 suggestions: which HS 2022 six-digit codes a description reads like.

Most invoice lines carry no HS code, or a wrong one, and the Common High Priority Items List
is defined by HS-6 codes: a reviewer starts from a likely code. The index ranks every HS 2022
subheading against a text in the text model's own TF-IDF space (the features the engine has
already computed for the chunk, so a suggestion costs one sparse product, no second
featurisation):

* each HS-6 code has up to four *prototypes*, one per language of the nomenclature lines
  that describe it (English: HS 2022, EU CN, the CN tree and Taiwan's English tariff; German
  CN; Russian TN VED; Chinese Taiwan tariff): the sum of the lines' feature vectors, cut to
  its strongest ``max_terms`` features and l2-normalised. A code's score is the cosine of
  the text with its nearest prototype, so an English line is compared with English
  nomenclature only, whatever the number of Chinese lines of that code;
* the top ``k`` codes come back, best first, with their score, the HS 2022 heading text, the
  family (LABELS.md, through :func:`dualuse.hs.hs_family` read with the description) and the
  CHPL tier.

The index is plain data (format 1) in a directory, ``dualuse/data/hs_index/`` for the packaged
one, built by ``dualuse hs-index build`` (:mod:`dualuse.training.hs_index_build`):

``arrays.npz``
    uncompressed ``.npy`` members read with ``allow_pickle=False``: ``indptr`` (int64) ,
    ``indices`` (int32) and ``data`` (float16) of the prototype matrix in CSR form, and
    ``prototype_code`` (int32, the code index of each prototype; prototypes of a code are
    consecutive).
``index.json``
    the codes, their heading texts, the feature count and the sha256 of the model whose
    feature space the prototypes live in.
``manifest.json``
    format version and the sha256 and size of the two other files. The index sha256 reported
    in provenance is the sha256 of the manifest's bytes.

Loading verifies before it reads (regular files, sizes, hashes, dtypes, shapes, index ranges)
and raises :class:`~dualuse.errors.ModelIntegrityError`; an index built for another model is
refused with :class:`~dualuse.errors.ModelCompatibilityError`. The arrays are read on first
use, so an engine that is never asked for suggestions never pays for them.

A suggestion is a starting point for a reviewer, never a classification.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from .categories import CATEGORY_INDEX
from .errors import ModelCompatibilityError, ModelIntegrityError
from .hs import chpl_tier, hs_family
from .untrusted import read_regular_file, strict_json

__all__ = [
    "FORMAT_VERSION",
    "HSIndex",
    "Suggestion",
    "TOP_K",
    "packaged_index_dir",
]

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
INDEX_FILE = "index.json"
ARRAYS_FILE = "arrays.npz"
DATA_FILES = (ARRAYS_FILE, INDEX_FILE)
SIZE_LIMITS = {MANIFEST_FILE: 100_000, INDEX_FILE: 20_000_000, ARRAYS_FILE: 1 << 28}
ARRAY_DTYPES: dict[str, np.dtype] = {
    "indptr": np.dtype("<i8"),
    "indices": np.dtype("<i4"),
    "data": np.dtype("<f2"),
    "prototype_code": np.dtype("<i4"),
}
#: Suggestions per text.
TOP_K = 3
# Rows scored against the prototypes at once: bounds the dense score block (rows x prototypes).
_BLOCK = 256


@dataclass(frozen=True)
class Suggestion:
    """One suggested HS 2022 six-digit code (see :class:`dualuse.results.HSSuggestion`)."""

    code: str
    score: float
    heading: str
    family: str
    chpl_tier: str | None


def packaged_index_dir() -> Path:
    """The directory of the index shipped inside the package."""
    return Path(str(resources.files("dualuse").joinpath("data", "hs_index")))


def _read_verified(directory: Path) -> tuple[dict[str, Any], dict[str, bytes], str]:
    manifest_path = directory / MANIFEST_FILE
    manifest_bytes = read_regular_file(manifest_path, SIZE_LIMITS[MANIFEST_FILE])
    manifest = strict_json(manifest_bytes, str(manifest_path))
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        got = manifest.get("format_version") if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelIntegrityError(f"{manifest_path}: expected format_version {FORMAT_VERSION}, got {got!r}")
    files = manifest.get("files")
    if not isinstance(files, dict) or sorted(files) != sorted(DATA_FILES):
        raise ModelIntegrityError(f"{manifest_path}: expected files {sorted(DATA_FILES)}")
    extra = sorted(set(os.listdir(directory)) - {*DATA_FILES, MANIFEST_FILE})
    if extra:
        raise ModelIntegrityError(f"{directory}: unexpected files {extra[:5]} beside the index; refused")
    contents: dict[str, bytes] = {}
    for name in DATA_FILES:
        entry = files[name]
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int) or not isinstance(entry.get("sha256"), str):
            raise ModelIntegrityError(f"{manifest_path}: files.{name}: expected size (int) and sha256 (str)")
        path = directory / name
        data = read_regular_file(path, min(entry["size"], SIZE_LIMITS[name]))
        if len(data) != entry["size"]:
            raise ModelIntegrityError(f"{path}: {len(data)} bytes, the manifest says {entry['size']}; refused")
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise ModelIntegrityError(f"{path}: sha256 {digest} does not match the manifest's {entry['sha256']}; refused")
        contents[name] = data
    return manifest, contents, hashlib.sha256(manifest_bytes).hexdigest()


def _check_index_json(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ModelIntegrityError(f"{where}: expected a JSON object")
    codes, headings = raw.get("codes"), raw.get("headings")
    if not isinstance(codes, list) or not all(isinstance(c, str) and len(c) == 6 and c.isdigit() for c in codes):
        raise ModelIntegrityError(f"{where}: codes: expected a list of six-digit strings")
    if len(set(codes)) != len(codes) or codes != sorted(codes):
        raise ModelIntegrityError(f"{where}: codes: expected distinct codes in ascending order")
    if not isinstance(headings, list) or len(headings) != len(codes) or not all(isinstance(h, str) for h in headings):
        raise ModelIntegrityError(f"{where}: headings: expected one str per code")
    for key in ("model_sha256", "n_features"):
        if key not in raw:
            raise ModelIntegrityError(f"{where}: missing {key}")
    if not isinstance(raw["n_features"], int) or raw["n_features"] <= 0:
        raise ModelIntegrityError(f"{where}: n_features: expected a positive int")
    return raw


def _read_arrays(data: bytes, n_codes: int, n_features: int, where: str) -> dict[str, np.ndarray]:
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelIntegrityError(f"{where}: not a valid npz archive ({exc})") from None
    if sorted(m.filename for m in members) != sorted(f"{k}.npy" for k in ARRAY_DTYPES):
        raise ModelIntegrityError(f"{where}: expected arrays {sorted(ARRAY_DTYPES)}")
    if any(m.compress_type != zipfile.ZIP_STORED or m.file_size != m.compress_size for m in members):
        raise ModelIntegrityError(f"{where}: compressed member; only stored members are read")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in ARRAY_DTYPES}
    except (ValueError, OSError, EOFError) as exc:
        raise ModelIntegrityError(f"{where}: unreadable array ({exc})") from None
    for name, dtype in ARRAY_DTYPES.items():
        if arrays[name].dtype != dtype or arrays[name].ndim != 1:
            raise ModelIntegrityError(f"{where}: array {name}: expected a 1-D {dtype.str} array")
    indptr, indices, values, proto = arrays["indptr"], arrays["indices"], arrays["data"], arrays["prototype_code"]
    if len(indptr) != len(proto) + 1 or indptr[0] != 0 or indptr[-1] != len(indices) or len(values) != len(indices):
        raise ModelIntegrityError(f"{where}: indptr/indices/data/prototype_code: inconsistent lengths")
    if np.any(np.diff(indptr) < 0) or (len(indices) and (indices.min() < 0 or indices.max() >= n_features)):
        raise ModelIntegrityError(f"{where}: indptr or indices out of range")
    if len(proto) and (proto.min() < 0 or proto.max() >= n_codes or np.any(np.diff(proto) < 0)):
        raise ModelIntegrityError(f"{where}: prototype_code: expected sorted code indices below {n_codes}")
    return arrays


class HSIndex:
    """The HS-6 suggestion index of one model's feature space, loaded on first use.

    ``HSIndex(directory)`` only records the directory; :meth:`load` (called by the first
    :meth:`suggest`) verifies and reads it. ``model_sha256`` / ``sha256`` need the manifest,
    so asking for them loads the index too.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else packaged_index_dir()
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] | None = None

    def __getstate__(self) -> dict:
        return {"directory": self.directory}  # workers load their own copy, verified

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["directory"])  # type: ignore[misc]

    def load(self) -> HSIndex:
        """Verify and read the index (once); returns ``self``."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self

    def _load(self) -> dict[str, Any]:
        manifest, contents, sha = _read_verified(self.directory)
        where = str(self.directory / INDEX_FILE)
        spec = _check_index_json(strict_json(contents[INDEX_FILE], where), where)
        codes: list[str] = spec["codes"]
        arrays = _read_arrays(contents[ARRAYS_FILE], len(codes), spec["n_features"], str(self.directory / ARRAYS_FILE))
        matrix = sparse.csr_matrix(
            (arrays["data"].astype(np.float32), arrays["indices"], arrays["indptr"]),
            shape=(len(arrays["prototype_code"]), spec["n_features"]),
        )
        proto = arrays["prototype_code"]
        # each code's first prototype: the segments np.maximum.reduceat takes the best of
        starts = np.flatnonzero(np.r_[True, proto[1:] != proto[:-1]]) if len(proto) else np.zeros(0, dtype=np.int64)
        return {
            "sha256": sha,
            "manifest": manifest,
            "codes": codes,
            "headings": spec["headings"],
            "model_sha256": spec["model_sha256"],
            # features x prototypes: a text's nonzero features pick rows of it
            "matrix_t": matrix.T.tocsr(),
            "starts": starts,
            "segment_code": np.asarray(proto[starts], dtype=np.int64),
        }

    @property
    def sha256(self) -> str:
        """The index sha256 (of its manifest, which names the hash of every other file)."""
        return str(self.load()._loaded["sha256"])  # type: ignore[index]

    @property
    def model_sha256(self) -> str:
        """The sha256 of the model whose feature space the index was built in."""
        return str(self.load()._loaded["model_sha256"])  # type: ignore[index]

    def check_model(self, model_sha256: str | None) -> None:
        """Refuse a model other than the one the index was built for (its features would not line up)."""
        if model_sha256 != self.model_sha256:
            raise ModelCompatibilityError(
                f"hs_index: built for model sha256 {self.model_sha256}, the engine's model is {model_sha256}; "
                "rebuild it with `dualuse hs-index build --model DIR` or pass hs_index=None"
            )

    def code_families(self) -> np.ndarray:
        """Per code, the index in :data:`~dualuse.categories.CATEGORIES` of its family (no national-line text)."""
        state = self.load()._loaded
        assert state is not None
        if "families" not in state:
            state["families"] = np.array([CATEGORY_INDEX[hs_family(c)] for c in state["codes"]], dtype=np.int64)
        return state["families"]

    def codes_under(self, prefixes: tuple[str, ...]) -> np.ndarray:
        """Indices of the codes that start with one of ``prefixes``."""
        codes = self.load()._loaded["codes"]  # type: ignore[index]
        return np.array([i for i, c in enumerate(codes) if c.startswith(prefixes)], dtype=np.int64)

    def suggest(
        self,
        features: Any,
        descriptions: list[str],
        k: int = TOP_K,
        *,
        family_probs: np.ndarray | None = None,
        preferred: list[np.ndarray] | None = None,
        family_weight: float = 0.0,
        preferred_weight: float = 0.0,
    ) -> list[tuple[Suggestion, ...]]:
        """The top ``k`` codes of each row of ``features`` (a CSR matrix of the model's features).

        A code's score is the cosine of the row with the code's nearest prototype, plus
        ``family_weight`` times the probability ``family_probs`` (rows x CATEGORIES) gives the
        code's family, plus ``preferred_weight`` when the code is among the row's ``preferred``
        code indices (the HS prefixes of the taxonomy subcategories the text matched).
        ``descriptions`` (the folded texts, one per row) decide the national-line families
        (853710 "numerical control", 852589 thermal/infrared) as for a given code. A row
        without features gets no suggestion.
        """
        state = self.load()._loaded
        assert state is not None
        X = sparse.csr_matrix(features)
        n = X.shape[0]
        out: list[tuple[Suggestion, ...]] = [()] * n
        if n == 0 or len(state["starts"]) == 0:
            return out
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        codes, headings, seg_code = state["codes"], state["headings"], state["segment_code"]
        k = min(k, len(seg_code))
        for lo in range(0, n, _BLOCK):
            hi = min(n, lo + _BLOCK)
            block = (X[lo:hi] @ state["matrix_t"]).toarray()
            best = np.maximum.reduceat(block, state["starts"], axis=1) if block.shape[1] else block
            best /= np.where(norms[lo:hi] > 0, norms[lo:hi], 1.0)[:, None]
            if family_probs is not None and family_weight:
                # only the codes that have a prototype (a column of best)
                best += family_weight * family_probs[lo:hi][:, self.code_families()[seg_code]]
            if preferred is not None and preferred_weight:
                for r in range(hi - lo):
                    wanted = preferred[lo + r]
                    if len(wanted):
                        best[r, np.searchsorted(seg_code, wanted)] += preferred_weight
            top = np.argpartition(-best, k - 1, axis=1)[:, :k]
            for r in range(hi - lo):
                i = lo + r
                if norms[i] == 0.0:
                    continue
                order = top[r][np.argsort(-best[r, top[r]], kind="stable")]
                row = []
                for j in order:
                    score = float(best[r, j])
                    if score <= 0.0:
                        break
                    code = codes[seg_code[j]]
                    row.append(
                        Suggestion(
                            code=code,
                            score=round(score, 4),
                            heading=headings[seg_code[j]],
                            family=hs_family(code, descriptions[i]),
                            chpl_tier=chpl_tier(code),
                        )
                    )
                out[i] = tuple(row)
        return out
