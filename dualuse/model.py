"""What the engine needs from a trained text model, and the fitted model it loads.

The engine featurises each chunk once: the same feature matrix gives the probabilities and,
when a caller asks for explanations, each row's top model features. :class:`TextModel` is that
contract; :class:`FittedModel` fulfils it for a fitted classifier together with the fusion
parameters fitted with it, its id and the hash the provenance reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .categories import CATEGORIES
from .fusion import FusionConfig

__all__ = ["TextModel", "FeatureScorer", "FittedModel", "top_features"]

#: An explanation: (feature name, contribution to the category's log-odds), strongest first.
Explanation = list[tuple[str, float]]


class TextModel(Protocol):
    """A text model as the engine uses it: featurise a chunk once, then score and explain it."""

    model_id: str
    sha256: str
    fusion: FusionConfig

    def features(self, folded_texts: Sequence[str]) -> Any:
        """The feature matrix of a chunk of folded texts (opaque to the engine)."""
        ...

    def predict_proba_features(self, features: Any) -> np.ndarray:
        """Probabilities (n, 4) in :data:`~dualuse.categories.CATEGORIES` order."""
        ...

    def top_features(self, features: Any, categories: Sequence[str | None], top_k: int = 5) -> list[Explanation]:
        """Per row, the features that raise that row's category most (empty for ``None``)."""
        ...


class FeatureScorer(Protocol):
    """A fitted linear text classifier seen through the arrays an explanation needs."""

    feature_names_: np.ndarray

    def features(self, folded_texts: Sequence[str]) -> Any: ...

    def predict_proba_features(self, features: Any) -> np.ndarray: ...

    def relative_coef(self) -> np.ndarray:
        """(4, n_features) in CATEGORIES order: each class's coefficients minus their mean over classes."""
        ...


def top_features(features: Any, rel_coef: np.ndarray, names: np.ndarray, categories: Sequence[str | None],
                 top_k: int = 5) -> list[Explanation]:
    """Per row of a CSR ``features`` matrix, the ``top_k`` positive contributions (value x relative coef).

    ``rel_coef`` rows are in CATEGORIES order. Rows whose category is ``None`` get ``[]``.
    """
    index = {c: k for k, c in enumerate(CATEGORIES)}
    indptr, indices, data = features.indptr, features.indices, features.data
    out: list[Explanation] = []
    for row, category in enumerate(categories):
        if category is None:
            out.append([])
            continue
        lo, hi = indptr[row], indptr[row + 1]
        cols = indices[lo:hi]
        contrib = data[lo:hi] * rel_coef[index[category]][cols]
        order = np.argsort(-contrib)[:top_k]
        out.append([(str(names[cols[j]]), float(contrib[j])) for j in order if contrib[j] > 0])
    return out


@dataclass
class FittedModel:
    """A fitted classifier with the fusion parameters, id and file hash the engine reports."""

    classifier: FeatureScorer
    fusion: FusionConfig
    model_id: str
    sha256: str

    def features(self, folded_texts: Sequence[str]) -> Any:
        """The classifier's feature matrix for a chunk of folded texts."""
        return self.classifier.features(folded_texts)

    def predict_proba_features(self, features: Any) -> np.ndarray:
        """Probabilities in CATEGORIES order from a feature matrix."""
        return self.classifier.predict_proba_features(features)

    def predict_proba(self, folded_texts: Sequence[str]) -> np.ndarray:
        """Probabilities in CATEGORIES order (featurise, then score)."""
        return self.predict_proba_features(self.features(folded_texts))

    def top_features(self, features: Any, categories: Sequence[str | None], top_k: int = 5) -> list[Explanation]:
        """Per row, the features that raise that row's category's log-odds most."""
        return top_features(features, self.classifier.relative_coef(), self.classifier.feature_names_, categories, top_k)
