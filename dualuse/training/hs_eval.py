"""How well the HS-6 suggestions find a record's code, and a plain baseline to compare with.

:func:`suggestion_metrics` reports, for rows whose code has at least six digits, the share whose
true code is the top suggestion (top-1) or among the three (top-3), at six digits (the HS 2022
subheading) and at four (the heading), over all rows and over family rows (label other than
``none``). National codes (US HTS, UK commodity codes) are HS 2022 based: their first six
digits are the subheading.

:class:`NearestLineBaseline` is the obvious alternative a user would try first: cosine 1-NN over
the same nomenclature lines in the same TF-IDF space (the text model's features), with no
prototypes, no family or taxonomy agreement; its top three are the codes of the nearest lines,
distinct, in order. ``benchmarks/compare.py --hs`` runs both on every evaluation set with codes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from ..model import FittedModel
from ..normalize import fold

__all__ = ["suggestion_metrics", "NearestLineBaseline", "HS_EVAL_SETS"]

#: Evaluation sets that carry HS-based codes.
HS_EVAL_SETS = ("us_hts_2024", "uk_trader_terms", "uk_parcel_lines", "cbp_rulings")


def _rates(hit: np.ndarray) -> float | None:
    return round(float(hit.mean()), 4) if len(hit) else None


def suggestion_metrics(codes: Sequence[str], labels: Sequence[str], suggested: Sequence[Sequence[str]]) -> dict:
    """Top-1 / top-3 accuracy at 6 and 4 digits, overall and on family rows.

    ``suggested`` holds each row's suggested six-digit codes, best first. Rows whose code has
    fewer than six digits are not counted.
    """
    keep = [i for i, c in enumerate(codes) if isinstance(c, str) and len(c) >= 6 and c[:6].isdigit()]
    truth6 = [codes[i][:6] for i in keep]
    fam = np.array([labels[i] != "none" for i in keep], dtype=bool)
    table: dict[str, np.ndarray] = {}
    for digits in (6, 4):
        for k in (1, 3):
            table[f"top{k}_{digits}"] = np.array(
                [any(s[:digits] == t[:digits] for s in suggested[i][:k]) for i, t in zip(keep, truth6)], dtype=bool
            )
    out: dict = {"rows": len(keep), "family_rows": int(fam.sum())}
    out["all"] = {name: _rates(hit) for name, hit in table.items()}
    out["family"] = {name: _rates(hit[fam]) for name, hit in table.items()}
    return out


class NearestLineBaseline:
    """Cosine 1-NN over nomenclature lines in a model's feature space (see the module docstring)."""

    def __init__(self, model: FittedModel, lines: Sequence[tuple[str, str, str]], chunk: int = 4096) -> None:
        self.model = model
        self.codes = [hs6 for _, hs6, _ in lines]
        parts = [model.features([fold(t) for t, _, _ in lines[i : i + chunk]]).tocsr() for i in range(0, len(lines), chunk)]
        # features x lines: a query's nonzero features pick rows of it
        self.matrix_t = sparse.vstack(parts).T.tocsr().astype(np.float32)

    def suggest(self, texts: Sequence[str], k: int = 3, block: int = 256) -> list[list[str]]:
        """The codes of the nearest lines of each text, distinct, best first (at most ``k``)."""
        X = self.model.features([fold(t) for t in texts]).tocsr().astype(np.float32)
        out: list[list[str]] = []
        for lo in range(0, X.shape[0], block):
            sims = (X[lo : lo + block] @ self.matrix_t).tocsr()
            for r in range(sims.shape[0]):
                a, b = sims.indptr[r], sims.indptr[r + 1]
                idx, val = sims.indices[a:b], sims.data[a:b]
                found: list[str] = []
                for j in idx[np.lexsort((idx, -val))][: 50 * k]:
                    code = self.codes[j]
                    if code not in found:
                        found.append(code)
                        if len(found) == k:
                            break
                out.append(found)
        return out
