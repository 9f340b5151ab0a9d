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

**Unfamiliar scripts** (:func:`temper_unfamiliar`). The model's opinion of a text written in a
script for which it saw little real ``none`` text (Korean and Japanese lines reach it mostly
as synthetic *family* lines, so "기" or "機" alone reads as "machine") is worth little. When
such a text has no keyword evidence and no HS code, its probabilities are blended with a
none-leaning prior, ``P' = (1 - w) * P + w * UNFAMILIAR_PRIOR`` with ``w =
unfamiliar_weight``: a confident family verdict becomes ``none`` with the family still above
the review threshold, and no verdict reaches 0.99. The scripts the model knows
(``familiar_scripts``) are counted when it is trained; ``None`` (models trained before they
were counted) tempers nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .categories import CATEGORIES, CATEGORY_INDEX, NONE_INDEX
from .errors import ModelIntegrityError
from .matcher import MatchResult
from .scripts import SCRIPT_BUCKETS

__all__ = [
    "FusionConfig",
    "FUSION_RANGES",
    "UNFAMILIAR_PRIOR",
    "check_fusion",
    "fuse",
    "fusion_json",
    "rule_out",
    "temper_unfamiliar",
]

#: What the library believes of a line it cannot read (CATEGORIES order): most lines are not
#: in the families, and none can be ruled out.
UNFAMILIAR_PRIOR = np.array([0.05, 0.05, 0.05, 0.85])


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
    #: Script buckets (:data:`dualuse.scripts.SCRIPT_BUCKETS`) with enough real ``none`` text in
    #: the model's training corpus; None: not recorded, nothing is tempered.
    familiar_scripts: tuple[str, ...] | None = None
    #: Weight of :data:`UNFAMILIAR_PRIOR` for an unfamiliar-script text without evidence.
    unfamiliar_weight: float = 0.6

    def describe(self) -> str:
        return (
            f"loglinear-v1(kw={self.keyword_weight:g},hs={self.hs_weight:g},hs_none={self.hs_none_weight:g},"
            f"prior={self.no_model_none_prior:g},none_bias={self.none_bias:g},T={self.temperature:g}"
            + (
                ""
                if self.familiar_scripts is None
                else f",familiar={'+'.join(self.familiar_scripts)},unfamiliar_w={self.unfamiliar_weight:g}"
            )
            + ")"
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


def temper_unfamiliar(probs: np.ndarray, rows: np.ndarray, cfg: FusionConfig) -> np.ndarray:
    """``probs`` with ``rows`` (a boolean mask) blended with the none-leaning prior (module doc)."""
    if not rows.any():
        return probs
    out = probs.copy()
    w = cfg.unfamiliar_weight
    out[rows] = (1.0 - w) * probs[rows] + w * UNFAMILIAR_PRIOR
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# Fusion parameters and their accepted ranges (inclusive). Weights are log-odds multipliers,
# biases log-odds: beyond +-16 (odds of nine million to one) a single component would
# decide every row. temperature divides the model's log-odds, so it must stay away from 0.
FUSION_RANGES: dict[str, tuple[float, float]] = {
    "keyword_weight": (0.0, 16.0),
    "hs_weight": (0.0, 16.0),
    "hs_none_weight": (0.0, 16.0),
    "no_model_none_prior": (-16.0, 16.0),
    "none_bias": (-16.0, 16.0),
    "temperature": (0.01, 100.0),
    "review_threshold": (0.0, 1.0),
    "high_risk_threshold": (0.0, 1.0),
    "medium_risk_threshold": (0.0, 1.0),
    "max_chars": (1, 10_000_000),
    "unfamiliar_weight": (0.0, 1.0),
}
# Fields a manifest may lack (written before they existed): their defaults apply.
_OPTIONAL_FUSION = {"familiar_scripts": None, "unfamiliar_weight": 0.6}


def check_fusion(values: object, where: str) -> FusionConfig:
    """A :class:`FusionConfig` from a JSON object, every field present, typed and in range."""
    if not isinstance(values, dict):
        raise ModelIntegrityError(f"{where}: fusion: expected an object, got {type(values).__name__}")
    names = {f.name for f in fields(FusionConfig)}
    missing = sorted(names - set(values) - set(_OPTIONAL_FUSION))
    extra = sorted(set(values) - names)
    if missing or extra:
        raise ModelIntegrityError(f"{where}: fusion: missing fields {missing}, unknown fields {extra}")
    values = {**_OPTIONAL_FUSION, **values}
    out: dict[str, Any] = {}
    scripts = values["familiar_scripts"]
    if scripts is not None:
        if not isinstance(scripts, list) or not all(isinstance(x, str) and x in SCRIPT_BUCKETS for x in scripts):
            raise ModelIntegrityError(
                f"{where}: fusion.familiar_scripts: expected null or a list of names among {list(SCRIPT_BUCKETS)}, got {scripts!r}"
            )
        scripts = tuple(scripts)
    out["familiar_scripts"] = scripts
    for name in sorted(names - {"familiar_scripts"}):
        value = values[name]
        low, high = FUSION_RANGES[name]
        if name == "max_chars":
            ok_type = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok_type = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok_type:
            kind = "an int" if name == "max_chars" else "a finite number"
            raise ModelIntegrityError(f"{where}: fusion.{name}: expected {kind}, got {value!r}")
        if not low <= value <= high:
            raise ModelIntegrityError(f"{where}: fusion.{name} = {value!r} is outside the accepted range [{low}, {high}]")
        out[name] = value if name == "max_chars" else float(value)
    if out["medium_risk_threshold"] > out["high_risk_threshold"]:
        raise ModelIntegrityError(
            f"{where}: fusion.medium_risk_threshold {out['medium_risk_threshold']} exceeds "
            f"high_risk_threshold {out['high_risk_threshold']}"
        )
    return FusionConfig(**out)


def fusion_json(fusion: FusionConfig) -> dict[str, Any]:
    """The fusion parameters as the JSON object a manifest stores (:func:`check_fusion` reads it)."""
    out: dict[str, Any] = {}
    for f in fields(FusionConfig):
        value = getattr(fusion, f.name)
        if f.name == "familiar_scripts":
            out[f.name] = None if value is None else list(value)
        else:
            out[f.name] = int(value) if f.name == "max_chars" else float(value)
    return out
