"""Shared fixtures: paths, the mini taxonomy, engines, and a small trained model.

The small model is trained once per session on a slice of the real corpus plus seeded
synthetic lines, so persistence, determinism and fusion are tested on a real fitted
pipeline without paying for the full training run.
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


def _small_training_set():
    import pandas as pd

    from dualuse.training.synth import generate, read_negatives
    from dualuse.taxonomy import default_taxonomy

    corpus = pd.read_csv(DATA / "corpus" / "nomenclature.csv", dtype=str, keep_default_na=False)
    families = corpus[corpus["label"] != "none"]
    none = corpus[corpus["label"] == "none"].sample(n=min(1500, (corpus["label"] == "none").sum()), random_state=0)
    synth = pd.DataFrame(
        list(generate(default_taxonomy(), read_negatives(DATA / "synthetic" / "negatives.txt"), per_subcategory=20,
                      negatives_per_phrase=1, seed=1)),
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
    save_model(small_classifier.to_linear_model(), out, model_id="small-test-model", fusion=FusionConfig(),
               corpus_sha256="0" * 64, taxonomy_sha256=tax.sha256, taxonomy_version=tax.version, seed=0)
    return out


@pytest.fixture(scope="session")
def small_engine(small_model_dir):
    from dualuse.engine import Engine
    from dualuse.persistence import load_model
    from dualuse.taxonomy import default_taxonomy

    return Engine(default_taxonomy(), load_model(small_model_dir))
