"""The text classifier to train: TF-IDF word and character n-grams + logistic regression.

:class:`TextClassifier` follows the scikit-learn estimator contract (``__init__`` only
stores parameters, learned attributes end in ``_``, ``fit`` / ``predict_proba`` /
``predict``; ``check_is_fitted`` guards prediction). It reads *folded* text (see
:mod:`dualuse.normalize`), so full-width, homoglyph and case variants share features.
Character n-grams carry what tariff words cannot: part-number shapes, brands, inflections.

:class:`dualuse.model.FittedModel` wraps a fitted one with its fusion parameters for the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from ..categories import CATEGORIES
from ..errors import InputTypeError, describe
from ..linear_model import WORD_TOKEN_PATTERN, LinearTextModel
from .char_ngrams import WordCachedCharTfidf

__all__ = ["TextClassifier"]


def _check_texts(X: object, name: str = "X") -> list[str]:
    if isinstance(X, (str, bytes)):
        raise InputTypeError(f"{name}: iterable over raw text documents expected, string object received")
    texts = list(X)  # type: ignore[call-overload]
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputTypeError(f"{name}[{i}]: expected str, got {describe(t)}")
    return texts


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Word (1-2) + character (2-5, within word boundaries) TF-IDF with logistic regression.

    Parameters
    ----------
    C : float
        Inverse regularisation strength of the logistic regression.
    word_ngram_range, char_ngram_range : tuple
        N-gram ranges of the two vectorisers; ``char_ngram_range=None`` drops character n-grams.
    min_df : int
        Minimum document frequency of a feature.
    max_features : int or None
        Cap on the character vocabulary (keeps the model file and memory small).
    class_weight : "sqrt_balanced", "balanced", a dict or None
        ``sqrt_balanced`` (default) weighs each class by the square root of the "balanced"
        weight: the rare families count more than their share without the 80x boost that
        makes "balanced" over-flag ordinary goods.
    random_state : int
    tol : float
        Stopping tolerance of the L-BFGS solver. scikit-learn's default (1e-4, on the mean
        loss) stopped the 1.4.0 fit after 45 iterations, short of the optimum it is meant
        to find; 1e-6 runs it to convergence (about 200 iterations; training about twice as
        long). See docs/decisions.md, "Solver tolerance".
    """

    def __init__(
        self,
        C: float = 8.0,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] | None = (2, 5),
        min_df: int = 2,
        max_features: int | None = 300_000,
        class_weight: str | dict | None = "sqrt_balanced",
        max_iter: int = 2000,
        random_state: int = 0,
        tol: float = 1e-6,
    ) -> None:
        self.C = C
        self.tol = tol
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    def _vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer | None]:
        word = TfidfVectorizer(
            analyzer="word",
            ngram_range=self.word_ngram_range,
            min_df=self.min_df,
            token_pattern=WORD_TOKEN_PATTERN,
            sublinear_tf=True,
            lowercase=False,  # the text is folded already
            dtype=np.float32,
        )
        if self.char_ngram_range is None:
            return word, None
        char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.char_ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            lowercase=False,
            dtype=np.float32,
        )
        return word, char

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # raw text documents, not a numeric matrix
        tags.input_tags.string = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # the same for scikit-learn < 1.6
        return {"X_types": ["string"]}

    def fit(self, X: Sequence[str], y: Sequence[Any], sample_weight: np.ndarray | None = None) -> TextClassifier:
        """Fit on folded texts ``X`` with labels ``y`` (any labels scikit-learn accepts: the four
        category names for a model the engine uses, or integer-encoded ones as in cross-validation)."""
        texts = _check_texts(X)
        labels = np.asarray(list(y))
        if len(labels) != len(texts):
            raise InputTypeError(f"y: expected {len(texts)} labels (one per text), got {len(labels)}")
        if len(np.unique(labels)) < 2:
            raise InputTypeError(f"y: expected at least 2 distinct labels, got {np.unique(labels).tolist()}")
        # caches derived from a previous fit (see _char_featurizer, _relative_coef) are stale now
        self.__dict__.pop("_char_featurizer_cache", None)
        self.__dict__.pop("_relative_coef_cache", None)
        word, char = self._vectorizers()
        blocks = [word.fit_transform(texts)] + ([char.fit_transform(texts)] if char is not None else [])
        features = sparse.hstack(blocks).tocsr()
        clf = LogisticRegression(
            C=self.C,
            class_weight=_class_weights(self.class_weight, labels),
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
        )
        clf.fit(features, labels, sample_weight=sample_weight)
        for vectorizer in (word, char):
            # scikit-learn caches id(stop_words), a memory address, to skip a re-check: it
            # changes from run to run, so two identical fits would pickle to different bytes
            # and the manifest's model hash could not show a rebuild is the shipped model.
            # Without it the vectorizer simply checks again.
            if vectorizer is not None:
                vectorizer.__dict__.pop("_stop_words_id", None)
        self.word_vectorizer_ = word
        self.char_vectorizer_ = char
        self.classifier_ = clf
        self.classes_ = clf.classes_
        # columns of predict_proba (classes_ order) -> CATEGORIES order, for the engine; only
        # a model fitted on exactly the four categories can screen
        known = list(clf.classes_)
        self._order_ = np.array([known.index(c) for c in CATEGORIES]) if sorted(map(str, known)) == sorted(CATEGORIES) else None
        blocks_of_names = [np.array(["w:" + f for f in word.get_feature_names_out()], dtype=object)]
        if char is not None:
            blocks_of_names.append(np.array(["c:" + f for f in char.get_feature_names_out()], dtype=object))
        self.feature_names_ = np.concatenate(blocks_of_names)
        return self

    def features(self, X: Sequence[str]) -> sparse.csr_matrix:
        """The feature matrix (word block, then character block) of folded texts."""
        check_is_fitted(self, "classifier_")
        return self._features(_check_texts(X))

    def predict_proba_features(self, features: sparse.csr_matrix) -> np.ndarray:
        """Probabilities from a :meth:`features` matrix, columns in CATEGORIES order (the engine's)."""
        order = self._category_order()
        if features.shape[0] == 0:
            return np.zeros((0, len(CATEGORIES)))
        return self.classifier_.predict_proba(features)[:, order]

    def _category_order(self) -> np.ndarray:
        check_is_fitted(self, "classifier_")
        if self._order_ is None:
            raise InputTypeError(
                f"classes_: the engine needs a model fitted on the labels {list(CATEGORIES)}, got {list(self.classes_)}"
            )
        return self._order_

    def _features(self, texts: list[str]) -> sparse.csr_matrix:
        blocks = [self.word_vectorizer_.transform(texts)]
        if self.char_vectorizer_ is not None:
            blocks.append(self._char_featurizer().transform(texts))
        return sparse.hstack(blocks).tocsr()

    def _char_featurizer(self) -> WordCachedCharTfidf:
        # the same matrix as char_vectorizer_.transform, ~10x faster on trade text (see
        # dualuse.char_ngrams); built once per process and, like its word cache, never pickled
        featurizer = self.__dict__.get("_char_featurizer_cache")
        if featurizer is None:
            featurizer = WordCachedCharTfidf(self.char_vectorizer_)
            self.__dict__["_char_featurizer_cache"] = featurizer
        return featurizer

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Probabilities, one column per class in :attr:`classes_` order (the scikit-learn contract)."""
        check_is_fitted(self, "classifier_")
        texts = _check_texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.classifier_.predict_proba(self._features(texts))

    def relative_coef(self) -> np.ndarray:
        """Coefficients minus their mean over classes, rows in CATEGORIES order."""
        return self._relative_coef()[self._category_order()]

    def _relative_coef(self) -> np.ndarray:
        # multinomial: a feature's push towards class k relative to the mean class; computed
        # once per process (not pickled: see __getstate__) because explanations are built per chunk
        rel = self.__dict__.get("_relative_coef_cache")
        if rel is None:
            coef = self.classifier_.coef_
            rel = coef - coef.mean(axis=0)
            self.__dict__["_relative_coef_cache"] = rel
        return rel

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_relative_coef_cache", None)
        state.pop("_char_featurizer_cache", None)
        return state

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable class per text (an element of :attr:`classes_`)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def top_features(
        self, features: sparse.csr_matrix, categories: Sequence[str | None], top_k: int = 5
    ) -> list[list[tuple[str, float]]]:
        """Per row of a :meth:`features` matrix, the ``top_k`` features that raise that row's
        category's log-odds most (value x coefficient relative to the mean class); ``[]`` for ``None``."""
        rel = self.relative_coef()
        index: dict[str | None, int] = {c: k for k, c in enumerate(CATEGORIES)}
        indptr, indices, data = features.indptr, features.indices, features.data
        out: list[list[tuple[str, float]]] = []
        for row, category in enumerate(categories):
            if category is None:
                out.append([])
                continue
            cols = indices[indptr[row] : indptr[row + 1]]
            contrib = data[indptr[row] : indptr[row + 1]] * rel[index[category]][cols]
            order = np.argsort(-contrib)[:top_k]
            out.append([(str(self.feature_names_[cols[j]]), float(contrib[j])) for j in order if contrib[j] > 0])
        return out

    def to_linear_model(self) -> LinearTextModel:
        """The fitted arrays as the lean runtime scorer (:class:`~dualuse.linear_model.LinearTextModel`),
        which is what a model file stores.

        Refuses (``ValueError``) any setting the scorer would compute differently, rather than
        converting a model into one that predicts something else.
        """
        check_is_fitted(self, "classifier_")
        word, char, lr = self.word_vectorizer_, self.char_vectorizer_, self.classifier_
        if char is None:
            raise ValueError("classifier: only word + char_wb models can be converted (char_ngram_range is None)")
        if len(lr.classes_) < 3:
            raise ValueError("classifier: a binary logistic regression has one coefficient row; the scorer is multinomial")
        common = {
            "input": "content",
            "lowercase": False,
            "strip_accents": None,
            "preprocessor": None,
            "binary": False,
            "sublinear_tf": True,
            "use_idf": True,
            "norm": "l2",
            "dtype": np.float32,
        }
        checks = [
            (word, {**common, "analyzer": "word", "tokenizer": None, "stop_words": None, "token_pattern": WORD_TOKEN_PATTERN}),
            (char, {**common, "analyzer": "char_wb"}),
        ]
        for vectorizer, wanted in checks:
            wrong = {k: getattr(vectorizer, k) for k, v in wanted.items() if getattr(vectorizer, k) != v}
            if wrong:
                raise ValueError(f"{vectorizer.analyzer} vectorizer: unsupported settings {wrong}")
        if getattr(lr, "solver", "lbfgs") == "liblinear" or getattr(lr, "multi_class", "auto") == "ovr":
            raise ValueError("classifier: one-vs-rest logistic regression cannot be converted (the scorer is multinomial)")

        def terms(vocabulary: dict[str, int]) -> list[str]:
            out = [""] * len(vocabulary)
            for term, index in vocabulary.items():
                out[index] = term
            return out

        # A model file stores float32 (what scikit-learn >= 1.6 fits on float32 features, so
        # there the scorer is exact); older releases fit in float64, and the cast costs them
        # agreement to about 1e-6 in the probabilities.
        return LinearTextModel(
            word_terms=terms(word.vocabulary_),
            word_idf=np.asarray(word.idf_, dtype=np.float32),
            word_ngram_range=tuple(word.ngram_range),
            char_terms=terms(char.vocabulary_),
            char_idf=np.asarray(char.idf_, dtype=np.float32),
            char_ngram_range=tuple(char.ngram_range),
            coef=np.asarray(lr.coef_, dtype=np.float32),
            intercept=np.asarray(lr.intercept_, dtype=np.float32),
            classes=[str(c) for c in lr.classes_],
        )

    def explain(self, text: str, category: str, top_k: int = 5) -> list[tuple[str, float]]:
        """The features of ``text`` that raise ``category``'s log-odds most (coef x value)."""
        check_is_fitted(self, "classifier_")
        row = self._features([text])
        k = list(self.classifier_.classes_).index(category)
        rel = self._relative_coef()[k]
        contrib = row.data * rel[row.indices]
        order = np.argsort(-contrib)[:top_k]
        return [(str(self.feature_names_[row.indices[j]]), float(contrib[j])) for j in order if contrib[j] > 0]


def _class_weights(option: str | dict | None, labels: np.ndarray) -> str | dict | None:
    if option != "sqrt_balanced":
        return option
    classes, counts = np.unique(labels, return_counts=True)
    # keys are the labels as scikit-learn sees them (str for names, int for encoded labels)
    return {c.item(): float(np.sqrt(len(labels) / (len(classes) * n))) for c, n in zip(classes, counts)}
