"""What the engine needs from a trained text model, and the fitted model it loads.

The engine featurises each chunk once: the same feature matrix gives the probabilities and,
when a caller asks for explanations, each row's top model features. :class:`TextModel` is that
contract; :class:`FittedModel` fulfils it for a scorer (the lean
:class:`~dualuse.linear_model.LinearTextModel` a model file holds, or a scikit-learn
:class:`~dualuse.training.estimator.TextClassifier` while training) together with the fusion
parameters fitted with it, its id and the hash the provenance reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .fusion import FusionConfig

__all__ = ["TextModel", "TextScorer", "FittedModel", "Explanation"]

#: An explanation: (feature name, contribution to the category's log-odds), strongest first.
Explanation = list[tuple[str, float]]


class TextScorer(Protocol):
    """A fitted text classifier: featurise folded texts, score the features, explain them."""

    def features(self, folded_texts: Sequence[str]) -> Any:
        """The feature matrix of a chunk of folded texts (opaque to the engine)."""
        ...

    def predict_proba_features(self, features: Any) -> np.ndarray:
        """Probabilities (n, 4) in :data:`~dualuse.categories.CATEGORIES` order."""
        ...

    def top_features(self, features: Any, categories: Sequence[str | None], top_k: int = 5) -> list[Explanation]:
        """Per row, the features that raise that row's category most (empty for ``None``)."""
        ...


class TextModel(TextScorer, Protocol):
    """A text model as the engine uses it: a scorer with its fusion parameters and identity."""

    @property
    def model_id(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def fusion(self) -> FusionConfig: ...


@dataclass(frozen=True)
class FittedModel:
    """A scorer with the fusion parameters, id and model hash the engine reports.

    ``manifest`` is the verified manifest of the directory it was loaded from (empty for a
    model built in memory, such as the probe model of training).
    """

    scorer: TextScorer
    fusion: FusionConfig
    model_id: str
    sha256: str
    manifest: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def features(self, folded_texts: Sequence[str]) -> Any:
        """The scorer's feature matrix for a chunk of folded texts.

        The scorer's plain-array form where it has one (``sparse_rows``: no scipy import for
        a single text), else its ``features``.
        """
        rows = getattr(self.scorer, "sparse_rows", None)
        return rows(folded_texts) if rows is not None else self.scorer.features(folded_texts)

    def predict_proba_features(self, features: Any) -> np.ndarray:
        """Probabilities in CATEGORIES order from a feature matrix."""
        return self.scorer.predict_proba_features(features)

    def predict_proba(self, folded_texts: Sequence[str]) -> np.ndarray:
        """Probabilities in CATEGORIES order (featurise, then score)."""
        return self.predict_proba_features(self.features(folded_texts))

    def top_features(self, features: Any, categories: Sequence[str | None], top_k: int = 5) -> list[Explanation]:
        """Per row, the features that raise that row's category's log-odds most."""
        return self.scorer.top_features(features, categories, top_k)

    def explain(self, folded_text: str, category: str, top_k: int = 5) -> Explanation:
        """The features of one folded text that raise ``category``'s log-odds most (for notebooks)."""
        return self.top_features(self.features([folded_text]), [category], top_k)[0]
