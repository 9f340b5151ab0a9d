"""Property-based tests: for any Unicode text the public calls never crash and agree.

Over ``classify``, ``classify_batch`` and ``score_frame``, with the keyword-only mini engine
and the small trained model: no crash (empty / invisible-only text raises EmptyTextError in
``classify`` and gets a status in ``score_frame``), spans lie inside the text and slice out
``matched_text``, probabilities are in [0, 1] and sum to 1, the category is one of the four,
results are deterministic, a batch equals a loop for any batch size, and ``score_frame``
equals ``classify`` for any chunk size.

Example counts come from a settings profile chosen by ``DUALUSE_HYPOTHESIS_PROFILE``:
``ci`` (default, modest: the file runs in well under a minute) or ``fuzz`` (many examples;
see ``benchmarks/fuzz.py``).
"""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dualuse import CATEGORIES, FAMILIES
from dualuse.api import classify, classify_batch
from dualuse.batch import score_frame
from dualuse.errors import EmptyTextError
from dualuse.results import TermEvidence

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("DUALUSE_HYPOTHESIS_PROFILE", "ci"))

# ---------------------------------------------------------------------------- strategies

#: Pieces that exercise folding, spans and matching: invisible and bidi characters,
#: combining marks, homoglyphs, full-width and mathematical letters, CJK, Cyrillic,
#: ligatures, expansions, separators, taxonomy terms, leetspeak and part numbers.
SPECIAL_PIECES = [
    "\x00",
    "\x1f",
    "\x7f",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u0301",
    "\u0336",
    "\u20dd",
    "\u2028",
    "\u00a0",
    "\u3000",
    "\ud800",
    "\udfff",
    "\U0010ffff",
    "С",
    "А",
    "Н",
    "Μ",
    "Η",
    "ΜCU",
    "СNС",
    "İ",
    "ß",
    "ﬁ",
    "Å",
    "\U0001d405\U0001d40f",
    "Ⓒ",
    "ＦＰＧＡ",
    "车床",
    "数控车床",
    "薯片",
    "芯片",
    "станок",
    "Станок ЧПУ",
    "микроконтроллер",
    "тепловизор",
    " ",
    "\t",
    "\n",
    ".",
    "-",
    "/",
    "_",
    "C.N.C.",
    "F P G A",
    "5-axis",
    "lathe",
    "CNC",
    "FPGA",
    "MCU",
    "microcontroller",
    "thermal imager",
    "machining centre",
    "binoculars",
    "potato chips",
    "laser printer",
    "m1crocontroller",
    "th3rmal 1mager",
    "STM32F407VGT6",
    "XC7Z020",
    "CK6150",
    "16K20",
    "BT40",
    "3-9x40",
    "VF-2",
]

pieces = st.one_of(
    st.text(max_size=12),  # any assigned code point, controls included (no lone surrogates)
    st.text(st.characters(codec=None, categories=["Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp", "Co"]), max_size=6),
    st.text(st.characters(min_codepoint=0x0370, max_codepoint=0x052F), max_size=8),  # Greek, Cyrillic
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), max_size=6),  # CJK
    st.text(st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E), max_size=6),  # full-width
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2),  # lone surrogates
    st.text(alphabet="aceilnostCNPFGA0134579@$ .-_/", max_size=16),  # leet-ish ASCII
    st.sampled_from(SPECIAL_PIECES),
)
texts = st.lists(pieces, max_size=8).map("".join)


# ---------------------------------------------------------------------------- engines


@pytest.fixture(scope="session", params=["mini", "small"])
def mini_or_small_engine(request):
    """The keyword-only mini engine and the small trained model (session-scoped)."""
    return request.getfixturevalue("mini_engine" if request.param == "mini" else "small_engine")


def _screenable(engine, text: str) -> bool:
    return engine.score([text]).status[0] == "ok"


def _check_result(text: str, r, taxonomy) -> None:
    assert r.category in CATEGORIES
    assert set(r.probabilities) == set(CATEGORIES)
    for p in r.probabilities.values():
        assert 0.0 <= p <= 1.0 and not math.isnan(p)
    assert math.isclose(sum(r.probabilities.values()), 1.0, abs_tol=1e-9)
    assert r.confidence == r.probabilities[r.category]
    assert r.text == text
    for ev in r.evidence:
        if isinstance(ev, TermEvidence) or ev.kind == "exclusion":
            assert 0 <= ev.start <= ev.end <= len(text)
            assert text[ev.start : ev.end] == ev.matched_text
        if isinstance(ev, TermEvidence):
            assert ev.start < ev.end  # a non-empty span
            # the evidence names a real entry of the engine's taxonomy, with that entry's family
            assert ev.family in FAMILIES
            sub = taxonomy.subcategory(ev.subcategory)
            assert ev.family == sub.family
            if ev.kind == "term":
                assert ev.term in {t for _, t in (*sub.terms.items(), *sub.weak_terms.items())}
            else:
                assert ev.term in {p.id for p in sub.patterns}


# ---------------------------------------------------------------------------- classify


@given(text=texts)
def test_classify_never_crashes_and_results_are_well_formed(mini_or_small_engine, text) -> None:
    if _screenable(mini_or_small_engine, text):
        r = classify(text, engine=mini_or_small_engine)
        _check_result(text, r, mini_or_small_engine.taxonomy)
        assert classify(text, engine=mini_or_small_engine) == r  # deterministic
    else:  # both outcomes are checked: an unscreenable text is refused with EmptyTextError
        with pytest.raises(EmptyTextError, match="text: expected a"):
            classify(text, engine=mini_or_small_engine)


@given(text=texts, hs=st.one_of(st.none(), st.sampled_from(["8458.11", "854231", "9005.10", "6109.10", "8541.40"])))
def test_classify_with_hs_code_is_well_formed(mini_or_small_engine, text, hs) -> None:
    assume(_screenable(mini_or_small_engine, text))  # unscreenable texts: the test above
    r = classify(text, hs_code=hs, engine=mini_or_small_engine)
    _check_result(text, r, mini_or_small_engine.taxonomy)
    assert r.hs_code == hs


@given(text=texts)
def test_blank_and_invisible_only_texts_raise_empty_text_error(mini_or_small_engine, text) -> None:
    invisible = "".join(c for c in text if c in "\u200b\u200c\u200d\u2060\ufeff\u00ad\u202e\u2066 \t\n\x00")
    with pytest.raises(EmptyTextError):
        classify(invisible, engine=mini_or_small_engine)


# ---------------------------------------------------------------------------- batch = loop


@given(batch=st.lists(texts, max_size=12))
def test_batch_equals_loop_for_any_batch_size(mini_or_small_engine, batch) -> None:
    batch = [t for t in batch if _screenable(mini_or_small_engine, t)]
    assert classify_batch(batch, engine=mini_or_small_engine) == [classify(t, engine=mini_or_small_engine) for t in batch]


@given(batch=st.lists(texts, min_size=1, max_size=12), chunk_size=st.integers(min_value=1, max_value=7))
def test_score_frame_equals_classify_for_any_chunk_size(mini_or_small_engine, batch, chunk_size) -> None:
    # object dtype: pandas string inference (pyarrow) refuses lone surrogates, which Python str allows
    index = pd.Index([f"r{i}" for i in range(len(batch))])
    frame = pd.DataFrame({"text": pd.Series(batch, dtype=object, index=index)})
    out = score_frame(frame, "text", chunk_size=chunk_size, engine=mini_or_small_engine)
    assert list(out.index) == list(frame.index)
    assert out["text"].tolist() == batch
    for text, row in zip(batch, out.itertuples(index=False)):
        if not _screenable(mini_or_small_engine, text):
            assert row.status == "empty_text"
            assert row.category is pd.NA
            with pytest.raises(EmptyTextError):
                classify(text, engine=mini_or_small_engine)
            continue
        r = classify(text, engine=mini_or_small_engine)
        assert row.status == "ok"
        assert (row.category, row.subcategory if row.subcategory is not pd.NA else None) == (r.category, r.subcategory)
        assert row.confidence == r.confidence
        assert row.risk_level == r.risk_level and bool(row.needs_review) == r.needs_review
        terms = list(dict.fromkeys(e.term for e in r.matched_terms()))
        assert row.matched_terms == "|".join(terms if len(terms) <= 8 else terms[:8] + ["..."])
