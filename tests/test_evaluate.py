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


# ----------------------------------------------------------------------------- per-script reliability

SCRIPTS = [
    ("english", "CNC vertical machining centre", "latin"),
    ("accented", "Rectificadora plana de precisión", "latin"),
    ("full-width-latin", "ＣＮＣ ｌａｔｈｅ", "latin"),
    ("russian", "Станок токарный с ЧПУ", "cyrillic"),  # Cyrillic 16 letters vs Latin 0
    ("russian-with-model", "Станок 16К20", "cyrillic"),  # К is Cyrillic; 7 vs 0
    ("simplified", "数控车床", "chinese"),
    ("traditional", "數控車床", "chinese"),
    ("japanese", "工作機械のスピンドル", "japanese"),  # kana present
    ("korean", "현미경", "korean"),
    ("korean-with-han", "光學 현미경", "korean"),  # Hangul present, no kana
    ("greek", "Μικροσκόπιο", "other"),
    ("digits-only", "8457.10 / 12-34", "no_letters"),
    ("empty", "", "no_letters"),
    ("latin-majority", "VMC850 立式加工中心 Fanuc", "latin"),  # Latin 8 letters vs Han 6
    ("han-majority", "立式加工中心 VMC", "chinese"),  # Han 6 vs Latin 3
    ("tie-goes-to-latin", "CK 车床", "latin"),  # 2 vs 2: the earlier group wins
]


@pytest.mark.parametrize(("text", "script"), [s[1:] for s in SCRIPTS], ids=[s[0] for s in SCRIPTS])
def test_script_of(text: str, script: str) -> None:
    from dualuse.training.reliability import script_of

    assert script_of(text) == script


def _ece_by_hand(correct: list[bool], conf: list[float]) -> float:
    """Expected calibration error written out bin by bin, independently of the module."""
    bins: dict[int, list[int]] = {}
    for i, c in enumerate(conf):
        b = 9 if c == 1.0 else int(c * 10)
        bins.setdefault(b, []).append(i)
    total = 0.0
    for rows in bins.values():
        acc = sum(correct[i] for i in rows) / len(rows)
        mean = sum(conf[i] for i in rows) / len(rows)
        total += len(rows) / len(conf) * abs(acc - mean)
    return total


def test_calibration_arithmetic_by_hand() -> None:
    from dualuse.training.reliability import calibration

    correct = [True, True, False, True, False, False]
    conf = [0.99, 1.0, 0.97, 0.55, 0.52, 0.31]
    c = calibration(correct, conf)
    # bin 9: 0.99, 1.0, 0.97 -> acc 2/3, mean 0.98667; bin 5: 0.55, 0.52 -> acc 1/2, mean 0.535;
    # bin 3: 0.31 -> acc 0, mean 0.31
    expected = 3 / 6 * abs(2 / 3 - 2.96 / 3) + 2 / 6 * abs(0.5 - 0.535) + 1 / 6 * 0.31
    assert c["ece"] == pytest.approx(expected, abs=1e-4)
    assert c["ece"] == pytest.approx(_ece_by_hand(correct, conf), abs=1e-4)
    assert c["mean_confidence"] == pytest.approx(sum(conf) / 6, abs=1e-4)
    assert c["accuracy"] == pytest.approx(0.5, abs=1e-4)
    assert c["overconfidence"] == pytest.approx(sum(conf) / 6 - 0.5, abs=1e-4)
    assert c["confident_errors"] == pytest.approx(1 / 3, abs=1e-4)  # 0.99, 1.0, 0.97: one wrong
    assert c["n_scored"] == 6


def test_calibration_perfect_and_empty() -> None:
    from dualuse.training.reliability import calibration

    # 8 of 10 right at 0.8, all in one bin: calibrated
    c = calibration([True] * 8 + [False] * 2, [0.8] * 10)
    assert c["ece"] == pytest.approx(0.0, abs=1e-9) and c["overconfidence"] == pytest.approx(0.0, abs=1e-9)
    assert c["confident_errors"] is None
    # rows without a confidence are left out of the calibration
    c = calibration([True, False], [float("nan"), 0.9])
    assert c["n_scored"] == 1 and c["ece"] == pytest.approx(0.9, abs=1e-4)
    assert calibration([], [])["ece"] is None


def test_by_script_splits_figures_and_calibration() -> None:
    from dualuse.training.reliability import by_script

    texts = ["CNC lathe", "hair dryer", "割草机", "跑步机", "数控车床", "Станок"]
    truth = ["machine_tools", "none", "none", "none", "machine_tools", "machine_tools"]
    pred = ["machine_tools", "none", "machine_tools", "machine_tools", "machine_tools", "none"]
    conf = [0.9, 0.8, 0.99, 0.99, 0.95, 0.6]
    out = by_script(texts, truth, pred, conf, metrics)
    assert list(out) == ["latin", "cyrillic", "chinese"]
    zh = out["chinese"]
    assert zh["n"] == 3 and zh["share"] == pytest.approx(0.5)
    assert zh["false_alarm_rate"] == pytest.approx(1.0) and zh["risk_recall"] == pytest.approx(1.0)
    assert zh["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    # bin 9 holds all three: acc 1/3, mean (0.99 + 0.99 + 0.95) / 3
    assert zh["calibration"]["ece"] == pytest.approx(abs(1 / 3 - 2.93 / 3), abs=1e-4)
    assert zh["calibration"]["confident_errors"] == pytest.approx(2 / 3, abs=1e-4)
    assert out["latin"]["calibration"]["ece"] == pytest.approx(_ece_by_hand([True, True], [0.9, 0.8]), abs=1e-4)
    assert out["cyrillic"]["accuracy"] == 0.0 and out["cyrillic"]["risk_recall"] == 0.0


def test_report_has_reliability_and_keeps_headline_table(mini_engine) -> None:
    from dualuse.training.evaluate import format_report

    report = evaluate("data", engine=mini_engine, sets=["cbp_rulings"])
    m = report["sets"]["cbp_rulings"]
    assert sum(b["n"] for b in m["by_script"].values()) == m["n"]
    assert m["calibration"]["n_scored"] <= m["n"] and m["calibration"]["ece"] is not None
    text = format_report(report)
    head = text.split("\n\n")[0].splitlines()
    assert head[0].split() == ["set", "n", "acc", "macroF1", "riskRec", "FA"]
    assert head[1].split()[:2] == ["cbp_rulings", str(m["n"])]
    assert "reliability by script" in text and "cbp_rulings          all" in text


def test_kicad_parts_is_an_evaluation_set() -> None:
    from dualuse.training.evaluate import EVAL_SETS, SET_FILES, load_set

    assert "kicad_parts" in EVAL_SETS and SET_FILES["kicad_parts"] == "eval/kicad_parts.csv"
    frame = load_set("data", "kicad_parts")
    assert list(frame.columns) == ["text", "label", "source", "code"]
    assert set(frame["source"]) == {"kicad-symbols-parts-eval"} and set(frame["code"]) == {""}
    assert set(frame["label"]) <= {"microelectronics", "none"}
