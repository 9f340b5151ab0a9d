"""What the fusion is fitted on, and how the fit picks its parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dualuse.categories import CATEGORIES, NONE_INDEX
from dualuse.fusion import FusionConfig
from dualuse.training.train import FusionSet, _dev, fit_fusion

DATA = Path(__file__).resolve().parent.parent / "data"
ME = CATEGORIES.index("microelectronics")


def _rows(path: Path) -> list[dict[str, str]]:
    """The file's rows read without pandas (an independent reading of the TSV)."""
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    names = header.split("\t")
    return [dict(zip(names, line.split("\t"))) for line in lines if line]


def test_invoice_fit_set_carries_every_hard_negative_as_none() -> None:
    invoice = _rows(DATA / "dev" / "invoice_lines.tsv")
    negatives = _rows(DATA / "dev" / "hard_negatives.tsv")
    fit = _dev(DATA, "dev")
    assert len(fit) == len(invoice) + len(negatives)
    tail = fit.iloc[len(invoice) :]
    assert tail["text"].tolist() == [r["text"] for r in negatives]
    assert set(tail["label"]) == {"none"}


def _probs(me: float) -> np.ndarray:
    p = np.full(len(CATEGORIES), 1e-6)
    p[ME] = me
    p[NONE_INDEX] = 1.0 - me - 2e-6
    return p


def _set(rows: list[tuple[str, float, float]]) -> FusionSet:
    """rows of (label, model probability of microelectronics, microelectronics keyword score)."""
    labels = np.array([CATEGORIES.index(r[0]) for r in rows])
    probs = np.vstack([_probs(r[1]) for r in rows])
    keyword = np.zeros((len(rows), len(CATEGORIES)))
    keyword[:, ME] = [r[2] for r in rows]
    return FusionSet("dev", labels, probs, keyword)


def test_a_hard_negative_breaks_the_tie_towards_a_larger_none_bias() -> None:
    # a chip named by a strong term on which the model leans to none (0.4 against 0.6), and a
    # plain none line
    base = [("microelectronics", 0.4, 1.0), ("none", 0.02, 0.0)]
    # a look-alike the model calls a chip at odds e^2.75: only a none bias above 2.75 keeps it none
    odds = np.exp(2.75)
    look_alike = ("none", odds / (1 + odds), 0.0)
    without, _ = fit_fusion([_set(base)], FusionConfig())
    with_negative, _ = fit_fusion([_set([*base, look_alike])], FusionConfig())
    # without the look-alike any keyword weight above the bias + log(0.6 / 0.4) is right; the
    # tie-break takes the simplest rule (no bias)
    assert without.none_bias == 0.0
    # with it the bias must clear 2.75 and the strong term must still clear the bias
    assert with_negative.none_bias > 2.75
    assert with_negative.keyword_weight - with_negative.none_bias > np.log(0.6 / 0.4)
