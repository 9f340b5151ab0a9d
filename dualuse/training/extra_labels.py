"""A team's labelled lines added to the training corpus (``dualuse train --extra-labels FILE``).

The file has the decisions format (:mod:`dualuse.decisions`: ``text``, ``label``, optional
``hs_code``, ``reviewer``, ``date``, ``note``; reviewer and date may be left out here), and is
validated the same way: unknown labels and contradicting duplicates are refused with the line.
The text model reads text only, so ``hs_code`` does not reach it; two lines with the same
text and different codes train as two examples.

How much they weigh. The corpus holds about 110,000 lines, most of them tariff text and
generated invoice lines; a few hundred reviewed lines of a team's own register would be lost
in it at weight 1, and at a large weight a few lines would pull whole words towards one
label. Each extra line therefore gets a sample weight of :data:`EXTRA_LABEL_WEIGHT` (5: a
line a person reviewed, in the register the model will actually read, is worth several
generated or tariff lines), and the extra lines together never weigh more than
:data:`EXTRA_LABEL_MAX_SHARE` (5 %) of the corpus: past about 1,100 lines the per-line weight
shrinks so that the total stays at that share. The sample weight multiplies the per-class
weights of the classifier (``sqrt_balanced``), like any other line's. Both numbers, the
file's sha256 and the line counts go into the model manifest (``training.extra_labels``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..decisions import load_decisions

__all__ = [
    "EXTRA_LABEL_WEIGHT",
    "EXTRA_LABEL_MAX_SHARE",
    "EXTRA_SOURCE",
    "extra_label_frame",
    "extra_label_weight",
    "sample_weights",
]

#: Sample weight of one extra line (while the file is small; see the module docstring).
EXTRA_LABEL_WEIGHT = 5.0
#: The extra lines together weigh at most this share of the rest of the corpus.
EXTRA_LABEL_MAX_SHARE = 0.05
#: The ``source`` of extra lines in the training frame (``extra:<file name>``).
EXTRA_SOURCE = "extra"


def extra_label_weight(n_extra: int, n_corpus: int) -> float:
    """The sample weight of each of ``n_extra`` lines added to a corpus of ``n_corpus`` lines."""
    if n_extra <= 0:
        return 0.0
    return float(min(EXTRA_LABEL_WEIGHT, EXTRA_LABEL_MAX_SHARE * n_corpus / n_extra))


def extra_label_frame(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The labelled lines of ``path`` as a (text, label, source) frame, and what the manifest records.

    Raises :class:`~dualuse.errors.DecisionsError` (naming the file and line) for a malformed file.
    """
    p = Path(path)
    decisions = load_decisions(p, require_review=False)
    frame = pd.DataFrame(
        {
            "text": [d.text for d in decisions.entries],
            "label": [d.label for d in decisions.entries],
            "source": f"{EXTRA_SOURCE}:{decisions.source}",
        }
    )
    counts = frame["label"].value_counts().sort_index()
    info = {
        "file": decisions.source,
        "file_sha256": decisions.sha256,
        "rows": int(len(frame)),
        "rows_per_label": {str(k): int(v) for k, v in counts.items()},
    }
    return frame, info


def sample_weights(frame: pd.DataFrame) -> tuple[np.ndarray | None, float]:
    """Per-row sample weights of a training frame (1, and :func:`extra_label_weight` for extra lines).

    ``(None, 0.0)`` when the frame has no extra line, so a training run without them fits
    exactly as before (no weights at all, not weights of 1).
    """
    extra = frame["source"].str.startswith(EXTRA_SOURCE + ":").to_numpy()
    if not extra.any():
        return None, 0.0
    weight = extra_label_weight(int(extra.sum()), int((~extra).sum()))
    return np.where(extra, weight, 1.0), weight
