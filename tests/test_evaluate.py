"""Metrics are computed right (checked against hand-counted confusion matrices)."""

from __future__ import annotations

import pytest

from dualuse.errors import OptionError
from dualuse.training.evaluate import evaluate, metrics


def test_metrics_by_hand() -> None:
    truth = ["machine_tools", "machine_tools", "optics", "none", "none", "none", "microelectronics"]
    pred = ["machine_tools", "none", "optics", "none", "optics", "none", "microelectronics"]
    m = metrics(truth, pred)
    assert m["n"] == 7
    assert m["accuracy"] == pytest.approx(5 / 7, abs=1e-4)
    # machine_tools: P=1, R=.5 -> F1=2/3; optics: P=.5, R=1 -> 2/3; micro: 1; none: P=2/3, R=2/3 -> 2/3
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1 + 2 / 3) / 4, abs=1e-4)
    assert m["risk_recall"] == pytest.approx(3 / 4, abs=1e-4)
    assert m["false_alarm_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["confusion_matrix"]["matrix"][0] == [1, 0, 0, 1]


def test_macro_f1_ignores_classes_absent_from_truth_and_prediction() -> None:
    m = metrics(["none", "none", "optics"], ["none", "none", "optics"])
    assert m["macro_f1"] == 1.0
    assert m["macro_f1_all4"] == 0.5


def test_evaluate_reports_each_set(mini_engine) -> None:
    report = evaluate("data", engine=mini_engine, sets=["uk_parcel_lines"])
    (name,) = report["sets"]
    assert name == "uk_parcel_lines"
    assert report["sets"][name]["n"] > 2000
    assert report["provenance"]["taxonomy_name"] == "mini"


def test_unknown_set_refused(mini_engine) -> None:
    with pytest.raises(OptionError, match=r"sets: expected names among .*got \['nope'\]"):
        evaluate("data", engine=mini_engine, sets=["nope"])


def test_fusion_fit_macro_f1_on_indices_equals_the_reported_one() -> None:
    """The fusion grid scores category indices through a confusion matrix; same definition."""
    import numpy as np

    from dualuse.categories import CATEGORIES
    from dualuse.training.evaluate import macro_f1
    from dualuse.training.train import _macro_f1_idx

    names = np.asarray(CATEGORIES)
    rng = np.random.default_rng(7)
    for n in (1, 3, 40, 500):
        for _ in range(50):
            y, p = rng.integers(0, 4, n), rng.integers(0, 4, n)
            if rng.random() < 0.3:
                y[:] = 3  # only `none` in the truth: classes present in predictions still count
            assert _macro_f1_idx(y, p) == pytest.approx(macro_f1(names[y], names[p]), abs=1e-12)
