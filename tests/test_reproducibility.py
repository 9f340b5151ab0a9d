"""Training is reproducible: same data and seed, same arrays and model hash, whatever the thread settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow  # two fits (about 30 s)
def test_training_is_deterministic(tmp_path) -> None:
    from conftest import _small_training_set

    from dualuse.normalize import fold
    from dualuse.training.estimator import TextClassifier

    frame = _small_training_set().sample(n=1500, random_state=0)
    texts = [fold(t) for t in frame["text"]]
    a = TextClassifier(max_features=20_000).fit(texts, frame["label"])
    b = TextClassifier(max_features=20_000).fit(texts, frame["label"])
    probe = ["cnc lathe", "fpga xc7a35t", "binoculars 10x42", "t-shirt"]
    assert (a.predict_proba(probe) == b.predict_proba(probe)).all()
    assert (a.classifier_.coef_ == b.classifier_.coef_).all()


_FIT_AND_SAVE = """
import sys, tempfile
sys.path.insert(0, sys.argv[1])
from threadpoolctl import threadpool_limits
from conftest import _small_training_set
from dualuse.fusion import FusionConfig
from dualuse.normalize import fold
from dualuse.persistence import save_model
from dualuse.training.estimator import TextClassifier
frame = _small_training_set().sample(n=800, random_state=0)
with threadpool_limits(limits=1):  # as dualuse.training.train fits
    model = TextClassifier(max_features=5_000).fit([fold(t) for t in frame["text"]], frame["label"])
with tempfile.TemporaryDirectory() as tmp:
    print(save_model(model.to_linear_model(), tmp + "/m", model_id="t", fusion=FusionConfig(), corpus_sha256="0" * 64,
                     taxonomy_sha256="0" * 64, taxonomy_version="0", seed=0))
"""


@pytest.mark.slow  # four fits in subprocesses
@pytest.mark.timeout(900)
@pytest.mark.parametrize("threads", [("1", "1"), ("2", "2")], ids=["blas-1-thread", "blas-2-threads"])
def test_two_fits_in_two_processes_save_to_the_same_model_hash(threads) -> None:
    """The model hash is the provenance: a rebuild from data/ must give the same bytes, not only the
    same predictions, whatever thread settings the process starts with."""
    tests_dir = str(Path(__file__).resolve().parent)
    digests = set()
    for omp in ("1", threads[0]):
        env = {**os.environ, "OMP_NUM_THREADS": omp, "OPENBLAS_NUM_THREADS": threads[1], "MKL_NUM_THREADS": threads[1]}
        out = subprocess.run(
            [sys.executable, "-c", _FIT_AND_SAVE, tests_dir], capture_output=True, text=True, check=True, timeout=300, env=env
        ).stdout.strip()
        digests.add(out)
    assert len(digests) == 1 and len(next(iter(digests))) == 64


def test_shipped_model_was_fitted_with_the_packaged_taxonomy() -> None:
    """The fusion of the embedded model is fitted on keyword evidence of one taxonomy; shipping
    a taxonomy edit without `dualuse train` would pair the model with evidence it never saw."""
    from dualuse.defaults import default_model
    from dualuse.taxonomy import default_taxonomy

    manifest = default_model().manifest
    taxonomy = default_taxonomy()
    assert (manifest["taxonomy_version"], manifest["taxonomy_sha256"]) == (taxonomy.version, taxonomy.sha256)
