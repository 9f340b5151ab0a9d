"""The array scorer must compute exactly what the fitted scikit-learn pipeline computes.

Expectations are scikit-learn's own outputs on a TextClassifier fitted on dev lines:
``hstack([word.transform, char.transform])`` for the features, ``predict_proba`` for the
probabilities (compared bit for bit, not approximately) and ``TextClassifier.explain`` for
the top features.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from _dev_model import assert_same_values, dev_classifier, dev_texts_and_labels, same_explanations
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from dualuse.categories import CATEGORIES
from dualuse.errors import InputTypeError
from dualuse.linear_model import LinearTextModel
from dualuse.normalize import normalize

ODD_TEXTS = [
    "",
    " ",
    "a",
    "ab",
    "a b c",
    "abc  \t def\n\nghi",
    "\u3000full\u2003width\u00a0spaces\u00a0",
    "x\x1cy\x1dz",
    "数控车床 立式加工中心",
    "станок токарный с чпу 16к20",
    "z" * 300,
    "stm32f407vgt6 xc7z020-1clg400c 3-9x40",
    "cnc cnc cnc lathe lathe",
    "--- - -x- x--",
    "😀 emoji 🔬",
]


@pytest.fixture(scope="session")
def classifier():
    return dev_classifier()


@pytest.fixture(scope="session")
def scorer(classifier):
    return classifier.to_linear_model()


@pytest.fixture(scope="session")
def texts():
    return list(dev_texts_and_labels()[0]) + [normalize(t).text for t in ODD_TEXTS] + ODD_TEXTS


def _sklearn_features(classifier, texts):
    return sparse.hstack([classifier.word_vectorizer_.transform(texts), classifier.char_vectorizer_.transform(texts)]).tocsr()


def _assert_same_matrix(got, want):
    got, want = got.sorted_indices(), want.sorted_indices()  # older scikit-learn leaves rows unsorted
    assert got.shape == want.shape
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    assert_same_values(got.data, want.data)  # exact where scikit-learn fits in float32


def test_features_equal_scikit_learn_for_a_chunk_and_one_text_at_a_time(classifier, scorer, texts):
    want = _sklearn_features(classifier, texts)
    _assert_same_matrix(scorer.features(texts), want)
    for i, text in enumerate(texts):
        _assert_same_matrix(scorer.features([text]), want[i])


def test_probabilities_equal_scikit_learn_bit_for_bit(classifier, scorer, texts):
    want = classifier.predict_proba_features(classifier.features(texts))  # CATEGORIES order
    got = scorer.predict_proba(texts)
    assert got.dtype == np.float32 and got.shape == (len(texts), len(CATEGORIES))
    assert_same_values(got, want)
    # the numpy path for small chunks and the scipy path for large ones agree too
    for size in (1, 3, 8, 9):
        assert_same_values(scorer.predict_proba(texts[:size]), want[:size])
    for i in range(0, len(texts), 7):
        assert_same_values(scorer.predict_proba([texts[i]])[0], want[i])


def test_top_features_equal_explain_for_every_row_and_category(classifier, scorer, texts):
    X = scorer.features(texts)
    for category in CATEGORIES:
        got = scorer.top_features(X, [category] * len(texts))
        want = [classifier.explain(t, category) for t in texts]
        assert same_explanations(got, want)
    assert any(got)  # the comparison is not between empty lists only
    mixed = [CATEGORIES[i % 4] for i in range(len(texts))]
    assert same_explanations(
        scorer.top_features(X, mixed, top_k=3), [classifier.explain(t, c, top_k=3) for t, c in zip(texts, mixed)]
    )


def test_top_features_names_prefix_and_none_rows(scorer):
    X = scorer.features(["cnc lathe stm32f407", "cnc lathe"])
    rows = scorer.top_features(X, ["machine_tools", None])
    assert rows[1] == []
    assert rows[0] and all(name[:2] in ("w:", "c:") for name, _ in rows[0])
    contributions = [c for _, c in rows[0]]
    assert contributions == sorted(contributions, reverse=True) and min(contributions) > 0


def test_empty_input_gives_empty_outputs(scorer):
    X = scorer.features([])
    assert X.shape == (0, scorer.n_features)
    assert scorer.predict_proba([]).shape == (0, len(CATEGORIES))
    assert scorer.top_features(X, []) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("abcnlthe -x07\t\u00e9Жй数 ")), max_size=40), min_size=1, max_size=12))
def test_features_equal_scikit_learn_on_generated_texts(generated):
    classifier = dev_classifier()
    scorer = classifier.to_linear_model()
    _assert_same_matrix(scorer.features(generated), _sklearn_features(classifier, generated))
    assert_same_values(scorer.predict_proba(generated), classifier.predict_proba_features(classifier.features(generated)))


def test_word_cache_is_bounded_in_bytes(classifier):
    limit = 200_000
    scorer = classifier.to_linear_model()
    scorer._cache_limit = limit  # as LinearTextModel(cache_bytes=limit) would set it
    reference = classifier.to_linear_model()
    long_words = [("lathe" + str(i)) * 4000 for i in range(30)]  # ~22,000 characters each
    texts = [w + " cnc" for w in long_words] + [f"part{i} lathe" for i in range(3000)]
    got = scorer.features(texts)
    held = sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in scorer._cache.items())
    assert held <= limit and scorer._cache_used <= limit
    assert scorer._cache  # still caching the short words
    _assert_same_matrix(got, reference.features(texts))


def test_cache_bytes_argument_and_inputs_are_validated(scorer):
    arrays = scorer.to_arrays()
    for key, value in {
        "coef": arrays["coef"].astype(np.float64),
        "intercept": arrays["intercept"][:2],
        "word_idf": np.full_like(arrays["word_idf"], np.nan),
        "classes": ["a", "b", "c", "d"],
        "char_ngram_range": (0, 5),
        "word_terms": arrays["word_terms"][:1] * len(arrays["word_terms"]),
    }.items():
        with pytest.raises(ValueError, match=key.split("_")[0]):
            LinearTextModel(**{**arrays, key: value})
    with pytest.raises(ValueError, match="cache_bytes"):
        LinearTextModel(**arrays, cache_bytes=-1)
    with pytest.raises(InputTypeError, match="single string"):
        scorer.features("cnc lathe")
    with pytest.raises(InputTypeError, match=r"folded_texts\[1\]"):
        scorer.predict_proba(["cnc", 3])
    with pytest.raises(InputTypeError, match="categories"):
        scorer.top_features(scorer.features(["cnc"]), ["lasers"])
    with pytest.raises(InputTypeError, match="one per row"):
        scorer.top_features(scorer.features(["cnc"]), [])
