"""The text model at run time, from plain arrays: TF-IDF features, softmax and explanations.

Why: the trained model is a word (1-2) and ``char_wb`` (2-5) TF-IDF with a multinomial
logistic regression, so everything it needs to score a text is two vocabularies, two idf
vectors, a coefficient matrix and an intercept. :class:`LinearTextModel` scores from those
arrays with numpy and scipy alone: no scikit-learn import, no per-call input validation,
one featurisation per text shared by the probabilities and the explanations.

Every step repeats scikit-learn's arithmetic in the same order and dtype (float32 counts,
``1 + log(tf)``, idf multiply, l2 row norms summed in double and sequentially, the float32
dot product accumulated row by row, softmax over the classes in the order the model was
fitted with), so the probabilities equal the scikit-learn pipeline's bit for bit
(``tests/test_linear_model.py`` and ``benchmarks/model_equivalence.py`` check it).

Texts are *folded* already (see :mod:`dualuse.normalize`), as for the scikit-learn model.
"""

from __future__ import annotations

import re
import sys
import threading
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .categories import CATEGORIES
from .errors import InputTypeError, describe
from .vocabulary import Vocabulary

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["DEFAULT_CACHE_BYTES", "WORD_TOKEN_PATTERN", "LinearTextModel", "SparseRows"]

#: The word tokeniser of the model (scikit-learn's ``token_pattern``). Fixed here, never read
#: from a model file: a pattern from a file could be made to backtrack for hours.
WORD_TOKEN_PATTERN = r"(?u)\b\w[\w\-]*\b"
_WORD_TOKEN = re.compile(WORD_TOKEN_PATTERN)

#: Memory budget of the per-process cache of each distinct word's character n-gram indices.
#: Bounded in bytes, not entries: one 20,000-character token costs ~400 kB.
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024
# Per-entry cost of a cache slot beyond its key and value objects (hash table slot and
# growth slack), so the byte count does not undercount many short words.
_SLOT_BYTES = 100

# array typecode of a 4-byte signed int (C int on every platform CPython supports)
_INT32 = "i"

# Up to this many rows the dot product is computed with numpy from the CSR arrays: scipy's
# matrix product checks its operands on every call, which dominates a single-text call.
_SMALL_BATCH = 8

# From this many texts in one call, terms are looked up in a dict built once per process
# (a hash lookup per n-gram); below it, in the vocabulary's sorted arrays (a few numpy calls
# per text), so a process that screens single texts never pays for building the dict.
_DICT_FROM_ROWS = 32

# Ranges a model's parameters must lie in; they bound the work per text (n-gram lengths)
# and keep index arithmetic in int32.
MAX_NGRAM = 8
MAX_FEATURES = 20_000_000


class LinearTextModel:
    """A word + ``char_wb`` TF-IDF / multinomial logistic regression scorer from plain arrays.

    Parameters
    ----------
    word_terms, char_terms : sequence of str, or :class:`~dualuse.vocabulary.Vocabulary`
        The vocabularies: the feature index of a term is its position. Word features come
        first in the feature space, character features follow.
    word_idf, char_idf : float32 arrays
        Inverse document frequencies, one per term.
    word_ngram_range, char_ngram_range : (int, int)
        N-gram ranges the vocabularies were built with.
    coef : float32 array (n_classes, n_word + n_char)
        Logistic-regression coefficients, rows in ``classes`` order.
    intercept : float32 array (n_classes,)
    classes : sequence of str
        The class of each coefficient row: the order the model was fitted in (softmax sums in
        this order, so it is kept; outputs are reordered to :data:`dualuse.CATEGORIES`).
    cache_bytes : int
        Memory budget of the word cache of character n-gram indices.

    Raises ``ValueError`` naming the array and the problem when the arrays are inconsistent.
    """

    def __init__(
        self,
        *,
        word_terms: Sequence[str] | Vocabulary,
        word_idf: np.ndarray,
        word_ngram_range: tuple[int, int],
        char_terms: Sequence[str] | Vocabulary,
        char_idf: np.ndarray,
        char_ngram_range: tuple[int, int],
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[str],
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self.word_ngram_range = _check_range("word_ngram_range", word_ngram_range)
        self.char_ngram_range = _check_range("char_ngram_range", char_ngram_range)
        self.classes = tuple(str(c) for c in classes)
        if sorted(self.classes) != sorted(CATEGORIES):
            raise ValueError(f"classes: expected a permutation of {list(CATEGORIES)}, got {list(self.classes)}")
        n_word = len(word_terms)
        n_features = n_word + len(char_terms)
        if n_features > MAX_FEATURES:
            raise ValueError(f"vocabularies: {n_features} features exceed the limit of {MAX_FEATURES}")
        self._word_vocab = _vocabulary("word_terms", word_terms, 0)
        self._char_vocab = _vocabulary("char_terms", char_terms, n_word)
        n_char = len(self._char_vocab)
        # idf of the whole feature space: word idf then char idf, indexed by feature
        self._idf = np.concatenate(
            [
                _check_array("word_idf", word_idf, np.float32, (n_word,)),
                _check_array("char_idf", char_idf, np.float32, (n_char,)),
            ]
        )
        if not np.all(self._idf > 0):
            raise ValueError("word_idf/char_idf: expected positive values")
        n_classes = len(self.classes)
        coef = _check_array("coef", coef, np.float32, (n_classes, n_features))
        self._intercept = _check_array("intercept", intercept, np.float32, (n_classes,))
        self.n_word_features = n_word
        self.n_features = n_features
        # (n_features, n_classes), C order: the layout scipy's product builds from coef_.T
        self._coef_t = np.ascontiguousarray(coef.T)
        # a feature's push towards class k relative to the mean class, as TextClassifier.explain
        self._relative_coef = coef - coef.mean(axis=0)
        class_index = {c: i for i, c in enumerate(self.classes)}
        self._class_index = class_index
        self._order = np.array([class_index[c] for c in CATEGORIES])
        if cache_bytes < 0:
            raise ValueError(f"cache_bytes: expected a non-negative int, got {cache_bytes!r}")
        self._cache_limit = int(cache_bytes)
        self._cache: dict[str, bytes] = {}
        self._cache_used = 0
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------------ featurisation

    def _char_grams(self, word: str) -> list[str]:
        """One word's ``char_wb`` n-grams, repeats kept (scikit-learn's analyser)."""
        padded = " " + word + " "
        size = len(padded)
        grams: list[str] = []
        min_n, max_n = self.char_ngram_range
        for n in range(min_n, max_n + 1):
            if size <= n:  # scikit-learn counts a padded word shorter than n once, whole, and stops
                grams.append(padded)
                break
            grams += [padded[offset : offset + n] for offset in range(size - n + 1)]
        return grams

    def _char_indices(self, word: str, vocab_get) -> bytes:
        """Feature indices (int32 bytes, repeats kept) of one word's ``char_wb`` n-grams."""
        return array(_INT32, [i for i in map(vocab_get, self._char_grams(word)) if i is not None]).tobytes()

    def _remember(self, word: str, found: bytes) -> None:
        # sys.getsizeof counts the real objects, so a cache of long part numbers is bounded
        # as tightly as one of short words
        cost = sys.getsizeof(word) + sys.getsizeof(found) + _SLOT_BYTES
        if cost > self._cache_limit:
            return
        with self._cache_lock:
            if self._cache_used + cost > self._cache_limit:
                self._cache.clear()
                self._cache_used = 0
            if word not in self._cache:
                self._cache[word] = found
                self._cache_used += cost

    def _word_grams(self, text: str) -> list[str]:
        """Word n-grams of one text, joined as scikit-learn joins them (one space)."""
        tokens = _WORD_TOKEN.findall(text)
        min_n, max_n = self.word_ngram_range
        grams = tokens if min_n == 1 else []
        for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
            grams = grams + list(map(" ".join, zip(*(tokens[k:] for k in range(n)))))
        return grams

    def _raw_indices(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All feature indices of each text (unsorted, repeats kept) and the row pointer."""
        if len(texts) < _DICT_FROM_ROWS:
            return self._raw_indices_arrays(texts)
        cache = self._cache
        word_get = self._word_vocab.mapping().get
        char_get = self._char_vocab.mapping().get
        buf = bytearray()
        indptr = np.empty(len(texts) + 1, dtype=np.int64)
        indptr[0] = 0
        for row, text in enumerate(texts):
            word = [i for i in map(word_get, self._word_grams(text)) if i is not None]
            if word:
                buf += array(_INT32, word)
            # str.split() splits on the whitespace runs scikit-learn's char_wb analyser splits on
            for token in text.split():
                found = cache.get(token)
                if found is None:
                    found = self._char_indices(token, char_get)
                    self._remember(token, found)
                buf += found
            indptr[row + 1] = len(buf) // 4
        return np.frombuffer(buf, dtype=np.int32), indptr

    def _raw_indices_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_raw_indices` for a few texts: the same indices, looked up in the vocabularies'
        sorted arrays, one numpy lookup per text for its words and one for its new tokens."""
        cache = self._cache
        buf = bytearray()
        indptr = np.empty(len(texts) + 1, dtype=np.int64)
        indptr[0] = 0
        for row, text in enumerate(texts):
            word = self._word_vocab.indices(self._word_grams(text))
            buf += word[word >= 0].astype(np.int32).tobytes()
            tokens = text.split()
            # what the cache holds now (remembering a new token may empty it)
            known = {t: cache.get(t) for t in tokens}
            new = [t for t, hit in known.items() if hit is None]
            if new:
                grams = [self._char_grams(t) for t in new]
                found = self._char_vocab.indices([g for per_token in grams for g in per_token])
                at = 0
                for token, per_token in zip(new, grams):
                    part = found[at : at + len(per_token)]
                    at += len(per_token)
                    fresh = part[part >= 0].astype(np.int32).tobytes()
                    known[token] = fresh
                    self._remember(token, fresh)
            for token in tokens:
                buf += known[token] or b""
            indptr[row + 1] = len(buf) // 4
        return np.frombuffer(buf, dtype=np.int32), indptr

    def features(self, folded_texts: Sequence[str]) -> sparse.csr_matrix:
        """The TF-IDF matrix of ``folded_texts``: word features, then character features.

        Equal, element for element, to scikit-learn's
        ``hstack([word_vectorizer.transform(X), char_vectorizer.transform(X)]).tocsr()``
        (float32, sorted indices, each block l2-normalised on its own).
        """
        return self.sparse_rows(folded_texts).tocsr()

    def sparse_rows(self, folded_texts: Sequence[str]) -> SparseRows:
        """:meth:`features` as plain CSR arrays (:class:`SparseRows`), without importing scipy.

        What the engine scores and explains with: a process that screens single texts
        never imports scipy (a tenth of a second at start).
        """
        texts = _check_texts(folded_texts)
        n, n_features = len(texts), self.n_features
        cols, raw_ptr = self._raw_indices(texts)
        # Count repeats and sort each row in one pass over the chunk: a row-major key sorts
        # rows apart and columns within a row (CountVectorizer's layout). One numpy sort is
        # several times faster than scipy's row-by-row sort of the same elements.
        keys = np.repeat(np.arange(n, dtype=np.int64) * n_features, np.diff(raw_ptr))
        keys += cols
        keys.sort()
        first = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        data = np.diff(starts, append=len(keys)).astype(np.float32)  # counts
        keys = keys[starts]
        rows = keys // n_features
        indices = (keys - rows * n_features).astype(np.int32)
        indptr = np.searchsorted(keys, np.arange(n + 1, dtype=np.int64) * n_features)
        # the TfidfTransformer steps, in its order and dtypes
        np.log(data, out=data)
        data += np.float32(1.0)
        data *= self._idf[indices]
        # l2 norm of each row's word block and character block apart (two vectorisers).
        # scikit-learn squares in float32, adds the squares in double one after the other
        # and divides in double; bincount adds its weights in element order, so the sums
        # are the same to the last bit (a pairwise sum would not be).
        block = 2 * rows + (indices >= self.n_word_features)
        sums = np.bincount(block, weights=(data * data).astype(np.float64), minlength=2 * n)
        norms = np.sqrt(sums)
        norms[norms == 0.0] = 1.0  # empty blocks stay empty
        data /= norms[block]
        index_dtype = np.int32 if len(data) < 2**31 else np.int64
        return SparseRows(data, indices, indptr.astype(index_dtype), (n, n_features))

    # ------------------------------------------------------------------ probabilities

    def decision_function(self, X: sparse.csr_matrix | SparseRows) -> np.ndarray:
        """Class scores ``X @ coef.T + intercept`` (float32, columns in ``classes`` order)."""
        n = X.shape[0]
        if n <= _SMALL_BATCH:
            scores = np.zeros((n, len(self.classes)), dtype=np.float32)
            data, indices, indptr = X.data, X.indices, X.indptr
            for row in range(n):
                start, end = indptr[row], indptr[row + 1]
                if end > start:
                    # cumsum adds the products one after the other in float32, as scipy does
                    products = data[start:end, None] * self._coef_t[indices[start:end]]
                    scores[row] = np.cumsum(products, axis=0)[-1]
        else:
            csr = X.tocsr() if isinstance(X, SparseRows) else X
            scores = np.asarray(csr @ self._coef_t)
        scores += self._intercept
        return scores

    def predict_proba_features(self, X: sparse.csr_matrix | SparseRows) -> np.ndarray:
        """Probabilities (float32, shape (n, 4)) in :data:`dualuse.CATEGORIES` order.

        Softmax as scikit-learn computes it: subtract the row maximum, exponentiate, divide
        by the row sum, with the classes in fitted order (the sum's order moves last bits).
        """
        scores = self.decision_function(X)
        scores -= scores.max(axis=1).reshape(-1, 1)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1).reshape(-1, 1)
        return scores[:, self._order]

    def predict_proba(self, folded_texts: Sequence[str]) -> np.ndarray:
        """Probabilities of ``folded_texts`` in :data:`dualuse.CATEGORIES` order."""
        return self.predict_proba_features(self.features(folded_texts))

    # ------------------------------------------------------------------ explanations

    def top_features(
        self, X: sparse.csr_matrix | SparseRows, categories: Sequence[str | None], top_k: int = 5
    ) -> list[list[tuple[str, float]]]:
        """Per row, the features that raise that row's category's log-odds most.

        A feature's contribution is its value times its coefficient for the category minus
        the mean coefficient over classes; only positive contributions are listed, largest
        first, at most ``top_k``. ``None`` as a row's category gives an empty list. Names are
        ``w:<term>`` for word features and ``c:<n-gram>`` for character features.
        Computed from ``X`` itself, so the text is featurised once for scores and reasons.
        """
        n = X.shape[0]
        if len(categories) != n:
            raise InputTypeError(f"categories: expected {n} entries (one per row), got {len(categories)}")
        try:
            klass = np.array([-1 if c is None else self._class_index[c] for c in categories], dtype=np.intp)
        except (KeyError, TypeError):
            bad = next(c for c in categories if c is not None and c not in self._class_index)
            raise InputTypeError(f"categories: expected entries among {list(CATEGORIES)} or None, got {describe(bad)}") from None
        data, indices, indptr = X.data, X.indices, X.indptr
        lengths = np.diff(indptr)
        # one gather and one multiply for the whole chunk (float32, as TextClassifier.explain)
        row_class = np.repeat(klass, lengths)
        contrib = data * self._relative_coef[np.maximum(row_class, 0), indices]
        out: list[list[tuple[str, float]]] = []
        for row in range(n):
            start, end = int(indptr[row]), int(indptr[row + 1])
            if klass[row] < 0 or end == start:
                out.append([])
                continue
            part = contrib[start:end]
            # np.argsort on the row's own contributions: the same order explain() gives,
            # including among exactly equal contributions
            order = np.argsort(-part)[:top_k]
            out.append([(self._feature_name(int(indices[start + j])), float(part[j])) for j in order if part[j] > 0])
        return out

    def _feature_name(self, index: int) -> str:
        if index < self.n_word_features:
            return "w:" + self._word_vocab.term(index)
        return "c:" + self._char_vocab.term(index - self.n_word_features)

    # ------------------------------------------------------------------ plain data

    def to_arrays(self) -> dict[str, Any]:
        """The arrays and parameters that define the model (what :mod:`dualuse.persistence` saves)."""
        n_word = self.n_word_features
        return {
            "word_terms": self._word_vocab.terms(),
            "char_terms": self._char_vocab.terms(),
            "word_idf": self._idf[:n_word].copy(),
            "char_idf": self._idf[n_word:].copy(),
            "word_ngram_range": self.word_ngram_range,
            "char_ngram_range": self.char_ngram_range,
            "coef": np.ascontiguousarray(self._coef_t.T),
            "intercept": self._intercept.copy(),
            "classes": list(self.classes),
        }


class SparseRows:
    """A CSR matrix as its three arrays (scipy's layout), with row selection and :meth:`tocsr`."""

    __slots__ = ("data", "indices", "indptr", "shape")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> None:
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __getitem__(self, rows: np.ndarray) -> SparseRows:
        """The rows at the positions ``rows`` (an int array), in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.indptr[rows].astype(np.int64)
        lengths = self.indptr[rows + 1] - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        take = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseRows(self.data[take], self.indices[take], indptr.astype(self.indptr.dtype), (len(rows), self.shape[1]))

    def tocsr(self) -> sparse.csr_matrix:
        """The same matrix as a ``scipy.sparse.csr_matrix`` (imports scipy)."""
        from scipy import sparse

        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def _check_texts(texts: object) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise InputTypeError("folded_texts: expected a sequence of str, got a single string")
    out = list(texts)  # type: ignore[call-overload]
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise InputTypeError(f"folded_texts[{i}]: expected str, got {describe(t)}")
    return out


def _check_range(name: str, value: Sequence[int]) -> tuple[int, int]:
    pair = tuple(value)
    if (
        len(pair) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
        or not 1 <= pair[0] <= pair[1] <= MAX_NGRAM
    ):
        raise ValueError(f"{name}: expected two ints 1 <= min <= max <= {MAX_NGRAM}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_array(name: str, value: np.ndarray, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.dtype != dtype:
        got = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
        raise ValueError(f"{name}: expected a {np.dtype(dtype).name} array, got {got}")
    if value.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {value.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: expected finite values, found NaN or infinity")
    return np.ascontiguousarray(value)


def _vocabulary(name: str, terms: Sequence[str] | Vocabulary, offset: int) -> Vocabulary:
    if isinstance(terms, Vocabulary):
        if terms.offset != offset:
            raise ValueError(f"{name}: expected feature indices from {offset}, got a vocabulary from {terms.offset}")
        return terms
    return Vocabulary.from_terms(terms, name, offset)
