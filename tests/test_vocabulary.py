"""The model vocabulary's array lookup must give what a plain dict of the terms gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from dualuse.linear_model import SparseRows
from dualuse.vocabulary import Vocabulary

TERMS = ["lathe", "cnc", "ab", " la", "станок", "数控", "x" * 40, "stm32f407vgt6-long-part-number", "é", "a b"]
QUERIES = TERMS + [
    "",
    "lath",
    "lathes",
    "x" * 39,
    "x" * 41,
    "CNC",
    "станок ",
    "a\x00b",
    "a",
    "zz",
    "stm32f407vgt6-long-part-numbe",
]


def _expected(terms: list[str], queries: list[str], offset: int) -> list[int]:
    plain = {t: offset + i for i, t in enumerate(terms)}  # the independent expectation
    return [plain.get(q, -1) for q in queries]


@pytest.mark.parametrize("terms", [TERMS, sorted(TERMS), ["a\x00b", "c"], ["only"]])
def test_array_lookup_equals_a_dict_of_the_terms(terms: list[str]) -> None:
    queries = QUERIES + terms
    vocab = Vocabulary.from_terms(terms, "t", offset=7)
    assert vocab.indices(queries).tolist() == _expected(terms, queries, 7)
    assert [vocab.term(i) for i in range(len(terms))] == terms
    assert vocab.terms() == terms
    assert vocab.mapping() == {t: 7 + i for i, t in enumerate(terms)}
    assert vocab.indices(queries).tolist() == _expected(terms, queries, 7)  # the dict path, once built


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), min_size=1, max_size=30), unique=True
    ),
    st.lists(st.text(max_size=30), max_size=20),
)
def test_lookup_of_generated_terms(terms: list[str], extra: list[str]) -> None:
    queries = terms + extra + [t + "x" for t in terms] + [t[:-1] for t in terms]
    assert Vocabulary.from_terms(terms, "t").indices(queries).tolist() == _expected(terms, queries, 0)


def test_blob_round_trip_and_bad_vocabularies() -> None:
    blob = "\n".join(TERMS).encode("utf-8")
    assert Vocabulary.from_blob(blob, len(TERMS), "t").terms() == TERMS
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary.from_terms(["b", "a", "b"], "word_terms")
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary.from_terms(["x" * 40, "a", "x" * 40], "word_terms")
    with pytest.raises(ValueError, match="non-empty"):
        Vocabulary.from_terms(["a", ""], "word_terms")
    with pytest.raises(ValueError, match="terms, expected"):
        Vocabulary.from_blob(blob, len(TERMS) + 1, "t")
    with pytest.raises(ValueError, match="UTF-8"):
        Vocabulary.from_blob(b"a\n\xff", 2, "t")
    assert Vocabulary.from_terms([], "t").indices(["a"]).tolist() == [-1]


def test_sparse_rows_select_rows_as_scipy_does() -> None:
    rng = np.random.default_rng(0)
    dense = rng.random((7, 11)).astype(np.float32) * (rng.random((7, 11)) < 0.3)
    csr = sparse.csr_matrix(dense)
    rows = SparseRows(csr.data, csr.indices, csr.indptr, csr.shape)
    for pick in ([0], [3, 1, 3], [6, 5, 4, 0], []):
        got, want = rows[np.array(pick, dtype=np.int64)], csr[pick]
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)
        assert (got.tocsr() != want).nnz == 0
