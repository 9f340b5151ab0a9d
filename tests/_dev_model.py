"""A small TextClassifier fitted once per test process on ~200 lines of data/dev.

Shared by the tests of the array scorer and the model format: the expectations there are
scikit-learn's own outputs on this fitted pipeline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
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


def fits_in_float32() -> bool:
    """Whether this scikit-learn fits the dev model in float32, as model files store it.

    Then the lean scorer reproduces scikit-learn bit for bit. Older releases (before 1.6 or so)
    fit in float64; the stored float32 arrays then agree to about 1e-6, and these tests check
    that instead.
    """
    clf = dev_classifier()
    return clf.classifier_.coef_.dtype == np.float32 and clf.word_vectorizer_.idf_.dtype == np.float32


def assert_same_values(got, want) -> None:
    """Exactly equal where scikit-learn fits in float32, else equal to 1e-6 (see fits_in_float32)."""
    if fits_in_float32():
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def same_explanations(got, want) -> bool:
    """Top features equal: exactly where scikit-learn fits in float32; else per row the same
    contributions to 1e-5 and the same features above the last place's value (the dev model
    has exact ties there, and float64 rounding decides which of the tied features come first)."""
    if fits_in_float32():
        return got == want

    def above_last(row):
        last = min(c for _, c in row)
        return {n for n, c in row if c > last + 1e-6}

    return len(got) == len(want) and all(
        len(a) == len(b)
        and (not a or above_last(a) == above_last(b))
        and np.allclose(sorted(c for _, c in a), sorted(c for _, c in b), rtol=1e-4, atol=1e-5)
        for a, b in zip(got, want)
    )
