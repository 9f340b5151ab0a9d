"""Per-script reliability for ``dualuse evaluate``: where the figures hold and where the model
is over-confident.

The model learned most of its ``none`` text in English, so a confident verdict on a line in
another script says less than it seems. This module splits a scored set by the script of its
texts and reports, per bucket, the headline figures and a calibration figure.

**Script rule**: :func:`dualuse.scripts.script_of` (the text's script bucket).

**Calibration** (:func:`calibration`). The confidence of a row is the probability of the
category the library decided, and a row is correct when that category is the truth. The
expected calibration error (ECE) over 10 equal-width bins of confidence is
``sum_b (n_b / n) * |accuracy_b - mean_confidence_b|`` (bin ``b`` holds confidences in
``[b/10, (b+1)/10)``, the last bin includes 1.0). ``overconfidence`` is ``mean_confidence -
accuracy`` over all rows: positive means the model claims more than it delivers. Rows without
a confidence (e.g. empty texts, scored as ``none``) count in the headline figures but not in
the calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..scripts import SCRIPT_BUCKETS, script_of

__all__ = ["SCRIPT_BUCKETS", "N_BINS", "HIGH_CONFIDENCE", "script_of", "calibration", "by_script"]

#: Number of equal-width confidence bins of the ECE.
N_BINS = 10
#: Confidence from which a wrong verdict counts as a confident error.
HIGH_CONFIDENCE = 0.95


def calibration(correct: Sequence[bool] | np.ndarray, confidence: Sequence[float] | np.ndarray, n_bins: int = N_BINS) -> dict:
    """Mean confidence, accuracy, expected calibration error and confident errors of scored rows.

    ``correct[i]`` says whether row ``i``'s decided category is its truth and ``confidence[i]``
    is that category's probability (NaN rows are left out). Figures are rounded to 4 places;
    all are None when no row has a confidence.
    """
    ok = np.asarray(correct, dtype=bool)
    conf = np.asarray(confidence, dtype=float)
    keep = ~np.isnan(conf)
    ok, conf = ok[keep], conf[keep]
    n = len(conf)
    if n == 0:
        return {
            "n_scored": 0,
            "mean_confidence": None,
            "accuracy": None,
            "overconfidence": None,
            "ece": None,
            "confident_errors": None,
        }
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.sum() / n * abs(ok[in_bin].mean() - conf[in_bin].mean())
    high = conf >= HIGH_CONFIDENCE
    return {
        "n_scored": int(n),
        "mean_confidence": round(float(conf.mean()), 4),
        "accuracy": round(float(ok.mean()), 4),
        "overconfidence": round(float(conf.mean() - ok.mean()), 4),
        "ece": round(float(ece), 4),
        # share of the rows decided at >= HIGH_CONFIDENCE that are wrong
        "confident_errors": round(float(np.mean(~ok[high])), 4) if high.any() else None,
    }


def by_script(
    texts: Sequence[str],
    truth: Sequence[str],
    pred: Sequence[str],
    confidence: Sequence[float] | np.ndarray,
    metrics: Callable[[Sequence[str], Sequence[str]], dict],
) -> dict[str, dict]:
    """Per script bucket present in ``texts`` (in :data:`SCRIPT_BUCKETS` order): the share of
    the set, the headline figures of ``metrics`` (n, accuracy, macro-F1, risk recall,
    false-alarm rate, family and ``none`` rows) and :func:`calibration`."""
    scripts = np.asarray([script_of(t) for t in texts], dtype=object)
    t = np.asarray(list(truth), dtype=object)
    p = np.asarray(list(pred), dtype=object)
    conf = np.asarray(confidence, dtype=float)
    out: dict[str, dict] = {}
    for bucket in SCRIPT_BUCKETS:
        rows = scripts == bucket
        if not rows.any():
            continue
        m = metrics(t[rows].tolist(), p[rows].tolist())
        entry = {k: m[k] for k in ("n", "accuracy", "macro_f1", "risk_recall", "false_alarm_rate", "family_rows", "none_rows")}
        entry["share"] = round(float(rows.mean()), 4)
        entry["calibration"] = calibration(t[rows] == p[rows], conf[rows])
        out[bucket] = entry
    return out
