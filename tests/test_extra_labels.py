"""A team's labelled lines in the training corpus (dualuse/training/extra_labels.py, train(extra_labels=...))."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dualuse.cli import EXIT_USAGE, main
from dualuse.errors import DecisionsError
from dualuse.training.extra_labels import (
    EXTRA_LABEL_MAX_SHARE,
    EXTRA_LABEL_WEIGHT,
    extra_label_frame,
    extra_label_weight,
    sample_weights,
)
from dualuse.training.train import probe_split

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "examples"


def _labelled(path: Path, rows: list[tuple[str, str]]) -> Path:
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


def test_the_example_register_reads_as_extra_lines() -> None:
    path = EXAMPLES / "team_register_train.csv"
    frame, info = extra_label_frame(path)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert frame["text"].tolist() == raw["text"].str.strip().tolist()
    assert frame["label"].tolist() == raw["label"].tolist()
    assert set(frame["source"]) == {"extra:team_register_train.csv"}
    assert info["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["rows"] == len(raw) and sum(info["rows_per_label"].values()) == len(raw)


def test_train_and_heldout_halves_share_no_line() -> None:
    train = pd.read_csv(EXAMPLES / "team_register_train.csv", dtype=str)["text"].str.lower()
    held = pd.read_csv(EXAMPLES / "team_register_heldout.csv", dtype=str)["text"].str.lower()
    assert not set(train) & set(held)


def test_reviewer_and_date_are_optional_but_labels_are_checked(tmp_path) -> None:
    frame, _ = extra_label_frame(_labelled(tmp_path / "ok.csv", [("Torno CNC", "machine_tools"), ("Gafas de sol", "none")]))
    assert frame["label"].tolist() == ["machine_tools", "none"]
    bad = _labelled(tmp_path / "bad.csv", [("Torno CNC", "machine_tools"), ("torno  cnc", "none"), ("Lente", "lens")])
    with pytest.raises(DecisionsError, match=r"bad\.csv': 2 problems") as info:
        extra_label_frame(bad)
    assert [p.split(":")[0] for p in info.value.problems] == ["line 3", "line 4"]


@pytest.mark.parametrize("n_extra", [1, 100, 1_000, 5_000, 100_000])
def test_the_weight_is_five_per_line_until_the_lines_reach_their_share(n_extra) -> None:
    n_corpus = 110_000
    w = extra_label_weight(n_extra, n_corpus)
    assert w <= EXTRA_LABEL_WEIGHT
    assert n_extra * w <= EXTRA_LABEL_MAX_SHARE * n_corpus + 1e-6  # never more than the share of the corpus
    if n_extra * EXTRA_LABEL_WEIGHT <= EXTRA_LABEL_MAX_SHARE * n_corpus:
        assert w == EXTRA_LABEL_WEIGHT
    else:
        assert n_extra * w == pytest.approx(EXTRA_LABEL_MAX_SHARE * n_corpus)


def test_sample_weights_only_when_there_are_extra_lines() -> None:
    corpus = pd.DataFrame(
        {"text": ["a", "b", "c"], "label": ["none"] * 3, "source": ["eu-cn-2025-en", "synthetic:x", "synthetic:y"]}
    )
    assert sample_weights(corpus) == (None, 0.0)
    extra = pd.DataFrame({"text": ["d"], "label": ["optics"], "source": ["extra:team.csv"]})
    weights, w = sample_weights(pd.concat([corpus, extra], ignore_index=True))
    assert w == extra_label_weight(1, 3) and weights.tolist() == [1.0, 1.0, 1.0, w]


def test_extra_lines_train_the_probe_and_are_never_held_out() -> None:
    rng = np.random.default_rng(0)
    labels = ["none", "machine_tools", "microelectronics", "optics"]
    tariff = pd.DataFrame({"text": [f"t{i}" for i in range(200)], "label": rng.choice(labels, 200), "source": "eu-cn-2025-en"})
    extra = pd.DataFrame({"text": [f"x{i}" for i in range(40)], "label": rng.choice(labels, 40), "source": "extra:team.csv"})
    probe, held = probe_split(pd.concat([tariff, extra], ignore_index=True), seed=1)
    assert set(extra["text"]) <= set(probe["text"]) and not set(extra["text"]) & set(held["text"])


def test_cli_train_refuses_a_malformed_file_before_training(tmp_path, capsys) -> None:
    bad = _labelled(tmp_path / "bad.csv", [("Torno CNC", "machine tool")])
    code = main(["train", "--data", "data", "--out", str(tmp_path / "m"), "--extra-labels", str(bad)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and "bad.csv" in err and "line 2: label: expected one of" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow  # two small training runs (about 40 s)
def test_train_with_extra_labels_records_them_and_learns_them(tmp_path, monkeypatch) -> None:
    """train() end to end on a small corpus: the manifest records the file, and its lines move the model."""
    from conftest import _small_training_set

    from dualuse.training import train as train_module
    from dualuse.training.estimator import TextClassifier

    small = _small_training_set().sample(n=1500, random_state=0)
    monkeypatch.setattr(train_module, "training_frame", lambda data_dir, taxonomy, seed: small.reset_index(drop=True))
    # a made-up register: words no corpus line uses, labelled optics
    extra = _labelled(tmp_path / "team.csv", [(f"zorblax quimbo {i}", "optics") for i in range(30)])
    data = Path(__file__).resolve().parent.parent / "data"
    clf = TextClassifier(max_features=5_000, min_df=1)
    base = train_module.train(data, tmp_path / "base", classifier=clf)
    model = train_module.train(data, tmp_path / "extra", classifier=clf, extra_labels=extra)
    manifest = json.loads((tmp_path / "extra" / "manifest.json").read_text())
    recorded = manifest["training"]["extra_labels"]
    assert recorded["file_sha256"] == hashlib.sha256(extra.read_bytes()).hexdigest()
    assert recorded["rows"] == 30 and recorded["sample_weight"] == extra_label_weight(30, len(small))
    assert manifest["model_id"].endswith("-x" + recorded["file_sha256"][:12])
    assert "extra_labels" not in json.loads((tmp_path / "base" / "manifest.json").read_text())["training"]
    from dualuse.categories import CATEGORY_INDEX

    probe = ["zorblax quimbo"]
    optics = CATEGORY_INDEX["optics"]
    assert model.predict_proba(probe)[0][optics] > base.predict_proba(probe)[0][optics] + 0.2
