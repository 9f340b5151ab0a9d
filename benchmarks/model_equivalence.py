"""The format-2 model (plain arrays) must predict what the format-1 pickle predicts.

Loads the shipped pickle through the guarded loader (``dualuse.training.legacy_pickle``,
needs scikit-learn) and the converted arrays (``dualuse.persistence.load_model``, numpy and
scipy only), folds every text of the corpus, evaluation, dev, blind and sample files as the
engine does (``normalize(text).text``) and compares, row by row:

- probabilities: the new scorer in chunks and one text at a time, against the pickle's
  ``predict_proba`` in chunks; the maximum absolute difference must be <= 1e-9;
- top features: ``LinearTextModel.top_features`` (from the chunk's own feature matrix)
  against ``TextClassifier.explain`` (which featurises again), for the most probable
  category of every row and a second category cycling through all four; lists must be
  identical (names, contributions and order).

Run from the repository root: ``python benchmarks/model_equivalence.py --old OLD_DIR --new NEW_DIR`` (about 3 minutes
on two cores). Exits 1 if anything differs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's dualuse, not an installed one

from dualuse.categories import CATEGORIES
from dualuse.normalize import normalize
from dualuse.persistence import load_model as load_portable
from dualuse.training.legacy_pickle import load_pickle_model as load_pickle

TOLERANCE = 1e-9
CHUNK = 2000


def _files() -> list[tuple[Path, str]]:
    data = ROOT / "data"
    out = [(data / "corpus" / "nomenclature.csv", "text")]
    out += [(p, "text") for p in sorted((data / "eval").glob("*.csv"))]
    out += [(p, "text") for p in sorted((data / "dev").glob("*.tsv"))]
    out += [(p, "text") for p in sorted((data / "blind").glob("*.tsv"))]
    out.append((data / "sample" / "trade_records.csv", "description"))
    return out


def _texts(path: Path, column: str) -> list[str]:
    frame = pd.read_csv(
        path,
        sep="\t" if path.suffix == ".tsv" else ",",
        dtype=str,
        keep_default_na=False,
        quoting=3 if path.suffix == ".tsv" else 0,
    )
    return [normalize(t).text for t in frame[column]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--old",
        required=True,
        help="a format-1 (pickle) model directory, e.g. the 0.1.0 model: "
        "git show da5586a:dualuse/data/model/model.pkl > OLD/model.pkl (and manifest.json)",
    )
    parser.add_argument("--new", default=str(ROOT / "dualuse" / "data" / "model"), help="format-2 model directory")
    args = parser.parse_args()
    old = load_pickle(args.old)
    new = load_portable(args.new)
    scorer = new.scorer
    print(f"old: {old.model_id} sha256 {old.sha256[:12]} (pickle)")
    print(f"new: {new.model_id} model sha256 {new.sha256[:12]} (arrays)")
    if new.fusion != old.fusion:
        print(f"FAIL fusion parameters differ: {new.fusion} vs {old.fusion}")
        return 1
    total_rows = 0
    worst_batch = worst_single = 0.0
    explained = explain_diffs = 0
    started = time.perf_counter()
    for path, column in _files():
        texts = _texts(path, column)
        file_batch = file_single = 0.0
        file_diffs = 0
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            p_old = old.predict_proba(chunk).astype(np.float64)
            X = scorer.features(chunk)
            p_new = scorer.predict_proba_features(X).astype(np.float64)
            file_batch = max(file_batch, float(np.abs(p_old - p_new).max()))
            for i, text in enumerate(chunk):
                p_one = scorer.predict_proba([text])[0].astype(np.float64)
                file_single = max(file_single, float(np.abs(p_old[i] - p_one).max()))
            # the most probable category of each row, and a second one cycling through all four
            for categories in (
                [CATEGORIES[int(k)] for k in p_old.argmax(axis=1)],
                [CATEGORIES[(start + i) % len(CATEGORIES)] for i in range(len(chunk))],
            ):
                got = scorer.top_features(X, categories)
                for text, category, features in zip(chunk, categories, got):
                    explained += 1
                    if features != old.explain(text, category):
                        file_diffs += 1
        total_rows += len(texts)
        explain_diffs += file_diffs
        worst_batch, worst_single = max(worst_batch, file_batch), max(worst_single, file_single)
        print(
            f"{path.relative_to(ROOT)}: {len(texts)} rows, max |p_old - p_new| chunked {file_batch:.3g}, "
            f"one at a time {file_single:.3g}, top-feature differences {file_diffs}"
        )
    ok = worst_batch <= TOLERANCE and worst_single <= TOLERANCE and explain_diffs == 0
    print(
        f"all: {total_rows} rows, max |p_old - p_new| {max(worst_batch, worst_single):.3g} "
        f"(chunked {worst_batch:.3g}, one at a time {worst_single:.3g}; tolerance {TOLERANCE:g}); "
        f"top features compared {explained}, differing {explain_diffs}; {time.perf_counter() - started:.0f} s"
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
