"""TextClassifier honours the scikit-learn estimator contract on raw text."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from dualuse.categories import CATEGORIES
from dualuse.normalize import fold
from dualuse.training.estimator import TextClassifier

LINES = {
    "machine_tools": [
        "cnc lathe 16k20",
        "vertical machining centre vmc850",
        "surface grinding machine",
        "wire edm machine",
        "5-axis milling machine",
        "press brake 100 t",
        "cnc turning center",
        "boring mill horizontal",
    ],
    "microelectronics": [
        "fpga xc7z020 chip",
        "microcontroller stm32f407",
        "dram memory ic",
        "analog to digital converter ic",
        "integrated circuit lm358",
        "mosfet irfz44n transistor",
        "eeprom chip 24c02",
        "dsp processor chip",
    ],
    "optics": [
        "binoculars 10x42",
        "rifle scope 3-9x40",
        "thermal imaging camera core",
        "germanium lens 25 mm",
        "night vision monocular",
        "microscope objective 40x",
        "optical prism bk7",
        "laser rangefinder module optics",
    ],
    "none": [
        "cotton t-shirt",
        "potato chips 200 g",
        "office chair",
        "ceramic floor tiles",
        "wooden table",
        "leather shoes",
        "plastic bucket",
        "garden hose 20 m",
    ],
}
TEXTS = [fold(t) for lines in LINES.values() for t in lines]
LABELS = [label for label, lines in LINES.items() for _ in lines]


def _small() -> TextClassifier:
    return TextClassifier(min_df=1, max_features=2_000, char_ngram_range=(2, 4), random_state=0)


@pytest.fixture(scope="module")
def fitted() -> TextClassifier:
    return _small().fit(TEXTS, LABELS)


def test_scikit_learn_estimator_checks_that_apply_to_text() -> None:
    """check_estimator runs what applies to an estimator tagged for string input; the structural
    checks that need no numeric matrix are run by name. Skipped (numeric-matrix checks): every
    check that feeds a 2-D float array, since the input is a list of documents."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "on_fail" in inspect.signature(estimator_checks.check_estimator).parameters:  # scikit-learn >= 1.6
            results = estimator_checks.check_estimator(_small(), on_fail=None)
            assert results and all(r["status"] == "passed" for r in results), results
        else:  # older releases raise on the first failing check
            estimator_checks.check_estimator(_small())
    for check in (
        "check_no_attributes_set_in_init",
        "check_get_params_invariance",
        "check_set_params",
        "check_parameters_default_constructible",
        "check_estimator_repr",
    ):
        fn = getattr(estimator_checks, check, None)
        if fn is not None:
            fn("TextClassifier", _small())


def test_classes_match_predict_proba_columns(fitted: TextClassifier) -> None:
    proba = fitted.predict_proba(["potato chips", "cnc lathe"])
    assert list(fitted.classes_) == sorted(CATEGORIES)
    np.testing.assert_array_equal(fitted.classes_[np.argmax(proba, axis=1)], fitted.predict(["potato chips", "cnc lathe"]))
    assert fitted.predict(["potato chips 150 g"])[0] == "none"
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)  # float32 features give float32 probabilities


def test_engine_order_is_categories_order(fitted: TextClassifier) -> None:
    texts = ["cnc lathe", "binoculars 8x42"]
    by_class = fitted.predict_proba(texts)
    by_category = fitted.predict_proba_features(fitted.features(texts))
    for k, c in enumerate(CATEGORIES):
        np.testing.assert_array_equal(by_category[:, k], by_class[:, list(fitted.classes_).index(c)])


def test_integer_encoded_labels() -> None:
    codes = [CATEGORIES.index(label) for label in LABELS]
    clf = _small().fit(TEXTS, codes)
    assert list(clf.classes_) == [0, 1, 2, 3]
    assert clf.predict(["cnc lathe 16k20"])[0] in (0, 1, 2, 3)
    with pytest.raises(TypeError, match="classes_"):
        clf.predict_proba_features(clf.features(["x"]))  # the engine needs the category names


def test_unfitted_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        _small().predict_proba(["cnc lathe"])


def test_clone_keeps_parameters() -> None:
    est = TextClassifier(C=2.0, min_df=1)
    assert clone(est).get_params() == est.get_params()


def test_in_a_pipeline_cross_validation_and_grid_search() -> None:
    pipe = Pipeline([("fold", FunctionTransformer(lambda xs: [fold(x) for x in xs])), ("clf", _small())])
    cv = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    raw = [t.upper() for t in TEXTS]
    scores = cross_val_score(pipe, raw, LABELS, cv=cv, scoring="f1_macro")
    assert scores.shape == (4,) and np.all(scores > 0.3)
    auc = cross_val_score(_small(), TEXTS, LABELS, cv=cv, scoring="roc_auc_ovr")
    assert np.all(auc > 0.8)  # classes_ and predict_proba columns agree, so the scorer reads them right
    proba = cross_val_predict(_small(), TEXTS, LABELS, cv=cv, method="predict_proba")
    assert proba.shape == (len(TEXTS), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)  # float32 features give float32 probabilities
    grid = GridSearchCV(_small(), {"C": [1.0, 8.0]}, cv=cv, scoring="f1_macro").fit(TEXTS, LABELS)
    assert grid.best_params_["C"] in (1.0, 8.0)
    assert list(grid.best_estimator_.classes_) == sorted(CATEGORIES)


def test_bare_string_is_refused() -> None:
    with pytest.raises(TypeError, match="raw text documents"):
        _small().fit("cnc lathe", ["machine_tools"])
