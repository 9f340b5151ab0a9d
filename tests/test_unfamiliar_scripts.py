"""Texts in scripts the model saw little ``none`` text in: tempered, flagged for review, never 0.99.

The expectations come from the rule in :mod:`dualuse.fusion` (a blend with a fixed prior),
computed here from the untempered probabilities, not from the engine's own output.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dualuse.api import classify, classify_batch
from dualuse.categories import CATEGORIES
from dualuse.engine import Engine
from dualuse.errors import ModelIntegrityError
from dualuse.fusion import UNFAMILIAR_PRIOR, FusionConfig, temper_unfamiliar
from dualuse.scripts import script_of


def test_temper_blends_only_the_masked_rows() -> None:
    probs = np.array([[0.97, 0.01, 0.01, 0.01], [0.0, 0.0, 0.0, 1.0], [0.2, 0.2, 0.2, 0.4]])
    cfg = FusionConfig(unfamiliar_weight=0.6)
    out = temper_unfamiliar(probs, np.array([True, True, False]), cfg)
    assert np.allclose(out[0], 0.4 * probs[0] + 0.6 * UNFAMILIAR_PRIOR)
    assert np.allclose(out[1], 0.4 * probs[1] + 0.6 * UNFAMILIAR_PRIOR)
    assert np.array_equal(out[2], probs[2])
    assert np.allclose(out.sum(axis=1), 1.0)
    assert out[:2].max() < 0.99


def _engines():
    from dualuse.defaults import default_engine

    base = default_engine()
    assert base.model is not None
    untempered = Engine(base.taxonomy, base.model, fusion=replace(base.fusion, familiar_scripts=None))
    tempered = Engine(base.taxonomy, base.model, fusion=replace(base.fusion, familiar_scripts=("latin", "cyrillic", "chinese")))
    return untempered, tempered


# ordinary goods, no taxonomy term, in scripts other than the familiar three
UNFAMILIAR = ["나무 의자", "세탁기 부품", "ステンレス ボルト", "כיסא עץ", "كرسي خشبي", "Κρασί κόκκινο"]


@pytest.mark.parametrize("text", UNFAMILIAR)
def test_unfamiliar_script_without_evidence_is_tempered(text: str) -> None:
    untempered, tempered = _engines()
    assert script_of(text) not in ("latin", "cyrillic", "chinese", "no_letters")
    before = classify(text, engine=untempered)
    after = classify(text, engine=tempered)
    assert before.matched_terms() == [] and after.matched_terms() == []
    p = np.array([before.probabilities[c] for c in CATEGORIES])
    expected = 0.4 * p + 0.6 * UNFAMILIAR_PRIOR
    assert [after.probabilities[c] for c in CATEGORIES] == pytest.approx(expected.tolist(), abs=1e-9)
    assert after.category == CATEGORIES[int(np.argmax(expected))]
    assert after.confidence < 0.99
    assert "unfamiliar_script" in after.review_reasons and after.needs_review


def test_evidence_or_a_code_or_a_familiar_script_is_not_tempered() -> None:
    untempered, tempered = _engines()
    for text, code in [
        ("연삭기", None),  # a Korean taxonomy term: evidence
        ("나무 의자", "9401.61"),  # an HS code: evidence
        ("Holzstuhl", None),  # Latin
        ("деревянный стул", None),  # Cyrillic
        ("木椅", None),  # Chinese
        ("12345", None),  # no letters
    ]:
        a = classify(text, hs_code=code, engine=untempered)
        b = classify(text, hs_code=code, engine=tempered)
        assert a.probabilities == b.probabilities, text
        assert "unfamiliar_script" not in b.review_reasons


def test_batch_equals_single_when_tempered() -> None:
    _, tempered = _engines()
    texts = [*UNFAMILIAR, "CNC lathe", "연삭기"]
    batch = classify_batch(texts, engine=tempered)
    assert [b.model_dump() for b in batch] == [classify(t, engine=tempered).model_dump() for t in texts]


def test_shipped_model_records_familiar_scripts() -> None:
    from dualuse.defaults import default_engine

    scripts = default_engine().fusion.familiar_scripts
    assert scripts is not None and "latin" in scripts and "korean" not in scripts


@pytest.mark.parametrize("bad", [["latin", "klingon"], "latin", [1], {"latin": True}])
def test_bad_familiar_scripts_in_a_manifest_are_refused(bad) -> None:
    from dualuse.persistence import check_fusion

    values = _fusion_json_of_default()
    values["familiar_scripts"] = bad
    with pytest.raises(ModelIntegrityError, match="familiar_scripts"):
        check_fusion(values, "manifest.json")


def test_unfamiliar_weight_out_of_range_is_refused() -> None:
    from dualuse.persistence import check_fusion

    values = _fusion_json_of_default()
    values["unfamiliar_weight"] = 1.5
    with pytest.raises(ModelIntegrityError, match="unfamiliar_weight"):
        check_fusion(values, "manifest.json")


def test_a_fusion_block_written_before_the_fields_existed_loads_untempered() -> None:
    from dualuse.persistence import check_fusion

    values = _fusion_json_of_default()
    del values["familiar_scripts"], values["unfamiliar_weight"]
    cfg = check_fusion(values, "manifest.json")
    assert cfg.familiar_scripts is None and cfg.unfamiliar_weight == FusionConfig().unfamiliar_weight


def _fusion_json_of_default() -> dict:
    from dualuse.fusion import fusion_json

    return fusion_json(FusionConfig(familiar_scripts=("latin",)))
