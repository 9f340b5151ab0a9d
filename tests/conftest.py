"""Shared fixtures: paths, the mini taxonomy, engines, and a small trained model.

One name, one meaning. The engine fixtures are:

- ``mini_engine``: the small hand-made test taxonomy (tests/fixtures/mini_taxonomy.toml), no model;
- ``keyword_engine``: the packaged taxonomy, no model (keyword and HS evidence only);
- ``small_engine``: the packaged taxonomy with the small model trained here once per session;
- ``default_engine``: the packaged taxonomy with the embedded default model
  (``dualuse/data/model``). The model is part of the package, so a missing or unloadable
  model fails every test that uses it; it is never skipped;
- ``cli_engine``: ``keyword_engine`` installed as the process default for one test (what
  ``dualuse score`` uses when no model is named), restored afterwards.

A parametrised fixture is named for what it varies: ``any_engine`` (tests/test_batch.py:
keyword, small and default in turn), ``mini_or_small_engine`` (tests/test_properties.py),
``keyword_engine_by_prior`` (tests/test_taxonomy_content.py: the no-model prior).

The small model is trained once per session on a slice of the real corpus plus seeded
synthetic lines, so persistence, determinism and fusion are tested on a real fitted
pipeline without paying for the full training run.

Tests that take more than about 5 s on their own (training, notebooks, a Dask cluster, a
corpus rebuild, the benchmark smoke run) are marked ``@pytest.mark.slow``: for local work run
``python -m pytest -m "not slow"``; CI runs everything. Every test has a 300 s timeout
(pyproject.toml); a test that needs longer, or that guards against a hang, says so with
``@pytest.mark.timeout(...)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def mini_taxonomy():
    from dualuse.taxonomy import load_taxonomy

    return load_taxonomy(FIXTURES / "mini_taxonomy.toml")


@pytest.fixture(scope="session")
def mini_engine(mini_taxonomy):
    from dualuse.engine import Engine

    return Engine(mini_taxonomy)


@pytest.fixture(scope="session")
def keyword_engine():
    """The packaged taxonomy without a model."""
    from dualuse.engine import Engine
    from dualuse.taxonomy import default_taxonomy

    return Engine(default_taxonomy())


@pytest.fixture(scope="session")
def default_engine():
    """The packaged taxonomy with the embedded default model; fails (never skips) if the model is missing."""
    from dualuse.defaults import default_model
    from dualuse.engine import Engine
    from dualuse.persistence import packaged_model_dir
    from dualuse.taxonomy import default_taxonomy

    model_dir = packaged_model_dir()
    assert all((model_dir / name).is_file() for name in ("manifest.json", "model.json", "arrays.npz")), (
        "the embedded default model (dualuse/data/model/) is part of the package and is missing"
    )
    engine = Engine(default_taxonomy(), default_model())
    assert engine.model is not None
    return engine


@pytest.fixture()
def cli_engine(keyword_engine):
    """``keyword_engine`` as the process default for one test (the CLI without a model); restored after."""
    from dualuse.api import set_default_engine

    set_default_engine(keyword_engine)
    yield keyword_engine
    set_default_engine(None)


def _small_training_set():
    import pandas as pd

    from dualuse.taxonomy import default_taxonomy
    from dualuse.training.synth import generate, read_negatives

    corpus = pd.read_csv(DATA / "corpus" / "nomenclature.csv", dtype=str, keep_default_na=False)
    families = corpus[corpus["label"] != "none"]
    none = corpus[corpus["label"] == "none"].sample(n=min(1500, (corpus["label"] == "none").sum()), random_state=0)
    synth = pd.DataFrame(
        list(
            generate(
                default_taxonomy(),
                read_negatives(DATA / "synthetic" / "negatives.txt"),
                per_subcategory=20,
                negatives_per_phrase=1,
                seed=1,
            )
        ),
        columns=["text", "label", "source"],
    )
    return pd.concat([families, none, synth], ignore_index=True)


@pytest.fixture(scope="session")
def small_classifier():
    """A small TextClassifier fitted once per session (scikit-learn objects)."""
    from dualuse.normalize import fold
    from dualuse.training.estimator import TextClassifier

    frame = _small_training_set()
    return TextClassifier(max_features=50_000, random_state=0).fit([fold(t) for t in frame["text"]], frame["label"])


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory, small_classifier):
    """The small classifier saved as a model directory (format 2, with its manifest)."""
    from dualuse.fusion import FusionConfig
    from dualuse.persistence import save_model
    from dualuse.taxonomy import default_taxonomy

    out = tmp_path_factory.mktemp("small_model")
    tax = default_taxonomy()
    save_model(
        small_classifier.to_linear_model(),
        out,
        model_id="small-test-model",
        fusion=FusionConfig(),
        corpus_sha256="0" * 64,
        taxonomy_sha256=tax.sha256,
        taxonomy_version=tax.version,
        seed=0,
    )
    return out


@pytest.fixture
def model_copy(small_model_dir, tmp_path):
    """A copy of the small model's directory that a test may tamper with."""
    import shutil

    dst = tmp_path / "model"
    shutil.copytree(small_model_dir, dst)
    return dst


@pytest.fixture(scope="session")
def small_engine(small_model_dir):
    from dualuse.engine import Engine
    from dualuse.persistence import load_model
    from dualuse.taxonomy import default_taxonomy

    return Engine(default_taxonomy(), load_model(small_model_dir))
