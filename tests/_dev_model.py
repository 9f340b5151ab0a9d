"""A small TextClassifier fitted once per test process on ~200 lines of data/dev.

Shared by the tests of the array scorer and the model format: the expectations there are
scikit-learn's own outputs on this fitted pipeline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

DEV = Path(__file__).resolve().parent.parent / "data" / "dev"


@lru_cache(maxsize=1)
def dev_texts_and_labels() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Folded dev lines (every fifth invoice line and trade term, every tenth hard negative)."""
    from dualuse.normalize import normalize

    frames = [
        pd.read_csv(DEV / name, sep="\t", dtype=str, keep_default_na=False, quoting=3).iloc[::step]
        for name, step in (("invoice_lines.tsv", 5), ("trade_terms.tsv", 5), ("hard_negatives.tsv", 10))
    ]
    frame = pd.concat(frames, ignore_index=True)
    return tuple(normalize(t).text for t in frame["text"]), tuple(frame["label"])


@lru_cache(maxsize=1)
def dev_classifier():
    """A fitted TextClassifier (min_df=1, so rare n-grams and exact ties are in the model)."""
    from dualuse.training.estimator import TextClassifier

    texts, labels = dev_texts_and_labels()
    return TextClassifier(min_df=1, random_state=0).fit(list(texts), list(labels))
