"""The fusion rule: model probabilities, keyword evidence and the HS code in one calibrated answer.

Fusion is log-linear. For each category c::

    logit[c] = log P_model(c | text) + none_bias * [c == none] + keyword_weight * keyword_score[c]
               + hs_weight * [hs family == c]        (hs_none_weight when the code says none)
    P = softmax(logit / temperature)

Before fusion, the model's probability of a family that a text-scope exclusion rules out ("for
wood", "welding", printed matter), or a head-scope one that cancelled a term ("telescope
tripod"), is moved to ``none`` (:func:`rule_out`): the exclusion decides for the model as it
does for the keywords. Without a model the text term is a fixed prior that favours ``none``.
A trained model carries the parameters fitted with it (:class:`FusionConfig`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .categories import CATEGORIES, CATEGORY_INDEX, NONE_INDEX
from .matcher import MatchResult

__all__ = ["FusionConfig", "fuse", "rule_out"]


@dataclass(frozen=True)
class FusionConfig:
    """Parameters of the fusion rule; a trained model carries its own (fitted on dev lines)."""

    keyword_weight: float = 3.0
    hs_weight: float = 4.0
    hs_none_weight: float = 1.0
    #: Without a model: log-odds in favour of ``none`` when nothing matched (above one weak
    #: term, 0.5 x keyword_weight = 1.5, below one strong term, 3.0: a weak term alone never flags).
    no_model_none_prior: float = 2.0
    #: With a model: log-odds added to ``none`` (the training corpus over-represents families).
    none_bias: float = 0.0
    temperature: float = 1.0
    #: A ``none`` row whose largest family probability reaches this is still sent to review.
    review_threshold: float = 0.25
    high_risk_threshold: float = 0.8
    medium_risk_threshold: float = 0.5
    #: Longer inputs are screened on their first ``max_chars`` characters (and say so).
    max_chars: int = 20_000

    def describe(self) -> str:
        return (
            f"loglinear-v1(kw={self.keyword_weight:g},hs={self.hs_weight:g},hs_none={self.hs_none_weight:g},"
            f"prior={self.no_model_none_prior:g},none_bias={self.none_bias:g},T={self.temperature:g})"
        )


def fuse(model_probs: np.ndarray | None, keyword: np.ndarray, hs_onehot: np.ndarray | None, cfg: FusionConfig) -> np.ndarray:
    """The fusion rule (module docstring) on arrays: (n, 4) inputs in CATEGORIES order."""
    if model_probs is not None:
        logits = np.log(np.clip(model_probs, 1e-9, 1.0))
        logits[:, NONE_INDEX] += cfg.none_bias
    else:
        logits = np.zeros_like(keyword)
        logits[:, NONE_INDEX] = cfg.no_model_none_prior
    logits = logits + cfg.keyword_weight * keyword
    if hs_onehot is not None:
        weights = np.full(len(CATEGORIES), cfg.hs_weight)
        weights[NONE_INDEX] = cfg.hs_none_weight
        logits = logits + hs_onehot * weights
    return _softmax(logits / cfg.temperature)


def rule_out(model_probs: np.ndarray, matches: Sequence[MatchResult]) -> np.ndarray:
    """Move the model's probability of families ruled out by an exclusion to ``none``.

    A text-scope exclusion ("for wood", "welding", "laser printer", printed matter) says the
    whole description is outside those families. It always cancelled their keyword matches;
    without this the model alone could still flag the family ("Станок ... по дереву" came out
    a machine tool on the model's word). A head-scope exclusion that cancelled a term says the
    same of the item it names ("telescope tripod": the model reads "telescope"). A family
    whose term the exclusion spares and that still matched stays open ("laser cutter for
    wood"). The model probabilities the engine reports are these.
    """
    out = model_probs
    for j, m in enumerate(matches):
        if not m.exclusions:  # most rows: nothing to rule out
            continue
        families: set[str] = set()
        for x in m.exclusions:
            if x.scope == "text" or (x.scope == "head" and x.cancelled):
                spared = {k.family for k in m.matches if k.subcategory in x.spares}
                families.update(fam for fam in x.families if fam not in spared)
        if families:
            if out is model_probs:
                out = model_probs.copy()
            for fam in families:
                out[j, NONE_INDEX] += out[j, CATEGORY_INDEX[fam]]
                out[j, CATEGORY_INDEX[fam]] = 0.0
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
