"""Engine internals with observable contracts: the screening memo never changes a result."""

from __future__ import annotations

import pickle

import numpy as np

from dualuse.engine import Engine
from dualuse.fusion import FusionConfig
from dualuse.screening_memo import ScreeningMemo

TEXTS = ["CNC lathe 16K20", "potato chips 150 g", "STM32F407VGT6 tray", "germanium lens 25 mm", "\u200b", "CNC lathe 16K20"]
CODES = ["8458.11", None, "8542.31", None, None, "6109.10"]


def _same(a, b) -> None:
    assert a.status == b.status and a.error == b.error and a.category == b.category
    assert a.subcategory == b.subcategory and a.needs_review == b.needs_review
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert [f.match for f in a.facts] == [f.match for f in b.facts]


def test_results_do_not_depend_on_what_the_memo_holds(small_model_dir) -> None:
    from dualuse.persistence import load_model
    from dualuse.taxonomy import default_taxonomy

    model = load_model(small_model_dir)
    cold = Engine(default_taxonomy(), model).score(TEXTS, CODES)
    warm_engine = Engine(default_taxonomy(), model)
    warm_engine.score(list(reversed(TEXTS)))  # fills the memo in another order, without codes
    _same(warm_engine.score(TEXTS, CODES), cold)
    tiny = Engine(default_taxonomy(), model)
    tiny._memo = ScreeningMemo(max_entries=2)  # turns over on almost every text
    _same(tiny.score(TEXTS, CODES), cold)


def test_memo_is_bounded_and_keeps_recently_used_texts() -> None:
    memo = ScreeningMemo(max_entries=4)
    for i in range(100):
        memo.put(f"t{i}", (f"t{i}", None))
        assert len(memo._young) + len(memo._old) <= 4
    assert memo.get("t0") is None and memo.get("t99") == ("t99", None)
    memo = ScreeningMemo(max_entries=4)
    memo.put("a", ("a", None))
    memo.put("b", ("b", None))
    memo.put("c", ("c", None))  # a and b move to the old generation
    assert memo.get("a") == ("a", None)  # used again: promoted to the young one
    memo.put("d", ("d", None))
    memo.put("e", ("e", None))  # turnover: b (never used again) is dropped, a survives
    assert memo.get("a") == ("a", None) and memo.get("b") is None


def test_memo_skips_long_texts() -> None:
    memo = ScreeningMemo(max_entries=10, max_text_chars=5)
    memo.put("short", ("short", None))
    memo.put("longer", ("longer", None))
    assert memo.get("short") == ("short", None) and memo.get("longer") is None


def test_engine_pickles_without_its_memo(keyword_engine) -> None:
    keyword_engine.score(TEXTS)
    assert keyword_engine._memo.get("CNC lathe 16K20") is not None
    clone = pickle.loads(pickle.dumps(keyword_engine))
    assert clone._memo.get("CNC lathe 16K20") is None
    _same(clone.score(TEXTS, CODES), keyword_engine.score(TEXTS, CODES))


class _ConstantModel:
    """A stand-in text model that always says machine_tools 0.7."""

    model_id = "constant"
    sha256 = "0" * 64
    fusion = FusionConfig()

    def features(self, folded_texts):
        return len(folded_texts)

    def predict_proba_features(self, n):
        return np.tile([0.7, 0.1, 0.1, 0.1], (n, 1))

    def top_features(self, features, categories, top_k=5):
        return [[] for _ in categories]


def test_text_exclusion_rules_the_family_out_for_the_model_too(mini_taxonomy) -> None:
    """'for flour' (text scope, machine_tools) moves the model's machine_tools share to none."""
    engine = Engine(mini_taxonomy, _ConstantModel())
    res = engine.score(["grinding unit for flour", "grinding unit"])
    np.testing.assert_allclose(res.model_probabilities[0], [0.0, 0.1, 0.1, 0.8])
    np.testing.assert_allclose(res.model_probabilities[1], [0.7, 0.1, 0.1, 0.1])
    assert list(res.category) == ["none", "machine_tools"]


def test_head_exclusion_rules_the_family_out_only_when_it_cancelled_a_term(mini_taxonomy) -> None:
    """'lathe cutting tools' names cutting tools, an item outside both families the phrase lists
    (machine_tools, microelectronics); 'cutting tools' alone leaves the model alone."""
    engine = Engine(mini_taxonomy, _ConstantModel())
    res = engine.score(["lathe cutting tools", "cutting tools", "lathe with cutting tools"])
    np.testing.assert_allclose(res.model_probabilities[0], [0.0, 0.0, 0.1, 0.9])
    np.testing.assert_allclose(res.model_probabilities[1], [0.7, 0.1, 0.1, 0.1])
    np.testing.assert_allclose(res.model_probabilities[2], [0.7, 0.1, 0.1, 0.1])
    assert list(res.category) == ["none", "machine_tools", "machine_tools"]


def test_rule_out_keeps_a_family_whose_spared_term_matched(mini_taxonomy) -> None:
    # "for wood" rules machine tools out for the model too, except where a term it spares
    # (a laser cutter shapes any material) still matched
    from dualuse.categories import CATEGORIES
    from dualuse.fusion import rule_out as _rule_out
    from dualuse.matcher import KeywordMatcher

    matcher = KeywordMatcher(mini_taxonomy)
    texts = ["CNC lathe for wood", "laser cutter for wood", "laser cutter"]
    probs = np.tile([0.6, 0.1, 0.1, 0.2], (3, 1))
    assert list(CATEGORIES) == ["machine_tools", "microelectronics", "optics", "none"]
    out = _rule_out(probs, matcher.match_many(texts))
    np.testing.assert_allclose(out[0], [0.0, 0.1, 0.1, 0.8])
    np.testing.assert_allclose(out[1], probs[1])
    np.testing.assert_allclose(out[2], probs[2])
    np.testing.assert_allclose(probs[0], [0.6, 0.1, 0.1, 0.2])  # the input is not changed
