"""Build the HS-6 suggestion index (:mod:`dualuse.hs_index`) from the training nomenclature.

``dualuse hs-index build [--data data] [--raw data/raw] [--model DIR] [--out DIR]`` reads

* ``corpus/nomenclature.csv`` (the seven training sources: HS 2022, EU CN 2023 English and
  German, the EU CN 2025 tree, the EAEU TN VED 2022 and 2017, the Taiwan tariff in Chinese);
* the official English twin of the Taiwan tariff (``raw/tw-customs-tariff-2020-zh/
  tw_tariff10_en.csv``), which the corpus reads for labels only;

and attaches every line with at least six digits to its HS 2022 subheading: HS 2017 codes go
through the bridge of :mod:`dualuse.hs` (8541.50 -> 8541.59; 8541.40, which cannot be placed
without the text, is left out), and a six-digit code that is not an HS 2022 subheading (one
that HS 2022 deleted or renumbered) is left out rather than guessed. Evaluation-only data is
never read.

Each line is featurised by the given model (the packaged one by default) exactly as the
engine featurises a text; per code and language the line vectors are summed, cut to their
``max_terms`` strongest features, l2-normalised and stored as float16. The output is a pure
function of the inputs: the same corpus and model give the same bytes and the same sha256.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from .._version import __version__
from ..hs import parse_hs_code
from ..hs_index import ARRAY_DTYPES, ARRAYS_FILE, FORMAT_VERSION, INDEX_FILE, MANIFEST_FILE, HSIndex
from ..model import FittedModel
from ..normalize import fold

__all__ = ["LANGUAGE_OF_SOURCE", "MAX_TERMS", "nomenclature_lines", "build_index"]

#: The language group of each source: a code gets one prototype per group it has lines in.
LANGUAGE_OF_SOURCE = {
    "hs2022-6digit-datasets": "en",
    "eu-cn8-selfexplanatory-2023-en": "en",
    "eu-cn-2025-en": "en",
    "tw-customs-tariff-2020-en": "en",
    "eu-cn8-2023-de": "de",
    "eaeu-tnved-hs6-2022-ru": "ru",
    "eaeu-tnved10-2017-ru": "ru",
    "tw-customs-tariff-2020-zh": "zh",
}
_LANGUAGES = ("en", "de", "ru", "zh")
#: Features kept per prototype: enough for the distinctive words and n-grams of a code, and
#: the size of the index stays a few MB.
MAX_TERMS = 64
#: A feature kept by more prototypes than this is dropped from them (as for the lines).
MAX_PROTOTYPE_DF = 200
#: Features kept per nomenclature line (a line is shorter than a code's sum of lines).
MAX_LINE_TERMS = 32
#: A feature kept by more lines than this is dropped from the lines (a stop word or n-gram:
#: it cannot tell lines apart, and its long posting list would dominate the scoring time).
MAX_LINE_DF = 30
HS2022_SOURCE = "hs2022-6digit-datasets"
TW_ENGLISH = ("tw-customs-tariff-2020-zh", "tw_tariff10_en.csv")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def nomenclature_lines(data_dir: Path, raw_dir: Path) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """``(text, hs6, language)`` lines in corpus order, and the HS 2022 heading text of each code."""
    corpus = _read_csv(Path(data_dir) / "corpus" / "nomenclature.csv")
    headings = {r["code"]: r["text"] for r in corpus if r["source"] == HS2022_SOURCE and len(r["code"]) == 6}
    if not headings:
        raise ValueError(f"{data_dir}/corpus/nomenclature.csv: no {HS2022_SOURCE} lines; run `dualuse data build` first")
    tw_en = [
        {"text": r["text"], "code": r["code"], "source": "tw-customs-tariff-2020-en"}
        for r in _read_csv(Path(raw_dir) / TW_ENGLISH[0] / TW_ENGLISH[1])
    ]
    lines = []
    for r in [*corpus, *tw_en]:
        if len(r["code"]) < 6 or r["source"] not in LANGUAGE_OF_SOURCE:
            continue
        hs = parse_hs_code(r["code"], param="code")
        if hs.hs6 is None or (hs.bridged_from is not None and hs.hs6 == hs.bridged_from) or hs.hs6 not in headings:
            continue
        lines.append((r["text"], hs.hs6, LANGUAGE_OF_SOURCE[r["source"]]))
    return lines, headings


def _prune(matrix: sparse.csr_matrix, max_terms: int) -> sparse.csr_matrix:
    """Each row cut to its ``max_terms`` largest values (ties by feature index), l2-normalised."""
    indptr = [0]
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for i in range(matrix.shape[0]):
        a, b = matrix.indptr[i], matrix.indptr[i + 1]
        v, ix = matrix.data[a:b], matrix.indices[a:b]
        if len(v) > max_terms:
            keep = np.lexsort((ix, -v))[:max_terms]
            v, ix = v[keep], ix[keep]
        order = np.argsort(ix, kind="stable")
        v, ix = v[order], ix[order]
        norm = float(np.sqrt(np.sum(v.astype(np.float64) ** 2)))
        values.append((v / norm if norm else v).astype(np.float16))
        indices.append(ix.astype(np.int32))
        indptr.append(indptr[-1] + len(v))
    return sparse.csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.asarray(indptr, dtype=np.int64)), shape=matrix.shape
    )


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, dtype in ARRAY_DTYPES.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name], dtype=dtype), version=(1, 0), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def build_index(
    lines: Sequence[tuple[str, str, str]],
    headings: dict[str, str],
    model: FittedModel,
    out_dir: Path,
    *,
    max_terms: int = MAX_TERMS,
    chunk: int = 4096,
) -> str:
    """Write the index of ``lines`` in ``model``'s feature space to ``out_dir``; returns its sha256."""
    codes = sorted({hs6 for _, hs6, _ in lines})
    code_index = {c: i for i, c in enumerate(codes)}
    group = np.array([code_index[h] * len(_LANGUAGES) + _LANGUAGES.index(lang) for _, h, lang in lines], dtype=np.int64)
    n_features = int(model.features(["x"]).shape[1])
    total = sparse.csr_matrix((len(codes) * len(_LANGUAGES), n_features), dtype=np.float64)
    line_parts = []
    for lo in range(0, len(lines), chunk):
        part = lines[lo : lo + chunk]
        X = model.features([fold(text) for text, _, _ in part]).tocsr().astype(np.float64)
        line_parts.append(_prune(X.tocsr(), MAX_LINE_TERMS).astype(np.float32))
        g = group[lo : lo + chunk]
        assign = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(total.shape[0], len(g)))
        total = total + assign @ X
    total = sparse.csr_matrix(total)
    line_code = np.array([code_index[h] for _, h, _ in lines], dtype=np.int32)
    by_code = np.argsort(line_code, kind="stable")  # a code's lines consecutive, in corpus order
    line_matrix = sparse.vstack(line_parts).tocsr()[by_code]
    line_df = np.bincount(line_matrix.indices, minlength=n_features)
    line_matrix.data[line_df[line_matrix.indices] > MAX_LINE_DF] = 0
    line_matrix.eliminate_zeros()
    present = np.flatnonzero(np.diff(total.indptr) > 0)  # (code, language) pairs with lines
    pruned = _prune(total[present], max_terms).astype(np.float32)
    proto_df = np.bincount(pruned.indices, minlength=n_features)
    pruned.data[proto_df[pruned.indices] > MAX_PROTOTYPE_DF] = 0
    pruned.eliminate_zeros()
    arrays = {
        "indptr": pruned.indptr,
        "indices": pruned.indices,
        "data": pruned.data.astype(np.float16),
        "prototype_code": (present // len(_LANGUAGES)).astype(np.int32),
        "line_indptr": line_matrix.indptr.astype(np.int64),
        "line_indices": line_matrix.indices.astype(np.int32),
        "line_data": line_matrix.data.astype(np.float16),
        "line_code": line_code[by_code],
    }
    files = {
        ARRAYS_FILE: _npz_bytes(arrays),
        INDEX_FILE: _json_bytes(
            {
                "codes": codes,
                "headings": [headings[c] for c in codes],
                "model_sha256": model.sha256,
                "n_features": n_features,
                "languages": list(_LANGUAGES),
                "max_terms": max_terms,
                "lines": len(lines),
            }
        ),
    }
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_by": f"dualuse {__version__}",
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in files.items()},
        "sources": sorted(LANGUAGE_OF_SOURCE),
        "model_sha256": model.sha256,
        "nomenclature_sha256": hashlib.sha256("\n".join(f"{t}\t{h}\t{g}" for t, h, g in lines).encode("utf-8")).hexdigest(),
    }
    manifest_bytes = _json_bytes(manifest)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in [*files, MANIFEST_FILE]:  # manifest last: a partial write never loads
        path = out / name
        path.write_bytes(manifest_bytes if name == MANIFEST_FILE else files[name])
    HSIndex(out).load().check_model(model.sha256)  # what was written loads and fits the model
    return hashlib.sha256(manifest_bytes).hexdigest()
