"""Per-script reliability for ``dualuse evaluate``: where the figures hold and where the model
is over-confident.

The model learned most of its ``none`` text in English, so a confident verdict on a line in
another script says less than it seems. This module splits a scored set by the script of its
texts and reports, per bucket, the headline figures and a calibration figure.

**Script rule** (:func:`script_of`). Only letters count (``str.isalpha``: digits, punctuation,
symbols and spaces are ignored). Each letter is put in one group by its code point:

* ``latin``: Basic Latin and Latin-1 letters, Latin Extended-A/B, IPA extensions, Latin
  Extended Additional / C / D / E, full-width Latin;
* ``cyrillic``: Cyrillic, Cyrillic Supplement, Extended-A/B/C;
* ``cjk``: Han (CJK Unified Ideographs with extensions A-G, compatibility ideographs, radicals,
  the ideographic marks 々〆〇), Hiragana, Katakana (with half-width forms), Hangul (syllables
  and jamo);
* ``other``: any other letter (Greek, Arabic, Hebrew, Thai, Devanagari...).

The text's bucket is the group holding the most letters (ties go to the earlier group in the
order above); a text without letters is ``no_letters``. A ``cjk`` text is then named by the
characters only one language writes: ``japanese`` if it has any kana, else ``korean`` if it has
any Hangul, else ``chinese``. The count is per character, so a Chinese line with a Latin model
number longer than its Chinese words ("CK6140 车床" is Latin 2 vs Han 2 -> ``latin``) counts as
Latin: the rule measures the script the line is mostly written in, not its language.

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
from functools import cache

import numpy as np

__all__ = ["SCRIPT_BUCKETS", "N_BINS", "HIGH_CONFIDENCE", "script_of", "calibration", "by_script"]

#: Buckets in report order.
SCRIPT_BUCKETS: tuple[str, ...] = ("latin", "cyrillic", "chinese", "japanese", "korean", "other", "no_letters")
#: Number of equal-width confidence bins of the ECE.
N_BINS = 10
#: Confidence from which a wrong verdict counts as a confident error.
HIGH_CONFIDENCE = 0.95

_LATIN = (
    (0x0041, 0x005A),
    (0x0061, 0x007A),
    (0x00AA, 0x00AA),
    (0x00BA, 0x00BA),
    (0x00C0, 0x02AF),
    (0x1D00, 0x1DBF),
    (0x1E00, 0x1EFF),
    (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF),
    (0xAB30, 0xAB6F),
    (0xFF21, 0xFF3A),
    (0xFF41, 0xFF5A),
)
_CYRILLIC = ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))
_HAN = (
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303B),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9D))
_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xFFA0, 0xFFDC))


def _in(ranges: tuple[tuple[int, int], ...]) -> Callable[[int], bool]:
    return lambda cp: any(lo <= cp <= hi for lo, hi in ranges)


_GROUPS: tuple[tuple[str, Callable[[int], bool]], ...] = (
    ("latin", _in(_LATIN)),
    ("cyrillic", _in(_CYRILLIC)),
    ("han", _in(_HAN)),
    ("kana", _in(_KANA)),
    ("hangul", _in(_HANGUL)),
)
_CJK = ("han", "kana", "hangul")


@cache  # few distinct letters occur; the range tests run once for each
def _group(ch: str) -> str:
    cp = ord(ch)
    for name, test in _GROUPS:
        if test(cp):
            return name
    return "other"


def script_of(text: str) -> str:
    """The script bucket of ``text`` (one of :data:`SCRIPT_BUCKETS`), by the rule in the module doc."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            g = _group(ch)
            counts[g] = counts.get(g, 0) + 1
    if not counts:
        return "no_letters"
    totals = {
        "latin": counts.get("latin", 0),
        "cyrillic": counts.get("cyrillic", 0),
        "cjk": sum(counts.get(g, 0) for g in _CJK),
        "other": counts.get("other", 0),
    }
    best = max(totals, key=lambda k: totals[k])  # max keeps the first of equal counts
    if best != "cjk":
        return best
    if counts.get("kana"):
        return "japanese"
    if counts.get("hangul"):
        return "korean"
    return "chinese"


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
