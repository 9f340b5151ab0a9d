"""A faster, exact ``transform`` for a fitted character (``char_wb``) TF-IDF vectoriser.

Why: scikit-learn's ``char_wb`` analyser builds every n-gram of every word of every text as
a Python string and looks each one up in the vocabulary. For the shipped model (n = 2..5)
that is ~100 us per description, the largest single cost of batch scoring. But ``char_wb``
n-grams never cross a word boundary: a text's counts are the sum of its words' counts, and
trade files repeat the same words ("CNC", "lathe", "IC", brand names) millions of times.
:class:`WordCachedCharTfidf` therefore computes each distinct word's vocabulary indices once,
keeps them in a bounded cache, and builds the count matrix by concatenation. The TF-IDF
steps that follow (sublinear tf, idf, l2 norm) are the vectoriser's own, applied in the
same order, so the matrix equals ``vectorizer.transform(texts)`` exactly
(``tests/test_char_ngrams.py`` checks equality element for element).

The cache is per process and never pickled: a model file holds only scikit-learn objects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

__all__ = ["WordCachedCharTfidf"]

# Bounded so that part numbers (mostly unique words) cannot grow memory without limit: each
# entry costs ~250 bytes (the word, ~20 int32 indices as bytes, the dict slot), so the cap
# keeps the cache near 25 MB per process. When full it is emptied and refills from the data.
DEFAULT_MAX_WORDS = 100_000


class WordCachedCharTfidf:
    """Exact drop-in for ``vectorizer.transform`` of a fitted ``analyzer="char_wb"`` TfidfVectorizer.

    Only the configuration the library uses is accepted (no preprocessor, tokenizer or
    lowercasing of its own, ``input="content"``); anything else raises ``ValueError`` rather
    than silently computing different features.
    """

    def __init__(self, vectorizer: TfidfVectorizer, *, max_words: int = DEFAULT_MAX_WORDS) -> None:
        unsupported = {
            "analyzer": (vectorizer.analyzer, "char_wb"),
            "input": (vectorizer.input, "content"),
            "lowercase": (vectorizer.lowercase, False),
            "strip_accents": (vectorizer.strip_accents, None),
            "preprocessor": (vectorizer.preprocessor, None),
            "binary": (vectorizer.binary, False),
        }
        wrong = {k: got for k, (got, want) in unsupported.items() if got != want}
        if wrong:
            raise ValueError(f"vectorizer: expected a plain char_wb TfidfVectorizer, got settings {wrong}")
        if max_words < 1:
            raise ValueError(f"max_words: expected a positive int, got {max_words!r}")
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._n_features = len(self._vocabulary)
        self._min_n, self._max_n = vectorizer.ngram_range
        self._dtype = vectorizer.dtype
        self._sublinear_tf = vectorizer.sublinear_tf
        self._idf = vectorizer.idf_ if vectorizer.use_idf else None
        self._norm = vectorizer.norm
        self._max_words = max_words
        self._cache: dict[str, bytes] = {}

    def _word_indices(self, word: str) -> bytes:
        """Vocabulary indices (int32 bytes, repeats kept) of one word's n-grams, as scikit-learn forms them."""
        vocab = self._vocabulary
        w = " " + word + " "
        w_len = len(w)
        found: list[int] = []
        for n in range(self._min_n, self._max_n + 1):
            if w_len <= n:  # scikit-learn counts a word shorter than n once, whole, and stops
                idx = vocab.get(w)
                if idx is not None:
                    found.append(idx)
                break
            for offset in range(w_len - n + 1):
                idx = vocab.get(w[offset : offset + n])
                if idx is not None:
                    found.append(idx)
        return np.asarray(found, dtype=np.int32).tobytes()

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The TF-IDF matrix of ``texts``; equal to the vectoriser's own ``transform``."""
        if len(texts) == 0:  # scikit-learn raises here; an empty matrix is the useful answer
            return sparse.csr_matrix((0, self._n_features), dtype=self._dtype)
        cache = self._cache
        indices = bytearray()
        indptr = np.empty(len(texts) + 1, dtype=np.int64)
        indptr[0] = 0
        for row, text in enumerate(texts):
            # str.split() splits on the same whitespace runs scikit-learn's analyser does
            for word in text.split():
                found = cache.get(word)
                if found is None:
                    found = self._word_indices(word)
                    if len(cache) >= self._max_words:
                        cache.clear()
                    cache[word] = found
                indices += found
            indptr[row + 1] = len(indices) // 4
        cols = np.frombuffer(indices, dtype=np.int32)  # writable view: sort_indices works in place
        counts = sparse.csr_matrix(
            (np.ones(len(cols), dtype=self._dtype), cols, indptr.astype(np.int32)),
            shape=(len(texts), self._n_features),
            dtype=self._dtype,
        )
        counts.sum_duplicates()  # sorted indices, summed counts: CountVectorizer's layout
        # the TfidfTransformer steps, in its order and with its dtypes
        if self._sublinear_tf:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        if self._idf is not None:
            counts.data *= self._idf[counts.indices]
        if self._norm is not None:
            counts = normalize(counts, norm=self._norm, copy=False)
        return counts
