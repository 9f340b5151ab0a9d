"""The word-cached character TF-IDF must equal scikit-learn's own transform, element for element.

The expectation is independent: scikit-learn's ``TfidfVectorizer.transform`` on the same
fitted vectoriser. Texts cover trade wording, odd whitespace, words shorter than the n-gram
range, non-Latin scripts and out-of-vocabulary characters.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from dualuse.normalize import fold
from dualuse.training.char_ngrams import WordCachedCharTfidf

DATA = Path(__file__).resolve().parent.parent / "data"

ODD_TEXTS = [
    "",
    " ",
    "a",
    "ab",
    "a b c",
    "abc  \t def\n\nghi",
    "\u3000full\u2003width\u00a0spaces\u00a0",
    "x\x1cy\x1dz",  # separators that str.split() and the regex \s both treat as space
    "数控车床 立式加工中心",
    "станок токарный с чпу 16к20",
    "z" * 60,
    "stm32f407vgt6 xc7z020-1clg400c 3-9x40",
    "résumé naïve",
    "😀 emoji 🔬",
]


def _equal(a, b) -> None:
    a = a.tocsr()
    b = b.tocsr()
    a.sort_indices()
    b.sort_indices()
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)  # exact, not approximately equal


@pytest.fixture(scope="module")
def fitted_char_vectorizer():
    corpus = pd.read_csv(DATA / "corpus" / "nomenclature.csv", dtype=str, keep_default_na=False)
    texts = [fold(t) for t in corpus["text"].iloc[::7]]  # a slice of real tariff text
    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=2,
        max_features=40_000,
        sublinear_tf=True,
        lowercase=False,
        dtype=np.float32,
    ).fit(texts)


@pytest.fixture(scope="module")
def dev_texts():
    dev = pd.read_csv(DATA / "dev" / "invoice_lines.tsv", sep="\t", dtype=str, keep_default_na=False, quoting=3)
    return [fold(t) for t in dev["text"]]


def test_equals_sklearn_on_invoice_lines_and_odd_texts(fitted_char_vectorizer, dev_texts):
    texts = dev_texts + ODD_TEXTS
    fast = WordCachedCharTfidf(fitted_char_vectorizer)
    _equal(fast.transform(texts), fitted_char_vectorizer.transform(texts))
    # a second pass is served from the word cache and must still be equal
    _equal(fast.transform(texts), fitted_char_vectorizer.transform(texts))


def test_equals_sklearn_while_the_cache_is_emptied(fitted_char_vectorizer, dev_texts):
    fast = WordCachedCharTfidf(fitted_char_vectorizer, max_words=3)  # emptied many times per call
    _equal(fast.transform(dev_texts), fitted_char_vectorizer.transform(dev_texts))
    assert len(fast._cache) <= 3


@pytest.mark.parametrize("ngram_range", [(1, 1), (3, 5), (2, 2), (1, 6)])
@pytest.mark.parametrize("sublinear_tf,use_idf,norm", [(True, True, "l2"), (False, True, "l1"), (False, False, None)])
def test_equals_sklearn_for_other_settings(dev_texts, ngram_range, sublinear_tf, use_idf, norm):
    vec = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=ngram_range,
        lowercase=False,
        sublinear_tf=sublinear_tf,
        use_idf=use_idf,
        norm=norm,
    ).fit(dev_texts[::2])
    texts = dev_texts[1::2] + ODD_TEXTS
    _equal(WordCachedCharTfidf(vec).transform(texts), vec.transform(texts))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), min_size=1, max_size=8))
def test_equals_sklearn_on_arbitrary_text(fitted_char_vectorizer, texts):
    fast = WordCachedCharTfidf(fitted_char_vectorizer)
    _equal(fast.transform(texts), fitted_char_vectorizer.transform(texts))


def test_no_texts_give_an_empty_matrix(fitted_char_vectorizer):
    empty = WordCachedCharTfidf(fitted_char_vectorizer).transform([])
    assert empty.shape == (0, len(fitted_char_vectorizer.vocabulary_))


def test_refuses_a_vectorizer_it_would_imitate_wrongly(dev_texts):
    word = TfidfVectorizer(analyzer="word").fit(dev_texts)
    with pytest.raises(ValueError, match="analyzer"):
        WordCachedCharTfidf(word)
    lowering = TfidfVectorizer(analyzer="char_wb", lowercase=True).fit(dev_texts)
    with pytest.raises(ValueError, match="lowercase"):
        WordCachedCharTfidf(lowering)


def test_model_uses_it_and_never_pickles_the_cache(small_classifier):
    clf = small_classifier
    texts = ["CNC lathe 16K20", "germanium lens 25 mm", "stm32f407vgt6"]
    # what the classifier computed before the fast path: scikit-learn's own vectorisers
    features = sparse.hstack([clf.word_vectorizer_.transform(texts), clf.char_vectorizer_.transform(texts)]).tocsr()
    expected = clf.classifier_.predict_proba(features)  # classes_ order, as predict_proba
    np.testing.assert_array_equal(clf.predict_proba(texts), expected)
    assert "_char_featurizer_cache" in clf.__dict__
    restored = pickle.loads(pickle.dumps(clf))
    assert "_char_featurizer_cache" not in restored.__dict__
    np.testing.assert_array_equal(restored.predict_proba(texts), expected)


@pytest.mark.slow  # three fits (about 30 s)
def test_refitting_drops_the_caches_of_the_previous_fit(dev_texts) -> None:
    from dualuse.training.estimator import TextClassifier

    labels = ["none", "optics", "machine_tools", "microelectronics"] * (len(dev_texts) // 4)
    texts = dev_texts[: len(labels)]
    first = TextClassifier(min_df=1, random_state=0).fit(texts[:100], labels[:100])
    first.predict_proba(texts[:5])
    first.explain(texts[0], "optics")  # fills both caches
    first.fit(texts, labels)  # same instance, other data and vocabulary
    fresh = TextClassifier(min_df=1, random_state=0).fit(texts, labels)
    np.testing.assert_array_equal(first.predict_proba(texts[:50]), fresh.predict_proba(texts[:50]))
    assert first.explain(texts[0], "optics") == fresh.explain(texts[0], "optics")
