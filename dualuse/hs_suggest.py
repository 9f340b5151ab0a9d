"""The engine's side of HS-6 suggestions: rank codes for a chunk's texts and attach them to rows.

The ranking of :mod:`dualuse.hs_index` (cosine of the text with each code's nearest
nomenclature prototype) is combined with what the engine already knows about the text, as a
reviewer would read a code list: a code of the family the text points at ranks higher
(:data:`FAMILY_WEIGHT` times the text-only probability of the code's family), and so does a code
under the HS prefixes of a taxonomy subcategory the text matched (:data:`TAXONOMY_WEIGHT`).
Both weights were chosen on the tuning set ``data/dev/trade_terms.tsv`` (the terms whose note
names an HS code), never on an evaluation set.

Suggestions depend on the text only (never on a given HS code): they are computed once per
distinct text of the chunk, so a batch equals a loop of single calls by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .hs_index import TOP_K, HSIndex, Suggestion
from .taxonomy import Taxonomy

__all__ = ["FAMILY_WEIGHT", "TAXONOMY_WEIGHT", "suggest_texts"]

#: Weight of the text-only probability of a code's family in its ranking score.
FAMILY_WEIGHT = 0.2
#: Bonus of a code under the HS prefixes of a matched taxonomy subcategory.
TAXONOMY_WEIGHT = 0.1


_NONE = np.zeros(0, dtype=np.int64)


def _preferred(index: HSIndex, taxonomy: Taxonomy, cache: dict, subcategories: Sequence[str]) -> np.ndarray:
    """Indices of the codes under the HS prefixes of ``subcategories`` (cached per set of them)."""
    if not subcategories:
        return _NONE
    key = tuple(sorted(set(subcategories)))
    found = cache.get(key)
    if found is None:
        prefixes = tuple(p for s in taxonomy.subcategories if s.id in key for p in s.hs_prefixes)
        found = cache[key] = index.codes_under(prefixes) if prefixes else _NONE
    return found


def suggest_texts(
    index: HSIndex,
    taxonomy: Taxonomy,
    cache: dict,
    features: Any,
    folded: Sequence[str],
    text_probs: np.ndarray,
    matched_subcategories: Sequence[Sequence[str]],
    k: int = TOP_K,
) -> list[tuple[Suggestion, ...]]:
    """Top ``k`` HS-6 suggestions for each distinct text of a chunk.

    ``features`` are the model's features of ``folded`` (one row each), ``text_probs`` the
    text-only fused probabilities (rows x CATEGORIES), ``matched_subcategories`` the taxonomy
    subcategories each text matched; ``cache`` keeps each subcategory's code indices.
    """
    preferred = [_preferred(index, taxonomy, cache, subs) for subs in matched_subcategories]
    return index.suggest(
        features,
        list(folded),
        k,
        family_probs=text_probs,
        preferred=preferred,
        family_weight=FAMILY_WEIGHT,
        preferred_weight=TAXONOMY_WEIGHT,
    )
